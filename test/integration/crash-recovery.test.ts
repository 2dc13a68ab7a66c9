import { workerDefinition } from '../../services/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemberProfile } from '../../services/behavior-events/profile.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { generateActivity, mulberry32 } from '../support/activity-generator.js';
import { TestStack, exitOf, sleep, waitFor, type ReadRecord } from '../support/harness.js';
import { countEventIds } from '../support/kcat.js';

const worker = 'behavior-events';
const total = 40_000;

describe('behavior-events survives SIGKILL mid-stream', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await TestStack.create('crash', { partitions: 3 });
  });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
  afterAll(async () => s?.close());

  // Nine worker starts, each waiting out the killed one's 6 s session: about 70 s alone, more on a busy machine.
  it(
    'ends with state and outputs identical (by event id) to the pure reference run',
    { timeout: 360_000 },
    async () => {
      const started = Date.now();
      // Each phase is printed as it ends, so a run that times out still shows where its time went.
      const phase = (name: string) =>
        process.stderr.write(`[crash-recovery] ${name} at ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      const stream = generateActivity(total, { seed: 7 });
      // Upstream keeps producing while the worker is killed and restarted.
      let produced = 10_000;
      await s.produce('activity.events', stream.slice(0, produced));
      // The last records are held back for the failpoint runs: each needs a backlog of several batches to reach its
      // failpoint, and after five kills the worker may have caught up with everything produced so far.
      const heldBack = 6_000;
      const producing = (async () => {
        while (produced < total - heldBack) {
          await s.produce('activity.events', stream.slice(produced, produced + 400));
          produced += 400;
          await sleep(250);
        }
      })();
      const rnd = mulberry32(Date.now() & 0xffff);
      const kills: { lag: number; produced: number }[] = [];
      for (let kill = 0; kill < 5; kill++) {
        const before = await s.committedTotal(worker, 'activity.events');
        // Small fetches: many batches, so a kill lands mid-work rather than between backlogs.
        const child = s.spawnWorker(worker, [], { KAFKA_MAX_BYTES_PER_PARTITION: '32768' });
        // Wait until this run has committed a batch, then kill it at a random moment.
        await waitFor(
          async () => (await s.committedTotal(worker, 'activity.events')) > before,
          120_000,
          'the worker to commit a batch',
        ).catch((err: unknown) => {
          throw new Error(`${(err as Error).message}; the worker's stderr ended with:\n${child.stderrText()}`);
        });
        await sleep(Math.floor(rnd() * 1500));
        child.kill('SIGKILL');
        await exitOf(child, 10_000, 'a SIGKILLed worker');
        kills.push({ lag: await s.lag(worker, 'activity.events'), produced });
        phase(`kill ${kill + 1}`);
      }
      await producing;
      // Then the worst moments, exactly: killed after writing state but before publishing,
      // and after publishing but before committing offsets.
      for (const failpoint of ['kill-after-state-write:2', 'kill-after-publish:2', 'kill-after-state-write:3']) {
        await s.produce('activity.events', stream.slice(produced, produced + heldBack / 3));
        produced += heldBack / 3;
        const child = s.spawnWorker(worker, [], {
          KAFKA_MAX_BYTES_PER_PARTITION: '32768',
          MEMBERFLOW_FAILPOINT: failpoint,
        });
        const { signal } = await exitOf(child, 90_000, `the worker to reach its failpoint ${failpoint}`);
        expect(signal).toBe('SIGKILL');
        phase(failpoint);
      }
      expect(kills.filter((k) => k.lag > 0).length).toBeGreaterThanOrEqual(3); // most kills landed mid-stream
      const last = s.spawnWorker(worker, ['--exit-when-idle', '1500']);
      const { code } = await exitOf(last, 120_000, 'the last worker to catch up and exit when idle');
      expect(code).toBe(0);
      expect(await s.lag(worker, 'activity.events')).toBe(0);
      phase('caught up');

      const inputs = await s.readAll('activity.events', { minRecords: total });
      expect(inputs).toHaveLength(total);
      const reference = await s.behaviorReference(inputs);

      const published = [...(await s.readAll('behavior.events')), ...(await s.readAll('activity.dlq'))];
      const byId = firstById(published);
      const expected = new Map(reference.outputs.map((o) => [o.id, o]));
      expect(expected.size).toBe(reference.outputs.length); // every output id is unique in the reference
      expect(byId.size).toBe(expected.size);
      for (const [id, o] of expected) {
        const got = byId.get(id);
        expect(got, id).toBeDefined();
        expect(got!.decoded).toEqual(o.value);
        expect(got!.key?.toString()).toBe(o.key);
      }
      // Per member, the first appearance of each of the member's own outputs keeps input order.
      // (Referrals come from other members' partitions: no order between them and these is promised.)
      const own = (id: string) => id.startsWith('bhv:');
      const orderGot = orderPerKey(
        published.filter((r) => own(r.id!)).map((r) => ({ key: r.key?.toString() ?? '', id: r.id! })),
      );
      const orderWant = orderPerKey(reference.outputs.filter((o) => own(o.id)).map((o) => ({ key: o.key, id: o.id })));
      expect(orderGot).toEqual(orderWant);

      const store = new MemberStore<MemberProfile>(s.clients.redis, s.ns, workerDefinition(worker));
      const loaded = await store.load([...reference.states.keys()]);
      for (const [member, state] of reference.states) expect(loaded.get(member)?.record.state, member).toEqual(state);
      // The after-publish kill left published outputs in an open transaction: the restart aborted it and
      // published them again from the outbox. A read_committed reader gets each once, kcat too (kcat has been
      // seen to stop short of the end here, so only memberflow's reader vouches for completeness).
      const independent = countEventIds(s.env.KAFKA_BROKERS.join(','), s.topic('behavior.events'), 'read_committed');
      const outcome = { kills, outputs: published.length, distinct: byId.size, kcat: independent };
      expect(published.length).toBe(byId.size);
      expect(independent.duplicates).toBe(0);
      process.stderr.write(`[crash-recovery] ${JSON.stringify(outcome)}\n`);
    },
  );
});

function firstById(records: ReadRecord[]): Map<string, ReadRecord> {
  const m = new Map<string, ReadRecord>();
  for (const r of records) if (r.id && !m.has(r.id)) m.set(r.id, r);
  return m;
}

function orderPerKey(items: { key: string; id: string }[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const { key, id } of items) {
    if (seen.has(id)) continue;
    seen.add(id);
    let l = m.get(key);
    if (!l) m.set(key, (l = []));
    l.push(id);
  }
  return m;
}
