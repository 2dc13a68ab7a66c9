import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { generateActivity } from '../support/activity-generator.js';
import { exitOf, freePort, sleep, TestStack, waitFor, type WorkerProcess } from '../support/harness.js';
import { countEventIds } from '../support/kcat.js';

/**
 * The operations port of a worker process, scraped while it works: values checked against what
 * the input holds (the pure reference run), the stall reported by /readyz while a batch hangs, and
 * SIGTERM ending the process cleanly mid-stream without losing or doubling an output.
 */
const worker = 'behavior-events';

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

type Samples = { name: string; labels: Record<string, string>; value: number }[];

/** Prometheus text format, the lines this test reads: `name{a="b",…} value`. */
function parseMetrics(text: string): Samples {
  const out: Samples = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (samples: Samples, name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

describe('operations port: metrics, health and graceful shutdown against the real stack', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await TestStack.create('ops', { partitions: 3 });
  });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
  afterAll(async () => s?.close());

  it(
    'metrics equal what the input holds; /readyz reports a stalled partition, then ready again',
    { timeout: 240_000 },
    async () => {
      const valid = generateActivity(3_000, { seed: 11 });
      const invalid = Array.from({ length: 40 }, (_, i) => ({
        key: `bad-${i % 7}`,
        value:
          i % 2 === 0
            ? 'not json'
            : JSON.stringify({
                eventId: `x${i}`,
                userId: `bad-${i % 7}`,
                type: 'teleport',
                occurredAt: '2026-01-02T00:00:00Z',
              }),
      }));
      await s.produce('activity.events', [...valid, ...invalid]);
      const inputs = await s.readAll('activity.events', { minRecords: valid.length + invalid.length });
      const reference = await s.behaviorReference(inputs);
      const deadLetters = reference.outputs.filter((o) => o.topic === 'activity.dlq');
      expect(deadLetters.length).toBeGreaterThanOrEqual(invalid.length);

      const port = await freePort();
      // The second batch that writes state hangs 9 s (a slow Redis, a GC pause): its partition has lag and no progress.
      const child = s.spawnWorker(worker, [], {
        MEMBERFLOW_METRICS_PORT: String(port),
        MEMBERFLOW_HEALTH_INTERVAL_MS: '250',
        MEMBERFLOW_STALL_MS: '2500',
        MEMBERFLOW_FAILPOINT: 'pause-after-state-write:2:9000',
        KAFKA_MAX_BYTES_PER_PARTITION: '32768',
      });
      onTestFinished(() => void child.kill('SIGKILL'));
      const fail = (err: Error) => {
        throw new Error(`${err.message}; the worker's stderr ended with:\n${child.stderrText()}`);
      };
      await waitFor(
        async () => (await get(port, '/healthz').catch(() => ({ status: 0 }))).status === 200,
        60_000,
        '/healthz',
      ).catch(fail);
      let stalled: string | null = null;
      await waitFor(
        async () => {
          const r = await get(port, '/readyz');
          if (r.status === 503 && r.body.includes('stalled')) stalled = r.body;
          return stalled !== null;
        },
        60_000,
        '/readyz to report the hanging partition as stalled',
      ).catch(fail);
      // kafkajs fetches again only once every batch of a fetch is done: the hanging batch holds up the other partitions of its fetch too.
      const readiness = JSON.parse(stalled!) as { ready: boolean; reasons: string[] };
      expect(readiness.ready).toBe(false);
      expect(readiness.reasons.length).toBeGreaterThan(0);
      for (const reason of readiness.reasons)
        expect(reason).toMatch(
          new RegExp(`^${worker}: .*activity\\.events\\[\\d\\] stalled: lag \\d+ and no progress for \\d+ s$`),
        );

      await s.waitForLag0(worker, 'activity.events', 120_000);
      // Ready again once the lag is seen at 0 (one health interval later).
      await waitFor(
        async () => (await get(port, '/readyz')).status === 200,
        30_000,
        '/readyz to answer 200 after the catch-up',
      ).catch(fail);
      await waitFor(
        async () => sum(parseMetrics((await get(port, '/metrics')).body), 'memberflow_consumer_lag', { worker }) === 0,
        30_000,
        'the lag gauges to reach 0',
      );
      const m = parseMetrics((await get(port, '/metrics')).body);

      // Every input once, by outcome, as the reference decided; dead letters by reason.
      const total = inputs.length;
      expect(sum(m, 'memberflow_inputs_total', { worker })).toBe(total);
      expect(
        sum(m, 'memberflow_inputs_total', { worker, outcome: 'rejected' }) +
          sum(m, 'memberflow_inputs_total', { worker, outcome: 'undecodable' }),
      ).toBe(deadLetters.length);
      const reasons = new Map<string, number>();
      for (const d of deadLetters) {
        const reason = (d.value as { reason: string }).reason;
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
      for (const [reason, n] of reasons)
        expect(sum(m, 'memberflow_rejections_total', { worker, reason }), reason).toBe(n);
      expect(sum(m, 'memberflow_outputs_total', { worker })).toBe(reference.outputs.length);
      // Batches: the histogram's count and sum agree with the counters.
      const batches = sum(m, 'memberflow_batches_total', { worker });
      expect(batches).toBeGreaterThan(3);
      expect(sum(m, 'memberflow_batch_records_count', { worker })).toBe(batches);
      expect(sum(m, 'memberflow_batch_records_sum', { worker })).toBe(total);
      expect(sum(m, 'memberflow_transaction_commit_duration_seconds_count', { worker })).toBe(batches);
      // The hanging batch took its 9 s, inside the batch duration.
      expect(sum(m, 'memberflow_batch_duration_seconds_bucket', { worker, le: '5' })).toBeLessThan(batches);
      expect(sum(m, 'memberflow_event_age_seconds_count', { worker })).toBe(batches);
      expect(sum(m, 'memberflow_redis_script_duration_seconds_count', { worker })).toBeGreaterThanOrEqual(batches);
      expect(sum(m, 'memberflow_state_bytes_written_total', { worker })).toBeGreaterThan(total * 50);
      expect(sum(m, 'memberflow_assigned_partitions', { worker })).toBe(3);
      expect(
        m
          .filter((x) => x.name === 'memberflow_consumer_lag' && x.labels.worker === worker)
          .map((x) => x.labels.partition)
          .sort(),
      ).toEqual(['0', '1', '2']);
      expect(sum(m, 'memberflow_ready')).toBe(1);
      expect(sum(m, 'memberflow_process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
      // No member or event id in any label.
      for (const x of m)
        for (const v of Object.values(x.labels))
          expect(v, `${x.name} label`).not.toMatch(/^(m|u|bad-)\d+|^x\d+$|^bhv:/);

      child.kill('SIGTERM');
      expect((await exitOf(child, 30_000, 'the worker to stop on SIGTERM')).code).toBe(0);
    },
  );

  it(
    'SIGTERM mid-stream: the process ends cleanly within its timeout, and the next run finishes with every output once',
    { timeout: 240_000 },
    async () => {
      const before = await s.readAll('activity.events');
      const more = generateActivity(6_000, { seed: 12, start: Date.UTC(2026, 3, 1) });
      await s.produce('activity.events', more);
      const start = await s.committedTotal(worker, 'activity.events');
      const child: WorkerProcess = s.spawnWorker(worker, [], {
        KAFKA_MAX_BYTES_PER_PARTITION: '16384',
        MEMBERFLOW_SHUTDOWN_TIMEOUT_MS: '20000',
        LOG_LEVEL: 'info',
      });
      await waitFor(
        async () => (await s.committedTotal(worker, 'activity.events')) > start,
        60_000,
        'a first committed batch',
      );
      expect(await s.lag(worker, 'activity.events')).toBeGreaterThan(0); // stopped mid-stream, not after
      const signalled = Date.now();
      child.kill('SIGTERM');
      const { code } = await exitOf(child, 25_000, 'the worker to stop on SIGTERM');
      const took = Date.now() - signalled;
      expect(code).toBe(0);
      expect(took).toBeLessThan(20_000);
      expect(child.stderrText()).toContain('stopped cleanly');
      // Nothing was left half-done: the next run takes over from the committed offsets.
      const last = s.spawnWorker(worker, ['--exit-when-idle', '1500']);
      expect((await exitOf(last, 120_000, 'the next run to catch up')).code).toBe(0);
      await sleep(200);
      const inputs = await s.readAll('activity.events', { minRecords: before.length + more.length });
      const reference = await s.behaviorReference(inputs);
      const published = await s.readAll('behavior.events');
      const ids = published.map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...new Set(ids)].sort()).toEqual(
        reference.outputs
          .filter((o) => o.topic === 'behavior.events')
          .map((o) => o.id)
          .sort(),
      );
      expect(
        countEventIds(s.env.KAFKA_BROKERS.join(','), s.topic('behavior.events'), 'read_committed').duplicates,
      ).toBe(0);
      process.stderr.write(`[operations] SIGTERM mid-stream: stopped in ${took} ms, exit ${code}\n`);
    },
  );
});
