/**
 * Contrastive losses (spec §1 and §4). Pure functions of tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { matMulABt } from '../ops/matmul';

/**
 * Per-sample InfoNCE (van den Oord et al. 2018; MoCo, He et al. 2020):
 *   logits_b = [q_b·k_b, q_b·queue_1, …, q_b·queue_K] / T
 *   ℓ_b = −log softmax(logits_b)[0] = logsumexp(logits_b) − logits_b[0]
 * q: B×d, k: B×d (positive keys, no gradient wanted: callers pass key-encoder outputs),
 * queue: K×d negatives (K may be 0: then ℓ_b = 0, there is nothing to contrast with).
 * Returns ℓ: B.
 */
export function infoNCE(q: tf.Tensor2D, k: tf.Tensor2D, queue: tf.Tensor2D, temperature: number): tf.Tensor1D {
  const K = queue.shape[0];
  // A hand-written gradient, for speed on WASM: the tape's gradient of logSumExp
  // goes through max's broadcast Equal mask (50 ms for 64×2049 on WASM) and of
  // q·queueᵀ through transposed-operand matMuls (ops/matmul.ts). With
  // z = logits/T and p = softmax(z): dℓ_b/dz_b = p_b − e₀, so
  //   dq_b = dy_b/T · [(p_b0 − 1)·k_b + Σ_j p_bj·queue_j].
  // Keys and queue get no gradient: they come from the key encoder (MoCo).
  const op = tf.customGrad(((...args: [tf.Tensor2D, tf.GradSaveFunc]) => {
    const [qi, save] = args;
    const pos = tf.sum(tf.mul(qi, k), 1, true); // B×1
    const logits = K > 0 ? tf.concat([pos, matMulABt(qi, queue)], 1) : pos; // B×(1+K)
    const scaled = tf.div(logits, temperature);
    // One exp serves both the log-sum-exp and the softmax the gradient needs.
    const shift = tf.sub(scaled, tf.max(scaled, 1, true));
    const e = tf.exp(shift);
    const total = tf.sum(e, 1, true); // B×1
    const loss = tf.reshape(tf.sub(tf.log(total), tf.slice(shift, [0, 0], [-1, 1])), [-1]);
    save([tf.div(e, total)]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const w = tf.div(tf.reshape(dy, [-1, 1]), temperature); // B×1
        const g = tf.mul(saved[0], w); // B×(1+K)
        let dq = tf.mul(tf.sub(tf.slice(g, [0, 0], [-1, 1]), w), k);
        if (K > 0) dq = tf.add(dq, tf.matMul(tf.slice(g, [0, 1], [-1, -1]), queue));
        return [dq];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(q) as tf.Tensor1D;
}

export interface MixedLoss {
  /** Scalar: mean_b [λ_b·ℓ(q, k_i)_b + (1−λ_b)·ℓ(q, k_p)_b]. */
  total: tf.Scalar;
  /** Scalar: mean_b ℓ(q, k_i)_b, unweighted. */
  anchor: tf.Scalar;
  /** Scalar: mean_b ℓ(q, k_p)_b, unweighted. */
  positive: tf.Scalar;
}

/**
 * The CLIM mixed loss (§4): the mixed query q (B×d) is pulled to the anchor's
 * key k_i (B×d) with weight λ and to the positive's key k_p (B×d) with 1−λ,
 * negatives from the queue (K×d). lambda: B (1 where no mixing happened).
 */
export function mixedInfoNCE(q: tf.Tensor2D, kAnchor: tf.Tensor2D, kPositive: tf.Tensor2D, queue: tf.Tensor2D, lambda: tf.Tensor1D, temperature: number): MixedLoss {
  const la = infoNCE(q, kAnchor, queue, temperature);
  const lp = infoNCE(q, kPositive, queue, temperature);
  const total = tf.mean(tf.add(tf.mul(lambda, la), tf.mul(tf.sub(1, lambda), lp))) as tf.Scalar;
  return { total, anchor: tf.mean(la) as tf.Scalar, positive: tf.mean(lp) as tf.Scalar };
}
