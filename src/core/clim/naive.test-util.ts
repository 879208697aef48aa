/**
 * Plain-JS reference implementations of METHOD §2–§3, written as the
 * spec reads, loop by loop, in double precision. Used only by the tests of
 * knn.ts, kmeans.ts and selection.ts to check the tfjs versions; no
 * production module imports this file.
 */
import type { Rng } from '../rng';
import type { CentreThreshold } from '../config';

export type Mat = number[][];

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function normalise(v: number[]): number[] {
  const n = Math.sqrt(dot(v, v));
  return n > 0 ? v.map((x) => x / n) : v.map(() => 0);
}

/** Rows of a flat row-major array. */
export function rows(flat: ArrayLike<number>, cols: number): Mat {
  const out: Mat = [];
  for (let i = 0; i < flat.length; i += cols) out.push(Array.from({ length: cols }, (_, j) => flat[i + j]));
  return out;
}

/** Rows rounded to float32, so the reference sees the numbers the tensors hold. */
export function f32(m: Mat): Mat {
  return m.map((r) => r.map((v) => Math.fround(v)));
}

export function randomUnitRows(rng: Rng, n: number, d: number): Mat {
  return f32(Array.from({ length: n }, () => normalise(Array.from({ length: d }, () => rng.normal()))));
}

/** Unit vector at `deg` degrees on the circle. */
export function onCircle(deg: number): number[] {
  const r = (deg * Math.PI) / 180;
  return [Math.cos(r), Math.sin(r)];
}

/**
 * Well-separated groups: member m of group g is normalise(e_g + noise·N(0,1)),
 * e_g the g-th basis vector, so any two groups are ~90° apart. Returns the
 * rows and the generating group of each.
 */
export function blobs(
  rng: Rng,
  groups: number,
  perGroup: number,
  d: number,
  noise: number,
): { x: Mat; group: number[] } {
  const x: Mat = [];
  const group: number[] = [];
  for (let g = 0; g < groups; g++) {
    for (let m = 0; m < perGroup; m++) {
      const v = Array.from({ length: d }, (_, j) => (j === g ? 1 : 0) + noise * rng.normal());
      x.push(normalise(v));
      group.push(g);
    }
  }
  return { x: f32(x), group };
}

/** §3 step 1 by brute force: every bank row scored, sorted by similarity (desc), ties by lower index. */
export function naiveKnn(
  query: Mat,
  bank: Mat,
  k: number,
  exclude: number[] | null,
): { indices: number[][]; sims: number[][] } {
  const indices: number[][] = [];
  const sims: number[][] = [];
  query.forEach((q, b) => {
    const scored = bank
      .map((z, j) => ({ j, s: dot(q, z) }))
      .filter(({ j }) => !exclude || j !== exclude[b])
      .sort((p, r) => r.s - p.s || p.j - r.j)
      .slice(0, Math.max(0, k));
    indices.push(scored.map((p) => p.j));
    sims.push(scored.map((p) => p.s));
  });
  return { indices, sims };
}

/** Smallest gap between consecutive similarities a naive kNN list sorts by (near-ties make orders backend-dependent). */
export function minGap(bank: Mat, q: number[], excludeIdx: number | null, k: number): number {
  const s = bank
    .map((z, j) => ({ j, s: dot(q, z) }))
    .filter(({ j }) => j !== excludeIdx)
    .map((p) => p.s)
    .sort((a, b) => b - a);
  let gap = Infinity;
  for (let i = 0; i < Math.min(k, s.length - 1); i++) gap = Math.min(gap, s[i] - s[i + 1]);
  return gap;
}

/** argmax_c x·μ_c, first maximum on ties (as tf.argMax on cpu). */
export function naiveAssign(x: Mat, mu: Mat): { assign: number[]; best: number[] } {
  const assign: number[] = [];
  const best: number[] = [];
  for (const v of x) {
    let a = 0;
    let m = -Infinity;
    mu.forEach((c, j) => {
      const s = dot(v, c);
      if (s > m) {
        m = s;
        a = j;
      }
    });
    assign.push(a);
    best.push(m);
  }
  return { assign, best };
}

/**
 * §2 spherical k-means from given centres, with the same empty-cluster rule
 * as kmeans.ts, spelled out: visit points from least to most similar to their
 * own centre and move each (if its cluster keeps ≥ 1 member) into the next
 * empty cluster; then μ_c = normalise(Σ members).
 */
export function naiveSphericalKMeans(
  x: Mat,
  init: Mat,
  iters: number,
): { assign: number[]; centroids: Mat; sizes: number[]; reseeded: number[][] } {
  let mu = init.map((r) => normalise(r));
  const C = mu.length;
  let assign: number[] = [];
  const reseeded: number[][] = [];
  for (let t = 0; t < Math.max(1, iters); t++) {
    const fit = naiveAssign(x, mu);
    assign = fit.assign;
    const sizes = new Array(C).fill(0);
    for (const a of assign) sizes[a]++;
    const empties = sizes.map((s, c) => (s === 0 ? c : -1)).filter((c) => c >= 0);
    const moved: number[] = [];
    const order = x.map((_, i) => i).sort((i, j) => fit.best[i] - fit.best[j] || i - j);
    for (const i of order) {
      if (empties.length === 0) break;
      if (sizes[assign[i]] < 2) continue;
      const c = empties.shift() as number;
      sizes[assign[i]]--;
      sizes[c]++;
      assign[i] = c;
      moved.push(i);
    }
    reseeded.push(moved);
    mu = mu.map((prev, c) => {
      const sum = new Array(x[0].length).fill(0);
      x.forEach((v, i) => {
        if (assign[i] === c) v.forEach((e, j) => (sum[j] += e));
      });
      const n = Math.sqrt(dot(sum, sum));
      return n > 1e-12 ? sum.map((e) => e / n) : prev;
    });
  }
  const sizes = new Array(C).fill(0);
  for (const a of assign) sizes[a]++;
  return { assign, centroids: mu, sizes, reseeded };
}

/** The per-cluster tables of KMeansState, from an assignment and centres, by direct counting. */
export function naiveClusterTables(
  x: Mat,
  assign: number[],
  centroids: Mat,
): {
  sizes: number[];
  meanCentreSim: number[];
  order: number[];
  start: number[];
  rank: number[];
} {
  const C = centroids.length;
  const members: number[][] = Array.from({ length: C }, () => []);
  assign.forEach((c, i) => members[c].push(i));
  const sizes = members.map((m) => m.length);
  const meanCentreSim = members.map((m, c) =>
    m.length ? m.reduce((s, i) => s + dot(x[i], centroids[c]), 0) / m.length : 0,
  );
  const order = members.flat();
  const start: number[] = [];
  let acc = 0;
  for (const m of members) {
    start.push(acc);
    acc += m.length;
  }
  const rank = assign.map((c, i) => members[c].indexOf(i));
  return { sizes, meanCentreSim, order, start, rank };
}

/** Index of the kept item a draw u picks: floor(u·count) in float32 as on device, clamped to count − 1. */
export function drawIndex(u: number, count: number): number {
  return Math.min(Math.floor(Math.fround(Math.fround(u) * count)), count - 1);
}

/**
 * §3 steps 1–3 for one anchor, as written: N_k(i) by brute force, then for
 * each neighbour the reason it is kept or not (0 kept, 1 other cluster,
 * 2 farther from the centre), the kept list in neighbour order, and the
 * positive drawn by u (the anchor when nothing is kept).
 */
export function naiveCentreWise(
  bank: Mat,
  assign: number[],
  centroids: Mat,
  meanCentreSim: number[],
  anchor: number,
  k: number,
  threshold: CentreThreshold,
  u: number,
): { neighbours: number[]; reasons: number[]; kept: number[]; positive: number; margins: number[] } {
  const neighbours = naiveKnn([bank[anchor]], bank, k, [anchor]).indices[0];
  const c = assign[anchor];
  const mu = centroids[c];
  const anchorSim = dot(bank[anchor], mu);
  const bar = threshold === 'anchor' ? anchorSim : meanCentreSim[c];
  const reasons: number[] = [];
  const margins: number[] = [];
  for (const j of neighbours) {
    const s = dot(bank[j], mu);
    margins.push(Math.abs(s - bar));
    if (assign[j] !== c) reasons.push(1);
    else if (threshold === 'anchor' ? s > bar : s >= bar) reasons.push(0);
    else reasons.push(2);
  }
  const kept = neighbours.filter((_, t) => reasons[t] === 0);
  const positive = kept.length ? kept[drawIndex(u, kept.length)] : anchor;
  return { neighbours, reasons, kept, positive, margins };
}

/** 'cluster' mode: the other members of c(i) in ascending index order, one drawn by u; alone → the anchor. */
export function naiveClusterPick(assign: number[], anchor: number, u: number): { positive: number; kept: number } {
  const others = assign.map((c, j) => (c === assign[anchor] && j !== anchor ? j : -1)).filter((j) => j >= 0);
  return { positive: others.length ? others[drawIndex(u, others.length)] : anchor, kept: others.length };
}
