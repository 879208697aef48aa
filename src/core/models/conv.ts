/**
 * 2-D convolution whose gradients are themselves forward convolutions.
 *
 * Why (spec §8): the tfjs WASM backend has no `Conv2DBackpropFilter` kernel, so
 * a convnet cannot train on it as shipped, and its `Conv2DBackpropInput`
 * (conv2dTranspose) was ~10× slower than a forward conv of the same layer.
 * Both gradients can be written as forward `conv2d` calls, which every backend
 * runs with its fastest kernel (XNNPACK on WASM):
 *
 * - input gradient: the output gradient dy (B×ho×wo×Co), for stride s first
 *   dilated back onto the stride-1 grid, correlated with the filter rotated by
 *   180° and its channel axes swapped (kh×kw×Co×Ci);
 * - filter gradient: the padded input seen as Ci "images" of B channels
 *   (Ci×Hp×Wp×B) correlated with dy seen as a ho×wo×B×Co filter with dilation
 *   s, giving Ci×kh×kw×Co.
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

/** Input gradient of a 'same' conv as a forward conv (shapes in the module comment). */
export function convInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, inShape: [number, number, number, number], stride: number): tf.Tensor4D {
  return tf.tidy(() => {
    const k = filter.shape[0];
    const [, h] = inShape;
    const off = samePadBefore(h, k, 1) - samePadBefore(h, k, stride);
    const dyFull = dilateToGrid(dy, stride, off);
    // rot180 over the two spatial axes, then swap Ci/Co so the conv maps Co → Ci.
    const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(dyFull, rotated, 1, 'same');
  });
}

/** Filter gradient of a 'same' conv as a forward (dilated) conv. */
export function convFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, stride: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const [, ho, wo] = dy.shape;
    const top = samePadBefore(h, k, stride);
    const left = samePadBefore(w, k, stride);
    // dw[a] = Σ_i x[i·s − top + a]·dy[i]: pad so that a valid, s-dilated conv
    // with the ho×wo "filter" dy yields exactly k outputs per axis.
    const bottom = (ho - 1) * stride + k - h - top;
    const right = (wo - 1) * stride + k - w - left;
    const xp = tf.pad(x, [
      [0, 0],
      [top, Math.max(bottom, 0)],
      [left, Math.max(right, 0)],
      [0, 0],
    ]);
    const xT = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D; // Ci×Hp×Wp×B
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // ho×wo×B×Co
    let g = tf.conv2d(xT, dyT, 1, 'valid', 'NHWC', stride); // Ci×(≥k)×(≥k)×Co
    if (g.shape[1] !== k || g.shape[2] !== k) g = tf.slice(g, [0, 0, 0, 0], [-1, k, k, -1]);
    return tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D; // kh×kw×Ci×Co
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
 * gradient conv: 11 ms per step at 32 px on WASM that nothing would read.
 */
export function conv2dSame(x: tf.Tensor4D, filter: tf.Tensor4D, stride = 1, opts: { inputGrad?: boolean } = {}): tf.Tensor4D {
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
