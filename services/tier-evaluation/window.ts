/**
 * The rolling window of qualifying points: signed movements kept per
 * millisecond of event time. A movement at instant t counts at instant `now`
 * iff t <= now < t + windowMs: it leaves the window at exactly t + windowMs.
 */
export type WindowEntry = [number, number];

/** Qualifying points at `now`: the window's movements, never below 0. */
export function qualifyingAt(entries: readonly WindowEntry[], windowMs: number, now: number): number {
  let sum = 0;
  for (const [at, p] of entries) if (at <= now && now < at + windowMs) sum += p;
  return Math.max(0, sum);
}

/** Drops movements that left the window at or before `now`. */
export const pruneWindow = (entries: readonly WindowEntry[], windowMs: number, now: number): WindowEntry[] =>
  entries.filter(([at]) => at + windowMs > now);

/** The instant the oldest movement leaves the window, or null when empty. */
export const nextExit = (entries: readonly WindowEntry[], windowMs: number): number | null =>
  entries[0] ? entries[0][0] + windowMs : null;

/**
 * Adds a movement, merging with one at the same millisecond (a merged 0 is
 * dropped). Beyond `max` entries the two adjacent entries closest in time
 * merge into the later instant (the earliest such pair on ties): the merged
 * points stay a little longer in the window, in the member's favour.
 */
export function addMovement(entries: readonly WindowEntry[], at: number, points: number, max: number): WindowEntry[] {
  if (points === 0) return [...entries];
  const out: WindowEntry[] = [];
  let placed = false;
  for (const [t, p] of entries) {
    if (!placed && t === at) {
      placed = true;
      if (p + points !== 0) out.push([t, p + points]);
      continue;
    }
    if (!placed && t > at) {
      placed = true;
      out.push([at, points]);
    }
    out.push([t, p]);
  }
  if (!placed) out.push([at, points]);
  while (out.length > Math.max(2, max)) {
    let best = 0;
    for (let i = 1; i < out.length - 1; i++)
      if (out[i + 1]![0] - out[i]![0] < out[best + 1]![0] - out[best]![0]) best = i;
    const [a, b] = [out[best]!, out[best + 1]!];
    const merged = a[1] + b[1];
    out.splice(best, 2, ...(merged === 0 ? [] : [[b[0], merged] as WindowEntry]));
  }
  return out;
}
