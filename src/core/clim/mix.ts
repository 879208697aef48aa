/**
 * The image mixture of METHOD §4: the anchor's query view is mixed with the
 * positive's query view, and the loss weighs the two keys by λ and 1 − λ.
 *
 * - `cutmix` (author code, default): a box of the positive is pasted into the
 *   anchor; the box comes from λ ~ Beta(α, α) as in CutMix (Yun et al. 2019),
 *   then λ is reset to the share of anchor pixels that survive.
 * - `mixup`: x = λ·x_anchor + (1 − λ)·x_positive.
 * - `none`: the anchor unchanged, λ = 1.
 * Each image is mixed with probability p_mix; otherwise λ = 1 (§4).
 *
 * A plan is drawn once per batch in resolution-free fractions and applied at
 * every resolution of §5, so both resolutions paste the same region. Why
 * tensor ops: mixing runs inside the training step on the training device
 * (GPU); the box masks are built from iota grids compared with per-image
 * bounds, never by looping over pixels. λ is computed in JS from the same
 * integer bounds that build the mask, so it is exact and needs no read-back.
 */
import * as tf from '@tensorflow/tfjs';
import type { MixMode } from '../config';
import type { Rng } from '../rng';

/** A per-image plan in resolution-free fractions so the same mixture can be applied at every resolution of §5. */
export interface MixPlan {
  mode: MixMode;
  /** B: whether this image is mixed (probability p_mix). */
  applied: Uint8Array;
  /** mixup: B λ; cutmix: B λ drawn ~Beta(α, α) before the reset; 1 where not applied. */
  lambda: Float32Array;
  /**
   * cutmix: B×4 box (cy, cx, h, w) as fractions of the side: cut side
   * √(1 − λ), centre uniform in the image, then clipped to the image (the
   * stored box is the clipped one). Zeros where not applied and for other modes.
   */
  boxes: Float32Array;
}

export interface Mixer {
  name: MixMode;
  description: string;
  plan(batch: number, prob: number, alpha: number, rng: Rng): MixPlan;
  /**
   * anchor, positive: B×r×r×3 query views at one resolution r. Returns the
   * mixed B×r×r×3 (a new tensor the caller owns, also for `none`) and λ per
   * image (Float32Array B, from the plan in JS). For images not applied
   * λ = 1 and the output equals the anchor exactly.
   */
  apply(plan: MixPlan, anchor: tf.Tensor4D, positive: tf.Tensor4D): { mixed: tf.Tensor4D; lambda: Float32Array };
}

function emptyPlan(mode: MixMode, batch: number): MixPlan {
  return {
    mode,
    applied: new Uint8Array(batch),
    lambda: new Float32Array(batch).fill(1),
    boxes: new Float32Array(batch * 4),
  };
}

function checkPlanArgs(batch: number, prob: number, alpha: number): void {
  if (!Number.isInteger(batch) || batch < 0) throw new Error(`batch must be a whole number ≥ 0 (got ${batch})`);
  if (!(prob >= 0 && prob <= 1)) throw new Error(`mix probability must be in [0, 1] (got ${prob})`);
  if (!(alpha > 0)) throw new Error(`mix α must be > 0 (got ${alpha})`);
}

function checkApplyArgs(plan: MixPlan, anchor: tf.Tensor4D, positive: tf.Tensor4D, name: MixMode): void {
  if (plan.mode !== name) throw new Error(`a ${plan.mode} plan cannot be applied by the ${name} mixer`);
  if (anchor.shape.join() !== positive.shape.join()) {
    throw new Error(
      `anchor ${anchor.shape.join('×')} and positive ${positive.shape.join('×')} must have the same shape`,
    );
  }
  if (plan.applied.length !== anchor.shape[0])
    throw new Error(`plan holds ${plan.applied.length} images, batch has ${anchor.shape[0]}`);
}

/** Draws `applied` and λ ~ Beta(α, α) for applied images (λ = 1 elsewhere). */
function drawLambdas(plan: MixPlan, prob: number, alpha: number, rng: Rng): void {
  for (let b = 0; b < plan.applied.length; b++) {
    if (!rng.bool(prob)) continue;
    plan.applied[b] = 1;
    plan.lambda[b] = rng.beta(alpha, alpha);
  }
}

/**
 * Integer pixel bounds [y1, y2) × [x1, x2) of image b's cutmix box at
 * resolution r: edges rounded to the nearest pixel edge, clipped to [0, r].
 */
export function cutmixPixelBox(plan: MixPlan, b: number, r: number): [number, number, number, number] {
  if (!plan.applied[b]) return [0, 0, 0, 0];
  const [cy, cx, h, w] = plan.boxes.subarray(b * 4, b * 4 + 4);
  const edge = (v: number) => Math.min(r, Math.max(0, Math.round(v * r)));
  return [edge(cy - h / 2), edge(cy + h / 2), edge(cx - w / 2), edge(cx + w / 2)];
}

const none: Mixer = {
  name: 'none',
  description: 'No mixing: the query sees the anchor view only (λ = 1), as in MoCo v2.',
  plan(batch, prob, alpha) {
    checkPlanArgs(batch, prob, alpha);
    return emptyPlan('none', batch);
  },
  apply(plan, anchor, positive) {
    checkApplyArgs(plan, anchor, positive, 'none');
    return { mixed: tf.clone(anchor), lambda: new Float32Array(anchor.shape[0]).fill(1) };
  },
};

const mixup: Mixer = {
  name: 'mixup',
  description: 'Mixup: the query blends the two views, x = λ·x_anchor + (1 − λ)·x_positive, λ ~ Beta(α, α).',
  plan(batch, prob, alpha, rng) {
    checkPlanArgs(batch, prob, alpha);
    const plan = emptyPlan('mixup', batch);
    drawLambdas(plan, prob, alpha, rng);
    return plan;
  },
  apply(plan, anchor, positive) {
    checkApplyArgs(plan, anchor, positive, 'mixup');
    const batch = anchor.shape[0];
    const lambda = Float32Array.from(plan.lambda);
    const mixed = tf.tidy(() => {
      const lam = tf.tensor4d(lambda, [batch, 1, 1, 1]);
      // λ = 1, 1 − λ = 0 gives the anchor bit for bit (x·1 + y·0).
      return tf.add(tf.mul(anchor, lam), tf.mul(positive, tf.sub(1, lam))) as tf.Tensor4D;
    });
    return { mixed, lambda };
  },
};

const cutmix: Mixer = {
  name: 'cutmix',
  description:
    'CutMix: a box of the positive is pasted into the anchor; λ is reset to the anchor’s kept share of pixels.',
  plan(batch, prob, alpha, rng) {
    checkPlanArgs(batch, prob, alpha);
    const plan = emptyPlan('cutmix', batch);
    drawLambdas(plan, prob, alpha, rng);
    for (let b = 0; b < batch; b++) {
      if (!plan.applied[b]) continue;
      const side = Math.sqrt(1 - plan.lambda[b]);
      const cy = rng.next();
      const cx = rng.next();
      const y1 = Math.max(0, cy - side / 2);
      const y2 = Math.min(1, cy + side / 2);
      const x1 = Math.max(0, cx - side / 2);
      const x2 = Math.min(1, cx + side / 2);
      plan.boxes.set([(y1 + y2) / 2, (x1 + x2) / 2, y2 - y1, x2 - x1], b * 4);
    }
    return plan;
  },
  apply(plan, anchor, positive) {
    checkApplyArgs(plan, anchor, positive, 'cutmix');
    const [batch, h, w] = anchor.shape;
    if (h !== w) throw new Error(`cutmix expects square views (got ${h}×${w})`);
    const bounds = new Float32Array(batch * 4);
    const lambda = new Float32Array(batch);
    for (let b = 0; b < batch; b++) {
      const box = cutmixPixelBox(plan, b, h);
      bounds.set(box, b * 4);
      lambda[b] = 1 - ((box[1] - box[0]) * (box[3] - box[2])) / (h * w);
    }
    const mixed = tf.tidy(() => {
      // Per-image bounds as B×1×1; pixel rows as iota 0..h−1 and columns as
      // iota over the w·3 values of a row (channel-interleaved), so the mask
      // is B×h×(w·3) and the blend needs no broadcasting over channels
      // (broadcast element-wise ops are an order of magnitude slower on WASM).
      const bt = tf.reshape(tf.tensor2d(bounds, [batch, 4]), [batch, 4, 1]);
      const [y1, y2, x1, x2] = tf.split(bt, 4, 1) as tf.Tensor3D[];
      const rowIdx = tf.reshape(tf.range(0, h, 1, 'float32'), [1, h, 1]);
      const colIdx = tf.tensor3d(
        new Float32Array(w * 3).map((_, k) => Math.floor(k / 3)),
        [1, 1, w * 3],
      );
      // Integer indices and bounds: clip(i − lo + 1, 0, 1) is [i ≥ lo], clip(hi − i, 0, 1) is [i < hi].
      const inside = (idx: tf.Tensor, lo: tf.Tensor, hi: tf.Tensor) =>
        tf.mul(tf.clipByValue(tf.add(tf.sub(idx, lo), 1), 0, 1), tf.clipByValue(tf.sub(hi, idx), 0, 1));
      const mask = tf.mul(inside(rowIdx, y1, y2), inside(colIdx, x1, x2)); // B×h×(w·3) of 0/1
      const a = tf.reshape(anchor, [batch, h, w * 3]);
      const p = tf.reshape(positive, [batch, h, w * 3]);
      // A 0/1 blend is exact: x·1 + y·0 = x.
      return tf.reshape(tf.add(tf.mul(a, tf.sub(1, mask)), tf.mul(p, mask)), [batch, h, w, 3]) as tf.Tensor4D;
    });
    return { mixed, lambda };
  },
};

/** Every mixer of §4 by name (the UI lists them; the trainer looks one up). */
export const MIXERS: Record<MixMode, Mixer> = { none, cutmix, mixup };

export function getMixer(name: MixMode): Mixer {
  if (!Object.hasOwn(MIXERS, name))
    throw new Error(`unknown mix mode "${String(name)}" (expected one of ${Object.keys(MIXERS).join(', ')})`);
  return MIXERS[name];
}
