/**
 * A deterministic, realistic activity stream for fault tests: a few very
 * active members and many quiet ones, every event type, referrals, refunds,
 * upstream duplicates and a sprinkle of broken records.
 */
export interface GeneratedRecord {
  key: string | null;
  value: string | Buffer | null;
  /** Set on records built to be refused (the dead-letter topic must receive exactly these). */
  poison?: string;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `skew`: member ids are drawn as members × u^skew (u uniform), so above 1 low ids are busy; 1 is uniform. */
export function generateActivity(
  count: number,
  opts: { members?: number; seed?: number; start?: number; skew?: number } = {},
): GeneratedRecord[] {
  const rnd = mulberry32(opts.seed ?? 42);
  const members = opts.members ?? 300;
  const start = opts.start ?? Date.UTC(2026, 0, 1);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const skew = opts.skew ?? 2.5;
  const member = () => `m${Math.floor(members * rnd() ** skew)}`; // skewed: low ids are busy
  const out: GeneratedRecord[] = [];
  const purchases: { id: string; user: string; amount: number }[] = [];
  let time = start;
  for (let i = 0; out.length < count; i++) {
    time += Math.floor(rnd() * 90_000);
    const user = member();
    const id = `g${opts.seed ?? 42}-${i}`;
    const r = rnd();
    let e: Record<string, unknown>;
    if (r < 0.3) {
      const amount = 100 + Math.floor(rnd() * 50_000);
      e = {
        eventId: id,
        userId: user,
        type: 'purchase',
        occurredAt: time,
        amountFen: amount,
        itemId: `item-${Math.floor(rnd() * 200)}`,
        category: pick(['history', 'finance', 'language', 'tech']),
      };
      purchases.push({ id, user, amount });
    } else if (r < 0.36 && purchases.length > 0) {
      const p = pick(purchases);
      e = {
        eventId: id,
        userId: p.user,
        type: 'refund',
        occurredAt: time,
        refundOf: p.id,
        amountFen: 1 + Math.floor(rnd() * p.amount * 1.2),
      };
    } else if (r < 0.4) {
      e = {
        eventId: id,
        userId: `new-${i}`,
        type: 'signup',
        occurredAt: time,
        referrerId: rnd() < 0.6 ? user : null,
        source: 'ios',
      };
    } else if (r < 0.42) {
      e = {
        eventId: id,
        userId: user,
        type: 'subscription',
        occurredAt: time,
        plan: pick(['monthly', 'annual']),
        amountFen: 3000,
        periodEnd: time + 30 * 86_400_000,
      };
    } else if (r < 0.75) {
      e = {
        eventId: id,
        userId: user,
        type: pick(['lesson_complete', 'content_view']),
        occurredAt: time,
        itemId: `item-${Math.floor(rnd() * 200)}`,
        seconds: Math.floor(rnd() * 3000),
      };
    } else if (r < 0.9) {
      e = {
        eventId: id,
        userId: user,
        type: pick(['comment', 'share']),
        occurredAt: time,
        itemId: `item-${Math.floor(rnd() * 200)}`,
      };
    } else if (r < 0.96) {
      e = { eventId: id, userId: user, type: 'checkin', occurredAt: time };
    } else if (r < 0.98 && out.length > 0) {
      // An upstream retry: the same bytes again at a new offset, shortly after the original.
      out.push(out[Math.max(0, out.length - 1 - Math.floor(rnd() * 50))]!);
      continue;
    } else {
      const bad = pick(['json', 'type', 'amount', 'key']);
      if (bad === 'json') out.push({ key: user, value: `{"eventId":"${id}","userId":"${user}"`, poison: bad });
      else if (bad === 'type')
        out.push({
          key: user,
          value: JSON.stringify({ eventId: id, userId: user, type: 'levitate', occurredAt: time }),
          poison: bad,
        });
      else if (bad === 'amount')
        out.push({
          key: user,
          value: JSON.stringify({
            eventId: id,
            userId: user,
            type: 'purchase',
            occurredAt: time,
            amountFen: -1,
            itemId: 'x',
          }),
          poison: bad,
        });
      else
        out.push({
          key: `not-${user}`,
          value: JSON.stringify({ eventId: id, userId: user, type: 'checkin', occurredAt: time }),
          poison: bad,
        });
      continue;
    }
    out.push({ key: e.userId as string, value: JSON.stringify(e) });
  }
  return out;
}

/**
 * Nastier poison than the stream's own broken records, each one unique (so each can be found
 * in the dead-letter topic): random bytes, empty and null values, bytes that look like a
 * registry-framed Avro record of an unknown schema, JSON that is not an object, an oversized
 * record, invalid UTF-8, an event without an id.
 */
export function activityPoison(
  count: number,
  opts: { seed: number; members?: number; tag: string },
): GeneratedRecord[] {
  const rnd = mulberry32(opts.seed);
  const members = opts.members ?? 300;
  const out: GeneratedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const user = `m${Math.floor(members * rnd())}`;
    const tag = `${opts.tag}-${i}`;
    const kind = i % 8;
    const random = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
    if (kind === 0)
      out.push({
        key: user,
        value: Buffer.concat([Buffer.from([0xff]), random(40), Buffer.from(tag)]),
        poison: 'random-bytes',
      });
    else if (kind === 1) out.push({ key: `${user}/${tag}`, value: Buffer.alloc(0), poison: 'empty' });
    else if (kind === 2) out.push({ key: `${user}/${tag}`, value: null, poison: 'null' });
    else if (kind === 3)
      out.push({
        key: user,
        value: Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), Buffer.from(tag)]),
        poison: 'unknown-schema',
      });
    else if (kind === 4) out.push({ key: user, value: JSON.stringify([tag, 1, 2]), poison: 'json-array' });
    else if (kind === 5)
      out.push({
        key: user,
        value: JSON.stringify({
          eventId: tag,
          userId: user,
          type: 'comment',
          occurredAt: Date.UTC(2026, 0, 2),
          itemId: 'x'.repeat(100_000),
        }),
        poison: 'oversized',
      });
    else if (kind === 6)
      out.push({
        key: user,
        value: Buffer.concat([
          Buffer.from(`{"eventId":"${tag}","userId":"${user}","type":"checkin","note":"`),
          Buffer.from([0xc3, 0x28, 0xa0, 0xa1]),
          Buffer.from('"}'),
        ]),
        poison: 'invalid-utf8',
      });
    else
      out.push({
        key: user,
        value: JSON.stringify({ userId: user, type: 'checkin', occurredAt: Date.UTC(2026, 0, 2), note: tag }),
        poison: 'no-event-id',
      });
  }
  return out;
}
