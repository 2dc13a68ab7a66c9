import { workerDefinition } from '../../services/index.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { churnScore } from '../../cli/commands/churn.js';
import { churnSummarize } from '../../cli/commands/churn-summarize.js';
import { produceCommand } from '../../cli/commands/produce.js';
import { tickerCommand } from '../../cli/commands/ticker.js';
import { churnPredictionWorker } from '../../services/churn-prediction/worker.js';
import type { ChurnState } from '../../services/churn-prediction/state.js';
import { rfmAt } from '../../services/churn-prediction/statistics.js';
import { formatSummaryCsv, roundHalfUpDiv, type MemberSummary } from '../../shared/clv/summary.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import type { ChurnRiskValue } from '../../shared/contracts/churn-risk.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import { defaultLimits } from '../../shared/runtime/run-worker.js';
import type { Decoded, OutputEvent } from '../../shared/kernel/types.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { startOfLocalDay } from '../../shared/util/calendar.js';
import { localDay } from '../../shared/util/time.js';
import { TestStack, type ReadRecord } from '../support/harness.js';

const data = (f: string) => fileURLToPath(new URL(`../../data/cdnow/${f}`, import.meta.url));
const gunzipText = (f: string) => gunzipSync(readFileSync(data(f))).toString('utf8');
const calibrationEnd = '1997-09-30';
const tickPlaceholder: Decoded<never> = {
  kind: 'rejected',
  rejection: { reason: 'tick', message: 'tick' },
  eventId: null,
  memberId: null,
};

/**
 * CDNOW's calibration period (the BG/NBD paper's data) replayed as activity
 * through behavior-events and churn-prediction on the real stack, with the
 * churn worker killed at its worst moments: every member's statistics in Redis
 * equal the published summary, the bands equal the CLI's scores, and the
 * events equal the pure reference run's, by id.
 */
describe('e2e: CDNOW through churn-prediction', () => {
  let s: TestStack;
  const stats: Record<string, unknown> = {};
  beforeAll(async () => {
    s = await TestStack.create('churn', { partitions: 3 });
  });
  afterAll(async () => {
    process.stderr.write(`[churn-cdnow] ${JSON.stringify(stats)}\n`);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
  });
  const ctx = () => ({ env: s.env, rules: s.rules, log: s.log });
  const endDay = Date.parse(`${calibrationEnd}T00:00:00Z`) / 86_400_000;

  it('statistics, bands and events survive SIGKILLs and equal the summary, the CLI and the reference', async () => {
    const produced = await produceCommand(ctx(), {
      file: data('CDNOW_sample.txt.gz'),
      format: 'cdnow',
      toDate: calibrationEnd,
    });
    expect(produced.sent).toBe(4960);
    // Time reaches the calibration end: noon of its last day, in the platform zone.
    await tickerCommand(ctx(), {
      intervalMs: 1,
      once: true,
      time: startOfLocalDay(endDay, s.rules.timeZone) + 12 * 3600_000,
    });
    const behavior = s.spawnWorker('behavior-events');
    await s.waitForLag0('behavior-events', 'activity.events', 300_000);
    behavior.kill('SIGTERM');
    expect((await s.readAll('activity.dlq')).length).toBe(0);

    // Killed right after a state write, right after a publish, and again after a state write
    // (a run that reaches the end of the log before its failpoint fires is stopped and counted as such).
    const small = { KAFKA_MAX_BYTES_PER_PARTITION: '4096' };
    const runs: { failpoint: string; killed: boolean; lagAfter: number }[] = [];
    for (const failpoint of ['kill-after-state-write:2', 'kill-after-publish:2', 'kill-after-state-write:3']) {
      const child = s.spawnWorker('churn-prediction', [], { ...small, MEMBERFLOW_FAILPOINT: failpoint });
      const exited = new Promise<string | null>((r) => child.once('exit', (_c, signal) => r(signal)));
      const caughtUp = s.waitForLag0('churn-prediction', 'behavior.events', 300_000).then(() => 'caught-up' as const);
      const first = await Promise.race([exited, caughtUp]);
      if (first === 'caught-up') child.kill('SIGTERM');
      const signal = await exited;
      runs.push({
        failpoint,
        killed: signal === 'SIGKILL',
        lagAfter: await s.lag('churn-prediction', 'behavior.events'),
      });
    }
    stats.runs = runs;
    expect(runs.filter((r) => r.killed && r.lagAfter > 0).length, JSON.stringify(runs)).toBeGreaterThanOrEqual(2);
    const last = s.spawnWorker('churn-prediction', [], small);
    await s.waitForLag0('churn-prediction', 'behavior.events', 300_000);
    last.kill('SIGTERM');
    await new Promise((r) => last.once('exit', r));

    // 1. Statistics in Redis = the published CDNOW summaries, row for row.
    const store = new MemberStore<ChurnState>(s.clients.redis, s.ns, workerDefinition('churn-prediction'));
    const ids = Array.from({ length: 2357 }, (_, i) => `cdnow-${i + 1}`);
    const loaded = await store.load(ids);
    const rows: MemberSummary[] = ids.map((m) => {
      const st = loaded.get(m)?.record.state;
      if (!st) throw new Error(`no churn state for ${m}`);
      const rfm = rfmAt(st.stats, endDay)!;
      return {
        id: m.slice('cdnow-'.length),
        x: rfm.x,
        txDays: rfm.recencyDays,
        TDays: rfm.ageDays,
        repeatSpendCents: st.stats.repeatSpendFen,
        zbarCents: rfm.x > 0 ? roundHalfUpDiv(st.stats.repeatSpendFen, rfm.x) : 0,
      };
    });
    expect(formatSummaryCsv(rows, { unit: 'weeks', monetary: false })).toBe(
      gunzipText('cdnow_customers_summary.csv.gz'),
    );
    const withSpend = gunzipText('cdnow_customers_summary_with_transactions.csv.gz')
      .split(/\r?\n/)
      .slice(1)
      .map((l) => l.split(',')[4]);
    expect(
      formatSummaryCsv(rows, { unit: 'weeks', monetary: true })
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[4]),
    ).toEqual(withSpend);

    // 2. Events = the pure reference run over the same log, by id and value, whatever was re-published.
    const input = await s.readAll('behavior.events');
    const log = input.map((record) => ({
      record,
      decoded:
        record.tick !== undefined
          ? (tickPlaceholder as Decoded<BehaviorEventValue>)
          : ({
              kind: 'event',
              memberId: (record.decoded as BehaviorEventValue).userId,
              eventId: (record.decoded as BehaviorEventValue).eventId,
              event: record.decoded as BehaviorEventValue,
            } as const),
    }));
    const reference = referenceRun(churnPredictionWorker, log, s.rules, defaultLimits(s.rules));
    const published = await s.readAll('member.churn-risk');
    const firstById = new Map<string, ReadRecord>();
    for (const r of published) if (!firstById.has(r.id!)) firstById.set(r.id!, r);
    const expected = new Map<string, OutputEvent>(reference.outputs.map((o) => [o.id, o]));
    expect(firstById.size).toBe(expected.size);
    for (const [id, o] of expected) expect(firstById.get(id)?.decoded, id).toEqual(o.value);
    for (const [m, st] of reference.states) expect(loaded.get(m)?.record.state, m).toEqual(st);
    Object.assign(stats, {
      events: published.length,
      distinctEvents: firstById.size,
      duplicatesBeforeDedupe: published.length - firstById.size,
    });

    // 3. Each member's band at the calibration end (their latest event) = the CLI's score of the same member.
    const dir = mkdtempSync(join(tmpdir(), 'churn-'));
    writeFileSync(join(dir, 'params.json'), JSON.stringify(s.rules.churn.model));
    writeFileSync(
      join(dir, 'summary.csv'),
      await churnSummarize({
        format: 'cdnow',
        file: data('CDNOW_sample.txt.gz'),
        calibrationEnd,
        unit: 'days',
        monetary: true,
        timeZone: s.rules.timeZone,
      }),
    );
    const latest = new Map<string, ChurnRiskValue>();
    for (const r of firstById.values()) {
      const v = r.decoded as ChurnRiskValue;
      const prev = latest.get(v.userId);
      if (v.reason !== 'subscription_lapsed' && (!prev || v.occurredAt >= prev.occurredAt)) latest.set(v.userId, v);
    }
    let scored = 0;
    let sameDay = 0;
    for await (const line of churnScore(
      {
        params: join(dir, 'params.json'),
        summary: join(dir, 'summary.csv'),
        horizon: s.rules.churn.expectedPurchasesDays,
        unit: 'days',
      },
      s.rules,
    )) {
      const mine = latest.get(`cdnow-${line.id}`);
      expect(mine?.band, line.id).toBe(line.band);
      scored++;
      // Events decided on the calibration end's day carry exactly the CLI's figures.
      if (mine && localDay(mine.occurredAt, s.rules.timeZone) === endDay) {
        sameDay++;
        expect(mine.pAlive).toBeCloseTo(line.pAlive, 12);
        expect(mine.expectedPurchases).toBeCloseTo(line.expectedPurchases, 12);
      }
    }
    expect(scored).toBe(2357);
    Object.assign(stats, { scoredByCli: scored, eventsOnCalibrationEnd: sameDay, bands: countBands(latest) });
  }, 900_000);
});

function countBands(latest: Map<string, ChurnRiskValue>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of latest.values()) out[v.band] = (out[v.band] ?? 0) + 1;
  return out;
}
