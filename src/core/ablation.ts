/**
 * Ablation report (issue "Evaluation, checkpoints, export"): the same data,
 * seed and step budget trained under several arms one after another, each
 * evaluated in full at the end, and written as one table of kNN top-1,
 * linear-probe top-1 and selection precision. It is how a teacher shows which
 * part of CLIM (Li, Zhang & Xiong 2021) carries the gain:
 *
 * - selection (§3): none (MoCo v2), plain kNN (NNCLR-like), any image of the
 *   anchor's cluster, or the paper's center-wise rule (kNN ∩ same cluster ∩
 *   closer to the centre than the anchor). Its effect shows first in the
 *   precision of the chosen positives, then in the accuracies;
 * - mixture (§4): CutMix of the anchor with its positive, or none;
 * - multi-resolution (§5): the CLIM arm again with a second, smaller crop
 *   resolution (its own crops and queue, loss over every resolution pair).
 *
 * Pure engine (tfjs and src/core only), so the Node runner (src/cli/ablation.ts)
 * and the browser worker can both drive it.
 */
import * as tf from '@tensorflow/tfjs';
import type { StepMetrics } from './api';
import { assertValidConfig, type ClimConfig } from './config';
import { ABLATION_IDS, ABLATION_VARIANTS, type AblationRow, type AblationVariant } from './ablation-table';

export * from './ablation-table';
import { presetConfig } from './presets';
import { Trainer } from './train';
import type { Dataset } from './data/dataset';
import { knnClassify } from './eval/knn-monitor';

/**
 * Base config of the CPU ablation: the `fast-demo-cpu` preset (one 24-px
 * resolution, batch 32, queue 256, CLIM warm-up 50 steps, k-means every 25).
 * Why not the defaults: measured on this project's 2-core machine (WASM,
 * docs/BENCHMARKS.md §M11), the default step (two resolutions, batch 64) is
 * so slow that nine arms in 30 minutes would get only a few hundred steps
 * each, 100 of them CLIM's warm-up; the fast preset steps several times
 * faster, so each arm gets several hundred steps of
 * selection and mixing after the warm-up. Every field but selection, mix
 * and resolutions is shared by all arms.
 */
export function ablationBaseConfig(): ClimConfig {
  return presetConfig('fast-demo-cpu');
}

/** The divisor every resolution must respect: stemStride · 2^(stages − 1) (validateConfig). */
function resolutionStep(c: ClimConfig): number {
  return c.stemStride * 2 ** Math.max(0, c.stages - 1);
}

/**
 * The two resolutions of a multi-resolution arm: the base's first one, r, and
 * a smaller r' ≈ r · 160/224 (METHOD §5: the paper pairs 224-px crops with smaller
 * ones; 160:224 is the ratio this project's defaults use, 24:32), rounded to
 * the nearest multiple the encoder accepts and kept in [max(8, step), r − step].
 * When r is already the smallest allowed size, r' is the next larger one.
 */
export function multiResolutions(base: ClimConfig): number[] {
  const r = base.resolutions[0];
  const step = resolutionStep(base);
  const lo = Math.max(8, step);
  let small = Math.round((r * 160) / 224 / step) * step;
  small = Math.min(small, r - step);
  if (small >= lo) return [r, small];
  return [r, Math.ceil((r + 1) / step) * step];
}

export interface AblationArm {
  id: string;
  label: string;
  config: ClimConfig;
}

/**
 * The arms' full configs: `base` with only selection, mix and resolutions
 * changed (fresh arrays). Seed, step budget (totalSteps), CLIM warm-up, k,
 * clusters, optimiser and augmentation are the base's in every arm, so the
 * table compares the rules and nothing else. `ids` picks a subset (in the
 * order given); an unknown id throws with the known ones.
 */
export function ablationConfigs(base: ClimConfig, ids?: readonly string[]): AblationArm[] {
  const chosen = ids ?? ABLATION_IDS;
  const unknown = chosen.filter((id) => !ABLATION_IDS.includes(id));
  if (unknown.length)
    throw new Error(
      `unknown ablation arm${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; known: ${ABLATION_IDS.join(', ')}`,
    );
  if (new Set(chosen).size !== chosen.length) throw new Error(`ablation arms repeat: ${chosen.join(', ')}`);
  if (chosen.length === 0) throw new Error('no ablation arm chosen');
  const multi = multiResolutions(base);
  return chosen.map((id) => {
    const v = ABLATION_VARIANTS.find((x) => x.id === id) as AblationVariant;
    const config: ClimConfig = {
      ...base,
      selection: v.selection,
      mix: v.mix,
      resolutions: v.resolutions === 'multi' ? [...multi] : [base.resolutions[0]],
    };
    assertValidConfig(config);
    return { id: v.id, label: v.label, config };
  });
}

/** Thrown by runAblationArm when `signal.aborted` became true; the trainer is already disposed. */
export class AblationAbortedError extends Error {
  constructor(
    readonly id: string,
    readonly step: number,
  ) {
    super(`ablation arm ${id} aborted at step ${step}`);
  }
}

export interface AblationArmOptions {
  /** Called after every training step with that step's metrics. */
  onStep?: (m: StepMetrics) => void;
  /** Checked before every step; set `aborted` to stop the arm (it then throws AblationAbortedError). */
  signal?: { aborted: boolean };
  /** Awaited after every step: the app's worker yields a macrotask here so a Stop request is received between steps. */
  between?: () => Promise<void>;
}

const mean = (xs: readonly number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Steps that ran CLIM's selection and mixing: those after `climWarmupSteps` (the trainer's warm-up rule, step numbers from 1). */
export function afterWarmup(m: Pick<StepMetrics, 'step'>, config: Pick<ClimConfig, 'climWarmupSteps'>): boolean {
  return m.step > config.climWarmupSteps;
}

/**
 * Trains one arm for `steps` steps from a fresh Trainer on `data`, evaluates
 * it in full (kNN, linear probe, alignment/uniformity, cluster NMI) and
 * returns its row. Disposes the trainer whatever happens. The arm's
 * config.totalSteps should equal `steps` so the cosine schedule ends with
 * the budget (`ablationConfigs` keeps the base's).
 */
export async function runAblationArm(
  arm: AblationArm,
  data: Dataset,
  steps: number,
  opts: AblationArmOptions = {},
): Promise<AblationRow> {
  const t0 = tf.util.now();
  const trainer = await Trainer.create(arm.config, data);
  try {
    const precision: number[] = [];
    const coverage: number[] = [];
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      if (opts.signal?.aborted) throw new AblationAbortedError(arm.id, trainer.step);
      const m = await trainer.trainStep();
      if (!Number.isFinite(m.loss)) throw new Error(`ablation arm ${arm.id}: loss became ${m.loss} at step ${m.step}`);
      losses.push(m.loss);
      if (afterWarmup(m, arm.config)) {
        coverage.push(m.coverage);
        if (m.precision !== null) precision.push(m.precision);
      }
      opts.onStep?.(m);
      await opts.between?.();
    }
    const e = await trainer.evaluate({ full: true });
    const rules = (await trainer.ruleComparison())?.rules ?? [];
    const rulePrecision = (rule: string) => rules.find((r) => r.rule === rule)?.precision ?? null;
    return {
      id: arm.id,
      label: arm.label,
      knnTop1: e.knnTop1,
      linearTop1: e.linearTop1,
      precision: mean(precision),
      coverage: arm.config.selection === 'none' ? null : mean(coverage),
      finalLoss: mean(losses.slice(-20)),
      alignment: e.alignment,
      uniformity: e.uniformity,
      clusterNmi: e.clusterNmi,
      knnRulePrecision: rulePrecision('knn'),
      centerWiseRulePrecision: rulePrecision('center-wise'),
      seconds: (tf.util.now() - t0) / 1000,
      steps,
    };
  } finally {
    trainer.dispose();
  }
}

/** Number of classes of a labelled data set (names, or the largest label + 1). */
function classCount(data: Dataset): number {
  let max = -1;
  for (const l of data.train.labels ?? []) if (l > max) max = l;
  for (const l of data.test.labels ?? []) if (l > max) max = l;
  return Math.max(data.classNames.length, max + 1);
}

/** N×(S·S·3) float features of a split's pixels in [0, 1], each row L2-normalised, built in chunks so the floats exist once. */
function pixelFeatures(images: Uint8Array, n: number, dim: number): tf.Tensor2D {
  const chunk = 1024;
  const parts: tf.Tensor2D[] = [];
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    const f = new Float32Array(m * dim);
    for (let i = 0; i < m; i++) {
      let ss = 0;
      const off = (s + i) * dim;
      for (let j = 0; j < dim; j++) ss += images[off + j] * images[off + j];
      // Scaling by 1/255 cancels in the normalisation; an all-black image stays zero.
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
      for (let j = 0; j < dim; j++) f[i * dim + j] = images[off + j] * inv;
    }
    parts.push(tf.tensor2d(f, [m, dim]));
  }
  if (parts.length === 1) return parts[0];
  const all = tf.concat(parts, 0) as tf.Tensor2D;
  tf.dispose(parts);
  return all;
}

/**
 * Raw-pixel kNN baseline on the same split: every image flattened (S·S·3
 * values), L2-normalised, classified by the kNN monitor's weighted vote
 * (k nearest training images by cosine, each voting exp(sim/τ); §6, Wu et
 * al. 2018). The floor an encoder must beat for its features to be worth
 * more than the pixels. Null for an unlabelled set or an empty split.
 */
export async function rawPixelKnn(data: Dataset, k: number, tau: number): Promise<number | null> {
  const { train, test } = data;
  if (!train.labels || !test.labels || train.n === 0 || test.n === 0) return null;
  const dim = data.size * data.size * 3;
  const tr = pixelFeatures(train.images, train.n, dim);
  const te = pixelFeatures(test.images, test.n, dim);
  try {
    const pred = await knnClassify(tr, train.labels, te, k, tau, classCount(data));
    let right = 0;
    for (let i = 0; i < pred.length; i++) if (pred[i] === test.labels[i]) right++;
    return right / pred.length;
  } finally {
    tf.dispose([tr, te]);
  }
}
