/**
 * Which consumer failures a worker outlives. kafkajs gives up on some errors that only mean the
 * cluster is moving: after a broker dies, its group coordinator or a partition leader moves to another
 * broker, and for a few seconds the client finds no coordinator (KafkaJSGroupCoordinatorNotFound, a
 * "non-retriable" error to kafkajs) or no broker for a node id. The worker restarts its consumer
 * after a backoff instead of exiting; anything else still stops it.
 */
const transientNames = new Set([
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
]);

/** Broker error codes (kafkajs' `type`) that a moving coordinator or leader produces. */
const transientTypes = new Set([
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
]);

type ErrorFields = { name?: unknown; type?: unknown; retriable?: unknown };

/** True when the error or any error in its `cause` chain (kafkajs wraps the broker's) matches. */
export function anyInCauseChain(err: unknown, matches: (e: ErrorFields) => boolean): boolean {
  for (
    let e: unknown = err, depth = 0;
    e && typeof e === 'object' && depth < 8;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    if (matches(e)) return true;
  }
  return false;
}

/** True when the error or any error in its `cause` chain carries one of these broker error types. */
export function hasBrokerErrorType(err: unknown, types: ReadonlySet<string>): boolean {
  return anyInCauseChain(err, ({ type }) => typeof type === 'string' && types.has(type));
}

/** True when the error, or any error in its `cause` chain, means the cluster is failing over. */
export function isTransientClusterError(err: unknown): boolean {
  return anyInCauseChain(
    err,
    ({ name, type, retriable }) =>
      (typeof name === 'string' && transientNames.has(name)) ||
      (typeof type === 'string' && transientTypes.has(type)) ||
      retriable === true,
  );
}

/** Backoff before the n-th restart in a row (1-based): 0.5 s doubling to 30 s, with jitter. */
export function restartDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 500 * 2 ** Math.min(attempt - 1, 6));
  return Math.round(base * (0.75 + random() * 0.5));
}
