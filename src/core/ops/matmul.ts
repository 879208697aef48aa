/**
 * Matrix products that avoid tfjs' transposed-operand path on WASM.
 *
 * Why: on the WASM backend (tfjs 4.22) `matMul(a, b, false, true)` and
 * `matMul(a, b, true, false)` are many times slower than the same product with
 * the transpose done first by a `Transpose` kernel (measured for q·queueᵀ and
 * the bank similarity: docs/BENCHMARKS.md §M3). The tape's gradients of an
 * ordinary `matMul` use exactly those transposed forms, so the dense layers
 * and InfoNCE need their own gradients too (`matMulFastGrad`).
 * On the other backends the flags are free (GPU kernels index either way),
 * so there the helpers call tfjs directly.
 */
import * as tf from '@tensorflow/tfjs';
import { isHostBackend } from './host-backend';

/** a·bᵀ: M×K · N×K → M×N. Transposes the smaller of bᵀ (N·K) or the result (M·N, computed as (b·aᵀ)ᵀ). */
export function matMulABt(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!isHostBackend()) return tf.matMul(a, b, false, true);
  return tf.tidy(() => {
    const [m, k] = a.shape;
    const n = b.shape[0];
    return (
      m * n <= n * k ? tf.transpose(tf.matMul(b, tf.transpose(a))) : tf.matMul(a, tf.transpose(b))
    ) as tf.Tensor2D;
  });
}

/** aᵀ·b: K×M, K×N → M×N. */
export function matMulAtB(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!isHostBackend()) return tf.matMul(a, b, true, false);
  return tf.tidy(() => tf.matMul(tf.transpose(a), b) as tf.Tensor2D);
}

/**
 * a·b (M×K · K×N → M×N) whose gradients are da = dy·bᵀ and db = aᵀ·dy
 * through the helpers above instead of transposed-operand kernels.
 */
export function matMulFastGrad(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!isHostBackend()) return tf.matMul(a, b);
  // customGrad's typing passes inputs and `save` through one rest parameter.
  const op = tf.customGrad(((...args: [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc]) => {
    const [ai, bi, save] = args;
    save([ai, bi]);
    return {
      value: tf.matMul(ai, bi),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        matMulABt(dy as tf.Tensor2D, saved[1] as tf.Tensor2D),
        matMulAtB(saved[0] as tf.Tensor2D, dy as tf.Tensor2D),
      ],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(a, b) as tf.Tensor2D;
}
