import { pino, type Logger } from 'pino';
import { logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';

export type { Logger };

/** The root logger: JSON lines on stderr (stdout stays free for CLI output). */
export function createLogger(level: string, name = 'memberflow'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination(2));
}

/** Routes kafkajs' own logs into ours, under a `kafkajs` namespace. */
export function kafkaLogCreator(log: Logger): logCreator {
  const child = log.child({ component: 'kafkajs' });
  return () => ({ level, log: entry }) => {
    const { message, ...rest } = entry;
    const fields = { ...rest, namespace: entry.namespace };
    if (level === KafkaLogLevel.ERROR) child.error(fields, message);
    else if (level === KafkaLogLevel.WARN) child.warn(fields, message);
    else if (level === KafkaLogLevel.INFO) child.info(fields, message);
    else child.debug(fields, message);
  };
}
