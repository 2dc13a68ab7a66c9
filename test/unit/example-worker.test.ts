/** The example worker's rules (test/support/example-worker, docs/ADDING-A-WORKER.md), without servers. */
import { describe, expect, it } from 'vitest';
import { defaultRules } from '../../shared/config/rules.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import type { DecideContext } from '../../shared/kernel/types.js';
import { decideStreak, reasons, streakLogic, type StreakState } from '../support/example-worker/decide.js';

const rules = defaultRules();
const ctx: DecideContext = { rules, record: { timestamp: 0, sizeBytes: 0, topic: 't', partition: 0, offset: '0' } };
const day0 = Date.UTC(2026, 2, 2, 4);
const event = (day: number, type = 'checkin') =>
  ({ eventId: `e${day}`, userId: 'ann', type, occurredAt: day0 + day * 86_400_000 }) as BehaviorEventValue;

function run(days: Array<number | [number, string]>): StreakState {
  let s = streakLogic.initialState('ann');
  for (const d of days) {
    const decision = decideStreak(s, Array.isArray(d) ? event(...d) : event(d), ctx);
    if (decision.kind === 'applied') s = decision.state;
  }
  return s;
}

describe('visit-streak rules', () => {
  it('counts local days in a row, once per day, and keeps the best run', () => {
    expect(run([0, 1, 1, 2])).toMatchObject({ streak: 3, best: 3 });
    expect(run([0, 1, 2, 4])).toMatchObject({ streak: 1, best: 3 });
  });

  it('counts only visits: a refund or a sign-up changes nothing', () => {
    expect(run([0, [1, 'refund'], [1, 'signup']])).toMatchObject({ streak: 1, best: 1 });
  });

  it('refuses an event before the last counted day, naming the field, not the value', () => {
    const decision = decideStreak(run([0, 3]), event(1), ctx);
    expect(decision).toEqual({
      kind: 'rejected',
      rejection: { reason: reasons.lateEvent, message: "occurredAt: before the member's last counted day" },
    });
  });

  it('projects the best run for the leaderboard, and nothing before a visit', () => {
    expect(streakLogic.projections!('ann', run([0, 1]))).toEqual([{ name: 'best-streak', member: 'ann', score: 2 }]);
    expect(streakLogic.projections!('ann', run([]))).toEqual([]);
  });
});
