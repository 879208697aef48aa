/**
 * The colour stage of the view augmentation as one WASM kernel (METHOD
 * §1: colour jitter and grayscale; the algebra is in augment.ts,
 * `colourCoefficients`).
 *
 * Per image b and pixel x (RGB row vector):
 *   y = clip(P_b·x + Q_b·(x·K) + R_b·(x·S) + O_b·μ_b·1, 0, 1),
 * with μ_b the crop's mean luma and K, S fixed 3×3 maps.
 *
 * Why a kernel: as tfjs ops on WASM that is two N×3 · 3×3 products (XNNPACK
 * at K = N = 3 does almost no useful work per call), a mean, six elementwise
 * passes over the batch and a clip: 4 products and ~30 passes per training
 * step. This kernel reads each crop twice (the mean, then the map) straight
 * from the WASM heap. GPU backends keep the tfjs ops (`augment.ts`), which
 * are also the reference in the tests.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmHeapBackend } from './wasm-heap';

export const COLOUR_AFFINE = 'ClimColourAffine';

/**
 * x: B×N×3 (row-major), coeffs: B×4 (P, Q, R, O), k and s: 3×3 row-form maps
 * (x ↦ x·k), luma: the weights whose mean over a crop is μ (x·k's every
 * column). Writes B×N×3 into out.
 */
export function colourAffineInto(
  x: Float32Array,
  batch: number,
  coeffs: Float32Array,
  k: readonly number[],
  s: readonly number[],
  luma: readonly number[],
  out: Float32Array,
): void {
  const n = batch === 0 ? 0 : x.length / (batch * 3);
  const [l0, l1, l2] = luma;
  for (let b = 0; b < batch; b++) {
    const p = coeffs[b * 4];
    const q = coeffs[b * 4 + 1];
    const r = coeffs[b * 4 + 2];
    const o = coeffs[b * 4 + 3];
    const base = b * n * 3;
    let mu = 0;
    if (o !== 0) {
      for (let i = base; i < base + n * 3; i += 3) mu += l0 * x[i] + l1 * x[i + 1] + l2 * x[i + 2];
      mu /= n;
    }
    // The per-pixel map folded into one 3×3 matrix M = p·I + q·K + r·S, plus the offset o·μ.
    const m = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((j) => (j % 4 === 0 ? p : 0) + q * k[j] + r * s[j]);
    const off = o * mu;
    for (let i = base; i < base + n * 3; i += 3) {
      const x0 = x[i];
      const x1 = x[i + 1];
      const x2 = x[i + 2];
      const y0 = x0 * m[0] + x1 * m[3] + x2 * m[6] + off;
      const y1 = x0 * m[1] + x1 * m[4] + x2 * m[7] + off;
      const y2 = x0 * m[2] + x1 * m[5] + x2 * m[8] + off;
      out[i] = y0 < 0 ? 0 : y0 > 1 ? 1 : y0;
      out[i + 1] = y1 < 0 ? 0 : y1 > 1 ? 1 : y1;
      out[i + 2] = y2 < 0 ? 0 : y2 > 1 ? 1 : y2;
    }
  }
}

const wasmColourAffine: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const be = backend as unknown as WasmHeapBackend;
  const x = inputs.x as tf.TensorInfo;
  const coeffs = inputs.coeffs as tf.TensorInfo;
  const { k, s, luma } = attrs as unknown as { k: number[]; s: number[]; luma: number[] };
  const out = be.makeOutput([...x.shape], 'float32');
  colourAffineInto(
    be.typedArrayFromHeap(x) as Float32Array,
    x.shape[0],
    be.typedArrayFromHeap(coeffs) as Float32Array,
    k,
    s,
    luma,
    be.typedArrayFromHeap(out) as Float32Array,
  );
  return out;
};

let enabled = true;

/** Switched with the other JS kernels by ops/wasm-kernels.ts (A/B benchmarks and tests). */
export function enableColourAffineKernel(on: boolean): void {
  enabled = on;
}

/** Whether the active backend runs `colourAffineKernel` (WASM, registering the kernel on first use). */
export function hasColourAffineKernel(): boolean {
  if (!enabled || tf.getBackend() !== 'wasm') return false;
  if (!tf.getKernel(COLOUR_AFFINE, 'wasm'))
    tf.registerKernel({ kernelName: COLOUR_AFFINE, backendName: 'wasm', kernelFunc: wasmColourAffine });
  return true;
}

/**
 * x: B×H×W×3 float32, coeffs: B×4 float32 (P, Q, R, O) → B×H×W×3, the map
 * above. Only where `hasColourAffineKernel()`; not differentiable (views are
 * inputs, not trained).
 */
export function colourAffineKernel(
  x: tf.Tensor4D,
  coeffs: tf.Tensor2D,
  k: readonly number[],
  s: readonly number[],
  luma: readonly number[],
): tf.Tensor4D {
  return tf.engine().runKernel(COLOUR_AFFINE, { x, coeffs }, {
    k: [...k],
    s: [...s],
    luma: [...luma],
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
