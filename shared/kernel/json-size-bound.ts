/**
 * An upper bound on the UTF-8 bytes of `JSON.stringify(value)`, found by walking the value
 * without building any string: the state size cap asks after every decision whether a state
 * is over the cap, and nearly every state is far below it, so a bound answers without the
 * encoding (and its garbage) that an exact size costs.
 *
 * Per value: a string 6 bytes per UTF-16 unit (the longest escape, `\uXXXX`) plus its quotes;
 * a number 25 (the longest a double prints in); `true`/`false`/`null` 5; an array or object
 * its brackets, a comma per element and, for an object, each key as a string and a colon.
 * Keys whose value JSON omits (undefined, functions) are counted anyway: a bound may be loose.
 *
 * The walk stops once the running total passes `stopAbove` (the caller then measures
 * exactly), so a huge state costs no more than a small one here.
 */
export function jsonSizeBound(value: unknown, stopAbove = Number.POSITIVE_INFINITY): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') total += 6 * v.length + 2;
    else if (typeof v === 'number' || typeof v === 'bigint') total += 25;
    else if (typeof v !== 'object' || v === null) total += 5;
    else if (Array.isArray(v)) {
      total += 2 + v.length;
      for (let i = 0; i < v.length; i++) stack.push(v[i]);
    } else {
      for (const k in v) {
        if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
        total += 6 * k.length + 4;
        stack.push((v as Record<string, unknown>)[k]);
      }
      total += 2;
    }
    if (total > stopAbove) return total;
  }
  return total;
}
