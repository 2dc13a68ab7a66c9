/** The replay, rebuild and dlq commands as the CLI runs them: open clients, run, print, close. */
import type { CommandContext } from '../../context.js';
import { replayDiff, type DiffReport } from './diff.js';
import { discardOldState, replayDiscard } from './discard.js';
import { dlqList, dlqReprocess, type DlqFilter } from './dlq.js';
import { replayPromote } from './promote.js';
import { rebuild } from './rebuild.js';
import { replayPlan, replayRun } from './run.js';
import { openReplayContext, ReplayRefused, type ReplayContext } from './shared.js';
import { formatPlan } from '../../../shared/replay/plan.js';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);
const json = (v: unknown) => out(JSON.stringify(v, null, 2));

async function withContext<T>(ctx: CommandContext, run: (rc: ReplayContext) => Promise<T>): Promise<T> {
  const rc = await openReplayContext(ctx, 'memberflow-replay');
  try {
    return await run(rc);
  } finally {
    await rc.close();
  }
}

export async function planCommand(
  ctx: CommandContext,
  o: { worker: string; from: string; namespace: string; rules?: string; json?: boolean },
): Promise<void> {
  await withContext(ctx, async (rc) => {
    const plan = await replayPlan(rc, {
      worker: o.worker,
      namespace: o.namespace,
      from: o.from,
      ...(o.rules ? { rulesFile: o.rules } : {}),
    });
    if (o.json) json(plan);
    else out(formatPlan(plan));
    if (plan.refusals.length > 0) process.exitCode = 3;
  });
}

export async function runReplayCommand(
  ctx: CommandContext,
  o: { namespace: string; worker?: string; from?: string; rules?: string; follow?: boolean; json?: boolean },
): Promise<void> {
  await withContext(ctx, async (rc) => {
    const stop = new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    const tty = process.stderr.isTTY;
    const report = await replayRun(rc, {
      namespace: o.namespace,
      ...(o.worker ? { worker: o.worker } : {}),
      ...(o.from ? { from: o.from } : {}),
      ...(o.rules ? { rulesFile: o.rules } : {}),
      follow: Boolean(o.follow),
      progress: (line) => (tty ? process.stderr.write(`\r${line}\x1b[K`) : err(line)),
      progressEveryMs: tty ? 500 : 5000,
      stop,
    });
    if (tty) process.stderr.write('\n');
    if (o.json) json(report);
    else
      out(
        `${report.completed ? 'done' : `stopped (resume with replay run --namespace ${report.namespace})`}: ` +
          `${report.records} records, ${report.outputs} outputs in ${report.seconds.toFixed(1)} s ` +
          `(${report.recordsPerSecond}/s)${report.resumed ? ', resumed' : ''}`,
      );
  });
}

export async function diffCommand(ctx: CommandContext, o: { namespace: string; json?: boolean }): Promise<void> {
  await withContext(ctx, async (rc) => {
    const d = await replayDiff(rc, o.namespace);
    if (o.json) json(d);
    else out(formatDiff(d));
  });
}

export function formatDiff(d: DiffReport): string {
  const m = d.state.members;
  const lines = [
    `${d.worker}: live state ${d.liveState} against replay ${d.shadow}`,
    `members: live ${m.live}, replay ${m.shadow}; equal ${m.equal}, different ${m.different} (only live ${m.onlyLive}, only replay ${m.onlyShadow})`,
  ];
  for (const [field, n] of Object.entries(d.state.byField)) lines.push(`  ${field}: ${n} member(s) differ`);
  for (const s of d.state.samples)
    lines.push(`  e.g. ${s.memberId}: live ${JSON.stringify(s.live)} → replay ${JSON.stringify(s.shadow)}`);
  for (const o of d.outputs) {
    lines.push(
      `${o.topic}: live ${o.live} events, replay ${o.shadow}; same ${o.same}, different ${o.different}, only live ${o.onlyLive}, only replay ${o.onlyShadow}`,
    );
  }
  return lines.join('\n');
}

export async function promoteCommand(
  ctx: CommandContext,
  o: { namespace: string; abort?: boolean; leaveTimeout?: number },
): Promise<void> {
  await withContext(ctx, async (rc) => {
    const r = await replayPromote(rc, {
      namespace: o.namespace,
      ...(o.abort ? { abort: true } : {}),
      ...(o.leaveTimeout ? { leaveTimeoutMs: o.leaveTimeout } : {}),
      progress: err,
    });
    json(r);
  });
}

export async function discardCommand(
  ctx: CommandContext,
  o: { namespace: string; stateOnly?: boolean; worker?: string },
): Promise<void> {
  if (o.stateOnly && !o.worker) throw new ReplayRefused('--state-only needs --worker');
  await withContext(ctx, async (rc) =>
    json(o.stateOnly ? await discardOldState(rc, o.namespace, o.worker!) : await replayDiscard(rc, o.namespace)),
  );
}

export async function rebuildCommand(ctx: CommandContext, o: { worker: string }): Promise<void> {
  await withContext(ctx, async (rc) => json(await rebuild(rc, o.worker, err)));
}

export function dlqFilter(o: { reason?: string; worker?: string; since?: string }): DlqFilter {
  const f: DlqFilter = {};
  if (o.reason) f.reason = o.reason;
  if (o.worker) f.worker = o.worker;
  if (o.since) {
    const at = /^\d{4}-\d{2}-\d{2}/.test(o.since) ? Date.parse(o.since) : Number.NaN;
    if (Number.isNaN(at)) throw new ReplayRefused(`--since ${o.since}: not an ISO time`);
    f.since = at;
  }
  return f;
}

export async function dlqListCommand(
  ctx: CommandContext,
  o: { reason?: string; worker?: string; since?: string; max?: number; json?: boolean },
): Promise<void> {
  await withContext(ctx, async (rc) => {
    const r = await dlqList(rc, dlqFilter(o), o.max ?? 20);
    if (o.json) return json(r);
    out(`dead letters: ${r.total}; selected ${r.selected} (already reprocessed ${r.reprocessed})`);
    out(
      `  by reason: ${
        Object.entries(r.byReason)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || '-'
      }`,
    );
    out(
      `  by worker: ${
        Object.entries(r.byWorker)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || '-'
      }`,
    );
    for (const e of r.entries)
      out(
        `  ${new Date(e.sourceTimestamp).toISOString()} ${e.reason.padEnd(22)} ${e.worker.padEnd(16)} ` +
          `${e.sourceTopic}#${e.sourcePartition}@${e.sourceOffset} ` +
          `${e.reprocessed ? '(reprocessed) ' : ''}${e.message}`,
      );
  });
}

export async function dlqReprocessCommand(
  ctx: CommandContext,
  o: { reason: string; worker?: string; since?: string; dryRun?: boolean },
): Promise<void> {
  await withContext(ctx, async (rc) =>
    json(await dlqReprocess(rc, { ...dlqFilter(o), reason: o.reason }, { dryRun: Boolean(o.dryRun) })),
  );
}
