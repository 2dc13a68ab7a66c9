import { Command, InvalidArgumentError } from 'commander';
import { ConfigError } from '../shared/config/env.js';
import { commandContext } from './context.js';
import { demoCommand } from './commands/demo.js';
import { produceCommand } from './commands/produce.js';
import { runCommand } from './commands/run.js';
import { stackCommand } from './commands/stack.js';
import { tailCommand } from './commands/tail.js';
import { createTopics } from './commands/topics.js';
import { profileCommand } from './commands/profile.js';
import { tickerCommand } from './commands/ticker.js';

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

const program = new Command('memberflow').description('membership and loyalty engine: Kafka in, Redis state, Kafka out').showHelpAfterError();

program
  .command('stack')
  .description('the local Kafka + schema registry + Redis: up | down | status | env')
  .argument('<action>', 'up, down, status or env')
  .action((action: string) => {
    process.exitCode = stackCommand(action);
  });

program
  .command('topics')
  .description('topics of the namespace')
  .command('create')
  .description('create the namespace\'s topics and register their schemas (idempotent)')
  .action(async () => createTopics(commandContext()));

program
  .command('run')
  .description('run workers in this process (until Ctrl-C)')
  .argument('<worker...>', 'worker names, or all')
  .option('--exit-when-idle <ms>', 'stop once caught up and idle for this long', positiveInt)
  .action(async (names: string[], o: { exitWhenIdle?: number }) => {
    const opts = o.exitWhenIdle === undefined ? {} : { exitWhenIdleMs: o.exitWhenIdle };
    await runCommand(commandContext(), names, opts);
  });

program
  .command('produce')
  .description('send activity events to activity.events, keyed by userId')
  .requiredOption('--file <path>', 'input file (.jsonl, .csv, .csv.gz or a directory of day files)')
  .option('--format <format>', 'jsonl or online-retail', 'jsonl')
  .option('--avro', 'encode as Confluent-framed Avro through the registry (default: plain JSON)')
  .option('--limit <n>', 'send at most n events', positiveInt)
  .option('--from-date <yyyy-mm-dd>', 'online-retail: first invoice day')
  .option('--to-date <yyyy-mm-dd>', 'online-retail: last invoice day')
  .action(async (o: { file: string; format: string; avro?: boolean; limit?: number; fromDate?: string; toDate?: string }) => {
    if (o.format !== 'jsonl' && o.format !== 'online-retail') throw new InvalidArgumentError('--format must be jsonl or online-retail');
    const report = await produceCommand(commandContext(), { ...o, format: o.format });
    process.stdout.write(`${JSON.stringify(report)}\n`);
  });

program
  .command('tail')
  .description('print a topic, decoded through the registry, one JSON object per line')
  .argument('<topic>', 'logical topic (e.g. behavior.events) or a full topic name')
  .option('--from-beginning', 'start at the oldest record')
  .option('--max <n>', 'stop after n records', positiveInt)
  .option('--json', 'print the envelope (topic, partition, offset, key, timestamp, value)')
  .option('--idle <ms>', 'stop when nothing arrives for this long', positiveInt)
  .action(async (topic: string, o: { fromBeginning?: boolean; max?: number; json?: boolean; idle?: number }) => {
    const opts: Parameters<typeof tailCommand>[2] = { fromBeginning: Boolean(o.fromBeginning), json: Boolean(o.json) };
    if (o.max !== undefined) opts.max = o.max;
    if (o.idle !== undefined) opts.idleMs = o.idle;
    await tailCommand(commandContext(), topic, opts);
  });

program
  .command('ticker')
  .description('write time into the log: a tick to every partition of activity.events, every interval')
  .option('--interval <ms>', 'time between rounds', positiveInt, 60_000)
  .option('--once', 'send one round and stop')
  .option('--time <epochMs>', 'time to put in the ticks instead of now', positiveInt)
  .action(async (o: { interval: number; once?: boolean; time?: number }) => {
    const opts: Parameters<typeof tickerCommand>[1] = { intervalMs: o.interval, once: Boolean(o.once) };
    if (o.time !== undefined) opts.time = o.time;
    await tickerCommand(commandContext(), opts);
  });

program
  .command('profile')
  .description('print a member\'s behavior profile from Redis')
  .argument('<memberId>')
  .action(async (memberId: string) => profileCommand(commandContext(), memberId));

program
  .command('demo')
  .description('replay a slice of Online Retail through the workers and print what happened')
  .option('--from-date <yyyy-mm-dd>', 'first invoice day', '2010-12-01')
  .option('--to-date <yyyy-mm-dd>', 'last invoice day', '2010-12-31')
  .action(async (o: { fromDate: string; toDate: string }) => demoCommand(commandContext(), o));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`memberflow: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`memberflow: ${(err as Error).message}\n`);
  process.exit(1);
}
