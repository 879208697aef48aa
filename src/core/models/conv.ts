/**
 * 2-D convolution whose gradients are themselves forward convolutions.
 *
 * Why (METHOD §8): the tfjs WASM backend has no `Conv2DBackpropFilter` kernel, so
 * a convnet cannot train on it as shipped, and its `Conv2DBackpropInput`
 * (conv2dTranspose) was far slower than a forward conv of the same layer
 * (docs/BENCHMARKS.md §M5).
 * Both gradients can be written as forward `conv2d` calls, which every backend
 * runs with its fastest kernel (XNNPACK on WASM):
 *
 * - input gradient: the output gradient dy (B×ho×wo×Co), for stride s first
 *   dilated back onto the stride-1 grid, correlated with the filter rotated by
 *   180° and its channel axes swapped (kh×kw×Co×Ci);
 * - filter gradient: the padded input seen as one wide image of B channels
 *   (Hp×(Wp·Ci)×B) correlated with dy seen as a ho×wo×B×Co filter dilated
 *   by (s, s·Ci), giving kh×(kw·Ci)×Co (see convFilterGrad).
 *
 * Only 'same' padding, NHWC, odd square kernels and input sides divisible by
 * the stride are supported: that is all the encoder uses, and it keeps the
 * padding arithmetic exact. Anything else uses tfjs' own gradients.
 */
import * as tf from '@tensorflow/tfjs';

export type ConvGradMode = 'native' | 'forward';

let gradMode: ConvGradMode | 'auto' = 'auto';

/** 'auto' (default): forward-conv gradients on WASM only, native kernels elsewhere. */
export function setConvGradMode(mode: ConvGradMode | 'auto'): void {
  gradMode = mode;
}

export function effectiveConvGradMode(): ConvGradMode {
  if (gradMode !== 'auto') return gradMode;
  return tf.getBackend() === 'wasm' ? 'forward' : 'native';
}

/** TF 'same' padding before the first row for side `n`, kernel `k`, stride `s`. */
export function samePadBefore(n: number, k: number, s: number): number {
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + k - n, 0);
  return Math.floor(total / 2);
}

/**
 * Places dy (B×ho×wo×C) on the stride-1 grid (B×ho·s×wo·s×C) at row/col
 * i·s + off, zeros elsewhere: the stride-s 'same' conv equals the stride-1
 * 'same' conv sampled at those positions.
 */
export function dilateToGrid(dy: tf.Tensor4D, s: number, off: number): tf.Tensor4D {
  if (s === 1) return dy;
  const [b, h, w, c] = dy.shape;
  const six = tf.reshape(dy, [b, h, 1, w, 1, c]);
  const padded = tf.pad(six, [
    [0, 0],
    [0, 0],
    [off, s - 1 - off],
    [0, 0],
    [off, s - 1 - off],
    [0, 0],
  ]);
  return tf.reshape(padded, [b, h * s, w * s, c]);
}

/**
 * k×k×Ci×Co → the same filter turned 180° in its spatial plane. Reversing
 * both spatial axes of a row-major k×k grid reverses its k² flat index, so
 * this is the k²×k² anti-identity times the k²×(Ci·Co) filter. Why a matMul:
 * tfjs-wasm's Reverse is a slow generic kernel (docs/BENCHMARKS.md §M5), and
 * the product is exact: one 1·w term per output.
 */
export function rot180(filter: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, ci, co] = filter.shape;
    const n = kh * kw;
    const anti = new Float32Array(n * n);
    for (let i = 0; i < n; i++) anti[i * n + (n - 1 - i)] = 1;
    return tf.reshape(tf.matMul(tf.tensor2d(anti, [n, n]), tf.reshape(filter, [n, ci * co])), [
      kh,
      kw,
      ci,
      co,
    ]) as tf.Tensor4D;
  });
}

/**
 * Input gradient of a strided 'same' conv by sub-pixel phases, without
 * dilating dy. With m = s·t + p, dx[m] = Σ_a dy[t − d]·w[a] over the taps a
 * with d = (a − p − top)/s a whole number: for each output phase (p, q) a
 * small correlation of dy itself. All s² phases are one L×L conv with
 * s²·Ci output channels (taps missing in a phase are zero), then a
 * depth-to-space transpose interleaves them. For k = 3, s = 2 that is 16 multiply-adds per
 * (Ci, Co, dy pixel) against 36 for the dilated conv (which is 75% zeros).
 * dy: B×ho×wo×Co, filter: k×k×Ci×Co → B×(s·ho)×(s·wo)×Ci.
 */
function convInputGradPhases(dy: tf.Tensor4D, filter: tf.Tensor4D, h: number, stride: number): tf.Tensor4D | null {
  const [k, , ci, co] = filter.shape;
  const s = stride;
  const top = samePadBefore(h, k, s);
  // taps[p] lists [a, d] for output phase p (the same along both axes: square kernel, H = W handled alike).
  const taps: [number, number][][] = [];
  for (let p = 0; p < s; p++) {
    taps.push([]);
    for (let a = 0; a < k; a++) if ((((a - p - top) % s) + s) % s === 0) taps[p].push([a, (a - p - top) / s]);
  }
  const ds = taps.flat().map(([, d]) => d);
  const dMax = Math.max(...ds);
  const dMin = Math.min(...ds);
  // dy padded by dMax before and −dMin after gives exactly ho outputs; other cases keep the dilated form.
  if (dMax < 0 || dMin > 0) return null;
  const len = dMax - dMin + 1;
  // Selection matrix: row (u, v, p, q) picks filter tap (a, b) with d_a = dMax − u, d_b = dMax − v.
  const sel = new Float32Array(len * len * s * s * k * k);
  for (let u = 0; u < len; u++)
    for (let v = 0; v < len; v++)
      for (let p = 0; p < s; p++)
        for (let q = 0; q < s; q++) {
          const ta = taps[p].find(([, d]) => d === dMax - u);
          const tb = taps[q].find(([, d]) => d === dMax - v);
          if (ta && tb) sel[(((u * len + v) * s + p) * s + q) * k * k + ta[0] * k + tb[0]] = 1;
        }
  return tf.tidy(() => {
    const wT = tf.reshape(tf.transpose(filter, [0, 1, 3, 2]), [k * k, co * ci]); // (a, b) × (Co, Ci)
    const picked = tf.matMul(tf.tensor2d(sel, [len * len * s * s, k * k]), wT); // exact: one 1·w term per entry
    const f = tf.reshape(tf.transpose(tf.reshape(picked, [len, len, s, s, co, ci]), [0, 1, 4, 2, 3, 5]), [
      len,
      len,
      co,
      s * s * ci,
    ]) as tf.Tensor4D;
    const [b, ho, wo] = dy.shape;
    // dy padded by the conv itself (explicit padding: no padded copy of dy).
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [dMax, -dMin],
      [dMax, -dMin],
      [0, 0],
    ];
    // depthToSpace by hand: tfjs-wasm's DepthToSpace is far slower than this 4-D transpose (docs/BENCHMARKS.md §M5).
    const phases = tf.reshape(tf.conv2d(dy, f, 1, pad), [b * ho, wo, s, s * ci]); // (b, t) × t′ × p × (q, ci)
    return tf.reshape(tf.transpose(phases, [0, 2, 1, 3]), [b, ho * s, wo * s, ci]) as tf.Tensor4D;
  });
}

/** Input gradient of a 'same' conv as a forward conv (shapes in the module comment). */
export function convInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inShape: [number, number, number, number],
  stride: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const k = filter.shape[0];
    const [, h] = inShape;
    if (stride > 1 && k > 1) {
      const viaPhases = convInputGradPhases(dy, filter, h, stride);
      if (viaPhases) return viaPhases;
    }
    const off = samePadBefore(h, k, 1) - samePadBefore(h, k, stride);
    // rot180 over the two spatial axes, then swap Ci/Co so the conv maps Co → Ci.
    const rotated = tf.transpose(rot180(filter), [0, 1, 3, 2]) as tf.Tensor4D;
    // 1×1: the conv commutes with placing on the grid, so convolve the s²-times smaller dy first.
    if (k === 1) return dilateToGrid(tf.conv2d(dy, rotated, 1, 'same'), stride, off);
    return tf.conv2d(dilateToGrid(dy, stride, off), rotated, 1, 'same');
  });
}

/**
 * Filter gradient of a 'same' conv as one forward (dilated) conv.
 *
 * dw[a, b, ci, co] = Σ_{n, i, j} xp[n, a + i·s, b + j·s, ci]·dy[n, i, j, co]
 * (xp: x padded so the sums stay inside it) is a correlation over the batch
 * as channels. The padded input is laid out as one image of height Hp and
 * width Wp·Ci with the batch as channels ([Hp, Wp, Ci, B]: a plain 2-D
 * transpose of the B × Hp·Wp·Ci matrix), and dy as a ho×wo×B×Co filter
 * dilated by s in height and s·Ci in width: output column b·Ci + ci then
 * reads input columns (b + j·s)·Ci + ci, so the result is already
 * kh×kw×Ci×Co. Why this layout: it replaces a 4-D [3,1,2,0] transpose of the
 * input and one of the result (tfjs-wasm's generic 4-D transpose is slower
 * than a 2-D one; the saving per filter gradient on WASM is in
 * docs/BENCHMARKS.md §M5), the same sums in the same order.
 */
export function convFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, stride: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, ci] = x.shape;
    const [, ho, wo, co] = dy.shape;
    const top = samePadBefore(h, k, stride);
    const left = samePadBefore(w, k, stride);
    // Padding so that an s-dilated correlation with the ho×wo "filter" dy
    // yields at least k outputs per axis.
    const bottom = Math.max((ho - 1) * stride + k - h - top, 0);
    const right = Math.max((wo - 1) * stride + k - w - left, 0);
    const wide = tf.reshape(tf.transpose(tf.reshape(x, [b, h * w * ci])), [1, h, w * ci, b]) as tf.Tensor4D; // 1×H×(W·Ci)×B
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // ho×wo×B×Co
    // The padding as the conv's own (explicit) padding: whole pixels are Ci columns of the wide image,
    // and XNNPACK reads padding from a zero buffer instead of a padded copy of x.
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [top, bottom],
      [left * ci, right * ci],
      [0, 0],
    ];
    let g = tf.conv2d(wide, dyT, 1, pad, 'NHWC', [stride, stride * ci]); // 1×(≥k)×(≥k·Ci)×Co
    if (g.shape[1] !== k || g.shape[2] !== k * ci) g = tf.slice(g, [0, 0, 0, 0], [1, k, k * ci, co]);
    return tf.reshape(g, [k, k, ci, co]) as tf.Tensor4D;
  });
}

function forwardGradSupported(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number): boolean {
  const [kh, kw] = filter.shape;
  if (kh !== kw || kh % 2 !== 1) return false;
  const [, h, w] = x.shape;
  if (h % stride !== 0 || w % stride !== 0) return false;
  const off = samePadBefore(h, kh, 1) - samePadBefore(h, kh, stride);
  return off >= 0 && off < stride;
}

/**
 * 'same' conv2d, NHWC. x: B×H×W×Ci, filter: k×k×Ci×Co → B×⌈H/s⌉×⌈W/s⌉×Co.
 * Gradients per `setConvGradMode`. `inputGrad: false` (the first layer, whose
 * input is the image) returns zeros for dx instead of running the input-
 * gradient conv: time every step on WASM (docs/BENCHMARKS.md §M5) for a result nothing would read.
 */
export function conv2dSame(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride = 1,
  opts: { inputGrad?: boolean } = {},
): tf.Tensor4D {
  const inputGrad = opts.inputGrad ?? true;
  if (effectiveConvGradMode() === 'native' || !forwardGradSupported(x, filter, stride)) {
    return tf.conv2d(x, filter, stride, 'same');
  }
  const k = filter.shape[0];
  const inShape = x.shape as [number, number, number, number];
  // customGrad's typing passes inputs and `save` through one rest parameter.
  const op = tf.customGrad(((...args: [tf.Tensor, tf.Tensor, tf.GradSaveFunc]) => {
    const [xi, fi, save] = args;
    save([xi, fi]);
    return {
      value: tf.conv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, stride, 'same'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, fs] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dx = inputGrad ? convInputGrad(dy as tf.Tensor4D, fs, inShape, stride) : tf.zeros(inShape);
        return [dx, convFilterGrad(xs, dy as tf.Tensor4D, k, stride)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, filter) as tf.Tensor4D;
}
