/**
 * What the engine reports: plain data only (numbers, typed arrays), so it can
 * cross the worker boundary and be written to JSON. Types only, no tfjs.
 */
import type { SelectionMode } from './config';
import type { RuleComparison } from './rules';

/** One training step, as the charts and the runner's history need it. */
export interface StepMetrics {
  step: number;
  /** Total loss: mean over resolution pairs of λ·L_anchor + (1−λ)·L_positive. */
  loss: number;
  /** Mean over the batch of the anchor InfoNCE term (unweighted). */
  lossAnchor: number;
  /** Mean over the batch of the positive InfoNCE term (unweighted). */
  lossPositive: number;
  lr: number;
  /** Wall time of the step in ms. */
  ms: number;
  imagesPerSecond: number;
  /** Share of anchors whose kept set was non-empty (§6). */
  coverage: number;
  /** Share of chosen positives p ≠ i with the anchor's label; null without labels or when none chosen. */
  precision: number | null;
  /** Mean mixing coefficient λ over the batch (1 = no mixing). */
  lambdaMean: number;
  /**
   * Time spent issuing the positive selection (kNN, cluster filter, draw).
   * On WASM and cpu kernels run as they are issued, so this is the selection's
   * real cost; on GPU backends it is only the dispatch time.
   */
  selectionMs: number;
  /** Time of the k-means run this step triggered (every kmeansEvery steps), else 0. Included in `ms`. */
  kmeansMs: number;
  /** Time of the full bank re-embedding this step triggered (every bankRefreshEvery steps), else 0. Included in `ms`. */
  refreshMs: number;
}

/** Why a neighbour was not kept as a positive candidate (§3). */
export type RejectReason = 'kept' | 'different-cluster' | 'farther-from-centre' | 'not-selected-by-mode';

export interface NeighbourInfo {
  index: number;
  similarity: number;
  cluster: number;
  /** cos(z_j, μ_c(i)). */
  centreSimilarity: number;
  kept: boolean;
  reason: RejectReason;
  label: number | null;
}

export interface AnchorSelection {
  anchor: number;
  label: number | null;
  cluster: number;
  /** cos(z_i, μ_c(i)). */
  centreSimilarity: number;
  neighbours: NeighbourInfo[];
  /** Chosen positive (equals anchor when nothing was kept); null for a pinned anchor that was not in the last batch. */
  positive: number | null;
  /** λ of the anchor's mixed view (1 = not mixed); null when not in the last batch. */
  lambda: number | null;
  /** Whether the user pinned this anchor (it may not have been in the last batch). */
  pinned: boolean;
  /**
   * The mixed query view of the first resolution as the encoder saw it
   * (R×R×3 RGB bytes, R = `mixedSize`), when the step kept it (Trainer.captureNextViews).
   */
  mixed: Uint8Array | null;
  mixedSize: number;
}

export interface SelectionSnapshot {
  step: number;
  mode: SelectionMode;
  anchors: AnchorSelection[];
  /** Every rule on the same probe anchors, bank and clusters (issue 15); null before the first k-means. */
  rules: RuleComparison | null;
}

/** Its arrays are fresh copies owned by the receiver (they may be transferred). */
export interface ClusterSnapshot {
  step: number;
  /** Cluster id per training image. */
  assignments: Int32Array;
  sizes: Int32Array;
  /** Training-image index nearest each centre (−1 for an empty cluster). */
  nearest: Int32Array;
  /**
   * Per-cluster galleries, C×G row-major: the G members with the highest
   * cos(z, μ_c) (`galleryNear`, best first) and the G with the lowest
   * (`galleryFar`, worst first); −1 pads clusters with fewer than G members.
   */
  galleryNear: Int32Array;
  galleryFar: Int32Array;
  gallerySize: number;
  /** Agreement of the clustering with the labels (training split); null when unlabelled. */
  purity: number | null;
  nmi: number | null;
  ari: number | null;
}

/**
 * A 2-D map of bank embeddings (Clusters view). PCA is computed in the
 * engine worker at every cluster snapshot; UMAP runs on demand in its own
 * worker from `EmbeddingsDump`.
 */
export interface ProjectionSnapshot {
  step: number;
  method: 'pca' | 'umap';
  /** Training-image index of each point (a seeded subset when the bank is larger than the cap). */
  index: Int32Array;
  /** N×2 coordinates, row-major. */
  xy: Float32Array;
  /** Cluster id of each point at this step. */
  cluster: Int32Array;
  /** Label of each point, or null when unlabelled. */
  label: Int32Array | null;
  /** Share of variance of the two PCA axes (PCA only, else null). */
  explained: [number, number] | null;
}

/** Raw bank rows for projections that run outside the engine (UMAP). */
export interface EmbeddingsDump {
  step: number;
  index: Int32Array;
  /** N×D, row-major, L2-normalised. */
  vectors: Float32Array;
  dim: number;
  cluster: Int32Array;
  label: Int32Array | null;
}

export interface EvalResult {
  step: number;
  /** Weighted cosine kNN top-1 on the held-out split (§6), or null without labels. */
  knnTop1: number | null;
  /**
   * The heavier measures, present when asked for (Trainer.evaluate({ full: true })),
   * otherwise null: linear-probe top-1 and its K×K confusion matrix (row = true
   * class, column = predicted) on the held-out split; alignment and uniformity
   * (Wang & Isola 2020) of the query encoder's embeddings; agreement of the
   * current k-means clusters with the training labels.
   */
  linearTop1: number | null;
  confusion: Int32Array | null;
  classes: number;
  alignment: number | null;
  uniformity: number | null;
  clusterPurity: number | null;
  clusterNmi: number | null;
  clusterAri: number | null;
  /** Wall time of the evaluation in ms. */
  ms: number;
}
