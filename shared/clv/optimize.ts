// Derivative-free minimisation for the maximum-likelihood fits (a handful of parameters).

export interface NelderMeadOptions {
  /** Iteration budget (default 5000 · dimension). */
  maxIterations?: number;
  /**
   * Convergence threshold (default 1e-10): stop when the function values at the simplex vertices
   * agree within tolerance · (1 + |best|) and every coordinate agrees within tolerance · (1 + |x|).
   */
  tolerance?: number;
  /** Edge length of the initial simplex along each axis (default 0.1 · max(1, |x0_i|)). */
  initialStep?: number;
}

export interface NelderMeadResult {
  x: number[];
  value: number;
  iterations: number;
  converged: boolean;
}

interface Vertex {
  x: number[];
  f: number;
}

/**
 * Nelder–Mead simplex minimiser (Nelder & Mead 1965; the standard coefficients reflection 1,
 * expansion 2, contraction ½, shrink ½ as in Lagarias et al. 1998). NaN values are treated as +∞,
 * so an objective can reject infeasible points by returning NaN or Infinity.
 */
export function nelderMead(f: (x: number[]) => number, x0: number[], opts: NelderMeadOptions = {}): NelderMeadResult {
  const n = x0.length;
  if (n === 0) throw new RangeError('nelderMead: x0 must not be empty');
  if (!x0.every(Number.isFinite)) throw new RangeError('nelderMead: x0 must be finite');
  const maxIterations = opts.maxIterations ?? 5000 * n;
  const tolerance = opts.tolerance ?? 1e-10;
  const evaluate = (x: number[]): Vertex => {
    const value = f(x);
    return { x, f: Number.isNaN(value) ? Infinity : value };
  };

  const simplex: Vertex[] = [evaluate([...x0])];
  for (let i = 0; i < n; i++) {
    const x = [...x0];
    const xi = x[i] as number;
    x[i] = xi + (opts.initialStep ?? 0.1 * Math.max(1, Math.abs(xi)));
    simplex.push(evaluate(x));
  }

  const along = (from: number[], to: number[], t: number): number[] =>
    from.map((v, i) => v + t * ((to[i] as number) - v));

  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations; iterations++) {
    simplex.sort((p, q) => p.f - q.f);
    const best = simplex[0] as Vertex;
    const worst = simplex[n] as Vertex;
    const secondWorst = simplex[n - 1] as Vertex;
    if (isConverged(simplex, tolerance)) {
      converged = true;
      break;
    }

    const centroid = new Array<number>(n).fill(0);
    for (let k = 0; k < n; k++) {
      const vx = (simplex[k] as Vertex).x;
      for (let i = 0; i < n; i++) centroid[i] = (centroid[i] as number) + (vx[i] as number) / n;
    }

    const reflected = evaluate(along(centroid, worst.x, -1));
    if (reflected.f < best.f) {
      const expanded = evaluate(along(centroid, worst.x, -2));
      simplex[n] = expanded.f < reflected.f ? expanded : reflected;
      continue;
    }
    if (reflected.f < secondWorst.f) {
      simplex[n] = reflected;
      continue;
    }
    // Contract towards the better of the worst and the reflected point.
    const outside = reflected.f < worst.f;
    const contracted = evaluate(along(centroid, worst.x, outside ? -0.5 : 0.5));
    if (contracted.f <= (outside ? reflected.f : worst.f)) {
      simplex[n] = contracted;
      continue;
    }
    for (let k = 1; k <= n; k++) simplex[k] = evaluate(along(best.x, (simplex[k] as Vertex).x, 0.5));
  }
  simplex.sort((p, q) => p.f - q.f);
  const best = simplex[0] as Vertex;
  return { x: best.x, value: best.f, iterations, converged };
}

function isConverged(sorted: readonly Vertex[], tolerance: number): boolean {
  const best = sorted[0] as Vertex;
  if (!Number.isFinite(best.f)) return false;
  for (const v of sorted) {
    if (!(Math.abs(v.f - best.f) <= tolerance * (1 + Math.abs(best.f)))) return false;
    for (let i = 0; i < best.x.length; i++) {
      const b = best.x[i] as number;
      if (!(Math.abs((v.x[i] as number) - b) <= tolerance * (1 + Math.abs(b)))) return false;
    }
  }
  return true;
}

export interface RestartOptions {
  /** Passed to every Nelder–Mead run (default 1e-10). */
  tolerance?: number;
  /** Simplex size of the first run (default 0.5); restarts use a tenth of it. */
  initialStep?: number;
  /** Upper bound on restarts (default 20). */
  maxRestarts?: number;
}

/**
 * Nelder–Mead, restarted from its own optimum with a fresh simplex until a restart no longer
 * improves the value: a collapsed or badly shaped simplex can stop short of the minimum
 * (McKinnon 1998), and the restart test is the usual remedy.
 */
export function minimizeWithRestarts(
  f: (x: number[]) => number,
  x0: number[],
  opts: RestartOptions = {},
): NelderMeadResult {
  const tolerance = opts.tolerance ?? 1e-10;
  const step = opts.initialStep ?? 0.5;
  const maxRestarts = opts.maxRestarts ?? 10;
  // Restarts refine a found optimum; on a flat ridge (a parameter the data do not identify)
  // each would crawl along it, so they get a smaller budget than the first search.
  const restartIterations = 500 * x0.length;
  let best = nelderMead(f, x0, { tolerance, initialStep: step, maxIterations: 2000 * x0.length });
  let iterations = best.iterations;
  for (let restart = 0; restart < maxRestarts; restart++) {
    const next = nelderMead(f, best.x, { tolerance, initialStep: step / 10, maxIterations: restartIterations });
    iterations += next.iterations;
    const gain = best.value - next.value;
    if (next.value <= best.value) best = next;
    if (gain <= tolerance * (1 + Math.abs(best.value)) && next.converged) {
      return { ...best, iterations, converged: true };
    }
  }
  return { ...best, iterations, converged: false };
}
