/**
 * Contrastive losses (spec §1 and §4). Pure functions of tensors.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Per-sample InfoNCE (van den Oord et al. 2018; MoCo, He et al. 2020):
 *   logits_b = [q_b·k_b, q_b·queue_1, …, q_b·queue_K] / T
 *   ℓ_b = −log softmax(logits_b)[0] = logsumexp(logits_b) − logits_b[0]
 * q: B×d, k: B×d (positive keys, no gradient wanted: callers pass key-encoder outputs),
 * queue: K×d negatives (K may be 0: then ℓ_b = 0, there is nothing to contrast with).
 * Returns ℓ: B.
 */
export function infoNCE(q: tf.Tensor2D, k: tf.Tensor2D, queue: tf.Tensor2D, temperature: number): tf.Tensor1D {
  return tf.tidy(() => {
    const pos = tf.reshape(tf.sum(tf.mul(q, k), 1), [-1, 1]); // B×1
    const logits = queue.shape[0] > 0 ? tf.concat([pos, tf.matMul(q, queue, false, true)], 1) : pos; // B×(1+K)
    const scaled = tf.div(logits, temperature);
    return tf.sub(tf.logSumExp(scaled, 1), tf.squeeze(tf.slice(scaled, [0, 0], [-1, 1]), [1])) as tf.Tensor1D;
  });
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
