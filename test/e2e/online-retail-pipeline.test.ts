import { workerDefinition } from '../../services/index.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produceCommand } from '../../cli/commands/produce.js';
import type { MemberProfile } from '../../services/behavior-events/profile.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { TestStack } from '../support/harness.js';

const retail = fileURLToPath(new URL('../../data/online-retail/online-retail.csv.gz', import.meta.url));
const extra = fileURLToPath(new URL('../../data/demo/extra-events.jsonl', import.meta.url));
const worker = 'behavior-events';

describe('e2e: Online Retail (December 2010) through behavior-events', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await TestStack.create('e2e', { partitions: 3 });
  });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
  afterAll(async () => s?.close());

  it('matches the pure reference run, and an independent client reads the same records', async () => {
    const ctx = { env: s.env, rules: s.rules, log: s.log };
    const produced = await produceCommand(ctx, {
      file: retail,
      format: 'online-retail',
      fromDate: '2010-12-01',
      toDate: '2010-12-31',
    });
    expect(produced.sent).toBeGreaterThan(10_000);
    expect(produced.mapping?.emitted).toBe(produced.sent);
    const broken = await produceCommand(ctx, { file: extra, format: 'jsonl' });
    expect(broken.sent).toBe(13);
    const total = produced.sent + broken.sent;

    const child = s.spawnWorker(worker, ['--exit-when-idle', '1500']);
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);

    const inputs = await s.readAll('activity.events', { minRecords: total });
    const reference = await s.behaviorReference(inputs);

    const out = await s.readAll('behavior.events');
    const dlq = await s.readAll('activity.dlq');
    const expectedOut = reference.outputs.filter((o) => o.topic === 'behavior.events');
    const expectedDlq = reference.outputs.filter((o) => o.topic === 'activity.dlq');
    expect(out.map((r) => r.id).sort()).toEqual(expectedOut.map((o) => o.id).sort());
    expect(dlq.map((r) => r.id).sort()).toEqual(expectedDlq.map((o) => o.id).sort());
    const byId = new Map(reference.outputs.map((o) => [o.id, o.value]));
    for (const r of [...out, ...dlq]) expect(r.decoded).toEqual(byId.get(r.id!));
    const reasons = dlq.map((r) => (r.decoded as { reason: string }).reason).sort();
    // The real slice is clean; each hand-written broken record has its own reason.
    expect(reasons).toEqual([
      'invalid_amount',
      'malformed_json',
      'missing_user_id',
      'occurred_in_future',
      'refund_exceeds_original',
      'schema_mismatch',
      'unknown_type',
    ]);

    const store = new MemberStore<MemberProfile>(s.clients.redis, s.ns, workerDefinition(worker));
    const loaded = await store.load([...reference.states.keys()]);
    expect(reference.states.size).toBeGreaterThan(800);
    for (const [member, state] of reference.states) expect(loaded.get(member)?.record.state).toEqual(state);

    // kcat (librdkafka) as an independent reader: same partitions, offsets, keys and event-id headers.
    const broker = s.env.KAFKA_BROKERS[0]!;
    const lines = execFileSync(
      'kcat',
      ['-C', '-b', broker, '-t', s.topic('behavior.events'), '-o', 'beginning', '-e', '-q', '-f', '%p\t%o\t%k\t%h\n'],
      {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      },
    )
      .split('\n')
      .filter(Boolean);
    expect(lines).toHaveLength(out.length);
    const ours = new Set(
      out.map((r) => `${r.partition}\t${r.offset}\t${r.key?.toString()}\tmemberflow-event-id=${r.id}`),
    );
    for (const line of lines) expect(ours.has(line), line).toBe(true);
  });
});
