/**
 * `npm run bench`: memberflow against the Kafka client's own ceiling and a naive baseline, on
 * the real stack, in one run. What each figure means: bench/README.md.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { Command } from 'commander';
import { loadEnv } from '../shared/config/env.js';
import { defaultRulesPath, loadRules } from '../shared/config/rules.js';
import { createLogger } from '../shared/log.js';
import { machineInfo } from './lib/machine.js';
import { profiles, type ProfileName } from './lib/profiles.js';
import { renderMarkdown } from './lib/report.js';
import { latencyCost, runBench } from './lib/sections.js';

const program = new Command()
  .name('bench')
  .description('memberflow throughput, latency and cost against the Kafka client ceiling and a naive baseline')
  .option('--short', 'the quick profile (under 2 minutes)')
  .option('--out <dir>', 'where the JSON and Markdown reports go', 'bench/results')
  .option('--doc', 'also write the Markdown report to docs/BENCHMARKS.md')
  .option(
    '--latency-cost <rounds>',
    'only the latency at the goal rate, with and without transactions, alternating this many times',
  )
  .option('--latency-rate <events/s>', 'with --latency-cost: this rate instead of the goal rate')
  .parse();
const opts = program.opts<{
  short?: boolean;
  out: string;
  doc?: boolean;
  latencyCost?: string;
  latencyRate?: string;
}>();

const profile: ProfileName = opts.short ? 'short' : 'full';
const env = loadEnv();
const rules = loadRules(env.MEMBERFLOW_RULES_FILE ?? defaultRulesPath);
const log = createLogger('warn', 'bench');
const started = Date.now();
const progress = (s: string) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);

const machine = await machineInfo(env);
progress(
  `profile ${profile}; ${machine.cores} cores; kafka ${machine.kafka}; redis ${machine.redis}; client ${machine.client}`,
);
if (opts.latencyCost !== undefined) {
  const base = profiles[profile];
  const chosen =
    opts.latencyRate === undefined
      ? base
      : { ...base, latency: { ...base.latency, perSecond: Number(opts.latencyRate) } };
  const rounds = await latencyCost(
    { env, rules, log, profile: chosen, progress },
    Math.max(1, Number(opts.latencyCost)),
  );
  const total = (pick: 'with' | 'without', q: 'p50' | 'p99') => rounds.reduce((n, r) => n + r[pick][q], 0);
  const line = (q: 'p50' | 'p99') =>
    `${q}: with ${Math.round(total('with', q) / rounds.length)} ms, without ` +
    `${Math.round(total('without', q) / rounds.length)} ms, ratio ` +
    (total('with', q) / total('without', q)).toFixed(2);
  process.stdout.write(
    `latency cost of transactions, ${profile} profile, ${rounds.length} round(s) at ${chosen.latency.perSecond} events/s: ${line('p50')}; ${line('p99')}\n`,
  );
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(
    `${opts.out}/latency-cost-${profile}-${chosen.latency.perSecond}-${machine.client}.json`,
    `${JSON.stringify({ profile, perSecond: chosen.latency.perSecond, machine, rounds }, null, 2)}\n`,
  );
  process.exit(0);
}
const results = await runBench({ env, rules, log, profile: profiles[profile], progress });
const report = {
  profile,
  command: `npm run bench${opts.short ? ' -- --short' : ''}`,
  startedAt: new Date(started).toISOString(),
  seconds: Math.round((Date.now() - started) / 1000),
  machine,
  ...results,
};
const markdown = renderMarkdown(report);
mkdirSync(opts.out, { recursive: true });
const base = `${opts.out}/${profile}-${machine.client}`;
writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(`${base}.md`, markdown);
if (opts.doc) writeFileSync('docs/BENCHMARKS.md', markdown);
process.stdout.write(markdown);
progress(`wrote ${base}.json and ${base}.md${opts.doc ? ' and docs/BENCHMARKS.md' : ''}`);
const failed = results.checks.filter((c) => !c.ok);
if (failed.length > 0) {
  process.stderr.write(`bench checks failed:\n${failed.map((c) => `  ${c.name}: ${c.detail}`).join('\n')}\n`);
  process.exit(1);
}
process.exit(0);
