import { redactedError } from '../shared/util/redact.js';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError } from '../shared/config/env.js';
import { commandContext } from './context.js';
import { demoCommand } from './commands/demo.js';
import { produceCommand } from './commands/produce.js';
import { runCommand } from './commands/run.js';
import { stackCommand } from './commands/stack.js';
import { tailCommand } from './commands/tail.js';
import { createTopics } from './commands/topics.js';
import { aclsCommand } from './commands/acls.js';
import { profileCommand } from './commands/profile.js';
import { tickerCommand } from './commands/ticker.js';
import { churnFit, churnScore, readParams } from './commands/churn.js';
import { churnSummarize } from './commands/churn-summarize.js';
import { churnValidate } from './commands/churn-validate.js';
import { recommendCommand } from './commands/recommend.js';
import {
  diffCommand,
  discardCommand,
  dlqListCommand,
  dlqReprocessCommand,
  planCommand,
  promoteCommand,
  rebuildCommand,
  runReplayCommand,
} from './commands/replay/commands.js';
import { defaultRulesPath, loadRules } from '../shared/config/rules.js';
import {
  defaultModelParams,
  formatRecoEvaluation,
  parseCoItems,
  recoEvaluate,
  recoEvaluationJson,
  similarityNames,
  type SimilarityName,
} from './commands/reco-evaluate.js';

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

const program = new Command('memberflow')
  .description('membership and loyalty engine: Kafka in, Redis state, Kafka out')
  .showHelpAfterError();

program
  .command('stack')
  .description('the local Kafka + schema registry + Redis: up | down | status | env')
  .argument('<action>', 'up, down, status or env')
  .option(
    '--redis-cluster',
    'up: also a local Redis Cluster (three masters, three replicas); env: name it in REDIS_CLUSTER_NODES',
  )
  .option(
    '--brokers <n>',
    'up, env, restart-kafka: 3 for a three-broker Kafka cluster on 9192-9194 instead of the one broker',
    positiveInt,
  )
  .option(
    '--secure',
    'up, env: also a secured broker on 9392 (SASL_SSL, SCRAM users admin/app/workers/notifier, client certificates, ACLs enforced)',
  )
  .action((action: string, o: { redisCluster?: boolean; brokers?: number; secure?: boolean }) => {
    process.exitCode = stackCommand(action, {
      redisCluster: o.redisCluster === true,
      brokers: o.brokers,
      secure: o.secure === true,
    });
  });

program
  .command('acls')
  .description('Kafka ACLs for a locked-down cluster')
  .command('apply')
  .description(
    "allow the namespace's three principals what memberflow needs, nothing more (docs/SECURITY.md); run as an admin principal",
  )
  .option('--app <principal>', 'the upstream app (writes activity.events)', 'User:app')
  .option('--workers <principal>', "memberflow's workers, ticker and tools", 'User:workers')
  .option('--notifier <principal>', 'a notification service (reads the outputs)', 'User:notifier')
  .action(async (o: { app: string; workers: string; notifier: string }) => {
    const n = await aclsCommand(commandContext(), o);
    process.stdout.write(`${n} ACLs applied\n`);
  });

program
  .command('topics')
  .description('topics of the namespace')
  .command('create')
  .description("create the namespace's topics and register their schemas (idempotent)")
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
  .requiredOption(
    '--file <path>',
    'input file (.jsonl, .csv, .csv.gz, a directory of day files, or CDNOW .txt/.txt.gz)',
  )
  .option('--format <format>', 'jsonl, online-retail or cdnow', 'jsonl')
  .option('--avro', 'encode as Confluent-framed Avro through the registry (default: plain JSON)')
  .option('--limit <n>', 'send at most n events', positiveInt)
  .option('--from-date <yyyy-mm-dd>', 'online-retail, cdnow: first day')
  .option('--to-date <yyyy-mm-dd>', 'online-retail, cdnow: last day')
  .action(
    async (o: { file: string; format: string; avro?: boolean; limit?: number; fromDate?: string; toDate?: string }) => {
      if (o.format !== 'jsonl' && o.format !== 'online-retail' && o.format !== 'cdnow') {
        throw new InvalidArgumentError('--format must be jsonl, online-retail or cdnow');
      }
      const report = await produceCommand(commandContext(), { ...o, format: o.format });
      process.stdout.write(`${JSON.stringify(report)}\n`);
    },
  );

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
  .description("print a member's behavior profile from Redis")
  .argument('<memberId>')
  .action(async (memberId: string) => profileCommand(commandContext(), memberId));

program
  .command('demo')
  .description('replay a slice of Online Retail through the workers and print what happened')
  .option('--from-date <yyyy-mm-dd>', 'first invoice day', '2010-12-01')
  .option('--to-date <yyyy-mm-dd>', 'last invoice day', '2010-12-31')
  .action(async (o: { fromDate: string; toDate: string }) => demoCommand(commandContext(), o));

const positiveNumber = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};
const oneOf = (allowed: readonly string[]) => (v: string) => {
  if (!allowed.includes(v)) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
  return v;
};
/** The churn commands work offline: they need the rules (time zone, bands), not Kafka. */
const offlineRules = () => loadRules(process.env.MEMBERFLOW_RULES_FILE ?? defaultRulesPath);

const churn = program
  .command('churn')
  .description('churn and value models (BG/NBD, MBG/NBD, Gamma-Gamma), offline: summarize, fit, score, validate');
churn
  .command('summarize')
  .description('per-member id,frequency,recency,T[,monetary] CSV from transactions up to the calibration end')
  .requiredOption('--file <path>', 'transactions (CDNOW text file or Online Retail CSV, optionally .gz)')
  .option('--format <format>', 'cdnow or online-retail', oneOf(['cdnow', 'online-retail']), 'cdnow')
  .requiredOption('--calibration-end <yyyy-mm-dd>', 'last day of the calibration period, inclusive')
  .option('--unit <unit>', 'weeks or days, for recency and T', oneOf(['weeks', 'days']), 'weeks')
  .option('--monetary', 'add the mean spend per repeat purchase day (Gamma-Gamma input)')
  .action(
    async (o: {
      file: string;
      format: 'cdnow' | 'online-retail';
      calibrationEnd: string;
      unit: 'weeks' | 'days';
      monetary?: boolean;
    }) => {
      process.stdout.write(
        await churnSummarize({ ...o, monetary: Boolean(o.monetary), timeZone: offlineRules().timeZone }),
      );
    },
  );
churn
  .command('fit')
  .description('maximum-likelihood parameters and log-likelihood as JSON (paste into the rules file as churn.model)')
  .requiredOption('--summary <csv>', 'a summary CSV (memberflow churn summarize, or ID,x,t_x,T[,zbar])')
  .option(
    '--model <model>',
    'bgnbd (Fader, Hardie & Lee 2005) or mbgnbd (Batislam et al. 2007)',
    oneOf(['bgnbd', 'mbgnbd']),
    'bgnbd',
  )
  .option('--spend', 'also fit the Gamma-Gamma spend model (needs the monetary column)')
  .option('--unit <unit>', 'unit of recency and T in the summary', oneOf(['weeks', 'days']), 'weeks')
  .option(
    '--version <name>',
    'parameter version carried on every churn-risk event (default: model, unit and a hash of the summary)',
  )
  .action(
    async (o: {
      summary: string;
      model: 'bgnbd' | 'mbgnbd';
      spend?: boolean;
      unit: 'weeks' | 'days';
      version?: string;
    }) => {
      const report = await churnFit({ ...o, spend: Boolean(o.spend) });
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    },
  );
churn
  .command('score')
  .description(
    'one JSON object per member: P(alive), band, expected purchases over the horizon, expected spend, lifetime value',
  )
  .requiredOption('--params <json>', 'parameters from churn fit (or a rules file: its churn.model)')
  .requiredOption('--summary <csv>', 'a summary CSV')
  .requiredOption('--horizon <t>', 'horizon for expected purchases, in the summary unit', positiveNumber)
  .option('--unit <unit>', 'unit of recency, T and horizon in the summary', oneOf(['weeks', 'days']), 'weeks')
  .action(async (o: { params: string; summary: string; horizon: number; unit: 'weeks' | 'days' }) => {
    const rules = offlineRules();
    for await (const line of churnScore(o, rules)) process.stdout.write(`${JSON.stringify(line)}\n`);
  });
churn
  .command('validate')
  .description(
    'fit on a calibration period, then compare predictions with the holdout period (totals, per-member correlation, bands)',
  )
  .requiredOption('--file <path>', 'transactions (CDNOW text file or Online Retail CSV, optionally .gz)')
  .option('--format <format>', 'cdnow or online-retail', oneOf(['cdnow', 'online-retail']), 'cdnow')
  .requiredOption('--calibration-end <yyyy-mm-dd>', 'last calibration day, inclusive')
  .requiredOption('--holdout-end <yyyy-mm-dd>', 'last holdout day, inclusive')
  .option('--model <model>', 'bgnbd or mbgnbd', oneOf(['bgnbd', 'mbgnbd']), 'bgnbd')
  .option('--unit <unit>', 'weeks or days', oneOf(['weeks', 'days']), 'weeks')
  .option('--params <json>', 'score with these parameters (churn fit output or a rules file) instead of fitting')
  .action(
    async (o: {
      file: string;
      format: 'cdnow' | 'online-retail';
      calibrationEnd: string;
      holdoutEnd: string;
      model: 'bgnbd' | 'mbgnbd';
      unit: 'weeks' | 'days';
      params?: string;
    }) => {
      const rules = offlineRules();
      const params = o.params ? await readParams(o.params) : undefined;
      const report = await churnValidate({ ...o, timeZone: rules.timeZone, params }, rules);
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    },
  );

const reco = program.command('reco').description('recommendations, offline: evaluate');
reco
  .command('evaluate')
  .description(
    'leave-last-basket-out evaluation of item-to-item CF (cosine, llr, jaccard, count) against the popularity baseline',
  )
  .requiredOption('--format <format>', 'input format: online-retail', oneOf(['online-retail']))
  .requiredOption(
    '--file <path>',
    'Online Retail CSV (.csv or .csv.gz), a directory holding online-retail.csv.gz, or a directory of day files',
  )
  .option('--top <n>', 'N: items per recommendation list', positiveInt, 10)
  .option(
    '--similarity <name>',
    `similarity the bound sweeps use: ${similarityNames.join(', ')} (all are compared in the main pass)`,
    oneOf(similarityNames),
    defaultModelParams.similarity,
  )
  .option(
    '--co-items <K|inf>',
    'K: co-items kept per item, or inf for no bound',
    (v: string) => parseCoItems(v),
    defaultModelParams.coItems,
  )
  .option(
    '--recent <R>',
    'R: recent items a new item is paired with and that drive scoring',
    positiveInt,
    defaultModelParams.member.recent,
  )
  .option('--sweep', 'also compare K in 10, 25, 50, 100, 200, unbounded and R in 5, 10, 20, 50')
  .option('--json', 'print the report as JSON instead of tables')
  .action(
    async (o: {
      format: 'online-retail';
      file: string;
      top: number;
      similarity: SimilarityName;
      coItems: number;
      recent: number;
      sweep?: boolean;
      json?: boolean;
    }) => {
      const report = await recoEvaluate({
        format: o.format,
        file: o.file,
        top: o.top,
        similarity: o.similarity,
        coItems: o.coItems,
        recent: o.recent,
        sweep: Boolean(o.sweep),
      });
      process.stdout.write(o.json ? recoEvaluationJson(report) : formatRecoEvaluation(report));
    },
  );

program
  .command('recommend')
  .description("a member's current top N from the live model (the read path for apps)")
  .argument('<memberId>', 'the member (userId)')
  .option('--top <n>', 'N (default: rules reco.top)', positiveInt)
  .action(async (memberId: string, o: { top?: number }) => {
    const report = await recommendCommand(commandContext(), memberId, o.top);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  });

const replay = program
  .command('replay')
  .description('backfills: a worker as a shadow in its own namespace, compared, promoted or discarded');
replay
  .command('plan')
  .description('what a replay will read (per partition), where its state and outputs go, and whether it is safe')
  .requiredOption('--worker <name>', 'the worker to replay')
  .requiredOption('--from <point>', 'beginning, an ISO time, or offsets like 0:1200,1:900')
  .requiredOption('--namespace <new>', 'a new namespace for its state, group and outputs')
  .option('--rules <file>', 'rules file for the replay (default: the live rules)')
  .option('--json', 'print the plan as JSON')
  .action(async (o: { worker: string; from: string; namespace: string; rules?: string; json?: boolean }) =>
    planCommand(commandContext(), o),
  );
replay
  .command('run')
  .description('run (or resume) a replay up to the high watermarks captured when it started, or on with --follow')
  .requiredOption('--namespace <new>', 'the replay namespace')
  .option('--worker <name>', 'for a new replay: the worker')
  .option('--from <point>', 'for a new replay: beginning, an ISO time, or offsets')
  .option('--rules <file>', 'for a new replay: its rules file')
  .option('--follow', 'keep reading past the captured end')
  .option('--json', 'print the report as JSON')
  .action(
    async (o: {
      namespace: string;
      worker?: string;
      from?: string;
      rules?: string;
      follow?: boolean;
      json?: boolean;
    }) => runReplayCommand(commandContext(), o),
  );
replay
  .command('diff')
  .description("the replay's state and outputs against the live ones")
  .requiredOption('--namespace <new>', 'the replay namespace')
  .option('--json', 'print the report as JSON')
  .action(async (o: { namespace: string; json?: boolean }) => diffCommand(commandContext(), o));
replay
  .command('promote')
  .description('make the replay live: running workers switch to its state and continue from its positions')
  .requiredOption('--namespace <new>', 'the replay namespace')
  .option('--abort', 'give a half-done promote back to the old namespace')
  .option('--leave-timeout <ms>', 'how long to wait for live workers to leave their group', positiveInt)
  .action(async (o: { namespace: string; abort?: boolean; leaveTimeout?: number }) =>
    promoteCommand(commandContext(), o),
  );
replay
  .command('discard')
  .description(
    'remove a replay namespace: its topics, groups, Redis keys and schemas (never live ones); or, with --state-only, the state a promote left behind',
  )
  .requiredOption('--namespace <ns>', 'the replay namespace (or, with --state-only, the old state namespace)')
  .option(
    '--state-only',
    'only the Redis keys and consumer group of --worker in that namespace (after a promote moved away from it)',
  )
  .option('--worker <name>', 'with --state-only: the worker')
  .action(async (o: { namespace: string; stateOnly?: boolean; worker?: string }) =>
    discardCommand(commandContext(), o),
  );

program
  .command('rebuild')
  .description("after Redis lost a worker's state: rebuild it from the retained topics (stop the worker first)")
  .requiredOption('--worker <name>', 'the worker')
  .action(async (o: { worker: string }) => rebuildCommand(commandContext(), o));

const dlq = program.command('dlq').description('the dead-letter topic');
dlq
  .command('list')
  .description('dead letters by reason and worker, and the latest ones')
  .option('--reason <code>', 'only this reason')
  .option('--worker <name>', 'only refused by this worker')
  .option('--since <iso>', 'only records from this time on')
  .option('--max <n>', 'entries to print', positiveInt)
  .option('--json', 'print as JSON')
  .action(async (o: { reason?: string; worker?: string; since?: string; max?: number; json?: boolean }) =>
    dlqListCommand(commandContext(), o),
  );
dlq
  .command('reprocess')
  .description('send dead letters back to their source topic after a fix, each exactly once')
  .requiredOption('--reason <code>', 'the reason whose records to send back')
  .option('--worker <name>', 'only refused by this worker')
  .option('--since <iso>', 'only records from this time on')
  .option('--dry-run', 'say what would be sent')
  .action(async (o: { reason: string; worker?: string; since?: string; dryRun?: boolean }) =>
    dlqReprocessCommand(commandContext(), o),
  );

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const { message } = redactedError(err);
  process.stderr.write(`memberflow: ${message}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}
