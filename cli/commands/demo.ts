import { randomBytes } from 'node:crypto';
import { workerDefinition, workerNames } from '../../services/index.js';
import { fileURLToPath } from 'node:url';
import { connectClients } from '../../shared/clients.js';
import type { MemberProfile } from '../../services/behavior-events/profile.js';
import { availableOf, initialPointsState, pendingOf, type PointsState } from '../../services/points-accrual/state.js';
import { qualifyingPoints } from '../../services/points-accrual/ledger.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { memoryOfNamespace } from '../../shared/redis/usage.js';
import type { CommandContext } from '../context.js';
import { produceCommand } from './produce.js';
import { runCommand } from './run.js';
import { tickerCommand } from './ticker.js';
import { readTopicToEnd } from './read-topic.js';
import type { TierState } from '../../services/tier-evaluation/state.js';
import type { ChurnState } from '../../services/churn-prediction/state.js';
import type { ChurnRiskValue } from '../../shared/contracts/churn-risk.js';
import { createTopics } from './topics.js';
import { recommendCommand } from './recommend.js';
import type { RecommendationValue } from '../../services/recommendations/events.js';
import type { Metrics } from '../../shared/observability/metrics.js';

const retailFile = fileURLToPath(new URL('../../data/online-retail/online-retail.csv.gz', import.meta.url));
const extraFile = fileURLToPath(new URL('../../data/demo/extra-events.jsonl', import.meta.url));

export interface DemoOptions {
  fromDate: string;
  toDate: string;
}

/**
 * The quick-start demo: a fresh namespace, the real Online Retail slice plus a
 * few broken and duplicated records, the workers run until caught up, then a
 * summary read back from the worker and from Redis.
 */
const demoWorkers = workerNames();

export async function demoCommand(given: CommandContext, opts: DemoOptions): Promise<void> {
  // The demo is its own ticker: without a key of the operator's, it signs its ticks with one made for this run.
  const ctx =
    given.env.MEMBERFLOW_TICK_KEY === undefined
      ? { ...given, env: { ...given.env, MEMBERFLOW_TICK_KEY: randomBytes(32).toString('hex') } }
      : given;
  const ns = ctx.env.MEMBERFLOW_NAMESPACE;
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`namespace: ${ns}`);
  await createTopics(ctx, { quiet: true });
  out(`topics and schemas ready (${ctx.env.MEMBERFLOW_TOPIC_PARTITIONS} partitions each)`);

  const retail = await produceCommand(ctx, {
    file: retailFile,
    format: 'online-retail',
    fromDate: opts.fromDate,
    toDate: opts.toDate,
  });
  out(
    `produced ${retail.sent} Online Retail events (${opts.fromDate} .. ${opts.toDate}) in ${retail.seconds.toFixed(1)} s`,
  );
  if (retail.mapping) out(`  mapping: ${JSON.stringify(retail.mapping)}`);
  const extra = await produceCommand(ctx, { file: extraFile, format: 'jsonl' });
  out(`produced ${extra.sent} hand-written records (broken ones and upstream duplicates among them)`);

  let operations = null as { port: number; metrics: Metrics } | null; // set by onStopping: not narrowed to null
  const [worker, points] = await runCommand(ctx, demoWorkers, {
    exitWhenIdleMs: 2000,
    operationsPort: ctx.env.MEMBERFLOW_METRICS_PORT ?? 0,
    onStopping: (o) => (operations = o),
  });
  const t = worker!.totals;
  const seconds = Math.max(0.001, ((t.lastBatchEndedAt ?? 0) - (t.firstBatchStartedAt ?? 0)) / 1000);
  out('');
  out('behavior-events worker');
  out(`  events in:        ${t.records}`);
  out(`  accepted:         ${t.applied}`);
  out(`  duplicates:       ${t.duplicate} (same eventId seen before; applied once)`);
  out(`  rejected:         ${t.rejected + t.undecodable} → ${ns}.activity.dlq`);
  for (const [reason, n] of Object.entries(t.rejections).sort((a, b) => b[1] - a[1]))
    out(`    ${reason.padEnd(26)} ${n}`);
  out(`  outputs:          ${t.outputs} (behavior.events + referrals + dead letters)`);
  out(
    `  throughput:       ${Math.round(t.records / seconds)} events/s (${t.records} events in ${seconds.toFixed(2)} s, first batch to last, one process)`,
  );

  if (operations) await printOperations(operations, out);

  const profiles = await readProfiles(ctx);
  out(`  members profiled: ${profiles.length}`);
  const stages = count(profiles.map((p) => p.stage));
  out(
    `  stages:           ${Object.entries(stages)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  const tags = count(profiles.flatMap((p) => p.tags));
  out(
    `  tags:             ${
      Object.entries(tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || '(none)'
    }`,
  );
  const top = [...profiles].sort((a, b) => b.totalSpendFen - a.totalSpendFen)[0];
  if (top)
    out(
      `  top spender:      ${(top.totalSpendFen / 100).toFixed(2)} over ${top.purchaseCount} purchases, ${top.activeDays} active days`,
    );
  out('');
  const p = points!.totals;
  out('points-accrual worker');
  out(`  behavior events in: ${p.records}, ledger entries out: ${p.outputs}`);
  const shown = [
    ...[...profiles]
      .sort((a, b) => b.totalSpendFen - a.totalSpendFen)
      .slice(0, 4)
      .map((x) => x.memberId),
    'demo-alice',
  ];
  await printBalances(ctx, shown, out);
  out("  (demo-alice earned the referral points for demo-bob's signup)");
  out('');
  out('tier-evaluation worker');
  out(
    `  tiers:  ${Object.entries(await tierDistribution(ctx))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  out('');
  out(`churn-prediction worker (parameters ${ctx.rules.churn.model.version}, ${ctx.rules.churn.model.model})`);
  out(`  risk bands:  ${await bandLine(ctx)}`);

  // Time passes: one tick a year after the slice. Nobody does anything, yet every lot from it expires.
  // 400 days: past every expiry (365 days) and past the 30-day grace periods that follow.
  const yearLater = Date.parse(`${opts.toDate}T00:00:00Z`) + 400 * 24 * 3600 * 1000;
  await tickerCommand(ctx, { intervalMs: 1, once: true, time: yearLater });
  const [, afterTick] = await runCommand(ctx, demoWorkers, { exitWhenIdleMs: 1500 });
  out('');
  out(
    `a tick at ${new Date(yearLater).toISOString().slice(0, 10)} (400 days on; no member did anything): ${afterTick!.totals.outputs} more ledger entries`,
  );
  await printBalances(ctx, shown, out);
  out(
    `  tiers:  ${Object.entries(await tierDistribution(ctx))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  out(`  risk bands:  ${await bandLine(ctx)}  (silence ages every buyer towards high risk)`);
  out('');
  out('churn-risk events (member.churn-risk, read back from Kafka):');
  const risks = (await readTopicToEnd(ctx, 'member.churn-risk')) as unknown as ChurnRiskValue[];
  for (const m of shown.slice(0, 2)) {
    out(`  ${m}`);
    for (const r of risks.filter((x) => x.userId === m)) {
      const when = new Date(r.occurredAt).toISOString().slice(0, 10);
      out(
        `    ${when}  ${r.reason.padEnd(13)} ${(r.previousBand ?? '-').padEnd(6)} → ${r.band.padEnd(6)} ` +
          `P(alive) ${r.pAlive.toFixed(3)}  purchases in ${r.horizonDays} d ${r.expectedPurchases.toFixed(2)}  ` +
          `value ${r.lifetimeValueFen === null ? '-' : (r.lifetimeValueFen / 100).toFixed(0)}`,
      );
    }
  }
  out('');
  out('tier histories (member.tier-changes, read back from Kafka):');
  const changes = await readTopicToEnd(ctx, 'member.tier-changes');
  for (const m of shown.slice(0, 3)) {
    out(`  ${m}`);
    for (const c of changes.filter((x) => x.userId === m) as {
      kind: string;
      previousTier: string | null;
      newTier: string;
      qualifyingPoints: number;
      decidedAt: number;
      graceEndsAt: number | null;
    }[]) {
      const when = new Date(c.decidedAt).toISOString().slice(0, 16).replace('T', ' ');
      out(
        `    ${when}  ${c.kind.padEnd(12)} ${(c.previousTier ?? '-').padEnd(7)} → ${c.newTier.padEnd(7)} ` +
          `qualifying ${c.qualifyingPoints}${c.graceEndsAt ? `, grace ends ${new Date(c.graceEndsAt).toISOString().slice(0, 10)}` : ''}`,
      );
    }
  }
  out('');
  await printRecommendations(ctx, shown[0]!, out);
  out('');
  await printMemory(ctx, out);
  out('');
  out(`read the output:  MEMBERFLOW_NAMESPACE=${ns} npx memberflow tail behavior.events --from-beginning --max 3`);
  out(`dead letters:     MEMBERFLOW_NAMESPACE=${ns} npx memberflow tail activity.dlq --from-beginning --max 5`);
}

/** What the namespace costs Redis now that every worker has stopped (MEMORY USAGE of every key). */
async function printMemory(ctx: CommandContext, out: (s: string) => void): Promise<void> {
  const clients = connectClients(ctx.env, ctx.log, 'memberflow-demo');
  try {
    const m = await memoryOfNamespace(clients.redis, ctx.env.MEMBERFLOW_NAMESPACE);
    out(
      `Redis at rest (MEMORY USAGE of the namespace's ${m.keys} keys): ` +
        `${Math.round(m.memberWorkersBytesPerMember)} bytes per member in the five member workers, ` +
        `${Math.round(m.bytesPerMember)} with everything`,
    );
    out('  worker             records  bytes/record  state  kernel  outboxes  other keys');
    for (const [worker, w] of Object.entries(m.byWorker).sort()) {
      const per = (x: number) => String(w.records > 0 ? Math.round(x / w.records) : 0);
      out(
        `  ${worker.padEnd(18)} ${String(w.records).padStart(7)} ` +
          `${String(Math.round(w.bytesPerRecord)).padStart(13)} ${per(w.stateBytes).padStart(6)} ` +
          `${per(w.kernelBytes).padStart(7)} ${String(w.outboxes).padStart(9)} ` +
          String(w.otherKeys).padStart(11),
      );
    }
  } finally {
    await clients.close();
  }
}

async function printRecommendations(ctx: CommandContext, memberId: string, out: (s: string) => void): Promise<void> {
  const recos = (await readTopicToEnd(ctx, 'member.recommendations')) as unknown as RecommendationValue[];
  const byTrigger = count(recos.map((r) => r.trigger));
  out(`recommendations (reco-members + reco-items, model ${recos[0]?.modelVersion ?? '-'})`);
  out(
    `  events:  ${Object.entries(byTrigger)
      .map(([k, v]) => `${k}=${v}`)
      .join(
        ' ',
      )}  (next_item after purchases, win_back when a member turns high risk, tier_upgrade with what the tier unlocks)`,
  );
  const line = (r: RecommendationValue) => {
    const unlocks = r.unlocks.length ? `unlocks ${r.unlocks.join(',')}; ` : '';
    const items = r.items
      .slice(0, 4)
      .map((i) => `${i.itemId}(${i.source} ${i.source === 'cf' ? i.score.toFixed(2) : i.score})`)
      .join(' ');
    const day = new Date(r.occurredAt).toISOString().slice(0, 10);
    return `    ${day}  ${r.trigger.padEnd(12)} ${r.userId.padEnd(8)} ${unlocks}${items}${r.items.length > 4 ? ' …' : ''}`;
  };
  for (const trigger of ['next_item', 'win_back', 'tier_upgrade'] as const) {
    const sample = recos.filter((r) => r.trigger === trigger && r.items.length > 0).slice(-2);
    for (const r of sample) out(line(r));
  }
  const now = await recommendCommand(ctx, memberId);
  out(`  memberflow recommend ${memberId}: ${now.items.map((i) => i.itemId).join(' ')}  (owns ${now.owned} items)`);
}

async function bandLine(ctx: CommandContext): Promise<string> {
  const bands: string[] = [];
  for (const [, state] of await allStates<ChurnState>(ctx, 'churn-prediction')) if (state.band) bands.push(state.band);
  const c = count(bands);
  return ['low', 'medium', 'high'].map((b) => `${b}=${c[b] ?? 0}`).join(' ');
}

async function tierDistribution(ctx: CommandContext): Promise<Record<string, number>> {
  const tiers: string[] = [];
  for (const [, state] of await allStates<TierState>(ctx, 'tier-evaluation')) if (state.tier) tiers.push(state.tier);
  return count(tiers);
}

/** Every member's state of one worker in the demo's namespace. */
async function allStates<S>(ctx: CommandContext, worker: string): Promise<[string, S][]> {
  const clients = connectClients(ctx.env, ctx.log, 'memberflow-demo');
  const states: [string, S][] = [];
  try {
    for await (const entry of new MemberStore<S>(
      clients.redis,
      ctx.env.MEMBERFLOW_NAMESPACE,
      workerDefinition(worker),
    ).scanStates())
      states.push(entry);
  } finally {
    await clients.close();
  }
  return states;
}

async function printBalances(ctx: CommandContext, memberIds: string[], out: (s: string) => void): Promise<void> {
  out('  member       available  pending  debt  qualifying');
  for (const b of await readPointBalances(ctx, memberIds)) {
    out(
      `  ${b.memberId.padEnd(12)} ${String(b.available).padStart(9)} ${String(b.pending).padStart(8)} ` +
        `${String(b.debt).padStart(5)} ${String(b.qualifying).padStart(11)}`,
    );
  }
}

async function readPointBalances(ctx: CommandContext, memberIds: string[]) {
  const clients = connectClients(ctx.env, ctx.log, 'memberflow-demo');
  try {
    const store = new MemberStore<PointsState>(
      clients.redis,
      ctx.env.MEMBERFLOW_NAMESPACE,
      workerDefinition('points-accrual'),
    );
    const loaded = await store.load(memberIds);
    return memberIds.map((memberId) => {
      const st = loaded.get(memberId)?.record.state ?? initialPointsState();
      return {
        memberId,
        available: availableOf(st),
        pending: pendingOf(st),
        debt: st.debt,
        qualifying: qualifyingPoints(st, ctx.rules),
      };
    });
  } finally {
    await clients.close();
  }
}

async function readProfiles(ctx: CommandContext): Promise<(MemberProfile & { memberId: string })[]> {
  return (await allStates<MemberProfile>(ctx, 'behavior-events')).map(([memberId, state]) => ({ ...state, memberId }));
}

function count(values: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const v of values) c[v] = (c[v] ?? 0) + 1;
  return c;
}

/** Where an operator looks: the port the workers served while they ran, and a few of its figures. */
async function printOperations(o: { port: number; metrics: Metrics }, out: (s: string) => void): Promise<void> {
  const batches = await o.metrics.total('memberflow_batches_total');
  const seconds = await o.metrics.total('memberflow_batch_duration_seconds_sum');
  const deadLettered =
    (await o.metrics.total('memberflow_inputs_total', { outcome: 'rejected' })) +
    (await o.metrics.total('memberflow_inputs_total', { outcome: 'undecodable' }));
  out(`  operations:       /metrics, /healthz and /readyz were served on port ${o.port} while the workers ran`);
  out(
    `                    (set MEMBERFLOW_METRICS_PORT for \`memberflow run\`; dashboard and alert rules: docs/operations/);`,
  );
  out(
    `                    all six workers: ${batches} batches, ` +
      `${batches === 0 ? 0 : Math.round((seconds / batches) * 1000)} ms per batch on average, ` +
      `${deadLettered} inputs dead-lettered, ${await o.metrics.total('memberflow_fenced_retries_total')} ` +
      `fenced retries`,
  );
}
