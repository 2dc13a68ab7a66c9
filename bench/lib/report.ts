/** The bench report as Markdown: raw figures next to the ratios, and each goal with its measured value. */
import type { MachineInfo } from './machine.js';
import { isTierPathRun, tierPathWorkers } from './profiles.js';
import type { BenchResults, Measured } from './sections.js';

export interface BenchReport extends BenchResults {
  profile: string;
  command: string;
  startedAt: string;
  seconds: number;
  machine: MachineInfo;
}

const n0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const n2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const pct = (x: number) => `${Math.round(x * 100)} %`;
/** Small ratios (round trips per input) keep three significant digits. */
const n3 = (x: number) => (Number.isFinite(x) ? (x >= 1 ? x.toFixed(2) : x.toPrecision(3)) : 'n/a');

const workersLabel = (run: { workers?: string[] }): string =>
  isTierPathRun(run) ? `tier path (${tierPathWorkers.length})` : 'all six';

export function renderMarkdown(r: BenchReport): string {
  const lines: string[] = [];
  const push = (...xs: string[]) => lines.push(...xs);
  push(
    '# memberflow benchmarks',
    '',
    `Produced by \`${r.command}\` on ${r.startedAt.slice(0, 10)} (${r.seconds} s). Machine: ` +
      `${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memoryGiB} GiB; Node.js ${r.machine.node}; ` +
      `Kafka ${r.machine.kafka}${(r.machine.brokers ?? 1) > 1 ? `, ${r.machine.brokers} brokers` : ''}; ` +
      `Redis ${r.machine.redis}; Kafka client: ${r.machine.client}.`,
    `Input: ${n0(r.input.events)} generated activity records (${n0(r.input.members)} members, skewed; ` +
      `every event type, ~2 % upstream duplicates, ~2 % broken), ${r.input.partitions} partitions per ` +
      `topic. What each figure means: bench/README.md.`,
    '',
    '## Goals',
    '',
    '| goal | target | measured | met |',
    '| --- | --- | --- | --- |',
  );
  const points = r.alone.find((m) => m.name === 'points-accrual');
  const goal = (name: string, target: string, measured: string, met: boolean) =>
    push(`| ${name} | ${target} | ${measured} | ${met ? 'yes' : 'no'} |`);
  goal(
    'points-accrual vs read-and-write ceiling',
    '≥ 50 %',
    `${pct(r.ratios.pointsVsReadWriteCeiling)} (${n0(points?.throughput.perSecond ?? NaN)} / ${n0(r.ceiling.readWrite.throughput.perSecond)} records/s)`,
    r.ratios.pointsVsReadWriteCeiling >= 0.5,
  );
  goal(
    'points-accrual vs naive baseline',
    '≥ 10 ×',
    `${n2(r.ratios.pointsVsNaive)} × (${n0(points?.throughput.perSecond ?? NaN)} / ${n0(r.naive.throughput.perSecond)} records/s)`,
    r.ratios.pointsVsNaive >= 10,
  );
  goal(
    'exactly-once after the run (replay comparison)',
    '0 mismatches',
    `${r.replayCheck.mismatches} (${n0(r.replayCheck.statesCompared)} states, ${n0(r.replayCheck.outputsCompared)} outputs)`,
    r.replayCheck.mismatches === 0,
  );
  const tierPath = r.latencyAlso.find((run) => isTierPathRun(run) && run.targetPerSecond === r.latency.targetPerSecond);
  const tierPathNote = tierPath
    ? `; with only the three tier-path workers running: ${n0(tierPath.latency.p99)} ms`
    : '';
  goal(
    `p99 activity → tier change at ${n0(r.latency.targetPerSecond)} events/s`,
    '< 100 ms',
    `${n0(r.latency.latency.p99)} ms (achieved ${n0(r.latency.achievedPerSecond)} events/s, all six workers${tierPathNote})`,
    r.latency.latency.p99 < 100,
  );
  // Reports written before the comparison existed have no such field.
  const cost = r.withoutTransactions ?? null;
  const costPairs = (cost?.alone ?? []).flatMap((off) => {
    const on = r.alone.find((m) => m.name === off.name);
    return on ? [{ name: off.name, on, off, ratio: on.throughput.perSecond / off.throughput.perSecond }] : [];
  });
  if (costPairs.length > 0) {
    const worst = Math.min(...costPairs.map((x) => x.ratio));
    goal(
      'throughput with transactions vs without',
      '≥ 80 %',
      `${pct(worst)} at worst (${costPairs.map((x) => `${x.name} ${n0(x.on.throughput.perSecond)} / ${n0(x.off.throughput.perSecond)} records/s`).join(', ')})`,
      worst >= 0.8,
    );
  }
  if (cost?.latency) {
    const ratio = r.latency.latency.p99 / cost.latency.latency.p99;
    goal(
      `p99 activity → tier change with transactions vs without, ${n0(r.latency.targetPerSecond)} events/s`,
      '≤ 1.2 ×',
      `${n2(ratio)} × (${n0(r.latency.latency.p99)} / ${n0(cost.latency.latency.p99)} ms, all six workers)`,
      ratio <= 1.2,
    );
  }
  const maxTrips = Math.max(...r.alone.map((m) => m.redis.roundTripsPerInput));
  goal(
    'Redis round trips per input event, full load',
    '< 1',
    `${n3(maxTrips)} at most (${r.alone.map((m) => `${m.name} ${n3(m.redis.roundTripsPerInput)}`).join(', ')})`,
    maxTrips < 1,
  );
  const mem = r.onlineRetail?.memory ?? r.latency.memory;
  const items = mem.byWorker['reco-items'];
  goal(
    `Redis memory per member at rest (${r.onlineRetail ? 'Online Retail, full year' : 'generated stream'})`,
    'reported',
    `${n0(mem.memberWorkersBytesPerMember)} bytes in the five member workers, ${n0(mem.bytesPerMember)} ` +
      `with all keys (${n0(mem.members)} members); reco-items ${n0(items?.bytesPerRecord ?? 0)} bytes per ` +
      `item`,
    true,
  );
  if (r.scale.length > 0) {
    // The two largest runs: the smallest is over in seconds, start-up weighs on it.
    const first = r.scale[Math.max(0, r.scale.length - 2)]!;
    const last = r.scale[r.scale.length - 1]!;
    goal(
      'linear cost: throughput and memory per member across member counts',
      'flat',
      `points-accrual ${r.scale.map((s) => n0(s.pointsAccrual.perSecond)).join(' / ')} records/s; ` +
        `${r.scale.map((s) => n0(s.memory.memberWorkersBytesPerMember)).join(' / ')} bytes per member at ` +
        `${r.scale.map((s) => n0(s.members)).join(' / ')} members`,
      last.pointsAccrual.perSecond >= 0.7 * first.pointsAccrual.perSecond &&
        last.memory.memberWorkersBytesPerMember <= 1.3 * first.memory.memberWorkersBytesPerMember,
    );
  }
  push(
    '',
    '## One process at a time over the same input',
    '',
    'Each process reads a full topic with the machine to itself; throughput from the start of its first ' +
      'batch to the end of its last (its own clock); CPU and peak RSS over its whole life, start-up ' +
      "included. The ceiling and the naive baseline read points-accrual's input (behavior.events).",
    '',
  );
  push(
    '| process | records | records/s | vs read+write ceiling (same input) | vs naive (same input) | CPU s ' +
      '| peak RSS MiB | Redis round trips / input | Redis commands / input |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  // Ratios only where the input is the same: points-accrual, the ceilings and the naive baseline read behavior.events.
  const row = (m: Measured, sameInput: boolean) =>
    push(
      `| ${m.name} | ${n0(m.throughput.records)} | ${n0(m.throughput.perSecond)} | ` +
        `${sameInput ? pct(m.throughput.perSecond / r.ceiling.readWrite.throughput.perSecond) : '—'} | ` +
        `${sameInput ? `${n2(m.throughput.perSecond / r.naive.throughput.perSecond)} ×` : '—'} | ` +
        `${n2(m.process.cpuSeconds)} | ${n0(m.process.peakRssMiB)} | ${n3(m.redis.roundTripsPerInput)} | ` +
        `${n3(m.redis.commandsPerInput)} |`,
    );
  r.alone.forEach((m) => row(m, m.name === 'points-accrual'));
  row(r.ceiling.noop, true);
  row(r.ceiling.readWrite, true);
  row(r.naive, true);
  push(
    '',
    '## Latency through the whole pipeline',
    '',
    `All six workers running; upstream sends at ${n0(r.latency.targetPerSecond)} events/s for ` +
      `${n0(r.latency.sent / r.latency.targetPerSecond)} s (achieved ${n0(r.latency.achievedPerSecond)}/s). ` +
      `Latency: activity record timestamp (when sent) to the member.tier-changes record timestamp (when ` +
      `tier-evaluation sent it).`,
    '',
  );
  push(
    'The "tier path" rows run only behavior-events, points-accrual and tier-evaluation: the same path to ' +
      'a tier change, without the other three workers sharing the cores.',
    '',
  );
  push(
    '| events/s sent (achieved) | workers | tier changes | p50 ms | p95 ms | p99 ms | max ms | drained after feed s | workers CPU s |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const run of [r.latency, ...r.latencyAlso]) {
    const x = run.latency;
    push(
      `| ${n0(run.targetPerSecond)} (${n0(run.achievedPerSecond)}) | ${workersLabel(run)} | ` +
        `${n0(x.samples)} | ${n0(x.p50)} | ${n0(x.p95)} | ${n0(x.p99)} | ${n0(x.max)} | ` +
        `${n2(run.drainSeconds)} | ${n2(run.processes.reduce((s, p) => s + p.cpuSeconds, 0))} |`,
    );
  }
  push(
    '',
    "The same latency split by hop (each record's timestamp is when the worker of that hop sent it): " +
      'activity sent → behavior event (behavior-events), → ledger entry (points-accrual), → tier change ' +
      '(tier-evaluation).',
    '',
  );
  push(
    '| events/s | workers | hop | p50 ms | p95 ms | p99 ms | max ms |',
    '| ---: | --- | --- | ---: | ---: | ---: | ---: |',
  );
  for (const run of [r.latency, ...r.latencyAlso]) {
    for (const [hop, x] of [
      ['behavior-events', run.hops.behaviorEvents],
      ['points-accrual', run.hops.pointsAccrual],
      ['tier-evaluation', run.hops.tierEvaluation],
    ] as const) {
      push(
        `| ${n0(run.targetPerSecond)} | ${workersLabel(run)} | ${hop} | ${n0(x.p50)} | ${n0(x.p95)} | ${n0(x.p99)} | ${n0(x.max)} |`,
      );
    }
  }
  push(
    '',
    `Per worker at ${n0(r.latency.targetPerSecond)} events/s (CPU over each process's life, warm-up included):`,
    '',
  );
  push('| worker | CPU s | cores used | peak RSS MiB | Redis round trips |', '| --- | ---: | ---: | ---: | ---: |');
  for (const p of r.latency.processes)
    push(`| ${p.name} | ${n2(p.cpuSeconds)} | ${n2(p.coresUsed)} | ${n0(p.peakRssMiB)} | ${n0(p.redisRoundTrips)} |`);
  if (cost) {
    push(
      '',
      '## Transactions: what exactly-once outputs cost',
      '',
      'The same input and the same latency run once more with `MEMBERFLOW_TRANSACTIONS=off` (an idempotent ' +
        'producer, offsets committed apart: duplicates after crashes), later in the same bench run. *With* is ' +
        'the run above: one transaction per batch and input partition.',
      '',
    );
    push('| measure | with transactions | without | with / without |', '| --- | ---: | ---: | ---: |');
    for (const x of costPairs) {
      push(
        `| ${x.name} alone, records/s | ${n0(x.on.throughput.perSecond)} | ${n0(x.off.throughput.perSecond)} | ${pct(x.ratio)} |`,
      );
      push(
        `| ${x.name} alone, CPU s | ${n2(x.on.process.cpuSeconds)} | ${n2(x.off.process.cpuSeconds)} | ` +
          `${pct(x.on.process.cpuSeconds / x.off.process.cpuSeconds)} |`,
      );
    }
    if (cost.latency) {
      const on = r.latency.latency;
      const off = cost.latency.latency;
      for (const [q, a, b] of [
        ['p50', on.p50, off.p50],
        ['p95', on.p95, off.p95],
        ['p99', on.p99, off.p99],
      ] as const)
        push(
          `| ${q} activity → tier change at ${n0(r.latency.targetPerSecond)} events/s, ms | ${n0(a)} | ${n0(b)} | ${n2(a / b)} × |`,
        );
      push(
        `| workers CPU s in the latency run | ${n2(r.latency.processes.reduce((t, p) => t + p.cpuSeconds, 0))} | ` +
          `${n2(cost.latency.processes.reduce((t, p) => t + p.cpuSeconds, 0))} | |`,
      );
    }
  }
  for (const [title, run] of [
    ['End to end: all six workers from a full activity topic', r.endToEnd],
    ['Online Retail through all six workers', r.onlineRetail],
  ] as const) {
    if (!run) continue;
    push(
      '',
      `## ${title}`,
      '',
      `${n0(run.inputRecords)} activity records in ${n2(run.seconds)} s: **${n0(run.perSecond)} input events/s** with all six workers sharing the machine.`,
      '',
    );
    push('| worker | CPU s | peak RSS MiB | Redis round trips |', '| --- | ---: | ---: | ---: |');
    for (const p of run.processes)
      push(`| ${p.name} | ${n2(p.cpuSeconds)} | ${n0(p.peakRssMiB)} | ${n0(p.redisRoundTrips)} |`);
  }
  push(
    '',
    '## Redis memory per member',
    '',
    'MEMORY USAGE of every key once the workers stopped. *Member workers*: the keys of behavior-events, ' +
      'points-accrual, tier-evaluation, churn-prediction and reco-members per member; *all keys* adds ' +
      'reco-items (per item below), projections, timers and live pointers. Per worker: all its bytes per ' +
      "record (state / kernel bookkeeping / Redis's own overhead and other keys).",
    '',
    '| run | members | keys | bytes | bytes / member (member workers) | bytes / member (all keys) | by worker: bytes per record (state / kernel / rest) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  const memRow = (name: string, m: typeof mem) =>
    push(
      `| ${name} | ${n0(m.members)} | ${n0(m.keys)} | ${n0(m.bytes)} | ${n0(m.memberWorkersBytesPerMember)} | ${n0(m.bytesPerMember)} | ${Object.entries(
        m.byWorker,
      )
        .filter(([, x]) => x.records > 0)
        .map(
          ([w, x]) =>
            `${w} ${n0(x.bytesPerRecord)} (${n0(x.stateBytes / x.records)} / ${n0(x.kernelBytes / x.records)} / ` +
            `${n0(x.bytesPerRecord - (x.stateBytes + x.kernelBytes) / x.records)})`,
        )
        .join(', ')} |`,
    );
  memRow('latency run (generated)', r.latency.memory);
  if (r.endToEnd) memRow('end to end (generated)', r.endToEnd.memory);
  if (r.onlineRetail) memRow('Online Retail', r.onlineRetail.memory);
  if (r.scale.length > 0) {
    push(
      '',
      '## Scaling with members',
      '',
      'Uniform members, one event per member on average; behavior-events, points-accrual, tier-evaluation, ' +
        'churn-prediction and reco-members each alone, one after the other, so all five member workers hold ' +
        'state when memory is measured.',
      '',
      '| members | events | points states | behavior-events records/s | points-accrual records/s | ' +
        'tier-evaluation records/s | churn-prediction records/s | reco-members records/s | bytes / member ' +
        '(five member workers) | bytes / member (all keys) |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const s of r.scale)
      push(
        `| ${n0(s.members)} | ${n0(s.events)} | ${n0(s.states)} | ${n0(s.behaviorEvents.perSecond)} | ` +
          `${n0(s.pointsAccrual.perSecond)} | ` +
          `${['tier-evaluation', 'churn-prediction', 'reco-members'].map((w) => n0(s.others[w]?.perSecond ?? 0)).join(' | ')} | ` +
          `${n0(s.memory.memberWorkersBytesPerMember)} | ${n0(s.memory.bytesPerMember)} |`,
      );
  }
  push('', '## Checks', '');
  for (const c of r.checks) push(`- ${c.ok ? 'ok' : 'FAILED'}: ${c.name}: ${c.detail}`);
  push('');
  return lines.join('\n');
}
