/**
 * `node --import tsx bench/clients.ts <report.json> <report.json>...`: the same bench run with
 * different Kafka clients (MEMBERFLOW_KAFKA_CLIENT), side by side, as Markdown. Ratios are
 * each run's own (its points-accrual against its own ceiling, same client, same run).
 */
import { readFileSync } from 'node:fs';
import { isTierPathRun } from './lib/profiles.js';
import type { BenchReport } from './lib/report.js';

/** A saved report: those written before the lower-rate latency runs have no `latencyAlso`. */
type SavedReport = Omit<BenchReport, 'latencyAlso'> & Partial<Pick<BenchReport, 'latencyAlso'>>;

const reports = process.argv.slice(2).map((f) => ({ file: f, r: JSON.parse(readFileSync(f, 'utf8')) as SavedReport }));
if (reports.length < 2) {
  process.stderr.write('usage: bench/clients.ts <report.json> <report.json>...\n');
  process.exit(2);
}
const n0 = (x: number | undefined) =>
  x !== undefined && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a';
const pct = (x: number) => `${Math.round(x * 100)} %`;
const rate = (r: SavedReport, name: string) => r.alone.find((m) => m.name === name)?.throughput.perSecond;
const cpu = (r: SavedReport, name: string) => r.alone.find((m) => m.name === name)?.process.cpuSeconds;
const rss = (r: SavedReport, name: string) => r.alone.find((m) => m.name === name)?.process.peakRssMiB;
const rows: Array<[string, (r: SavedReport) => string]> = [
  ['run', (r) => `${r.command} (${r.startedAt.slice(0, 16).replace('T', ' ')})`],
  ['behavior-events alone, records/s', (r) => n0(rate(r, 'behavior-events'))],
  ['points-accrual alone, records/s', (r) => n0(rate(r, 'points-accrual'))],
  [
    'points-accrual CPU s / peak RSS MiB',
    (r) => `${cpu(r, 'points-accrual')?.toFixed(1) ?? 'n/a'} / ${n0(rss(r, 'points-accrual'))}`,
  ],
  ['ceiling read only, records/s', (r) => n0(r.ceiling.noop.throughput.perSecond)],
  ['ceiling read + write, records/s', (r) => n0(r.ceiling.readWrite.throughput.perSecond)],
  ['points-accrual / read + write ceiling', (r) => pct(r.ratios.pointsVsReadWriteCeiling)],
  [
    "points-accrual / naive (naive: kafkajs consumer, the selected client's producer)",
    (r) => `${r.ratios.pointsVsNaive.toFixed(1)} ×`,
  ],
  ['replay mismatches', (r) => String(r.replayCheck.mismatches)],
  [
    'latency p50 / p99 ms at target rate',
    (r) => `${n0(r.latency.latency.p50)} / ${n0(r.latency.latency.p99)} (${n0(r.latency.targetPerSecond)}/s)`,
  ],
  [
    'latency p50 / p99 ms, tier-path workers only',
    (r) => {
      const run = (r.latencyAlso ?? []).find(isTierPathRun);
      return run ? `${n0(run.latency.p50)} / ${n0(run.latency.p99)} (${n0(run.targetPerSecond)}/s)` : 'not run';
    },
  ],
  ['six workers CPU s in the latency run', (r) => r.latency.processes.reduce((s, p) => s + p.cpuSeconds, 0).toFixed(1)],
];
const lines = [
  `| | ${reports.map((x) => x.r.machine.client).join(' | ')} |`,
  `| --- |${reports.map(() => ' ---: |').join('')}`,
];
for (const [label, f] of rows) lines.push(`| ${label} | ${reports.map((x) => f(x.r)).join(' | ')} |`);
process.stdout.write(`${lines.join('\n')}\n`);
