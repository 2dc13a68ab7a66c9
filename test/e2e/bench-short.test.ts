import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, inject } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The benchmark harness itself on the real stack (`npm run bench -- --short`): it must run to
 * the end, measure every process it names and pass its own exactly-once check. Rates are
 * reported, never asserted here; only what does not depend on timing is.
 */
describe('e2e: npm run bench -- --short', () => {
  const out = mkdtempSync(join(tmpdir(), 'memberflow-bench-test-'));
  let group: number | undefined;
  // Also when the test times out: the bench and the workers it started share its process group.
  const killGroup = () => {
    try {
      if (group !== undefined) process.kill(-group, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  };
  afterAll(() => {
    killGroup();
    rmSync(out, { recursive: true, force: true });
  });

  it('measures workers, ceiling and naive baseline, and finds no replay mismatch', async () => {
    const stack = inject('stack');
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--short', '--out', out], {
      cwd: repoRoot,
      env: {
        ...process.env,
        KAFKA_BROKERS: stack.KAFKA_BROKERS,
        SCHEMA_REGISTRY_URL: stack.SCHEMA_REGISTRY_URL,
        REDIS_URL: stack.REDIS_URL,
        MEMBERFLOW_KAFKA_CLIENT: 'kafkajs',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a failed or timed-out test kills the bench and the workers it started.
      detached: true,
    });
    group = child.pid;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    let code: number | null;
    try {
      code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    } finally {
      killGroup();
    }
    expect(code, stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'short-kafkajs.json'), 'utf8')) as {
      alone: Array<{
        name: string;
        inputRecords: number;
        rateFrom: string;
        throughput: { records: number; perSecond: number };
        process: { cpuSeconds: number; peakRssMiB: number };
        redis: { roundTripsPerInput: number };
      }>;
      ceiling: { noop: { throughput: { perSecond: number } }; readWrite: { throughput: { perSecond: number } } };
      naive: { throughput: { perSecond: number }; redis: { roundTripsPerInput: number } };
      replayCheck: { mismatches: number; statesCompared: number; outputsCompared: number };
      latency: { latency: { samples: number; p50: number; p99: number }; processes: unknown[] };
      latencyAlso: Array<{ workers: string[]; latency: { samples: number }; processes: Array<{ name: string }> }>;
      withoutTransactions: {
        alone: Array<{ name: string; throughput: { perSecond: number } }>;
        latency: { latency: { samples: number } } | null;
      } | null;
      checks: Array<{ ok: boolean }>;
    };
    expect(report.alone.map((m) => m.name)).toEqual(['behavior-events', 'points-accrual']);
    for (const m of report.alone) {
      expect(m.inputRecords).toBeGreaterThan(50_000);
      expect(m.throughput.perSecond).toBeGreaterThan(0);
      expect(m.process.cpuSeconds).toBeGreaterThan(0);
      expect(m.process.peakRssMiB).toBeGreaterThan(0);
      // The rate is the process's own count and clock, over all it committed.
      expect(m.rateFrom).toBe('process totals');
      // inputRecords counts committed offsets: on memberflow's own (transactional) topics commit markers too.
      expect(m.throughput.records).toBeLessThanOrEqual(m.inputRecords);
      expect(m.inputRecords - m.throughput.records).toBeLessThan(m.inputRecords * 0.02);
      // Batched loads and writes: far fewer Redis round trips than input records, whatever the speed (and the probe saw some).
      expect(m.redis.roundTripsPerInput).toBeGreaterThan(0);
      expect(m.redis.roundTripsPerInput).toBeLessThan(1);
    }
    // The naive baseline reads and writes each message's state: at least two round trips per state change.
    expect(report.naive.redis.roundTripsPerInput).toBeGreaterThan(1);
    expect(report.naive.throughput.perSecond).toBeGreaterThan(0);
    expect(report.ceiling.noop.throughput.perSecond).toBeGreaterThan(0);
    expect(report.ceiling.readWrite.throughput.perSecond).toBeGreaterThan(0);
    expect(report.replayCheck.statesCompared).toBeGreaterThan(1000);
    expect(report.replayCheck.outputsCompared).toBeGreaterThan(1000);
    expect(report.replayCheck.mismatches).toBe(0);
    expect(report.latency.latency.samples).toBeGreaterThan(100);
    expect(report.latency.latency.p99).toBeGreaterThanOrEqual(report.latency.latency.p50);
    expect(report.latency.processes).toHaveLength(6);
    // The goal's rate once more with only the tier path running: those three processes, measured.
    const tierPath = report.latencyAlso.find((run) => run.workers.length === 3);
    expect(tierPath?.workers).toEqual(['behavior-events', 'points-accrual', 'tier-evaluation']);
    expect(tierPath?.processes.map((x) => x.name)).toEqual(['behavior-events', 'points-accrual', 'tier-evaluation']);
    expect(tierPath?.latency.samples).toBeGreaterThan(100);
    // Transactions are on (kafkajs' default): the same is measured once more with them off, for their cost.
    expect(report.withoutTransactions?.alone.map((m) => m.name)).toEqual(['behavior-events', 'points-accrual']);
    for (const m of report.withoutTransactions!.alone) expect(m.throughput.perSecond).toBeGreaterThan(0);
    expect(report.withoutTransactions?.latency?.latency.samples).toBeGreaterThan(100);
    expect(report.checks.every((c) => c.ok)).toBe(true);
  }, 600_000);
});
