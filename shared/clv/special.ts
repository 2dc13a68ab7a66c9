// Special functions for the customer-base models: ln Γ, ln B, Gauss 2F1 and a stable log-sum.
// Pure and dependency-free. See README.md in this folder for the algorithms and their sources.

const LN_SQRT_2PI = 0.9189385332046728; // ½·ln(2π)
const EULER_GAMMA = 0.5772156649015329;
const EPS = Number.EPSILON;

// ζ(k) − 1 for k = 2…30 (Riemann zeta; A&S 23.2, values computed with mpmath at 50 digits).
// They are the Taylor coefficients of ln Γ around 2 (A&S 6.1.33), which keeps full relative
// accuracy next to the zeros of ln Γ at 1 and 2.
const ZETA_MINUS_ONE = [
  0.6449340668482264, 0.2020569031595943, 0.08232323371113819, 0.03692775514336993, 0.01734306198444914,
  0.008349277381922827, 0.00407735619794434, 0.0020083928260822143, 0.0009945751278180853, 0.0004941886041194645,
  0.0002460865533080483, 0.00012271334757848915, 6.124813505870483e-5, 3.058823630702049e-5, 1.528225940865187e-5,
  7.637197637899763e-6, 3.81729326499984e-6, 1.908212716553939e-6, 9.539620338727962e-7, 4.769329867878064e-7,
  2.38450502727733e-7, 1.1921992596531106e-7, 5.960818905125948e-8, 2.980350351465228e-8, 1.4901554828365043e-8,
  7.45071178983543e-9, 3.725334024788457e-9, 1.862659723513049e-9, 9.313274324196682e-10,
];

/** ln Γ(2 + e) for |e| ≤ 0.5: (1 − γ)e + Σ_{k≥2} (−1)^k (ζ(k) − 1) e^k / k  (A&S 6.1.33). */
function lgammaNearTwo(e: number): number {
  let sum = 0;
  let power = -e; // (−e)^k, starting at k = 1
  for (let k = 2; k <= 30; k++) {
    power *= -e;
    sum += ((ZETA_MINUS_ONE[k - 2] as number) * power) / k;
  }
  return (1 - EULER_GAMMA) * e + sum;
}

/**
 * Stirling correction ln Γ(x) − [(x − ½)ln x − x + ½ln 2π] for x ≥ 10, by the asymptotic series
 * Σ B_2k / (2k(2k−1) x^(2k−1)) up to B_16; the first omitted term is below 2e-18 at x = 10.
 */
function stirlingCorrection(x: number): number {
  const w = 1 / (x * x);
  const series =
    1 / 12 +
    w *
      (-1 / 360 +
        w * (1 / 1260 + w * (-1 / 1680 + w * (1 / 1188 + w * (-691 / 360360 + w * (1 / 156 + w * (-3617 / 122400)))))));
  return series / x;
}

/** sin(πx) with exact argument reduction, so that sinPi(n) is exactly 0 for integers. */
function sinPi(x: number): number {
  let r = x % 2; // exact in floating point
  if (r < 0) r += 2;
  if (r > 1) return -sinPi(r - 1);
  if (r > 0.5) r = 1 - r;
  return Math.sin(Math.PI * r);
}

const isNonPositiveInteger = (x: number): boolean => x <= 0 && Number.isInteger(x);

/**
 * ln |Γ(x)|. Relative accuracy about 1e-15 for x > 0, including next to the zeros at x = 1 and 2.
 * Negative non-integers use the reflection formula; non-positive integers give +Infinity.
 */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (isNonPositiveInteger(x) || x === -Infinity) return Infinity;
  if (x < 0) return Math.log(Math.PI / Math.abs(sinPi(x))) - lgamma(1 - x);
  if (x < 0.5) return lgammaNearTwo(x) - Math.log1p(x) - Math.log(x); // Γ(x) = Γ(2+x) / ((1+x)x)
  if (x < 1.5) return lgammaNearTwo(x - 1) - Math.log1p(x - 1); // Γ(x) = Γ(1+x) / x
  if (x < 2.5) return lgammaNearTwo(x - 2);
  if (x < 10) {
    // Γ(x) = (x−1)(x−2)…(x−n) Γ(x−n) with x − n in [1.5, 2.5); every x − k is exact.
    let product = 1;
    let y = x;
    while (y >= 2.5) {
      y -= 1;
      product *= y;
    }
    return lgammaNearTwo(y - 2) + Math.log(product);
  }
  return (x - 0.5) * Math.log(x) - x + LN_SQRT_2PI + stirlingCorrection(x);
}

/** Sign of Γ(x) for x not a non-positive integer. */
function gammaSign(x: number): number {
  if (x > 0) return 1;
  return Math.floor(x) % 2 === 0 ? 1 : -1;
}

/**
 * ln B(a, b) for a, b > 0. When an argument is ≥ 10 the Stirling parts are combined analytically
 * (as in TOMS 708 / R's lbeta) so that ln Γ of large, nearly equal arguments does not cancel.
 */
export function lbeta(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  if (!(a > 0 && b > 0)) throw new RangeError(`lbeta(${a}, ${b}): arguments must be > 0`);
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  if (q === Infinity) return -Infinity;
  if (p >= 10) {
    const corr = stirlingCorrection(p) + stirlingCorrection(q) - stirlingCorrection(p + q);
    return -0.5 * Math.log(q) + LN_SQRT_2PI + corr + (p - 0.5) * Math.log(p / (p + q)) + q * Math.log1p(-p / (p + q));
  }
  if (q >= 10) {
    const corr = stirlingCorrection(q) - stirlingCorrection(p + q);
    return lgamma(p) + corr + p - p * Math.log(p + q) + (q - 0.5) * Math.log1p(-p / (p + q));
  }
  return lgamma(p) + lgamma(q) - lgamma(p + q);
}

/** ln(e^a + e^b) without overflow or loss of the smaller term. */
export function logAddExp(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  if (hi === -Infinity) return -Infinity;
  if (hi === Infinity) return Infinity;
  return hi + Math.log1p(Math.exp(lo - hi));
}

// ---------------------------------------------------------------------------------------------
// Gauss hypergeometric function 2F1(a, b; c; z)

/** Upper bound on series terms before giving up (about z = 1 − 2e-5 for a plain series). */
const MAX_SERIES_TERMS = 2_000_000;
/** Above this z in (0, 1) the 1 − z connection formula may replace a slowly converging series. */
const CONNECTION_Z = 0.97;
/** Terms the plain series may take above CONNECTION_Z before the connection formula is preferred. */
const QUICK_SERIES_TERMS = 2000;
/** c − a − b closer than this to an integer makes the connection formula cancel; use the series. */
const CONNECTION_MIN_GAP = 0.05;
/**
 * Largest accepted ratio between the summed magnitudes of all contributions and the result. Beyond
 * it cancellation may have cost more than about 8 of the 16 digits, and hyp2f1 throws instead.
 */
const MAX_CANCELLATION = 1e8;

/** A computed value with the sum of the absolute values of what was added up to get it. */
interface Estimate {
  value: number;
  magnitude: number;
}

/** How many times larger the summed contributions are than the result (1 = no cancellation). */
const cancellation = (e: Estimate): number => (e.magnitude === 0 ? 1 : e.magnitude / Math.abs(e.value));

const scaled = (e: Estimate, factor: number): Estimate => ({
  value: e.value * factor,
  magnitude: e.magnitude * Math.abs(factor),
});

function describe(a: number, b: number, c: number, z: number): string {
  return `hyp2f1(a=${a}, b=${b}, c=${c}, z=${z})`;
}

/**
 * Σ_{n≥1} (a)_n (b)_n / ((c)_n n!) z^n, i.e. 2F1 − 1, summed until the remaining tail is below
 * machine precision of the total 2F1 (or of 2F1 − 1 itself when `exactTail`). Terminates early when
 * a or b is a non-positive integer. Returns undefined when `budget` terms were not enough.
 */
function trySeriesMinusOne(
  a: number,
  b: number,
  c: number,
  z: number,
  budget: number,
  exactTail = false,
): Estimate | undefined {
  // Past this index every Pochhammer factor is positive and the term ratio tends monotonically to z.
  const settled = Math.max(0, -a, -b, -c) + 1;
  let term = 1;
  let sum = 0;
  let magnitude = 0;
  for (let n = 0; n < budget; n++) {
    const ratio = (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
    term *= ratio;
    if (term === 0) return { value: sum, magnitude }; // a terminating (polynomial) series
    sum += term;
    magnitude += Math.abs(term);
    if (n >= settled) {
      const q = Math.max(Math.abs(ratio), Math.abs(z));
      const scale = exactTail ? Math.abs(sum) : Math.abs(1 + sum);
      if (q < 1 && (Math.abs(term) * q) / (1 - q) <= (EPS / 4) * scale) return { value: sum, magnitude };
    }
  }
  return undefined;
}

function seriesMinusOne(a: number, b: number, c: number, z: number, what: () => string, exactTail = false): Estimate {
  const result = trySeriesMinusOne(a, b, c, z, MAX_SERIES_TERMS, exactTail);
  if (result === undefined) throw new Error(`${what()}: power series did not converge in ${MAX_SERIES_TERMS} terms`);
  return result;
}

const plusOne = (tail: Estimate): Estimate => ({ value: 1 + tail.value, magnitude: 1 + tail.magnitude });

/** 1 + seriesMinusOne: the plain power series. */
function series(a: number, b: number, c: number, z: number, what: () => string): Estimate {
  return plusOne(seriesMinusOne(a, b, c, z, what));
}

/** Γ(c)Γ(d) / (Γ(e)Γ(f)) · e^extraLog, combined in log space; 0 when e or f is a pole of Γ. */
function gammaRatio(c: number, d: number, e: number, f: number, extraLog = 0): number {
  if (isNonPositiveInteger(e) || isNonPositiveInteger(f)) return 0;
  const logAbs = lgamma(c) + lgamma(d) - lgamma(e) - lgamma(f) + extraLog;
  return gammaSign(c) * gammaSign(d) * gammaSign(e) * gammaSign(f) * Math.exp(logAbs);
}

/**
 * 2F1 for 0 < z < 1, with 1 − z passed separately so that it keeps full precision when z comes
 * from a Pfaff transformation of a large negative argument.
 */
function unitInterval(a: number, b: number, c: number, z: number, oneMinusZ: number, what: () => string): Estimate {
  if (isNonPositiveInteger(a) || isNonPositiveInteger(b)) return series(a, b, c, z, what);
  const s = c - a - b;
  // Euler: 2F1(a,b;c;z) = (1−z)^(c−a−b) 2F1(c−a, c−b; c; z); a polynomial when c−a or c−b ∈ {0,−1,…}.
  if (isNonPositiveInteger(c - a) || isNonPositiveInteger(c - b)) {
    return scaled(series(c - a, c - b, c, z, what), Math.exp(s * Math.log(oneMinusZ)));
  }
  const gap = Math.abs(s - Math.round(s));
  if (z <= CONNECTION_Z || gap < CONNECTION_MIN_GAP) return series(a, b, c, z, what);
  // Even close to 1 the plain series is the more accurate one when it converges quickly
  // (large c makes the terms shrink long before the ratio approaches z).
  const quick = trySeriesMinusOne(a, b, c, z, QUICK_SERIES_TERMS);
  if (quick !== undefined) return plusOne(quick);
  // A&S 15.3.6: both series in 1 − z converge fast because 1 − z < 1 − CONNECTION_Z.
  const c1 = gammaRatio(c, s, c - a, c - b);
  const c2 = gammaRatio(c, -s, a, b, s * Math.log(oneMinusZ));
  const first = c1 === 0 ? { value: 0, magnitude: 0 } : scaled(series(a, b, 1 - s, oneMinusZ, what), c1);
  const second = c2 === 0 ? { value: 0, magnitude: 0 } : scaled(series(c - a, c - b, 1 + s, oneMinusZ, what), c2);
  const connected = { value: first.value + second.value, magnitude: first.magnitude + second.magnitude };
  // Its two terms can still cancel (large a, b, c); then a long plain series may be better.
  if (cancellation(connected) <= 1e4) return connected;
  const slow = trySeriesMinusOne(a, b, c, z, MAX_SERIES_TERMS);
  return slow !== undefined && cancellation(plusOne(slow)) < cancellation(connected) ? plusOne(slow) : connected;
}

function checkHypArguments(a: number, b: number, c: number, z: number): void {
  if (![a, b, c, z].every(Number.isFinite)) throw new RangeError(`${describe(a, b, c, z)}: arguments must be finite`);
  if (z > 1) throw new RangeError(`${describe(a, b, c, z)}: z must be ≤ 1 (real branch only)`);
  if (isNonPositiveInteger(c)) {
    // Defined only as a polynomial that stops before (c)_n reaches 0.
    const stopsInTime = (p: number) => isNonPositiveInteger(p) && p >= c;
    if (!stopsInTime(a) && !stopsInTime(b)) {
      throw new RangeError(`${describe(a, b, c, z)}: c is a non-positive integer (pole)`);
    }
  }
}

function hyp2f1Estimate(a: number, b: number, c: number, z: number, what: () => string): Estimate {
  if (z === 0) return { value: 1, magnitude: 1 };
  const polynomial = isNonPositiveInteger(a) || isNonPositiveInteger(b);
  if (polynomial && z >= -1) return series(a, b, c, z, what);
  if (z === 1) {
    if (!(c - a - b > 0)) throw new RangeError(`${what()}: diverges at z = 1 unless c − a − b > 0`);
    const value = gammaRatio(c, c - a - b, c - a, c - b);
    return { value, magnitude: Math.abs(value) };
  }
  if (z > 0) return unitInterval(a, b, c, z, 1 - z, what);
  // Pfaff: 2F1(a,b;c;z) = (1−z)^(−a) 2F1(a, c−b; c; w) = (1−z)^(−b) 2F1(c−a, b; c; w), w = z/(z−1).
  // Prefer the form that is a polynomial, if either is.
  const w = z / (z - 1);
  const oneMinusW = 1 / (1 - z);
  const lnOneMinusZ = Math.log1p(-z);
  const firstStops = isNonPositiveInteger(a) || isNonPositiveInteger(c - b);
  const secondStops = isNonPositiveInteger(b) || isNonPositiveInteger(c - a);
  if (secondStops && !firstStops) {
    return scaled(unitInterval(c - a, b, c, w, oneMinusW, what), Math.exp(-b * lnOneMinusZ));
  }
  return scaled(unitInterval(a, c - b, c, w, oneMinusW, what), Math.exp(-a * lnOneMinusZ));
}

function accepted(e: Estimate, what: () => string): number {
  if (!(cancellation(e) <= MAX_CANCELLATION)) {
    throw new Error(
      `${what()}: cancellation too severe (terms up to ${cancellation(e).toExponential(1)} × the result)`,
    );
  }
  return e.value;
}

/**
 * Gauss hypergeometric function 2F1(a, b; c; z) for real parameters and real z ≤ 1.
 * - z in [0, 0.97]: the defining power series;
 * - z in (0.97, 1): the power series when it converges within 2000 terms, else the 1 − z
 *   connection formula (A&S 15.3.6) — unless c − a − b is within 0.05 of an integer, where that
 *   formula cancels and the long power series is used;
 * - z < 0: the Pfaff transformation z → z/(z − 1), which maps it into (0, 1);
 * - z = 1: Gauss's summation theorem (requires c − a − b > 0).
 * Polynomial cases (a, b, c − a or c − b a non-positive integer) are summed as finite sums.
 * Throws an Error when a series does not converge within its term budget (z within about 2e-5
 * of 1 with c − a − b near an integer) or when cancellation would leave fewer than ~8 digits.
 */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  checkHypArguments(a, b, c, z);
  const what = () => describe(a, b, c, z);
  return accepted(hyp2f1Estimate(a, b, c, z, what), what);
}

/**
 * 2F1(a, b; c; z) − 1, to full relative precision also for small z, where hyp2f1(…) − 1
 * would cancel. Used for ln 2F1 = log1p(…) in the conditional expectations.
 */
export function hyp2f1Minus1(a: number, b: number, c: number, z: number): number {
  checkHypArguments(a, b, c, z);
  const what = () => describe(a, b, c, z);
  if (z >= 0 && z <= 0.5) return accepted(seriesMinusOne(a, b, c, z, what, true), what);
  return hyp2f1(a, b, c, z) - 1;
}
