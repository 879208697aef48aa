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
import { assertValidConfig, type ClimConfig, type MixMode, type SelectionMode } from './config';
import { presetConfig } from './presets';
import { Trainer } from './train';
import type { Dataset } from './data/dataset';
import { knnClassify } from './eval/knn-monitor';

/** One arm: a partial config over the ablation's base, plus how many crop resolutions it trains with. */
export interface AblationVariant {
  id: string;
  label: string;
  selection: SelectionMode;
  mix: MixMode;
  /**
   * `single`: the base's first resolution only. `multi`: that resolution and a
   * smaller second one (§5, `multiResolutions`). Every arm pins this, so the
   * base's own resolution list never decides on its own which arms are multi-resolution.
   */
  resolutions: 'single' | 'multi';
}

/**
 * The default arms. The 4 × 2 grid of selection × mixture isolates §3 and §4
 * (with `none` + `cutmix`, CutMix mixes two views of the anchor itself, so
 * mixing alone is measured too). The last arm adds §5's second resolution to
 * the full method, against `center-wise+cutmix` at one resolution: all
 * other arms train at one resolution, because a second one costs about 1.7×
 * per step (205 against 118 ms measured on Fashion-MNIST) and the CPU budget (30 min for the whole table on a 2-core
 * machine, see `ablationBaseConfig`) cannot pay it nine times.
 */
export const ABLATION_VARIANTS: readonly AblationVariant[] = Object.freeze([
  { id: 'moco-v2', label: 'MoCo v2 (no selection, no mixing)', selection: 'none', mix: 'none', resolutions: 'single' },
  { id: 'moco-v2+cutmix', label: 'MoCo v2 + CutMix of two views', selection: 'none', mix: 'cutmix', resolutions: 'single' },
  { id: 'knn', label: 'kNN positives', selection: 'knn', mix: 'none', resolutions: 'single' },
  { id: 'knn+cutmix', label: 'kNN positives + CutMix', selection: 'knn', mix: 'cutmix', resolutions: 'single' },
  { id: 'cluster', label: 'cluster positives', selection: 'cluster', mix: 'none', resolutions: 'single' },
  { id: 'cluster+cutmix', label: 'cluster positives + CutMix', selection: 'cluster', mix: 'cutmix', resolutions: 'single' },
  { id: 'center-wise', label: 'center-wise positives', selection: 'center-wise', mix: 'none', resolutions: 'single' },
  { id: 'center-wise+cutmix', label: 'CLIM: center-wise + CutMix, 1 resolution', selection: 'center-wise', mix: 'cutmix', resolutions: 'single' },
  { id: 'center-wise+cutmix+multires', label: 'CLIM: center-wise + CutMix, 2 resolutions', selection: 'center-wise', mix: 'cutmix', resolutions: 'multi' },
] satisfies AblationVariant[]);

/**
 * Steps per arm when the runner is not given --steps: with
 * `ablationBaseConfig` on the built-in Fashion-MNIST set (10k + 2k) the nine
 * default arms fit in 30 minutes on this project's 2-core machine (WASM):
 * measured 1,087 s in all (bench/results/ablation-fashion-mnist.json), arms
 * 103–151 s (one resolution, 124–191 ms median step, ~25 s of set-up and
 * full evaluation each) and 149 s for the two-resolution arm, while other
 * jobs shared the cores. The margin (~12 min) absorbs such sharing.
 */
export const ABLATION_DEFAULT_STEPS = 600;

export const ABLATION_IDS: readonly string[] = Object.freeze(ABLATION_VARIANTS.map((v) => v.id));

/**
 * Base config of the CPU ablation: the `fast-demo-cpu` preset (one 24-px
 * resolution, batch 32, queue 256, CLIM warm-up 50 steps, k-means every 25).
 * Why not the defaults: measured on this project's 2-core machine (WASM),
 * the default step (two resolutions, batch 64) takes ~450 ms, so nine arms in
 * 30 minutes would get ~300 steps each, 100 of them CLIM's warm-up; the
 * fast preset steps ~3× faster, so each arm gets several hundred steps of
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
 * a smaller r' ≈ r · 160/224 (the paper's §5 pairs 224-px crops with smaller
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
  if (unknown.length) throw new Error(`unknown ablation arm${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; known: ${ABLATION_IDS.join(', ')}`);
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

/** One line of the ablation table. Accuracies are fractions in [0, 1]. */
export interface AblationRow {
  id: string;
  label: string;
  /** Weighted cosine kNN top-1 on the held-out split after the last step (§6). */
  knnTop1: number | null;
  /** Linear-probe top-1 on the held-out split after the last step. */
  linearTop1: number | null;
  /**
   * Mean of the per-step selection precision (share of positives p ≠ i with
   * the anchor's label) over the steps after CLIM's warm-up; null when no such
   * step chose a positive (selection `none`, an unlabelled set, or a budget
   * inside the warm-up).
   */
  precision: number | null;
  /** Mean per-step coverage (anchors with a non-empty kept set) over the same window; null for selection `none`, which selects nothing. */
  coverage: number | null;
  /** Mean loss of the last 20 steps (fewer when the run is shorter); null for 0 steps. */
  finalLoss: number | null;
  alignment: number | null;
  uniformity: number | null;
  clusterNmi: number | null;
  /** Wall time of the arm: trainer set-up, training and the full evaluation. */
  seconds: number;
  steps: number;
}

/** Thrown by runAblationArm when `signal.aborted` became true; the trainer is already disposed. */
export class AblationAbortedError extends Error {
  constructor(readonly id: string, readonly step: number) {
    super(`ablation arm ${id} aborted at step ${step}`);
  }
}

export interface AblationArmOptions {
  /** Called after every training step with that step's metrics. */
  onStep?: (m: StepMetrics) => void;
  /** Checked before every step; set `aborted` to stop the arm (it then throws AblationAbortedError). */
  signal?: { aborted: boolean };
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
export async function runAblationArm(arm: AblationArm, data: Dataset, steps: number, opts: AblationArmOptions = {}): Promise<AblationRow> {
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
    }
    const e = await trainer.evaluate({ full: true });
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

/** The raw-pixel baseline as the tables show it. */
export interface AblationBaseline {
  knnTop1: number | null;
  k: number;
  tau: number;
}

export const ABLATION_CSV_HEADER = 'id,label,steps,knn_top1,linear_top1,precision,coverage,final_loss,alignment,uniformity,cluster_nmi,seconds';

const csvNum = (v: number | null, digits = 6): string => (v === null ? '' : Number(v.toFixed(digits)).toString());
const csvText = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** One line per arm under `ABLATION_CSV_HEADER`; empty cells for nulls; a final newline. */
export function ablationCsv(rows: readonly AblationRow[]): string {
  const lines = rows.map((r) =>
    [
      csvText(r.id),
      csvText(r.label),
      String(r.steps),
      csvNum(r.knnTop1),
      csvNum(r.linearTop1),
      csvNum(r.precision),
      csvNum(r.coverage),
      csvNum(r.finalLoss),
      csvNum(r.alignment),
      csvNum(r.uniformity),
      csvNum(r.clusterNmi),
      csvNum(r.seconds, 1),
    ].join(','),
  );
  return [ABLATION_CSV_HEADER, ...lines].join('\n') + '\n';
}

const pct = (v: number | null): string => (v === null ? '—' : `${(100 * v).toFixed(1)}%`);
const num = (v: number | null, d: number): string => (v === null ? '—' : v.toFixed(d));

/**
 * A Markdown table (one row per arm: kNN top-1, linear top-1, selection
 * precision, coverage, final loss, alignment, uniformity, cluster NMI, time)
 * and, under it, the raw-pixel baseline on the same split when given.
 */
export function ablationMarkdown(rows: readonly AblationRow[], baseline: AblationBaseline | null): string {
  const head = '| arm | kNN top-1 | linear top-1 | selection precision | coverage | final loss | alignment | uniformity | cluster NMI | time |';
  const rule = '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';
  const body = rows.map(
    (r) =>
      `| ${r.label.replace(/\|/g, '\\|')} (\`${r.id}\`) | ${pct(r.knnTop1)} | ${pct(r.linearTop1)} | ${pct(r.precision)} | ${pct(r.coverage)} | ${num(r.finalLoss, 3)} | ${num(r.alignment, 3)} | ${num(r.uniformity, 3)} | ${num(r.clusterNmi, 3)} | ${r.seconds.toFixed(0)} s |`,
  );
  const lines = [head, rule, ...body];
  if (baseline) lines.push('', `Raw-pixel kNN baseline (same split, k = ${baseline.k}, τ = ${baseline.tau}): ${pct(baseline.knnTop1)} top-1.`);
  return lines.join('\n') + '\n';
}
