/**
 * The parts of one training step (METHOD §1–§5) that train.ts's trainStep
 * calls in order: draw, select, embed keys, mix queries, and the metrics.
 * Each takes what it reads as arguments; tensors it returns belong to the
 * caller (trainStep runs the device parts inside one tf.tidy).
 */
import * as tf from '@tensorflow/tfjs';
import type { BankSpace, ClimConfig } from '../config';
import type { StepMetrics } from '../api';
import type { Rng } from '../rng';
import { l2Normalize, type Encoder } from '../models/encoder';
import type { KMeansState } from '../clim/kmeans';
import { getMixer, type Mixer, type MixPlan } from '../clim/mix';
import { getSelectionPolicy, type SelectionPolicy } from '../clim/selection';
import { applyAugment, drawAugment, type AugmentDraw } from '../augment/augment';
import type { KeyPair } from '../losses/multires';
import type { EpochSampler } from './sampler';

/** The augmentations of one resolution (§1.6, §5): query and key views of anchors and positives, B each. */
export interface ViewDraws {
  qa: AugmentDraw;
  qp: AugmentDraw;
  ka: AugmentDraw;
  kp: AugmentDraw;
}

/** Every random draw of one step, taken before any device work. */
export interface StepDraws {
  /** B distinct training-image ids. */
  anchors: Int32Array;
  /** B uniforms of the selection's draw among kept neighbours (§3.3). */
  u: Float32Array;
  mixer: Mixer;
  plan: MixPlan;
  /** One per resolution, in config order. */
  views: ViewDraws[];
  policy: SelectionPolicy;
}

/**
 * All of a step's random draws, in one fixed order from the sampler and the
 * one seeded stream: a resumed checkpoint replays this order exactly. With
 * `warm` (§3.4, the step is within climWarmupSteps) the step is plain MoCo
 * v2: no mixing and the anchor as its own positive.
 */
export function drawStep(
  c: Readonly<ClimConfig>,
  B: number,
  warm: boolean,
  sampler: EpochSampler,
  rng: Rng,
): StepDraws {
  const anchors = sampler.next(B);
  const u = rng.floats(B);
  const mixer = getMixer(warm ? 'none' : c.mix);
  const plan = mixer.plan(B, c.mixProb, c.mixAlpha, rng);
  const views = c.resolutions.map(() => ({
    qa: drawAugment(B, c, rng),
    qp: drawAugment(B, c, rng),
    ka: drawAugment(B, c, rng),
    kp: drawAugment(B, c, rng),
  }));
  const policy = getSelectionPolicy(warm ? 'none' : c.selection);
  return { anchors, u, mixer, plan, views, policy };
}

/**
 * A positive per anchor (§3) by `policy` over the bank (N×d): positives and
 * kept-neighbour counts, B int32 each, owned by the caller. u: B uniforms.
 */
export function selectPositives(
  policy: SelectionPolicy,
  anchorIdx: tf.Tensor1D,
  bank: tf.Tensor2D,
  clusters: KMeansState | null,
  c: Pick<ClimConfig, 'knnK' | 'centerThreshold'>,
  u: Float32Array,
): { positives: tf.Tensor1D; keptCount: tf.Tensor1D } {
  return tf.tidy(() => {
    const s = policy.select({ anchorIdx, bank, clusters, k: c.knnK, threshold: c.centerThreshold, u: tf.tensor1d(u) });
    // Policies keep their outputs alive for the caller (tf.keep): release the unused ones here.
    tf.dispose([s.neighbours, s.similarities, s.reason].filter((x): x is tf.Tensor2D => x !== null));
    return { positives: s.positives, keptCount: s.keptCount };
  });
}

/** A step's images: anchors xa and positives xp (B×S×S×3) and their crop paddings (padForCrops). */
export interface BatchViews {
  xa: tf.Tensor4D;
  xp: tf.Tensor4D;
  pa: tf.Tensor4D;
  pp: tf.Tensor4D;
}

/**
 * The key encoder f_k's embeddings (§1.2) of the anchor and positive key
 * views at every resolution: one pass per resolution over [anchors;
 * positives] (2B×r×r×3), split into B×d pairs. With `rowsIn` set (bankView
 * 'augmented', §2.2) also the anchors' bank rows (B×bankDim, unit rows) in
 * that space from the first resolution's key views, as in the author code.
 */
export function embedKeys(
  key: Encoder,
  v: BatchViews,
  resolutions: readonly number[],
  draws: readonly ViewDraws[],
  rowsIn: BankSpace | null,
): { pairs: KeyPair[]; bankRows: tf.Tensor2D | null } {
  const B = v.xa.shape[0];
  let bankRows: tf.Tensor2D | null = null;
  const pairs = resolutions.map((r, i) => {
    const views = tf.concat(
      [applyAugment(v.xa, r, draws[i].ka, v.pa), applyAugment(v.xp, r, draws[i].kp, v.pp)],
      0,
    ) as tf.Tensor4D;
    const f = key.features(views);
    const k = key.project(f);
    const anchor = tf.slice(k, [0, 0], [B, -1]) as tf.Tensor2D;
    if (i === 0 && rowsIn)
      bankRows = rowsIn === 'projection' ? anchor : l2Normalize(tf.slice(f, [0, 0], [B, -1]) as tf.Tensor2D);
    return { anchor, positive: tf.slice(k, [B, 0], [B, -1]) as tf.Tensor2D };
  });
  return { pairs, bankRows };
}

/** The mixed query views of a step, one per resolution. */
export interface MixedQueries {
  /** B×r×r×3 mixed views (§4.1). */
  views: tf.Tensor4D[];
  /** B mixing weights λ per resolution (1 where not mixed). */
  lambdas: tf.Tensor1D[];
  /** The first resolution's λ on the host (metrics and the selection snapshot). */
  lambdaFirst: Float32Array;
  /** B×r×r×3 int32 bytes of the first resolution's mixed views when asked for, else null; kept (tf.keep) past the caller's tidy. */
  captured: tf.Tensor4D | null;
}

/**
 * Query views (§4.1, §5): at every resolution, augment anchor and positive
 * and mix them by the step's plan. Needs no gradient tape: the views depend
 * on no parameter.
 */
export function mixQueries(
  mixer: Mixer,
  plan: MixPlan,
  v: BatchViews,
  resolutions: readonly number[],
  draws: readonly ViewDraws[],
  capture: boolean,
): MixedQueries {
  let lambdaFirst: Float32Array = new Float32Array(v.xa.shape[0]).fill(1);
  let captured: tf.Tensor4D | null = null;
  const views: tf.Tensor4D[] = [];
  const lambdas: tf.Tensor1D[] = [];
  resolutions.forEach((r, i) => {
    const m = mixer.apply(plan, applyAugment(v.xa, r, draws[i].qa, v.pa), applyAugment(v.xp, r, draws[i].qp, v.pp));
    if (i === 0) lambdaFirst = m.lambda;
    if (i === 0 && capture)
      captured = tf.keep(tf.cast(tf.round(tf.mul(tf.clipByValue(m.mixed, 0, 1), 255)), 'int32') as tf.Tensor4D);
    views.push(m.mixed);
    lambdas.push(tf.tensor1d(m.lambda));
  });
  return { views, lambdas, lambdaFirst, captured };
}

/** A step's host-side results, all read back already. */
export interface StepReadback {
  step: number;
  /** B each. */
  anchors: Int32Array;
  positives: Int32Array;
  keptCount: ArrayLike<number>;
  lambdaFirst: Float32Array;
  /** N training labels, or null. */
  labels: Int32Array | null;
  loss: number;
  lossAnchor: number;
  lossPositive: number;
  lr: number;
  ms: number;
  selectionMs: number;
  kmeansMs: number;
  refreshMs: number;
}

/**
 * The step's metrics (§6): coverage = share of anchors with a non-empty kept
 * set; precision = share of chosen positives (other than the anchor itself)
 * with the anchor's label, null without labels or choices; mean λ.
 */
export function stepMetrics(s: StepReadback): StepMetrics {
  const B = s.anchors.length;
  let covered = 0;
  for (let b = 0; b < B; b++) if (s.keptCount[b] > 0) covered++;
  const labels = s.labels;
  let chosen = 0;
  let agree = 0;
  if (labels) {
    for (let b = 0; b < B; b++) {
      if (s.positives[b] === s.anchors[b]) continue;
      chosen++;
      if (labels[s.positives[b]] === labels[s.anchors[b]]) agree++;
    }
  }
  let lambdaSum = 0;
  for (let b = 0; b < B; b++) lambdaSum += s.lambdaFirst[b];
  return {
    step: s.step,
    loss: s.loss,
    lossAnchor: s.lossAnchor,
    lossPositive: s.lossPositive,
    lr: s.lr,
    ms: s.ms,
    imagesPerSecond: (B * 1000) / Math.max(s.ms, 1e-6),
    coverage: covered / B,
    precision: labels && chosen > 0 ? agree / chosen : null,
    lambdaMean: lambdaSum / B,
    selectionMs: s.selectionMs,
    kmeansMs: s.kmeansMs,
    refreshMs: s.refreshMs,
  };
}
