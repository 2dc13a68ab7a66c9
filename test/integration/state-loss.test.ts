import { workerDefinition } from '../../services/index.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { generateActivity } from '../support/activity-generator.js';
import { deleteKeys } from '../../shared/redis/client.js';
import { allKeys, TestStack } from '../support/harness.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { namespacePattern } from '../../shared/redis/keys.js';

/**
 * Redis loses a live worker's data while it runs (FLUSHALL, a restart without persistence).
 * Carrying on would apply new events to empty state and publish wrong decisions; the worker
 * must stop, refuse to start again until rebuilt, and `memberflow rebuild` must restore the
 * state from the topics without publishing again what was published before.
 */
describe("Redis loses a live worker's data", () => {
  it('the worker stops, will not start on empty state, and rebuild restores it without re-publishing', async () => {
    const s = await TestStack.create('state-loss', { partitions: 2 });
    try {
      const all = generateActivity(4000, { members: 60, seed: 11 });
      await s.produce('activity.events', all.slice(0, 3000));
      const first = s.spawnWorker('behavior-events');
      await s.waitForLag0('behavior-events', 'activity.events');
      const publishedBefore = (await s.readAll('behavior.events')).length;
      expect(publishedBefore).toBeGreaterThan(2000);

      // Everything of this deployment in Redis is gone (its keys only: other suites share the server).
      const exited = exitOf(first);
      const keys = await allKeys(s.clients.redis, namespacePattern(s.ns));
      expect(keys.length).toBeGreaterThan(60);
      await deleteKeys(s.clients.redis, namespacePattern(s.ns));
      expect(await exited).toMatchObject({ code: 1 });
      expect(first.stderrText()).toMatch(/Redis lost the state of behavior-events/);

      // Input keeps arriving; a restart on the empty Redis is refused, loudly.
      await s.produce('activity.events', all.slice(3000));
      const refused = s.spawnWorker('behavior-events');
      expect(await exitOf(refused)).toMatchObject({ code: 1 });
      expect(refused.stderrText()).toMatch(/memberflow rebuild --worker behavior-events/);
      expect(await allKeys(s.clients.redis, `mf:${s.ns}:behavior-events:*`)).toEqual([]);

      const rebuilt = await cli(s, ['rebuild', '--worker', 'behavior-events']);
      expect(rebuilt.code, rebuilt.stderr).toBe(0);
      const report = JSON.parse(rebuilt.stdout) as { records: number; outputs: number };
      // Every record up to the end at the start of the rebuild; outputs only for those never committed.
      expect(report.records).toBe(all.length);
      const again = s.spawnWorker('behavior-events');
      await s.waitForLag0('behavior-events', 'activity.events');
      again.kill('SIGTERM');

      const activity = await s.readAll('activity.events');
      const reference = await s.behaviorReference(activity);
      const store = new MemberStore<unknown>(s.clients.redis, s.ns, workerDefinition('behavior-events'));
      for (const [m, st] of reference.states) expect(await store.state(m), m).toEqual(st);
      const published = (await s.readAll('behavior.events')).filter((r) => r.tick === undefined);
      const expected = new Map(
        reference.outputs.filter((o) => o.topic === 'behavior.events').map((o) => [o.id, o.value]),
      );
      const seen = new Set<string>();
      for (const r of published) {
        expect(r.decoded, r.id!).toEqual(expected.get(r.id!));
        seen.add(r.id!);
      }
      expect(seen.size).toBe(expected.size);
      // Nothing published before the loss was published again: each id once.
      expect(published.length).toBe(expected.size);
    } finally {
      await s.close();
    }
  }, 240_000);
});

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the worker did not exit within 30 s')), 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

function cli(s: TestStack, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/memberflow.js', ...args], {
      cwd: process.cwd(),
      env: { ...process.env, ...s.envVars() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
