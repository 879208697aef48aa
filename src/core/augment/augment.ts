/**
 * The MoCo v2 view augmentation (METHOD §1, applied at every resolution of §5):
 * RandomResizedCrop + horizontal flip, colour jitter (brightness, contrast,
 * saturation, hue) with probability `jitterProb`, grayscale with probability
 * `grayscaleProb`. Gaussian blur (author code, p = 0.5) is left out: at 32 px
 * a blur wipes most of the signal, as in the usual CIFAR MoCo recipes.
 *
 * Why hand-written in tfjs ops: the views are made inside every training
 * step, on the device that trains (GPU in the browser). A per-image canvas or
 * a JS loop over pixels would pull every batch back to the CPU and back again.
 * Only the per-image random parameters are drawn in JS (a few numbers per
 * image, from the `Rng` passed in); all pixel work is batched tensor ops:
 *
 * 1. one `tf.image.cropAndResize` call does crop, resize and flip for the whole
 *    batch (a flipped box simply has x1 > x2; the cpu, wasm, webgl and webgpu
 *    kernels all step by the signed (x2 − x1), checked on cpu and wasm in the
 *    tests);
 * 2. colour jitter and grayscale composed per image in JS into one affine
 *    map of RGB, applied as one batched matMul (B×N×3 · B×3×3) plus a
 *    per-image offset that carries contrast's mean grey, then one clip (see
 *    applyAugment).
 */
import * as tf from '@tensorflow/tfjs';
import type { ClimConfig } from '../config';
import type { Rng } from '../rng';
import { colourAffineKernel, hasColourAffineKernel } from '../ops/colour-affine';

/**
 * The augmentation fields of the run config (crop area share drawn uniformly in
 * [cropScaleMin, cropScaleMax]), plus the aspect-ratio range (width / height,
 * log-uniform; default [3/4, 4/3]).
 */
export type AugmentParams = Pick<
  ClimConfig,
  | 'cropScaleMin'
  | 'cropScaleMax'
  | 'flipProb'
  | 'jitterProb'
  | 'brightness'
  | 'contrast'
  | 'saturation'
  | 'hue'
  | 'grayscaleProb'
> & { ratioMin?: number; ratioMax?: number };

/**
 * One batch of drawn parameters; plain typed arrays so a draw can be stored,
 * shown in the UI or applied twice. `apply` consumes no randomness.
 */
export interface AugmentDraw {
  /**
   * B×4 crop boxes (y1, x1, y2, x2) as fractions of the side measured from the
   * image's top-left *edge* (0 = left edge, 1 = right edge), x1 and x2 swapped
   * when flipped. Resolution-free: the same draw fits any input/output size.
   */
  boxes: Float32Array;
  /** B: 1 = mirrored left–right (already encoded in boxes; kept for display and tests). */
  flips: Uint8Array;
  /** B: 1 = colour jitter applied. Factors of images with 0 are ignored. */
  jitter: Uint8Array;
  /** B multiplicative factors in [max(0, 1 − v), 1 + v]. */
  brightness: Float32Array;
  contrast: Float32Array;
  saturation: Float32Array;
  /** B hue shifts in turns, in [−h, h]. */
  hue: Float32Array;
  /** B: 1 = converted to grayscale after jitter. */
  gray: Uint8Array;
}

/** ITU-R BT.601 luma weights (spec brief; torchvision uses 0.2989, 0.587, 0.114). */
export const LUMA: readonly [number, number, number] = [0.299, 0.587, 0.114];

/** RGB → YIQ (NTSC). Rows I and Q sum to 0, so grey stays on the Y axis. */
const YIQ: readonly number[] = [0.299, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312];

function inv3(m: readonly number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    A / det,
    -(b * i - c * h) / det,
    (b * f - c * e) / det,
    B / det,
    (a * i - c * g) / det,
    -(a * f - c * d) / det,
    C / det,
    -(a * h - b * g) / det,
    (a * e - b * d) / det,
  ];
}

function mul3(x: readonly number[], y: readonly number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[r * 3 + c] += x[r * 3 + k] * y[k * 3 + c];
  return out;
}

// The exact inverse (not the rounded textbook one) makes a zero rotation the identity.
const YIQ_INV = inv3(YIQ);

/** The (I, Q)-plane rotation angle of a hue shift of `turns`: negated, so that +hue moves red towards yellow (see hueMatrix). */
function hueAngle(turns: number): number {
  return -2 * Math.PI * turns;
}

/**
 * Row-major 3×3 matrix M with rgb' = M·rgb that shifts hue by `turns`
 * (fraction of a full turn) as a rotation of the chroma plane (I, Q) of YIQ,
 * keeping luma Y fixed. The angle is negated so that a positive shift moves
 * red towards yellow, the direction of torchvision's HSV hue shift. This is
 * the usual GPU approximation of an HSV hue shift (exact for luma, close for
 * the hue angle).
 */
export function hueMatrix(turns: number): number[] {
  const t = hueAngle(turns);
  const c = Math.cos(t);
  const s = Math.sin(t);
  const rot = [1, 0, 0, 0, c, -s, 0, s, c];
  return mul3(YIQ_INV, mul3(rot, YIQ));
}

function checkParams(p: AugmentParams): void {
  const rMin = p.ratioMin ?? 3 / 4;
  const rMax = p.ratioMax ?? 4 / 3;
  if (!(p.cropScaleMin > 0 && p.cropScaleMin <= p.cropScaleMax && p.cropScaleMax <= 1)) {
    throw new Error(`crop scale range must satisfy 0 < min ≤ max ≤ 1 (got ${p.cropScaleMin}, ${p.cropScaleMax})`);
  }
  if (!(rMin > 0 && rMin <= rMax))
    throw new Error(`aspect ratio range must satisfy 0 < min ≤ max (got ${rMin}, ${rMax})`);
}

/**
 * Draws the random parameters of B views from `rng` (§1 augmentations).
 * Crop: torchvision's RandomResizedCrop rule in continuous fractions of the
 * side (no rounding to pixels, so the area share is exact): up to 10 tries of
 * area s ~ U[scaleMin, scaleMax] and ratio r log-uniform, w = √(s·r),
 * h = √(s/r), accepted when both fit; then the centre-crop fallback (the
 * whole image when 1 lies inside the ratio range, as for square images).
 * Every image draws its colour factors even when jitter is off, so the stream
 * of draws does not depend on the probabilities' outcomes more than needed.
 */
export function drawAugment(batch: number, p: AugmentParams, rng: Rng): AugmentDraw {
  checkParams(p);
  const rMin = p.ratioMin ?? 3 / 4;
  const rMax = p.ratioMax ?? 4 / 3;
  const logLo = Math.log(rMin);
  const logHi = Math.log(rMax);
  const d: AugmentDraw = {
    boxes: new Float32Array(batch * 4),
    flips: new Uint8Array(batch),
    jitter: new Uint8Array(batch),
    brightness: new Float32Array(batch),
    contrast: new Float32Array(batch),
    saturation: new Float32Array(batch),
    hue: new Float32Array(batch),
    gray: new Uint8Array(batch),
  };
  const factor = (v: number) => rng.uniform(Math.max(0, 1 - v), 1 + v);
  for (let b = 0; b < batch; b++) {
    let w = 1;
    let h = 1;
    let found = false;
    for (let attempt = 0; attempt < 10 && !found; attempt++) {
      const s = rng.uniform(p.cropScaleMin, p.cropScaleMax);
      const r = Math.exp(rng.uniform(logLo, logHi));
      w = Math.sqrt(s * r);
      h = Math.sqrt(s / r);
      found = w <= 1 && h <= 1;
    }
    let y1: number;
    let x1: number;
    if (found) {
      y1 = rng.uniform(0, 1 - h);
      x1 = rng.uniform(0, 1 - w);
    } else {
      // Fallback centre crop, clamping the unit square's ratio into [rMin, rMax].
      if (1 < rMin) {
        w = 1;
        h = 1 / rMin;
      } else if (1 > rMax) {
        h = 1;
        w = rMax;
      } else {
        w = 1;
        h = 1;
      }
      y1 = (1 - h) / 2;
      x1 = (1 - w) / 2;
    }
    const flip = rng.bool(p.flipProb);
    d.flips[b] = flip ? 1 : 0;
    d.boxes.set(flip ? [y1, x1 + w, y1 + h, x1] : [y1, x1, y1 + h, x1 + w], b * 4);

    d.jitter[b] = rng.bool(p.jitterProb) ? 1 : 0;
    d.brightness[b] = factor(p.brightness);
    d.contrast[b] = factor(p.contrast);
    d.saturation[b] = factor(p.saturation);
    d.hue[b] = rng.uniform(-p.hue, p.hue);
    d.gray[b] = rng.bool(p.grayscaleProb) ? 1 : 0;
  }
  return d;
}

/**
 * cropAndResize boxes (normalised to the 1-pixel edge-padded image) that
 * sample each crop at half-pixel centres, as torch's bilinear resize does
 * (align_corners = false): output pixel j of n reads the source at
 * e1·S + (j + ½)·(e2 − e1)·S/n − ½ in pixel-centre coordinates. The signed
 * span keeps flips. Samples may fall up to ½ pixel outside the image when a
 * crop is upscaled; the edge padding makes those read the border pixel
 * (torch clamps) instead of cropAndResize's extrapolation value 0.
 */
function samplingBoxes(edgeBoxes: Float32Array, batch: number, h: number, w: number, out: number): Float32Array {
  const res = new Float32Array(batch * 4);
  const axis = (e1: number, e2: number, size: number): [number, number] => {
    const half = (0.5 * (e2 - e1) * size) / out;
    const start = e1 * size + half - 0.5;
    const end = e2 * size - half - 0.5;
    // +1: the padding row/column; size + 1 = (padded size − 1), cropAndResize's scale.
    return [(start + 1) / (size + 1), (end + 1) / (size + 1)];
  };
  for (let b = 0; b < batch; b++) {
    const [y1, y2] = axis(edgeBoxes[b * 4], edgeBoxes[b * 4 + 2], h);
    const [x1, x2] = axis(edgeBoxes[b * 4 + 1], edgeBoxes[b * 4 + 3], w);
    res.set([y1, x1, y2, x2], b * 4);
  }
  return res;
}

/**
 * B×H×W×3 → B×(H+2)×(W+2)×3, the border pixel repeated once ('symmetric'
 * with width 1): what cropResize samples. A step crops the same batch for
 * several views; padding it once (not per view) saves time per view on WASM (docs/BENCHMARKS.md §M8).
 */
export function padForCrops(images: tf.Tensor4D): tf.Tensor4D {
  return tf.mirrorPad(
    images,
    [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
    'symmetric',
  );
}

/** B×H×W×3 → B×out×out×3: bilinear crops of the given edge boxes (one kernel call). */
function cropResize(images: tf.Tensor4D, edgeBoxes: Float32Array, out: number, prepadded?: tf.Tensor4D): tf.Tensor4D {
  const [batch, h, w] = images.shape;
  return tf.tidy(() => {
    const padded = prepadded ?? padForCrops(images);
    const boxes = tf.tensor2d(samplingBoxes(edgeBoxes, batch, h, w, out), [batch, 4]);
    const ind = tf.range(0, batch, 1, 'int32') as tf.Tensor1D;
    return tf.image.cropAndResize(padded, boxes, ind, [out, out], 'bilinear');
  });
}

/** Row-vector form (x ↦ x·L) of a column-form 3×3 M (x ↦ M·x): L = Mᵀ. */
function transpose3(m: readonly number[]): number[] {
  return [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]];
}

/** x·K replicates the grey value luma·x into all three channels. */
const GREY_K = [LUMA[0], LUMA[0], LUMA[0], LUMA[1], LUMA[1], LUMA[1], LUMA[2], LUMA[2], LUMA[2]];
/**
 * x·S turns x's chroma a quarter turn in the YIQ (I, Q) plane and has no grey
 * part: the row form of YIQ⁻¹·J·YIQ with J the 90° rotation of (I, Q). The hue
 * map of angle t is K + cos t·(I − K) + sin t·S (hueMatrix, transposed).
 */
const CHROMA_S = transpose3(mul3(YIQ_INV, mul3([0, 0, 0, 0, 0, -1, 0, 1, 0], YIQ)));

/**
 * The colour stage of one image as y = p·x + q·(x·K) + r·(x·S) + o·μ·1, with
 * μ the mean luma of the crop x: brightness, contrast, saturation, hue, then
 * grayscale.
 *
 * Why this form: every op is in the algebra spanned by I, K and S, which is
 * closed and commutative (K² = K, KS = SK = 0, S² = K − I): brightness b·I,
 * contrast's linear part c·I, saturation s·I + (1 − s)·K, hue
 * cos t·I + (1 − cos t)·K + sin t·S, grayscale K. Contrast also adds
 * (1 − c)·(current mean luma)·1, and luma(x·(pI + qK + rS)) = (p + q)·luma(x)
 * (S has no luma), so one scalar o tracks it; the later ops map the grey 1 to
 * (p′ + q′)·1. On the device that is two fixed 3×3 products for the whole
 * batch and per-image scalars, instead of a batched B×N×3 · B×3×3 matMul and
 * a B×1×3 broadcast (tfjs-wasm runs both on slow generic paths: twice the
 * time, docs/BENCHMARKS.md §M8).
 *
 * Why a fixed order: torchvision draws a random order per image, but with
 * no clip between the ops these commute (the algebra is commutative, and
 * every op keeps grey and luma's share of the mean), so any order gives the
 * same map. Only torchvision's intermediate clips made the order matter.
 */
export function colourCoefficients(d: AugmentDraw, b: number): { p: number; q: number; r: number; o: number } {
  let [p, q, r, o] = [1, 0, 0, 0];
  // (p, q, r) ← (p, q, r)·(p′, q′, r′) in the algebra; the grey offset scales by p′ + q′.
  const linear = (p2: number, q2: number, r2: number) => {
    [p, q, r] = [p * p2 - r * r2, p * q2 + q * p2 + q * q2 + r * r2, p * r2 + r * p2];
    o *= p2 + q2;
  };
  if (d.jitter[b]) {
    linear(d.brightness[b], 0, 0);
    const c = d.contrast[b];
    o = c * o + (1 - c) * (p + q + o);
    [p, q, r] = [c * p, c * q, c * r];
    linear(d.saturation[b], 1 - d.saturation[b], 0);
    const t = hueAngle(d.hue[b]);
    linear(Math.cos(t), 1 - Math.cos(t), Math.sin(t));
  }
  if (d.gray[b]) linear(0, 1, 0);
  return { p, q, r, o };
}

/**
 * Applies a draw (no randomness). images: B×S×S×3 float32 in [0, 1].
 * Returns B×out×out×3 float32 in [0, 1].
 *
 * Colour: all jitter ops and grayscale of an image compose into one affine
 * map (see colourCoefficients), applied with a single clip to [0, 1] at the
 * end. torchvision clips after every op instead; values only leave [0, 1] in
 * the middle of a chain where a brightness or contrast factor above 1
 * saturates a pixel that a later op would pull back in.
 *
 * `padded`, when given, must be `padForCrops(images)` (shared across views).
 */
export function applyAugment(images: tf.Tensor4D, out: number, d: AugmentDraw, padded?: tf.Tensor4D): tf.Tensor4D {
  const [batch, , , ch] = images.shape;
  if (ch !== 3) throw new Error(`augment expects RGB images (B×S×S×3), got ${ch} channels`);
  if (d.boxes.length < batch * 4 || d.jitter.length < batch || d.gray.length < batch) {
    throw new Error(`augment draw holds fewer than ${batch} images`);
  }
  const anyColour = d.jitter.subarray(0, batch).some((v) => v === 1) || d.gray.subarray(0, batch).some((v) => v === 1);
  return tf.tidy(() => {
    const crops = cropResize(images, d.boxes, out, padded);
    if (!anyColour) return crops;
    const [P, Q, R, O] = [0, 1, 2, 3].map(() => new Float32Array(batch));
    for (let b = 0; b < batch; b++) {
      const m = colourCoefficients(d, b);
      [P[b], Q[b], R[b], O[b]] = [m.p, m.q, m.r, m.o];
    }
    if (hasColourAffineKernel()) {
      // WASM: the same map in one pass over the heap (ops/colour-affine.ts).
      const coeffs = new Float32Array(batch * 4);
      for (let b = 0; b < batch; b++) coeffs.set([P[b], Q[b], R[b], O[b]], b * 4);
      return colourAffineKernel(crops, tf.tensor2d(coeffs, [batch, 4]), GREY_K, CHROMA_S, LUMA);
    }
    const n3 = out * out * 3;
    const rows = tf.reshape(crops, [batch * out * out, 3]) as tf.Tensor2D;
    const per = (v: Float32Array) => tf.tensor2d(v, [batch, 1]); // one scalar per image, broadcast over its N·3 values
    let y: tf.Tensor = tf.mul(tf.reshape(crops, [batch, n3]), per(P));
    if (Q.some((v) => v !== 0) || O.some((v) => v !== 0)) {
      const xK = tf.reshape(tf.matMul(rows, tf.tensor2d(GREY_K, [3, 3])), [batch, n3]);
      // Every value of x·K is a pixel's luma, so its mean over N·3 is the crop's mean luma μ.
      y = tf.add(y, tf.add(tf.mul(xK, per(Q)), tf.mul(tf.mean(xK, 1, true), per(O))));
    }
    if (R.some((v) => v !== 0))
      y = tf.add(y, tf.mul(tf.reshape(tf.matMul(rows, tf.tensor2d(CHROMA_S, [3, 3])), [batch, n3]), per(R)));
    return tf.reshape(tf.clipByValue(y, 0, 1), [batch, out, out, 3]) as tf.Tensor4D;
  });
}

/**
 * One augmented view per image (§1; called once per resolution and view, §5).
 * images: B×S×S×3 float32 in [0, 1] → B×out×out×3 float32 in [0, 1].
 */
export function augmentBatch(images: tf.Tensor4D, out: number, p: AugmentParams, rng: Rng): tf.Tensor4D {
  return applyAugment(images, out, drawAugment(images.shape[0], p, rng));
}

/**
 * Deterministic view of the whole image for evaluation and bank passes (§2,
 * §6): B×S×S×3 → B×out×out×3, bilinear at half-pixel centres; a copy when
 * out = S.
 */
export function centreView(images: tf.Tensor4D, out: number): tf.Tensor4D {
  const [batch, h, w] = images.shape;
  if (h === out && w === out) return tf.clone(images);
  const boxes = new Float32Array(batch * 4);
  for (let b = 0; b < batch; b++) boxes.set([0, 0, 1, 1], b * 4);
  return cropResize(images, boxes, out);
}
