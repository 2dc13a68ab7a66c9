import type { Rules } from '../../shared/config/rules.js';
import { ledgerEntryKinds, type LedgerEntryKind, type LedgerEntryValue } from '../../shared/contracts/ledger-entry.js';
import type { OutputEvent } from '../../shared/kernel/types.js';
import { localDay } from '../../shared/util/calendar.js';
import { addToLots, type LotTouch } from './lots.js';
import { availableOf, pendingOf, sum, type PointsState } from './state.js';

export const entryKinds = ledgerEntryKinds;
export type EntryKind = LedgerEntryKind;

/** A points.ledger value: the shared contract (shared/contracts/ledger-entry.ts). */
export type LedgerEntry = LedgerEntryValue;

/**
 * What a decision accumulates: the state so far, the entries so far in order,
 * and how many of them were numbered (due work has ids of its own, so an
 * event's entries get the same ids whether or not due work came first).
 */
export interface Draft {
  state: PointsState;
  entries: LedgerEntry[];
  numbered: number;
}

export const emptyDraft = (state: PointsState): Draft => ({ state, entries: [], numbered: 0 });

export interface EntryContext {
  memberId: string;
  rules: Rules;
  /** Behavior event id or tick id that triggered this decision. */
  sourceEventId: string;
  /** The subscription behind this decision, if it is one (copied onto its entries). */
  subscription?: { plan: string; periodEnd: number };
}

export interface Movement {
  kind: EntryKind;
  points: number;
  amount: number;
  lots: LotTouch[];
  reason: string;
  at: number;
  related?: string | null;
  /** Due work has ids of its own (see due.ts); everything else is numbered within the decision. */
  id?: string;
}

/** Entry ids: the source event, the kind, and the position in the decision, so a replay gives the same ids. */
export const entryId = (sourceEventId: string, kind: EntryKind, index: number) =>
  `pts:${sourceEventId}:${kind}:${index}`;

/** Records a movement that led to `state`: the entry carries the balances after it. */
export function post(d: Draft, c: EntryContext, state: PointsState, m: Movement): Draft {
  const entry: LedgerEntry = {
    eventId: m.id ?? entryId(c.sourceEventId, m.kind, d.numbered),
    userId: c.memberId,
    kind: m.kind,
    points: m.points,
    amount: m.amount,
    lots: m.lots,
    availableAfter: availableOf(state),
    pendingAfter: pendingOf(state),
    debtAfter: state.debt,
    qualifyingPoints: qualifyingPoints(state, c.rules),
    rulesVersion: c.rules.version,
    sourceEventId: c.sourceEventId,
    relatedEventId: m.related ?? null,
    occurredAt: m.at,
    reason: m.reason,
    // Due work (own ids) is the same with or without ticks, so it never carries the subscription.
    plan: m.id === undefined ? (c.subscription?.plan ?? null) : null,
    periodEnd: m.id === undefined ? (c.subscription?.periodEnd ?? null) : null,
  };
  return { state, entries: [...d.entries, entry], numbered: d.numbered + (m.id === undefined ? 1 : 0) };
}

/** Qualifying points at the state's clock: credits minus reversals of the window's local days, never below 0. */
export function qualifyingPoints(s: PointsState, rules: Rules): number {
  if (s.clock === null) return 0;
  const from = localDay(s.clock, rules.timeZone) - rules.points.qualifyingWindowDays;
  return Math.max(0, sum(s.qualifying.filter(([day]) => day > from).map(([, p]) => p)));
}

/** Counts earned (+) or reversed (−) points on the local day of `at`. */
export function addQualifying(s: PointsState, at: number, points: number, rules: Rules): PointsState {
  if (points === 0) return s;
  const day = localDay(at, rules.timeZone);
  const found = s.qualifying.some(([d]) => d === day);
  const qualifying: [number, number][] = found
    ? s.qualifying.map(([d, p]) => [d, d === day ? p + points : p])
    : [...s.qualifying, [day, points] as [number, number]].sort((a, b) => a[0] - b[0]);
  return { ...s, qualifying };
}

/** Points arriving in the available bucket repay debt first (the rule), the rest lands in the lot. */
export function creditAvailable(
  s: PointsState,
  expiresAt: number,
  points: number,
): { state: PointsState; touched: LotTouch[] } {
  const repaid = Math.min(s.debt, points);
  const rest = points - repaid;
  const state = { ...s, debt: s.debt - repaid, lots: addToLots(s.lots, expiresAt, rest) };
  return { state, touched: rest > 0 ? [{ bucket: 'available', dueAt: expiresAt, points: rest }] : [] };
}

export function toOutput(e: LedgerEntry): OutputEvent {
  return { topic: 'points.ledger', key: e.userId, id: e.eventId, value: { ...e, lots: e.lots.map((l) => ({ ...l })) } };
}
