import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerDefinition } from '../../services/index.js';
import type { PointsState } from '../../services/points-accrual/state.js';
import type { MemberProfile } from '../../services/behavior-events/profile.js';
import { eventFingerprint } from '../../shared/kernel/member-record.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { TestStack } from '../support/harness.js';

const t0 = Date.UTC(2026, 0, 5, 2, 0, 0);
const members = ['ann', 'ben', 'cat'];
const perMember = 4;

/**
 * Recent-id fingerprints guard against a second copy of an event id at a new offset. Upstream
 * apps can send one; memberflow's own topics, written in transactions and read read_committed,
 * cannot: their readers keep no fingerprints, and the bytes stay out of Redis.
 */
describe('recent ids: kept for upstream input only, when memberflow writes its topics in transactions', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await TestStack.create('onlycopy');
    const events = members.flatMap((m) =>
      Array.from({ length: perMember }, (_, i) => ({
        eventId: `oc-${m}-${i}`,
        userId: m,
        type: 'purchase',
        occurredAt: t0 + i * 3_600_000,
        amountFen: 1000,
        itemId: `course-${i}`,
        category: 'cat-1',
      })),
    );
    // Upstream sends ann's first event twice: behavior-events must recognise the second copy.
    await s.produceJson([...events, events[0]!]);
    const behavior = await s.startWorker('behavior-events');
    await s.waitForLag0('behavior-events', 'activity.events');
    await behavior.stop();
  });
  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
  });

  it('behavior-events keeps a fingerprint per applied upstream event, and drops the upstream duplicate', async () => {
    const store = new MemberStore<MemberProfile>(s.clients.redis, s.ns, workerDefinition('behavior-events'));
    const loaded = await store.load(members);
    for (const m of members) {
      const ids = Array.from({ length: perMember }, (_, i) => eventFingerprint(`oc-${m}-${i}`));
      expect(loaded.get(m)?.record.recentIds, m).toEqual(ids);
    }
    expect((await s.readAll('behavior.events', { minRecords: members.length * perMember })).length).toBe(
      members.length * perMember,
    );
  });

  it('points-accrual keeps none for behavior.events, written in transactions; tier-evaluation keeps them for a ledger written without', async () => {
    // points-accrual publishes without transactions here (MEMBERFLOW_TRANSACTIONS=off):
    // its ledger entries can then have a second copy, and tier-evaluation, transactional itself, must still guard.
    const points = await s.startWorker('points-accrual', { transactions: false });
    await s.waitForLag0('points-accrual', 'behavior.events');
    await points.stop();
    const pointsStore = new MemberStore<PointsState>(s.clients.redis, s.ns, workerDefinition('points-accrual'));
    const pointsLoaded = await pointsStore.load(members);
    for (const m of members) {
      expect(pointsLoaded.get(m)?.record.state, m).not.toBeNull();
      expect(pointsLoaded.get(m)?.record.recentIds, m).toEqual([]);
    }

    const tiers = await s.startWorker('tier-evaluation');
    await s.waitForLag0('tier-evaluation', 'points.ledger');
    await tiers.stop();
    const ledger = await s.readAll('points.ledger', { minRecords: members.length });
    const tierStore = new MemberStore<unknown>(s.clients.redis, s.ns, workerDefinition('tier-evaluation'));
    const tierLoaded = await tierStore.load(members);
    for (const m of members) {
      const entries = ledger.filter((r) => r.key?.toString() === m).map((r) => eventFingerprint(r.id!));
      expect(entries.length, m).toBeGreaterThan(0);
      expect(tierLoaded.get(m)?.record.recentIds, m).toEqual(entries);
    }
  });
});
