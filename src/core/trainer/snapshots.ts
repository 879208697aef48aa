/**
 * What the views show of a run's bank (§2) and selection (§3): the selection
 * snapshot, the rule comparison, the clusters with their galleries, the 2-D
 * map and the raw embeddings. Every function here only reads the run's
 * tensors (borrowed, never disposed) and draws from no training stream, so
 * looking never changes the loss.
 */
import * as tf from '@tensorflow/tfjs';
import type { ClimConfig } from '../config';
import type {
  ClusterSnapshot,
  EmbeddingsDump,
  NeighbourInfo,
  ProjectionSnapshot,
  RejectReason,
  SelectionSnapshot,
} from '../api';
import { Rng } from '../rng';
import { l2Normalize } from '../models/encoder';
import type { KMeansState } from '../clim/kmeans';
import { knn } from '../clim/knn';
import { matMulABt } from '../ops/matmul';
import { getSelectionPolicy, REASON_NAMES } from '../clim/selection';
import { compareRulesOnBank, type RuleComparison } from '../clim/rule-comparison';
import { clusterAgreement } from '../eval/cluster-metrics';
import { pca2 } from '../eval/pca';
import { sampleSubset } from './sampler';

/** Members per cluster gallery (nearest and farthest from the centre), issue 5. */
export const GALLERY_SIZE = 6;
/** At most this many bank rows go into the 2-D map; larger banks use a seeded subset. */
export const MAP_MAX_POINTS = 20_000;
/** Rows×C numbers per block of the snapshot's N×C similarities (16 MB of float32), as in kmeans.ts. */
const SNAPSHOT_BLOCK = 1 << 22;
/** Salt of the map subset's seed, apart from the training stream so looking never changes the loss. */
const MAP_SUBSET_SALT = 0x3a9d;
/** Anchors of the rule comparison: a precision near 0.6 has a standard error of about 2 points over 512. */
export const RULE_PROBE_MAX = 512;
/** Salt of the rule comparison's probe anchors (fixed for a run, so its chart follows the same images). */
const RULE_PROBE_SALT = 0x51c7;

/** The run state every snapshot reads: borrowed from the trainer, read only. */
export interface BankState {
  /** N×d, unit rows (§2.1). */
  bank: tf.Tensor2D;
  /** The last k-means (§2.4); null before the first. */
  clusters: KMeansState | null;
  /** N training labels, or null for an unlabelled set. */
  labels: Int32Array | null;
  /** Steps trained so far. */
  step: number;
}

/** What the last step selected, for the selection snapshot (host memory). */
export interface LastBatch {
  anchors: Int32Array;
  positives: Int32Array;
  lambda: Float32Array;
  /** B×r×r×3 RGB bytes of the first resolution's (r = mixedSize) mixed query views, when captured. */
  mixed: Uint8Array | null;
  mixedSize: number;
}

/**
 * Per-cluster galleries from each image's cluster c(i) and its centre
 * similarity s_i = cos(z_i, μ_c(i)) (N each): the G members with the highest
 * s (best first) and the G with the lowest (worst first), ties by lower
 * index; C×G row-major, −1 where a cluster has fewer than G members.
 * One pass with a sorted insert per cluster: O(N·G), no N log N sort.
 */
export function clusterGalleries(
  assign: ArrayLike<number>,
  sims: ArrayLike<number>,
  clusters: number,
  g: number,
): { near: Int32Array; far: Int32Array } {
  const near = new Int32Array(clusters * g).fill(-1);
  const far = new Int32Array(clusters * g).fill(-1);
  const nearS = new Float64Array(clusters * g);
  const farS = new Float64Array(clusters * g);
  const count = new Int32Array(clusters);
  // better(a, b): a ranks before b; indices arrive in ascending order, so a tie keeps the earlier one first.
  const insert = (
    idx: Int32Array,
    val: Float64Array,
    base: number,
    filled: number,
    i: number,
    s: number,
    better: (a: number, b: number) => boolean,
  ) => {
    let p = Math.min(filled, g);
    if (p === g && !better(s, val[base + g - 1])) return;
    if (p === g) p = g - 1;
    while (p > 0 && better(s, val[base + p - 1])) {
      idx[base + p] = idx[base + p - 1];
      val[base + p] = val[base + p - 1];
      p--;
    }
    idx[base + p] = i;
    val[base + p] = s;
  };
  const higher = (a: number, b: number) => a > b;
  const lower = (a: number, b: number) => a < b;
  for (let i = 0; i < assign.length; i++) {
    const c = assign[i];
    if (c < 0 || c >= clusters) continue;
    insert(near, nearS, c * g, count[c], i, sims[i], higher);
    insert(far, farS, c * g, count[c], i, sims[i], lower);
    count[c]++;
  }
  return { near, far };
}

/** The training images of the selection snapshot: pinned ones first, then random anchors of the last batch. */
export interface SnapshotAnchors {
  /** Image ids, pinned first. */
  ids: number[];
  /** Batch position of each, or −1 (a pinned image not in the last batch, or no batch yet). */
  batchPos: number[];
  /** How many of `ids` were pinned. */
  pinned: number;
}

/**
 * Up to max(nAnchors, pins) distinct images of 0..n−1: the valid pinned ones,
 * then anchors of the last batch in an order drawn from `vizRng` (before any
 * step: random images), so the visualisation stream alone moves.
 */
export function pickSnapshotAnchors(
  last: LastBatch | null,
  n: number,
  nAnchors: number,
  pinned: readonly number[],
  vizRng: Rng,
): SnapshotAnchors {
  const pins = [...new Set(pinned.filter((i) => Number.isInteger(i) && i >= 0 && i < n))];
  const ids: number[] = [...pins];
  const batchPos: number[] = pins.map((i) => (last ? last.anchors.indexOf(i) : -1));
  const want = Math.max(nAnchors, pins.length);
  if (last) {
    const B = last.anchors.length;
    const order = Array.from({ length: B }, (_, i) => i);
    vizRng.shuffle(order);
    for (const p of order) {
      if (ids.length >= want) break;
      if (ids.includes(last.anchors[p])) continue;
      ids.push(last.anchors[p]);
      batchPos.push(p);
    }
  } else {
    for (let i = 0; ids.length < Math.min(want, n) && i < 4 * want; i++) {
      const r = vizRng.int(n);
      if (ids.includes(r)) continue;
      ids.push(r);
      batchPos.push(-1);
    }
  }
  return { ids, batchPos, pinned: pins.length };
}

/**
 * What the selection does for the chosen anchors (A of them): their k nearest
 * bank neighbours, each kept or rejected with the reason (§3), and the
 * positive and λ the last step used. Device work: one A×N kNN (or the
 * policy's own selection), gathers of A×k×d rows; seven reads.
 */
export async function selectionSnapshot(
  v: BankState,
  c: Readonly<ClimConfig>,
  last: LastBatch | null,
  chosen: SnapshotAnchors,
  rules: RuleComparison | null,
): Promise<SelectionSnapshot> {
  const { ids: anchorIds, batchPos } = chosen;
  const labels = v.labels;
  if (anchorIds.length === 0) return { step: v.step, mode: c.selection, anchors: [], rules };
  const n = v.bank.shape[0];
  const policy = getSelectionPolicy(c.selection);
  const t = tf.tidy(() => {
    const idx = tf.tensor1d(anchorIds, 'int32');
    const z = tf.gather(v.bank, idx);
    let nb: tf.Tensor2D;
    let sims: tf.Tensor2D;
    // −1 where the policy gives no reason codes (modes without kNN); same shape as nb.
    let reason: tf.Tensor2D | null = null;
    if (policy.usesKnn) {
      const sel = policy.select({
        anchorIdx: idx,
        bank: v.bank,
        clusters: v.clusters,
        k: c.knnK,
        threshold: c.centerThreshold,
        u: tf.zeros([anchorIds.length]),
      });
      nb = sel.neighbours as tf.Tensor2D;
      sims = sel.similarities as tf.Tensor2D;
      reason = sel.reason;
      tf.dispose([sel.positives, sel.keptCount]);
    } else {
      const r = knn(z, v.bank, c.knnK, idx);
      nb = r.indices;
      sims = r.similarities;
    }
    const reasons = reason ?? (tf.fill(nb.shape, -1, 'int32') as tf.Tensor2D);
    const assign = v.clusters ? v.clusters.assignments : tf.zeros([n], 'int32');
    const centroids = v.clusters ? v.clusters.centroids : l2Normalize(tf.mean(v.bank, 0, true) as tf.Tensor2D);
    const ac = tf.gather(assign, idx) as tf.Tensor1D;
    const mu = tf.gather(centroids, ac) as tf.Tensor2D; // A×d
    const anchorCentre = tf.sum(tf.mul(z, mu), 1);
    const flat = tf.reshape(nb, [-1]);
    const nz = tf.reshape(tf.gather(v.bank, flat), [nb.shape[0], nb.shape[1], -1]); // A×k×d
    const nbCentre = tf.sum(tf.mul(nz, tf.expandDims(mu, 1)), 2); // cos(z_j, μ_c(i))
    const nbCluster = tf.reshape(tf.gather(assign, flat), nb.shape);
    return { nb, sims, reason: reasons, ac, anchorCentre, nbCentre, nbCluster } as Record<string, tf.Tensor>;
  });
  const [nb, sims, reason, ac, anchorCentre, nbCentre, nbCluster] = await Promise.all([
    t.nb.data(),
    t.sims.data(),
    t.reason.data(),
    t.ac.data(),
    t.anchorCentre.data(),
    t.nbCentre.data(),
    t.nbCluster.data(),
  ]);
  const k = t.nb.shape[1] ?? 0;
  tf.dispose(Object.values(t));

  const mixedBytes = last ? last.mixedSize * last.mixedSize * 3 : 0;
  return {
    step: v.step,
    mode: c.selection,
    rules,
    anchors: anchorIds.map((anchor, a) => {
      const neighbours: NeighbourInfo[] = [];
      for (let j = 0; j < k; j++) {
        const o = a * k + j;
        const why: RejectReason =
          reason[o] >= 0
            ? (REASON_NAMES[reason[o]] ?? 'not-selected-by-mode')
            : policy.judgeUnlisted(nbCluster[o] === ac[a]);
        neighbours.push({
          index: nb[o],
          similarity: sims[o],
          cluster: nbCluster[o],
          centreSimilarity: nbCentre[o],
          kept: why === 'kept',
          reason: why,
          label: labels ? labels[nb[o]] : null,
        });
      }
      return {
        anchor,
        label: labels ? labels[anchor] : null,
        cluster: ac[a],
        centreSimilarity: anchorCentre[a],
        neighbours,
        positive: last && batchPos[a] >= 0 ? last.positives[batchPos[a]] : null,
        lambda: last && batchPos[a] >= 0 ? last.lambda[batchPos[a]] : null,
        pinned: a < chosen.pinned,
        mixed:
          last?.mixed && batchPos[a] >= 0
            ? last.mixed.slice(batchPos[a] * mixedBytes, (batchPos[a] + 1) * mixedBytes)
            : null,
        mixedSize: last ? last.mixedSize : 0,
      };
    }),
  };
}

/** The rule comparison's probe: up to RULE_PROBE_MAX of n training images, seeded by the run's seed alone (fixed for the run). */
export function ruleProbe(n: number, seed: number): Int32Array {
  return sampleSubset(n, Math.min(n, RULE_PROBE_MAX), new Rng(seed ^ RULE_PROBE_SALT));
}

/**
 * Every selection rule (§3.5, rule-comparison.ts) on the same `probe`
 * anchors, bank and clusters, with k = knnK. Null before the first k-means.
 */
export async function ruleComparison(v: BankState, probe: Int32Array, knnK: number): Promise<RuleComparison | null> {
  if (!v.clusters) return null;
  const n = v.bank.shape[0];
  const rules = await compareRulesOnBank(v.bank, v.clusters, probe, knnK, v.labels);
  return { step: v.step, anchors: probe.length, k: Math.min(knnK, n - 1), clusters: v.clusters.sizes.length, rules };
}

/**
 * The clusters of the last k-means run (§2.4) as the Clusters view shows
 * them: assignments c(i), sizes, the image nearest each centre, per-cluster
 * galleries by cos(z_i, μ_c(i)) (GALLERY_SIZE nearest and farthest members),
 * and purity/NMI/ARI of c(i) against the training labels (§6) when labelled.
 * Device work: one N×C product (nearest) and one N×d row-wise dot (the
 * centre similarities); three reads.
 */
export async function clusterSnapshot(v: BankState): Promise<ClusterSnapshot> {
  const n = v.bank.shape[0];
  const g = GALLERY_SIZE;
  const labels = v.labels;
  const agreement = (a: Int32Array) => (labels ? clusterAgreement(a, labels) : { purity: null, nmi: null, ari: null });
  if (!v.clusters) {
    const assignments = new Int32Array(n);
    return {
      step: v.step,
      assignments,
      sizes: Int32Array.from([n]),
      nearest: Int32Array.from([0]),
      galleryNear: new Int32Array(g).fill(-1),
      galleryFar: new Int32Array(g).fill(-1),
      gallerySize: g,
      ...agreement(assignments),
    };
  }
  const cl = v.clusters;
  const C = cl.sizes.length;
  // The N×C similarities in row blocks (as in kmeans.ts: a 60k bank with 1000 clusters would be 240 MB at once).
  // Per block: each row's similarity to its own centre cos(z_i, μ_c(i)) (a one-hot mask, not a row gather:
  // on WASM gathering the centre rows costs two orders of magnitude more than the mask, docs/BENCHMARKS.md §M9),
  // and the block's best row per centre.
  const rows = Math.max(1, Math.floor(SNAPSHOT_BLOCK / Math.max(1, C)));
  const parts: Array<{ own: tf.Tensor1D; best: tf.Tensor1D; arg: tf.Tensor1D }> = [];
  for (let s = 0; s < n; s += rows) {
    const m = Math.min(rows, n - s);
    parts.push(
      tf.tidy(() => {
        const sims = matMulABt(m === n ? v.bank : tf.slice(v.bank, [s, 0], [m, -1]), cl.centroids); // m×C
        const a = m === n ? cl.assignments : tf.slice(cl.assignments, [s], [m]);
        const oh = C === 1 ? tf.ones([m, 1]) : tf.oneHot(a, C).toFloat();
        return {
          own: tf.sum(tf.mul(sims, oh), 1) as tf.Tensor1D,
          best: tf.max(sims, 0) as tf.Tensor1D,
          arg: tf.argMax(sims, 0) as tf.Tensor1D,
        };
      }),
    );
  }
  const read = await Promise.all([
    cl.assignments.data(),
    ...parts.flatMap((p) => [p.own.data(), p.best.data(), p.arg.data()]),
  ]);
  tf.dispose(parts.flatMap((p) => [p.own, p.best, p.arg]));
  const assign = read[0];
  const own = new Float32Array(n);
  const nearest = new Int32Array(C);
  const nearestSim = new Float32Array(C).fill(-Infinity);
  parts.forEach((_, b) => {
    own.set(read[1 + 3 * b] as Float32Array, b * rows);
    const best = read[2 + 3 * b];
    const arg = read[3 + 3 * b];
    // Strictly greater: the earliest block wins ties, as argMax over all rows would.
    for (let c = 0; c < C; c++)
      if (best[c] > nearestSim[c]) {
        nearestSim[c] = best[c];
        nearest[c] = arg[c] + b * rows;
      }
  });
  const sizes = Int32Array.from(cl.sizes);
  const assignments = Int32Array.from(assign);
  const gal = clusterGalleries(assignments, own, sizes.length, g);
  return {
    step: v.step,
    assignments,
    sizes,
    nearest: Int32Array.from(nearest, (x, i) => (sizes[i] > 0 ? x : -1)),
    galleryNear: gal.near,
    galleryFar: gal.far,
    gallerySize: g,
    ...agreement(assignments),
  };
}

/**
 * The bank rows of the 2-D map or a dump: all n, or a subset of `max` seeded
 * by the run's seed alone, the same for every size, so a dump of
 * MAP_MAX_POINTS rows is exactly the map's subset and points keep their identity.
 */
export function mapRows(n: number, max: number, seed: number): Int32Array {
  return sampleSubset(n, Math.min(n, Math.max(1, Math.floor(max))), new Rng(seed ^ MAP_SUBSET_SALT));
}

/**
 * A 2-D PCA map (pca.ts) of the bank rows `index` (N'×d → N'×2), warm-started
 * from the previous map's D×2 axes `init`; returns the new axes for the next.
 * `assignments` (N, from clusterSnapshot) saves a read of c(i).
 */
export async function projectionSnapshot(
  v: BankState,
  index: Int32Array,
  init: Float32Array | null,
  assignments?: Int32Array,
): Promise<{ snapshot: ProjectionSnapshot; axes: Float32Array }> {
  const n = v.bank.shape[0];
  const all = index.length === n;
  const x = all ? v.bank : tf.tidy(() => tf.gather(v.bank, tf.tensor1d(index, 'int32')) as tf.Tensor2D);
  const r = await pca2(x, { init });
  if (!all) x.dispose();
  const assign = assignments ?? (v.clusters ? Int32Array.from(await v.clusters.assignments.data()) : new Int32Array(n));
  const labels = v.labels;
  return {
    axes: r.axes,
    snapshot: {
      step: v.step,
      method: 'pca',
      index: Int32Array.from(index),
      xy: r.xy,
      cluster: Int32Array.from(index, (i) => assign[i]),
      label: labels ? Int32Array.from(index, (i) => labels[i]) : null,
      explained: r.explained,
    },
  };
}

/** The bank rows `index` (L2-normalised, N'×d) with their clusters and labels, for projections outside the engine (UMAP). */
export async function embeddingsDump(v: BankState, index: Int32Array): Promise<EmbeddingsDump> {
  const rows = tf.tidy(() => tf.gather(v.bank, tf.tensor1d(index, 'int32')));
  const vectors = Float32Array.from(await rows.data());
  rows.dispose();
  const assign = v.clusters ? await v.clusters.assignments.data() : new Int32Array(v.bank.shape[0]);
  const labels = v.labels;
  return {
    step: v.step,
    index: Int32Array.from(index),
    vectors,
    dim: v.bank.shape[1],
    cluster: Int32Array.from(index, (i) => assign[i]),
    label: labels ? Int32Array.from(index, (i) => labels[i]) : null,
  };
}

/** Seed salt of the visualisation stream (snapshot anchors), apart from the training stream. */
const VIZ_SALT = 0x5eed;

/**
 * The snapshots of one run with the little they keep between calls: the
 * visualisation stream, the map's fixed subset and last PCA axes, and the
 * rule comparison's fixed probe. Host memory only, nothing to dispose.
 */
export class RunViews {
  /** Draws for visualisation only, so looking never changes the loss sequence. */
  private readonly vizRng: Rng;
  /** D×2 PCA axes of the last map, the warm start of the next (pca.ts). */
  private mapAxes: Float32Array | null = null;
  private mapIndex: Int32Array | null = null;
  private probeIndex: Int32Array | null = null;

  /** seed: the run's; n: its training images (bank rows). */
  constructor(
    private readonly seed: number,
    private readonly n: number,
  ) {
    this.vizRng = new Rng(seed ^ VIZ_SALT);
  }

  /** selectionSnapshot for up to `nAnchors` anchors of `last` (pinned images first), with the rule comparison. */
  async selection(
    v: BankState,
    c: Readonly<ClimConfig>,
    last: LastBatch | null,
    nAnchors: number,
    pinned: readonly number[],
  ): Promise<SelectionSnapshot> {
    const chosen = pickSnapshotAnchors(last, this.n, nAnchors, pinned, this.vizRng);
    return selectionSnapshot(v, c, last, chosen, await this.rules(v, c.knnK));
  }

  /** ruleComparison on the run's fixed probe of up to RULE_PROBE_MAX images, so its chart follows the same anchors. */
  rules(v: BankState, knnK: number): Promise<RuleComparison | null> {
    if (!v.clusters) return Promise.resolve(null);
    this.probeIndex ??= ruleProbe(this.n, this.seed);
    return ruleComparison(v, this.probeIndex, knnK);
  }

  /** The PCA map of up to MAP_MAX_POINTS rows, warm-started from the last map's axes. */
  async projection(v: BankState, assignments?: Int32Array): Promise<ProjectionSnapshot> {
    const r = await projectionSnapshot(v, this.rows(MAP_MAX_POINTS), this.mapAxes, assignments);
    this.mapAxes = r.axes;
    return r.snapshot;
  }

  /** Up to `max` bank rows for projections outside the engine (UMAP). */
  dump(v: BankState, max: number): Promise<EmbeddingsDump> {
    return embeddingsDump(v, this.rows(max));
  }

  /** mapRows, with the map's own subset cached (every call would draw the same one). */
  private rows(max: number): Int32Array {
    if (Math.min(this.n, Math.max(1, Math.floor(max))) === Math.min(this.n, MAP_MAX_POINTS))
      return (this.mapIndex ??= mapRows(this.n, max, this.seed));
    return mapRows(this.n, max, this.seed);
  }
}
