/**
 * The training images as tensors: each split uploaded once as float32 [0,1]
 * pixels, and a batch of them by index, on the device or from host bytes.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset';
import { isHostBackend } from '../ops/host-backend';

/** Float32 [0,1] pixels of a split, N×S×S×3, kept on the device for the whole run. */
export function splitTensor(images: Uint8Array, n: number, size: number): tf.Tensor4D {
  return tf.tensor4d(unitFloats(images, new Float32Array(images.length), 0), [n, size, size, 3]);
}

/** Writes bytes / 255 into `out` from `at` on; returns `out`. */
function unitFloats(bytes: Uint8Array, out: Float32Array, at: number): Float32Array {
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i] / 255;
  return out;
}

/** Rows of `x` (N×…) mapped through fn in chunks, concatenated: bounds peak memory for big sets. */
export function mapChunks(x: tf.Tensor4D, chunk: number, fn: (part: tf.Tensor4D) => tf.Tensor2D): tf.Tensor2D {
  const n = x.shape[0];
  const parts: tf.Tensor2D[] = [];
  for (let s = 0; s < n; s += chunk) {
    parts.push(tf.tidy(() => fn(tf.slice(x, [s, 0, 0, 0], [Math.min(chunk, n - s), -1, -1, -1]))));
  }
  const out = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
  if (parts.length > 1) tf.dispose(parts);
  return out;
}

/**
 * Training images idx (B int32) of `all` (N×S×S×3) as B×S×S×3; the caller
 * owns the result. On WASM and cpu they are copied from the host bytes:
 * tfjs' WASM GatherV2 took many times longer than the copy
 * (docs/BENCHMARKS.md §M8), and reading B indices back (`known` saves even
 * that) costs nothing where the "device" is the CPU. On GPU backends a
 * gather keeps everything on the device (no readback mid-step).
 */
export async function batchImages(
  all: tf.Tensor4D,
  data: Dataset,
  idx: tf.Tensor1D,
  known?: Int32Array,
): Promise<tf.Tensor4D> {
  if (!isHostBackend()) return tf.tidy(() => tf.gather(all, idx) as tf.Tensor4D);
  const ids = known ?? (await idx.data());
  const { images } = data.train;
  const S = data.size;
  const per = S * S * 3;
  const f = new Float32Array(ids.length * per);
  for (let b = 0; b < ids.length; b++) unitFloats(images.subarray(ids[b] * per, (ids[b] + 1) * per), f, b * per);
  return tf.tensor4d(f, [ids.length, S, S, 3]);
}
