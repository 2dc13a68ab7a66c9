import { pino, type Logger, type LoggerOptions } from 'pino';
import { redactCredentials, redactedError } from './util/redact.js';
import { logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';

export type { Logger };

/**
 * The root logger: JSON lines on stderr (stdout stays free for CLI output). Credentials in
 * URLs are redacted from messages and errors, whoever wrote them (a client library quoting
 * the URL it was given); fields named like secrets are censored.
 */
export function createLogger(level: string, name = 'memberflow'): Logger {
  return pino(loggerOptions(name, level), pino.destination(2));
}

export function loggerOptions(name: string, level: string): LoggerOptions {
  return {
    name,
    level,
    base: { pid: process.pid },
    redact: { paths: secretPaths, censor: '***' },
    serializers: { err: (e: unknown) => redactErr(e) },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? redactCredentials(a) : a)) as Parameters<typeof method>,
        );
      },
    },
  };
}

/**
 * Logged errors: type, message, stack and code (and the same of their cause), redacted. Not the
 * error's other fields, which pino's own serializer would copy: an ioredis ReplyError carries the
 * command and its arguments (member data, an AUTH password), a kafkajs error its request.
 */
export function redactErr(e: unknown, depth = 0): unknown {
  if (e instanceof Error) {
    const out: Record<string, unknown> = { type: e.name, ...redactedError(e) };
    delete out.name;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') out.code = code;
    if (e.cause !== undefined && depth < 3) out.cause = redactErr(e.cause, depth + 1);
    return out;
  }
  if (typeof e !== 'object' || e === null) return typeof e === 'string' ? redactCredentials(e) : e;
  const copy: Record<string, unknown> = { ...(e as Record<string, unknown>) };
  for (const k of ['message', 'stack']) if (typeof copy[k] === 'string') copy[k] = redactCredentials(copy[k]);
  return copy;
}

/** Fields that hold secrets wherever they appear in a logged object (one level deep, or two). */
const secretPaths = [
  'password',
  'sasl.password',
  'token',
  'authorization',
  '*.password',
  '*.sasl.password',
  '*.token',
  '*.authorization',
  'headers.authorization',
];

/** Routes kafkajs' own logs into ours, under a `kafkajs` namespace. */
export function kafkaLogCreator(log: Logger): logCreator {
  const child = log.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }) => {
      const { message, ...rest } = entry;
      // kafkajs names the subsystem (Consumer, Connection...) on the entry, not in its log fields.
      const fields = { ...rest, namespace };
      if (level === KafkaLogLevel.ERROR) child.error(fields, message);
      else if (level === KafkaLogLevel.WARN) child.warn(fields, message);
      else if (level === KafkaLogLevel.INFO) child.info(fields, message);
      else child.debug(fields, message);
    };
}
