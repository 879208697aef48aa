/**
 * Positive-selection policies: which bank image becomes anchor i's positive
 * p (METHOD §3, with the ablation modes offered side by side). One policy
 * object per idea, looked up by name, so the training loop, the UI and the
 * tests share one description of each.
 *
 * Written by hand in tfjs ops (gather, topk via knn, cumsum, argMax, where)
 * so selection runs on the active backend, GPU included, with no readback:
 * `select` is synchronous. Each `select` runs its temporaries in a tidy and
 * returns fresh tensors that the caller owns and disposes (a caller's outer
 * tf.tidy works too).
 */
import * as tf from '@tensorflow/tfjs';
import type { CentreThreshold, SelectionMode } from '../config';
import type { RejectReason } from '../api';
import type { KMeansState } from './kmeans';
import { knn, takeAlongRows } from './knn';

export interface SelectionInput {
  /** B int32 bank indices of the anchors. */
  anchorIdx: tf.Tensor1D;
  /** N×D L2-normalised memory bank. */
  bank: tf.Tensor2D;
  /** null before the first k-means (then cluster-based modes fall back to the anchor itself). */
  clusters: KMeansState | null;
  k: number;
  threshold: CentreThreshold;
  /** B uniform [0,1) numbers drawn by the caller from the seeded Rng — the only randomness used. */
  u: tf.Tensor1D;
}

export interface SelectionOutput {
  /** B int32 chosen positive bank index (== anchor when the kept set is empty: plain MoCo). */
  positives: tf.Tensor1D;
  /** B int32 size of the kept set (coverage = mean(keptCount > 0), §6). */
  keptCount: tf.Tensor1D;
  /** B×k' int32 neighbours N_k(i) (null for modes that do not use kNN: none, cluster). */
  neighbours: tf.Tensor2D | null;
  /** B×k' float32 cosine of each neighbour to its anchor. */
  similarities: tf.Tensor2D | null;
  /** B×k' int32 codes, see REASON. */
  reason: tf.Tensor2D | null;
}

export interface SelectionPolicy {
  name: SelectionMode;
  /** what the learner reads in the UI */
  description: string;
  usesKnn: boolean;
  usesClusters: boolean;
  select(input: SelectionInput): SelectionOutput;
  /**
   * The verdict on a kNN neighbour that `select` gives no reason code for
   * (modes without kNN): the selection snapshot shows the k nearest
   * neighbours in every mode, and labels them by the mode's own rule here.
   */
  judgeUnlisted(sameCluster: boolean): RejectReason;
}

/** Codes of SelectionOutput.reason. */
export const REASON = {
  kept: 0,
  /** c(j) ≠ c(i). */
  differentCluster: 1,
  /** cos(z_j, μ_c) ≤ cos(z_i, μ_c) ('anchor'), or < the cluster's mean ('cluster-mean'). */
  fartherFromCentre: 2,
  /** The mode does not keep this neighbour (e.g. center-wise before the first k-means). */
  notSelectedByMode: 3,
} as const;

/** REASON code → the engine's report wording (api.ts), indexed by code. */
export const REASON_NAMES: readonly RejectReason[] = [
  'kept',
  'different-cluster',
  'farther-from-centre',
  'not-selected-by-mode',
];

/** Runs fn in a tidy and keeps its output tensors alive for the caller. */
function tidyOutput(fn: () => SelectionOutput): SelectionOutput {
  let out: SelectionOutput | undefined;
  tf.tidy(() => {
    out = fn();
    for (const t of [out.positives, out.keptCount, out.neighbours, out.similarities, out.reason]) if (t) tf.keep(t);
  });
  return out as SelectionOutput;
}

/** Plain MoCo for every anchor: p = i, nothing kept. */
function selfPositives(anchorIdx: tf.Tensor1D): Pick<SelectionOutput, 'positives' | 'keptCount'> {
  return { positives: anchorIdx.toInt().clone(), keptCount: tf.zerosLike(anchorIdx).toInt() };
}

/**
 * Index of a uniform draw among `count` items: floor(u·count), clamped to
 * count − 1 because a float32 u just below 1 can round up to 1. B → B float.
 */
function drawIndex(u: tf.Tensor1D, count: tf.Tensor1D): tf.Tensor1D {
  return tf.minimum(tf.floor(tf.mul(u, count)), tf.maximum(tf.sub(count, 1), 0));
}

/**
 * Draws the positive uniformly from the kept neighbours (§3 step 3): with
 * j = floor(u·count), the j-th kept entry (0-based, in neighbour order) is
 * where the running count of kept entries first reaches j + 1. On device:
 * cumsum over the mask, one-hot of that position, argMax, gather. Empty
 * kept set → the anchor itself.
 *
 * mask B×k' (1 = kept), neighbours B×k' int32, anchorIdx B, u B.
 */
export function drawFromKept(
  mask: tf.Tensor2D,
  neighbours: tf.Tensor2D,
  anchorIdx: tf.Tensor1D,
  u: tf.Tensor1D,
): Pick<SelectionOutput, 'positives' | 'keptCount'> {
  return tf.tidy(() => {
    if (mask.shape[1] === 0) return selfPositives(anchorIdx);
    const m = mask.toFloat();
    const count = tf.sum(m, 1) as tf.Tensor1D;
    const j = drawIndex(u, count);
    const hit = tf.mul(m, tf.equal(tf.cumsum(m, 1), tf.add(j, 1).expandDims(1)).toFloat()); // one 1 per row with count > 0
    const at = tf.argMax(hit, 1).expandDims(1); // B×1
    const chosen = takeAlongRows(neighbours, at as tf.Tensor2D)
      .reshape([-1])
      .toInt();
    return {
      positives: tf.where(tf.greater(count, 0), chosen, anchorIdx.toInt()) as tf.Tensor1D,
      keptCount: count.toInt() as tf.Tensor1D,
    };
  });
}

/**
 * cos(z_j, μ_c(i)) for each neighbour j of anchor i (B×k') and cos(z_i, μ_c(i))
 * (B): the quantities the center-wise rule compares (§3 step 2). The
 * selection snapshot (trainer/snapshots.ts) computes the same cosines itself
 * for the UI, also for modes and steps without clusters (against the bank's
 * mean direction). bank N×D, neighbours B×k' int32.
 */
export function centreSimilarities(
  bank: tf.Tensor2D,
  clusters: KMeansState,
  anchorIdx: tf.Tensor1D,
  neighbours: tf.Tensor2D,
): { anchor: tf.Tensor1D; neighbours: tf.Tensor2D } {
  return tf.tidy(() => {
    const [b, kk] = neighbours.shape;
    const d = bank.shape[1];
    const mu = tf.gather(clusters.centroids, tf.gather(clusters.assignments, anchorIdx)); // B×D
    const anchor = tf.sum(tf.mul(tf.gather(bank, anchorIdx), mu), 1) as tf.Tensor1D;
    const zn = tf.gather(bank, neighbours.reshape([-1])).reshape([b, kk, d]); // B×k'×D
    const nb = tf.matMul(zn, mu.expandDims(2)).reshape([b, kk]) as tf.Tensor2D; // B×k'
    return { anchor, neighbours: nb };
  });
}

const none: SelectionPolicy = {
  name: 'none',
  description:
    'MoCo v2: every image is its own positive. No neighbours, no clusters; the baseline the other rules are measured against.',
  usesKnn: false,
  usesClusters: false,
  judgeUnlisted: () => 'not-selected-by-mode',
  select: ({ anchorIdx }) =>
    tidyOutput(() => ({ ...selfPositives(anchorIdx), neighbours: null, similarities: null, reason: null })),
};

const knnPolicy: SelectionPolicy = {
  name: 'knn',
  description:
    'Nearest neighbours (NNCLR-like): the positive is a random one of the k images whose embeddings are closest to the anchor. With k = 1 it is always the single nearest one.',
  usesKnn: true,
  usesClusters: false,
  // Lists every neighbour itself (all kept).
  judgeUnlisted: () => 'not-selected-by-mode',
  select: ({ anchorIdx, bank, k, u }) =>
    tidyOutput(() => {
      const nn = knn(tf.gather(bank, anchorIdx), bank, k, anchorIdx);
      const mask = tf.onesLike(nn.indices);
      return {
        ...drawFromKept(mask, nn.indices, anchorIdx, u),
        neighbours: nn.indices,
        similarities: nn.similarities,
        reason: tf.fill(nn.indices.shape, REASON.kept, 'int32') as tf.Tensor2D,
      };
    }),
};

const clusterPolicy: SelectionPolicy = {
  name: 'cluster',
  description:
    "Same cluster: the positive is any other image of the anchor's k-means cluster, however far from the anchor. Broad but noisy; an image alone in its cluster is its own positive.",
  usesKnn: false,
  usesClusters: true,
  // It draws from the whole cluster, not from the kNN: a neighbour in the anchor's cluster is one it may draw.
  judgeUnlisted: (sameCluster) => (sameCluster ? 'kept' : 'different-cluster'),
  select: ({ anchorIdx, clusters, u }) =>
    tidyOutput(() => {
      if (!clusters) return { ...selfPositives(anchorIdx), neighbours: null, similarities: null, reason: null };
      // O(B): the r-th other member of c(i) is order[start[c] + r], shifted by
      // one past the anchor's own rank, so the anchor itself is never drawn.
      const n = clusters.order.shape[0];
      const anchor = anchorIdx.toInt();
      const c = tf.gather(clusters.assignments, anchor);
      const size = tf.gather(tf.tensor1d(clusters.sizes, 'int32'), c);
      const others = tf.maximum(tf.sub(size, 1), 0).toFloat() as tf.Tensor1D;
      const r = drawIndex(u, others).toInt();
      const skip = tf.greaterEqual(r, tf.gather(clusters.rank, anchor)).toInt();
      // Clamp: for a size-1 cluster this points one past its run (maybe past N); that draw is replaced by the anchor below.
      const at = tf.minimum(tf.add(tf.add(tf.gather(clusters.start, c), r), skip), tf.scalar(n - 1, 'int32'));
      const picked = tf.gather(clusters.order, at);
      return {
        positives: tf.where(tf.greater(size, 1), picked, anchor) as tf.Tensor1D,
        keptCount: others.toInt() as tf.Tensor1D,
        neighbours: null,
        similarities: null,
        reason: null,
      };
    }),
};

const centreWise: SelectionPolicy = {
  name: 'center-wise',
  description:
    "CLIM's rule: among the anchor's k nearest neighbours, keep those in the anchor's cluster that lie closer to the cluster centre than the anchor does (or, with the 'cluster-mean' threshold, at least as close as the cluster's average member), and draw the positive from them. It pulls the anchor towards its centre without leaving its neighbourhood; with nothing kept the anchor is its own positive.",
  usesKnn: true,
  usesClusters: true,
  // Lists every neighbour itself, with its reason.
  judgeUnlisted: () => 'not-selected-by-mode',
  select: ({ anchorIdx, bank, clusters, k, threshold, u }) =>
    tidyOutput(() => {
      const anchor = anchorIdx.toInt();
      const nn = knn(tf.gather(bank, anchor), bank, k, anchor);
      const base = { neighbours: nn.indices, similarities: nn.similarities };
      if (!clusters || nn.indices.shape[1] === 0) {
        return {
          ...selfPositives(anchor),
          ...base,
          reason: tf.fill(nn.indices.shape, REASON.notSelectedByMode, 'int32') as tf.Tensor2D,
        };
      }
      const c = tf.gather(clusters.assignments, anchor); // B
      const same = tf.equal(tf.gather(clusters.assignments, nn.indices), c.expandDims(1)); // B×k'
      const cs = centreSimilarities(bank, clusters, anchor, nn.indices);
      const bar = threshold === 'anchor' ? cs.anchor : tf.gather(clusters.meanCentreSim, c);
      const closer =
        threshold === 'anchor'
          ? tf.greater(cs.neighbours, bar.expandDims(1))
          : tf.greaterEqual(cs.neighbours, bar.expandDims(1));
      const code = (v: number) => tf.fill(nn.indices.shape, v, 'int32') as tf.Tensor2D;
      const reason = tf.where(
        same,
        tf.where(closer, code(REASON.kept), code(REASON.fartherFromCentre)),
        code(REASON.differentCluster),
      );
      const mask = tf.equal(reason, REASON.kept) as tf.Tensor2D;
      return { ...drawFromKept(mask, nn.indices, anchor, u), ...base, reason };
    }),
};

export const SELECTION_POLICIES: Record<SelectionMode, SelectionPolicy> = {
  none,
  knn: knnPolicy,
  cluster: clusterPolicy,
  'center-wise': centreWise,
};

export function getSelectionPolicy(name: SelectionMode): SelectionPolicy {
  const p = SELECTION_POLICIES[name];
  if (!p)
    throw new Error(
      `Unknown selection mode "${String(name)}"; expected one of ${Object.keys(SELECTION_POLICIES).join(', ')}.`,
    );
  return p;
}
