import { describe, expect, it } from 'vitest';
import type { ActivityEvent } from '../../shared/contracts/activity-event.js';
import {
  emptyMemberState,
  markEmitted,
  observeCategory,
  observeItem,
  recentItems,
  recoItemOf,
  shouldEmit,
  type MemberBounds,
  type MemberRecoState,
} from '../../shared/reco/member.js';

const bounds: MemberBounds = { owned: 4, recent: 2, categories: 2 };

function buy(s: MemberRecoState, ...items: string[]): MemberRecoState {
  return items.reduce((acc, i) => observeItem(acc, i, `cat:${i[0]}`, bounds).state, s);
}

describe('member recommendation state', () => {
  it('a new item is paired with the R most recent items before it; a repeat is not new and moves to the end', () => {
    let s = emptyMemberState();
    const first = observeItem(s, 'a1', 'cat:a', bounds);
    expect(first).toMatchObject({ isNew: true, firstItem: true, previous: [] });
    s = buy(first.state, 'b1', 'c1');
    const next = observeItem(s, 'd1', null, bounds);
    expect(next).toMatchObject({ isNew: true, firstItem: false, previous: ['b1', 'c1'] });
    const again = observeItem(next.state, 'b1', 'cat:b', bounds);
    expect(again.isNew).toBe(false);
    expect(again.previous).toEqual([]);
    expect(again.state.items).toEqual(['a1', 'c1', 'd1', 'b1']);
    expect(recentItems(again.state, 2)).toEqual(['d1', 'b1']);
  });

  it('remembers at most `owned` items, forgetting the least recently touched: that item then counts as new again', () => {
    const s = buy(emptyMemberState(), 'a1', 'b1', 'c1', 'd1', 'a1', 'e1');
    // a1 was touched again before e1 arrived, so b1 is the one forgotten.
    expect(s.items).toEqual(['c1', 'd1', 'a1', 'e1']);
    expect(observeItem(s, 'b1', null, bounds).isNew).toBe(true);
    expect(observeItem(s, 'a1', null, bounds).isNew).toBe(false);
  });

  it('keeps the latest categories, bounded, without repeats; views add categories too', () => {
    let s = buy(emptyMemberState(), 'a1', 'b1', 'a2', 'c1');
    expect(s.categories).toEqual(['cat:a', 'cat:c']);
    s = observeCategory(s, 'cat:z', bounds);
    expect(s.categories).toEqual(['cat:c', 'cat:z']);
  });

  it('does not change the state it is given', () => {
    const s = buy(emptyMemberState(), 'a1', 'b1');
    const copy = structuredClone(s);
    observeItem(s, 'c1', 'cat:c', bounds);
    observeItem(s, 'a1', 'cat:a', bounds);
    markEmitted(s, 'win_back', 5);
    expect(s).toEqual(copy);
  });

  it('refuses bounds where recent exceeds owned', () => {
    expect(() => observeItem(emptyMemberState(), 'x', null, { owned: 2, recent: 3, categories: 1 })).toThrow(
      RangeError,
    );
  });

  it('takes purchases and completions that name an item', () => {
    const base: ActivityEvent = {
      eventId: 'e',
      userId: 'u',
      type: 'purchase',
      occurredAt: 0,
      source: null,
      referrerId: null,
      amountFen: 100,
      itemId: 'course-1',
      category: 'ai',
      plan: null,
      periodEnd: null,
      refundOf: null,
      seconds: null,
      points: null,
      rewardId: null,
      redeemOf: null,
    };
    expect(recoItemOf(base)).toEqual({ itemId: 'course-1', category: 'ai' });
    expect(recoItemOf({ ...base, type: 'lesson_complete', category: null })).toEqual({
      itemId: 'course-1',
      category: null,
    });
    expect(recoItemOf({ ...base, type: 'content_view' })).toBeNull();
    expect(recoItemOf({ ...base, type: 'refund' })).toBeNull();
    expect(recoItemOf({ ...base, itemId: null })).toBeNull();
  });
});

describe('rate limiting per trigger', () => {
  const hour = 3_600_000;

  it('lets the first event through, then at most one per interval of event time', () => {
    let s = emptyMemberState();
    expect(shouldEmit(s, 'next_item', 10 * hour, 24 * hour)).toBe(true);
    s = markEmitted(s, 'next_item', 10 * hour);
    expect(shouldEmit(s, 'next_item', 10 * hour, 24 * hour)).toBe(false);
    expect(shouldEmit(s, 'next_item', 34 * hour - 1, 24 * hour)).toBe(false);
    expect(shouldEmit(s, 'next_item', 34 * hour, 24 * hour)).toBe(true);
  });

  it('keeps a separate window per trigger', () => {
    const s = markEmitted(emptyMemberState(), 'next_item', 10 * hour);
    expect(shouldEmit(s, 'win_back', 10 * hour, 24 * hour)).toBe(true);
    expect(shouldEmit(s, 'tier_upgrade', 11 * hour, 24 * hour)).toBe(true);
    expect(shouldEmit(markEmitted(s, 'win_back', 11 * hour), 'win_back', 12 * hour, 24 * hour)).toBe(false);
  });

  it('late event times neither reopen the window nor move it back', () => {
    let s = markEmitted(emptyMemberState(), 'win_back', 50 * hour);
    expect(shouldEmit(s, 'win_back', 20 * hour, 24 * hour)).toBe(false);
    s = markEmitted(s, 'win_back', 20 * hour);
    expect(s.lastEmitted.win_back).toBe(50 * hour);
  });

  it('an interval of 0 never holds anything back', () => {
    const s = markEmitted(emptyMemberState(), 'next_item', 5);
    expect(shouldEmit(s, 'next_item', 5, 0)).toBe(true);
  });
});
