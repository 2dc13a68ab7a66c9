import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { behaviorLogic } from '../../services/behavior-events/decide.js';
import { ActivityDecoder } from '../../services/behavior-events/decode.js';
import type { MemberProfile } from '../../services/behavior-events/profile.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import { defaultLimits } from '../../shared/kernel/run-worker.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { generateActivity, mulberry32 } from '../support/activity-generator.js';
import { TestStack, sleep, waitFor, type ReadRecord } from '../support/harness.js';

const worker = 'behavior-events';
const total = 20_000;

describe('behavior-events survives SIGKILL mid-stream', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await TestStack.create('crash', { partitions: 3 });
  });
  afterAll(async () => s?.close());

  it('ends with state and outputs identical (by event id) to the pure reference run', async () => {
    await s.produce('activity.events', generateActivity(total, { seed: 7 }));
    const rnd = mulberry32(Date.now() & 0xffff);
    const killedAtLag: number[] = [];
    for (let kill = 0; kill < 4; kill++) {
      const before = await s.lag(worker, 'activity.events');
      const child = s.spawnWorker(worker);
      // Wait until this run has made progress, then kill it at a random moment.
      await waitFor(async () => (await s.lag(worker, 'activity.events')) < before, 60_000, 'the worker to commit a batch');
      await sleep(Math.floor(rnd() * 400));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const lag = await s.lag(worker, 'activity.events');
      killedAtLag.push(lag);
      if (lag === 0) break;
    }
    expect(killedAtLag[0]).toBeGreaterThan(0); // at least the first kill landed mid-stream
    const last = s.spawnWorker(worker, ['--exit-when-idle', '1500']);
    const code = await new Promise<number | null>((r) => last.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(await s.lag(worker, 'activity.events')).toBe(0);

    const inputs = await s.readAll('activity.events', { minRecords: total });
    expect(inputs).toHaveLength(total);
    const decoder = new ActivityDecoder(s.clients.codec, () => s.rules);
    const log = [];
    for (const record of inputs) log.push({ record, decoded: await decoder.decode(record) });
    const reference = referenceRun(behaviorLogic, log, s.rules, defaultLimits(s.rules));

    const published = [...(await s.readAll('behavior.events')), ...(await s.readAll('activity.dlq'))];
    const byId = firstById(published);
    const expected = new Map(reference.outputs.map((o) => [o.id, o]));
    expect(byId.size).toBe(expected.size);
    for (const [id, o] of expected) {
      const got = byId.get(id);
      expect(got, id).toBeDefined();
      expect(got!.decoded).toEqual(o.value);
      expect(got!.key?.toString()).toBe(o.key);
    }
    // Per member, the first appearance of each output keeps the reference order.
    const orderGot = orderPerKey(published.filter((r) => r.topic.endsWith('behavior.events')).map((r) => ({ key: r.key?.toString() ?? '', id: r.id! })));
    const orderWant = orderPerKey(reference.outputs.filter((o) => o.topic === 'behavior.events').map((o) => ({ key: o.key, id: o.id })));
    expect(orderGot).toEqual(orderWant);

    const store = new MemberStore<MemberProfile>(s.clients.redis, s.ns, worker);
    const loaded = await store.load([...reference.states.keys()]);
    for (const [member, state] of reference.states) expect(loaded.get(member)?.record.state, member).toEqual(state);
    const outcome = { kills: killedAtLag.length, lagAtKills: killedAtLag, outputs: published.length, distinct: byId.size };
    process.stderr.write(`[crash-recovery] ${JSON.stringify(outcome)}\n`);
  });
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
