/**
 * Item-to-item similarity from co-occurrence counts. Every measure takes the same four
 * numbers: c = members who have both i and j (as counted, see cooccurrence.ts), n_i and
 * n_j = members who have each item, total = members with any item.
 *
 * Raw counts favour popular items (a best-seller co-occurs with everything); the other
 * measures divide that popularity out. docs/reco-evaluation.md compares them on Online Retail.
 */
export type SimilarityName = 'cosine' | 'llr' | 'jaccard' | 'count';

export const similarityNames: readonly SimilarityName[] = ['cosine', 'llr', 'jaccard', 'count'];

export type Similarity = (c: number, ni: number, nj: number, total: number) => number;

/** Cosine of the two items' member vectors: c / √(n_i · n_j). */
export function cosine(c: number, ni: number, nj: number): number {
  return c <= 0 || ni <= 0 || nj <= 0 ? 0 : c / Math.sqrt(ni * nj);
}

/** Jaccard index of the two member sets: c / (n_i + n_j − c). */
export function jaccard(c: number, ni: number, nj: number): number {
  const union = ni + nj - c;
  return c <= 0 || union <= 0 ? 0 : c / union;
}

const xLogX = (x: number): number => (x <= 0 ? 0 : x * Math.log(x));

/**
 * Dunning's (1993) log-likelihood ratio G² of the 2×2 table (both, i only, j only,
 * neither), in the entropy form Mahout uses. Only positive association counts: a pair
 * seen no more often than independence predicts scores 0, not a large "surprise".
 */
export function logLikelihoodRatio(c: number, ni: number, nj: number, total: number): number {
  if (c <= 0 || total <= 0 || c * total <= ni * nj) return 0;
  // Bounded counts can leave c a little above n_i or n_j (see cooccurrence.ts): clamp the cells.
  const k11 = c;
  const k12 = Math.max(0, ni - c);
  const k21 = Math.max(0, nj - c);
  const k22 = Math.max(0, total - ni - nj + c);
  const rowEntropy = xLogX(k11 + k12 + k21 + k22) - xLogX(k11 + k12) - xLogX(k21 + k22);
  const colEntropy = xLogX(k11 + k12 + k21 + k22) - xLogX(k11 + k21) - xLogX(k12 + k22);
  const matEntropy = xLogX(k11 + k12 + k21 + k22) - xLogX(k11) - xLogX(k12) - xLogX(k21) - xLogX(k22);
  return Math.max(0, 2 * (rowEntropy + colEntropy - matEntropy));
}

/** Raw co-occurrence count: the popularity-biased reference the others are compared with. */
export function rawCount(c: number): number {
  return Math.max(0, c);
}

export const similarities: Readonly<Record<SimilarityName, Similarity>> = {
  cosine,
  llr: logLikelihoodRatio,
  jaccard,
  count: rawCount,
};

export function isSimilarityName(s: string): s is SimilarityName {
  return (similarityNames as readonly string[]).includes(s);
}
