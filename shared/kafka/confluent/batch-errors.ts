/**
 * Errors in eachBatch: kafkajs' crash-or-restart decision, for a client that retries everything, and
 * the backoff before a failed batch is redelivered.
 */

const unrecoverable = new Set(['RangeError', 'ReferenceError', 'SyntaxError', 'TypeError']);

/**
 * What kafkajs would do with an error thrown by eachBatch. kafkajs retries it with backoff, then
 * restarts the consumer (CRASH with restart=true), unless it is a programmer error (TypeError,
 * RangeError, ReferenceError, SyntaxError) or says `retriable: false` (e.g. RegistryError when a
 * schema is missing): then CRASH with restart=false and the worker exits. Errors of the confluent
 * client itself carry `retriable` only for transactions: they crash only when fatal.
 */
export function batchErrorVerdict(err: unknown, isClientError: (e: unknown) => boolean): 'crash' | 'retry' {
  if (!err || typeof err !== 'object') return 'retry';
  const e = err as { name?: unknown; retriable?: unknown; fatal?: unknown; isFatal?: unknown };
  if (typeof e.name === 'string' && unrecoverable.has(e.name)) return 'crash';
  if (isClientError(err)) return e.fatal === true || e.isFatal === true ? 'crash' : 'retry';
  return e.retriable === false ? 'crash' : 'retry';
}

/** Backoff before a failed batch is redelivered: kafkajs' retrier with initialRetryTime 200 ms (×2, ±20 %, at most 30 s). */
export function retryDelayMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(200 * 2 ** Math.max(0, failures - 1), 30_000);
  return Math.min(Math.round(base * (0.8 + 0.4 * random())), 30_000);
}
