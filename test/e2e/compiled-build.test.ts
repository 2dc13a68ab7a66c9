import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalTopics, physicalTopic } from '../../shared/contracts/topics.js';
import { deleteKeys } from '../../shared/redis/client.js';
import { namespacePattern } from '../../shared/redis/keys.js';
import { freePort, TestStack, waitFor } from '../support/harness.js';

/**
 * The production build: `npm run build` compiles to dist/, and the compiled CLI runs the demo
 * (every worker, the stack included) with no TypeScript loader. It also reports what the build
 * buys (start time of the CLI and of a worker to /healthz, a worker's resident memory, compiled
 * and through tsx) as figures, not assertions.
 */

function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.replace(/\D+/g, '') ?? 0);
}

describe('the compiled build', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await TestStack.create('build');
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 });
  }, 200_000);
  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    if (!s) return;
    // The demo's own namespace: its topics and Redis keys.
    const admin = s.clients.kafka.admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: logicalTopics.map((t) => physicalTopic(demoNs(), t)), timeout: 30_000 })
      .catch(() => undefined);
    await admin.disconnect();
    await deleteKeys(s.clients.redis, namespacePattern(demoNs()));
    await s.close();
  });
  const demoNs = () => `${s.ns}-demo`;

  it('holds the CLI and everything it reads beside itself', () => {
    for (const f of [
      'dist/cli/main.js',
      'dist/shared/runtime/run-worker.js',
      'dist/shared/redis/lua/commit-member.lua',
      'dist/schemas/member.tier-changes.avsc',
      'dist/config/rules.default.json',
      'dist/data/online-retail/online-retail.csv.gz',
      'dist/stack/stack.sh',
    ]) {
      expect(existsSync(f), f).toBe(true);
    }
    expect(existsSync('dist/test')).toBe(false);
  });

  it('runs the demo compiled, with no TypeScript loader', { timeout: 400_000 }, () => {
    const env = {
      ...process.env,
      ...s.envVars(),
      NODE_ENV: 'production',
      LOG_LEVEL: 'error',
      MEMBERFLOW_NAMESPACE: demoNs(),
      MEMBERFLOW_TICK_KEY: '',
    };
    // A week of the data set: the whole demo, every worker and the tick, in less time than the month.
    const run = spawnSync(
      process.execPath,
      ['dist/cli/main.js', 'demo', '--from-date', '2010-12-01', '--to-date', '2010-12-07'],
      { env, encoding: 'utf8', timeout: 380_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const out = run.stdout;
    for (const line of [
      'behavior-events worker',
      'operations:',
      'points-accrual worker',
      'tier-evaluation worker',
      'churn-prediction worker',
      'a tick at',
      'tier histories',
    ])
      expect(out, line).toContain(line);
    expect(Number(/events in:\s+(\d+)/.exec(out)?.[1])).toBeGreaterThan(5_000);
    // The report is not broken up by log lines.
    expect(out).not.toMatch(/^\{"level"/m);
  });

  it(
    'starts compiled and through tsx alike; reports CLI start, a worker to /healthz and its memory both ways',
    { timeout: 120_000 },
    async () => {
      const timeHelp = (args: string[], env: NodeJS.ProcessEnv) => {
        const started = performance.now();
        const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        return performance.now() - started;
      };
      const dev = { ...process.env, NODE_ENV: 'development' };
      const prod = { ...process.env, NODE_ENV: 'production' };
      const cli = {
        tsx: timeHelp(['bin/memberflow.js', '--help'], dev),
        compiled: timeHelp(['bin/memberflow.js', '--help'], prod),
      };
      const worker = async (env: NodeJS.ProcessEnv) => {
        const port = await freePort();
        const started = performance.now();
        const child = spawn(process.execPath, ['bin/memberflow.js', 'run', 'behavior-events'], {
          env: { ...env, ...s.envVars(), MEMBERFLOW_METRICS_PORT: String(port) },
          stdio: 'ignore',
        });
        try {
          await waitFor(
            async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status === 200,
            60_000,
            'the worker to answer /healthz',
          );
          const ms = performance.now() - started;
          await waitFor(
            async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200,
            60_000,
            'the worker to be ready',
          );
          return { ms, rssKb: rssKb(child.pid!) };
        } finally {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        }
      };
      const tsxWorker = await worker(dev);
      const compiledWorker = await worker(prod);
      const figures = {
        cliStartMs: cli,
        workerToHealthzMs: { tsx: tsxWorker.ms, compiled: compiledWorker.ms },
        workerRssKb: { tsx: tsxWorker.rssKb, compiled: compiledWorker.rssKb },
      };
      process.stderr.write(
        `[compiled-build] ${JSON.stringify(figures, (_, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}\n`,
      );
      // Figures for the report, not assertions: timing belongs to benchmarks. Both ways must start and be ready.
      expect(Math.min(tsxWorker.rssKb, compiledWorker.rssKb)).toBeGreaterThan(0);
    },
  );
});
