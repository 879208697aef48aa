/**
 * Spherical (cosine) k-means over the memory bank: the clusters c(i) and
 * centres μ_c that center-wise selection filters neighbours with
 * (METHOD §2; Li et al. 2021 re-cluster the bank every few epochs).
 *
 * Written by hand in tfjs ops (matMul, argMax, oneHot, cumsum, scatterND) so
 * the heavy N×C work runs on the active backend, GPU included. Per-cluster
 * sums are a segment sum on WASM and cpu and oneHot + matMul on GPUs (see
 * clusterSums). Every N×C product is built in row blocks of at most
 * BLOCK_ELEMENTS numbers, so a 60k bank with 1000 clusters never allocates a
 * 240 MB one-hot matrix.
 */
import * as tf from '@tensorflow/tfjs';
import { matMulABt, matMulAtB } from '../ops/matmul';
import { isHostBackend } from '../ops/host-backend';
import type { Rng } from '../rng';

export interface KMeansState {
  /** C×D centres, L2-normalised; rows of clusters that cannot be filled (C > N) are zero. */
  centroids: tf.Tensor2D;
  /** N int32: cluster c(i) of each bank row. */
  assignments: tf.Tensor1D;
  /** C: members per cluster (read back once per run; the UI and the tests need it on the CPU). */
  sizes: Int32Array;
  /** per-cluster mean of cos(z_j, μ_c) over members (0 for empty) — used by the 'cluster-mean' threshold */
  meanCentreSim: tf.Tensor1D;
  /** members sorted by cluster, for O(B) sampling of a random same-cluster image: N int32 bank indices grouped by cluster, ascending index inside a cluster */
  order: tf.Tensor1D;
  /** C int32 offsets into order (N for clusters after the last non-empty one) */
  start: tf.Tensor1D;
  /** N int32: position of i inside its cluster's run, i.e. order[start[c(i)] + rank[i]] = i */
  rank: tf.Tensor1D;
  /** Disposes every tensor of the state. */
  dispose(): void;
}

export interface KMeansOptions {
  /** Upper bound on rows×C numbers per block of the N×C work (default 2^22); tests lower it to exercise the block merge. */
  blockElements?: number;
  /** Fewest clusters for which WASM/cpu sum clusters by segment sum rather than the one-hot product (default SEGMENT_SUM_FROM). */
  segmentSumFrom?: number;
}

/**
 * From this many clusters the segment sum (N×D additions in JS) beats the
 * one-hot product (N×C×D multiply-adds in XNNPACK, plus building and
 * transposing the one-hot block). Per Lloyd iteration over a 60k×128 bank
 * on the CI machine (`bench/selection.ts --profile`) the product wins at
 * C = 10 and loses by far at C = 100 (docs/BENCHMARKS.md §M9).
 */
export const SEGMENT_SUM_FROM = 16;

/** Upper bound on rows×C numbers held at once by a block of the N×C work (16 MB of float32). */
const BLOCK_ELEMENTS = 1 << 22;

/** Norms below this mean a cluster's members cancel out; its previous centre is kept instead of dividing by ~0. */
const NORM_EPS = 1e-12;

function blockRows(clusters: number, blockElements: number): number {
  return Math.max(1, Math.floor(blockElements / Math.max(1, clusters)));
}

/** N int32 → N×C float one-hot; tf.oneHot refuses depth 1, where every row is simply in cluster 0. */
function oneHotF(a: tf.Tensor1D, depth: number): tf.Tensor2D {
  return depth === 1 ? tf.ones([a.shape[0], 1]) : (tf.oneHot(a, depth).toFloat() as tf.Tensor2D);
}

/** Row ranges [start, rows) covering n rows in blocks of `step`. */
function blocks(n: number, step: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < n; s += step) out.push([s, Math.min(step, n - s)]);
  return out;
}

/** Rows scaled to unit length; rows of (near) zero norm are replaced by `fallback`'s rows (or left zero). */
function normaliseRows(m: tf.Tensor2D, fallback: tf.Tensor2D | null): tf.Tensor2D {
  return tf.tidy(() => {
    const norm = tf.norm(m, 'euclidean', 1, true); // C×1
    const unit = tf.div(m, tf.maximum(norm, NORM_EPS));
    if (!fallback) return unit as tf.Tensor2D;
    return tf.where(tf.greater(norm, NORM_EPS), unit, fallback) as tf.Tensor2D;
  });
}

/**
 * Assignment step: c(i) = argmax_c x_i·μ_c, and that best cosine (how close
 * i is to its own centre, used to pick re-seeds). x N×D, mu C×D → N, N.
 */
function assignStep(x: tf.Tensor2D, mu: tf.Tensor2D, step: number): { assign: tf.Tensor1D; best: tf.Tensor1D } {
  return tf.tidy(() => {
    const [n, d] = x.shape;
    const parts = blocks(n, step).map(([s, rows]) => {
      const sims = matMulABt(rows === n ? x : x.slice([s, 0], [rows, d]), mu); // rows×C
      return { a: tf.argMax(sims, 1), m: tf.max(sims, 1) };
    });
    return {
      assign: tf.concat(parts.map((p) => p.a)) as tf.Tensor1D,
      best: tf.concat(parts.map((p) => p.m)) as tf.Tensor1D,
    };
  });
}

/**
 * Per-cluster sums (C×D) and member counts (C, float). On WASM and cpu
 * with C ≥ segmentSumFrom: unsortedSegmentSum over the whole bank, N×D
 * additions (WASM's kernel is ops/wasm-kernels.ts). Otherwise, and on GPU backends: oneHot(a)ᵀ·x accumulated over row
 * blocks, a product the GPU runs fast, where a scatter-add is not.
 */
function clusterSums(
  x: tf.Tensor2D,
  assign: tf.Tensor1D,
  clusters: number,
  step: number,
  segmentSumFrom: number,
): { sums: tf.Tensor2D; counts: tf.Tensor1D } {
  return tf.tidy(() => {
    const [n, d] = x.shape;
    if (clusters >= segmentSumFrom && isHostBackend() && tf.getKernel('UnsortedSegmentSum', tf.getBackend())) {
      return {
        sums: tf.unsortedSegmentSum(x, assign, clusters) as tf.Tensor2D,
        counts: tf.unsortedSegmentSum(tf.ones([n]), assign, clusters) as tf.Tensor1D,
      };
    }
    let sums: tf.Tensor2D = tf.zeros([clusters, d]);
    let counts: tf.Tensor1D = tf.zeros([clusters]);
    for (const [s, rows] of blocks(n, step)) {
      const oh = oneHotF(assign.slice(s, rows), clusters); // rows×C
      const xb = rows === n ? x : x.slice([s, 0], [rows, d]);
      sums = tf.add(sums, matMulAtB(oh, xb));
      counts = tf.add(counts, tf.sum(oh, 0));
    }
    return { sums, counts };
  });
}

/**
 * k-means++ seeding (Arthur & Vassilvitskii 2007) on the sphere: each new
 * seed is drawn with probability ∝ 1 − max_s cos(x, μ_s), which is half the
 * squared chord distance ‖x − μ‖² to the nearest seed. Chosen over random
 * rows because two random seeds in one tight group leave Lloyd stuck with a
 * split group and a merged pair. The draw happens on device (cumsum and a
 * count of cumsum ≤ u·total), with u from `rng`: 1 + (C−1) draws.
 */
function seedPlusPlus(x: tf.Tensor2D, clusters: number, rng: Rng): tf.Tensor2D {
  const n = x.shape[0];
  const first = rng.int(n);
  const seeds: tf.Tensor[] = [tf.tensor1d([first], 'int32')];
  let nearest = tf.tidy(() => matMulABt(x, x.slice([first, 0], [1, -1])).reshape([n])); // N
  for (let c = 1; c < clusters; c++) {
    const u = rng.next();
    const next = tf.tidy(() => {
      const w = tf.relu(tf.sub(1, nearest));
      const cdf = tf.cumsum(w);
      const target = tf.mul(cdf.slice(n - 1, 1), u);
      // Smallest i with cdf[i] > target; zero-weight rows (already seeds) never qualify.
      const idx = tf
        .minimum(tf.sum(tf.lessEqual(cdf, target).toInt()), n - 1)
        .reshape([1])
        .toInt();
      const row = tf.gather(x, idx); // 1×D
      const sim = matMulABt(x, row).reshape([n]);
      return { idx, nearest: tf.maximum(nearest, sim) };
    });
    nearest.dispose();
    nearest = next.nearest;
    seeds.push(next.idx);
  }
  nearest.dispose();
  const out = tf.tidy(() => tf.gather(x, tf.concat(seeds)) as tf.Tensor2D);
  tf.dispose(seeds);
  return out;
}

/**
 * Fills empty clusters by moving into each the member currently least
 * similar to its own centre (distinct points, lowest cosine first, ties by
 * lower index), skipping points whose move would empty their own cluster.
 * With C ≤ N this always fills every cluster. Runs on the CPU after one
 * readback: it is a rare path (only when a cluster is empty) and the greedy
 * bookkeeping of sizes is sequential. Returns the new assignment (N int32)
 * and updates `sizes` in place.
 */
async function reseedEmpty(assign: tf.Tensor1D, best: tf.Tensor1D, sizes: Int32Array): Promise<tf.Tensor1D> {
  const a = Int32Array.from(await assign.data());
  const sim = await best.data();
  const empties: number[] = [];
  sizes.forEach((s, c) => {
    if (s === 0) empties.push(c);
  });
  const byFit = Array.from(a.keys()).sort((i, j) => sim[i] - sim[j] || i - j);
  for (const i of byFit) {
    if (empties.length === 0) break;
    if (sizes[a[i]] < 2) continue;
    const c = empties.shift() as number;
    sizes[a[i]]--;
    sizes[c]++;
    a[i] = c;
  }
  return tf.tensor1d(a, 'int32');
}

async function readSizes(counts: tf.Tensor1D): Promise<Int32Array> {
  return Int32Array.from(await counts.data(), (v) => Math.round(v));
}

/**
 * Spherical k-means (cosine) over x N×D (rows L2-normalised), C clusters,
 * `iters` Lloyd iterations (§2).
 *
 * - Init: `init` (C×D, e.g. the previous run's centroids, to warm-start; no
 *   rng draws) or k-means++ seeding drawn with `rng` (see seedPlusPlus).
 * - Each iteration: assignment c(i) = argmax_c x_i·μ_cᵀ (in row blocks);
 *   empty clusters are re-seeded with the points least similar to their own
 *   centre (reseedEmpty); update μ = normalise(oneHot(c)ᵀ·x). The returned
 *   centroids are the update of the returned assignment, so every centre is
 *   its members' normalised mean and no cluster is empty when N ≥ C.
 * - C > N: Lloyd runs on the first N clusters (each row can hold at most one
 *   cluster); clusters N..C−1 stay empty: size 0, zero centroid row,
 *   meanCentreSim 0, start N.
 * - iters < 1 is treated as 1: the state always has assignments.
 *
 * Async because cluster sizes are read back (await data()) once per
 * iteration. The caller owns the state and calls dispose(); x and init are
 * not disposed.
 */
export async function sphericalKMeans(
  x: tf.Tensor2D,
  clusters: number,
  iters: number,
  rng: Rng,
  init?: tf.Tensor2D | null,
  opts: KMeansOptions = {},
): Promise<KMeansState> {
  const [n, d] = x.shape;
  if (n < 1) throw new Error('sphericalKMeans: the bank is empty.');
  if (!Number.isInteger(clusters) || clusters < 1)
    throw new Error(`sphericalKMeans: clusters must be a whole number ≥ 1 (got ${clusters}).`);
  if (init && (init.shape[0] !== clusters || init.shape[1] !== d)) {
    throw new Error(`sphericalKMeans: init is ${init.shape[0]}×${init.shape[1]}, expected ${clusters}×${d}.`);
  }
  const live = Math.min(clusters, n);
  const step = blockRows(live, opts.blockElements ?? BLOCK_ELEMENTS);
  const segmentSumFrom = opts.segmentSumFrom ?? SEGMENT_SUM_FROM;

  let mu: tf.Tensor2D = init
    ? tf.tidy(() => normaliseRows(init.slice([0, 0], [live, d]), null))
    : seedPlusPlus(x, live, rng);
  let assign: tf.Tensor1D | null = null;
  let sizes: Int32Array = new Int32Array(live);
  for (let t = 0; t < Math.max(1, iters); t++) {
    assign?.dispose();
    const fit = assignStep(x, mu, step);
    assign = fit.assign;
    let acc = clusterSums(x, assign, live, step, segmentSumFrom);
    sizes = await readSizes(acc.counts);
    if (sizes.includes(0)) {
      const moved = await reseedEmpty(assign, fit.best, sizes);
      assign.dispose();
      assign = moved;
      tf.dispose([acc.sums, acc.counts]);
      acc = clusterSums(x, assign, live, step, segmentSumFrom);
    }
    fit.best.dispose();
    const next = normaliseRows(acc.sums, mu);
    tf.dispose([acc.sums, acc.counts, mu]);
    mu = next;
  }
  const a = assign as tf.Tensor1D;

  // Cluster runs: start = exclusive prefix sum of sizes (on the CPU, sizes are
  // already here); rank = how many earlier rows share i's cluster (running
  // exclusive cumsum of the one-hot blocks); order scatters i to start + rank.
  const allSizes = new Int32Array(clusters);
  allSizes.set(sizes);
  const startArr = new Int32Array(clusters);
  for (let c = 1; c < clusters; c++) startArr[c] = startArr[c - 1] + allSizes[c - 1];

  const out = tf.tidy(() => {
    let carry: tf.Tensor = tf.zeros([1, live]); // members seen in earlier blocks
    let simSum: tf.Tensor = tf.zeros([1, live]);
    const ranks: tf.Tensor[] = [];
    for (const [s, rows] of blocks(n, step)) {
      const ab = a.slice(s, rows);
      const oh = oneHotF(ab, live); // rows×C
      const xb = rows === n ? x : x.slice([s, 0], [rows, d]);
      const own = tf.sum(tf.mul(xb, tf.gather(mu, ab)), 1, true); // rows×1: cos(z_j, μ_c(j))
      simSum = tf.add(simSum, matMulAtB(own as tf.Tensor2D, oh as tf.Tensor2D));
      const before = tf.add(tf.cumsum(oh, 0, true), carry);
      ranks.push(tf.sum(tf.mul(before, oh), 1));
      carry = tf.add(carry, tf.sum(oh, 0, true));
    }
    const rank = tf.concat(ranks).toInt() as tf.Tensor1D;
    const start = tf.tensor1d(startArr, 'int32');
    const pos = tf.add(tf.gather(start, a), rank).expandDims(1); // N×1
    const order = tf.scatterND(pos, tf.range(0, n, 1, 'int32'), [n]) as tf.Tensor1D;
    const counts = tf.maximum(tf.tensor1d(sizes.slice(0, live), 'float32'), 1);
    let mean = tf.div(simSum.reshape([live]), counts);
    mean = tf.where(tf.greater(tf.tensor1d(sizes.slice(0, live), 'int32'), 0), mean, tf.zerosLike(mean));
    const pad = clusters - live;
    const centroids = (pad > 0 ? tf.concat([mu, tf.zeros([pad, d])]) : tf.clone(mu)) as tf.Tensor2D;
    const meanCentreSim = (pad > 0 ? tf.concat([mean, tf.zeros([pad])]) : mean) as tf.Tensor1D;
    return { centroids, meanCentreSim, order, start, rank };
  });
  mu.dispose();

  const state: KMeansState = {
    ...out,
    assignments: a,
    sizes: allSizes,
    dispose() {
      tf.dispose([state.centroids, state.assignments, state.meanCentreSim, state.order, state.start, state.rank]);
    },
  };
  return state;
}

/**
 * A KMeansState from saved arrays (checkpoint restore): the same tensors a
 * run produced, so the next warm-started k-means and every selection see
 * exactly what they would have. Takes ownership of the tensors.
 */
export function kmeansStateFrom(
  t: Pick<KMeansState, 'centroids' | 'assignments' | 'meanCentreSim' | 'order' | 'start' | 'rank' | 'sizes'>,
): KMeansState {
  const state: KMeansState = {
    ...t,
    dispose() {
      tf.dispose([state.centroids, state.assignments, state.meanCentreSim, state.order, state.start, state.rank]);
    },
  };
  return state;
}
