/**
 * Alignment and uniformity of L2-normalised embeddings (Wang & Isola 2020,
 * "Understanding contrastive representation learning through alignment and
 * uniformity on the hypersphere", eqs. 4–5), used as unsupervised health
 * metrics of the encoder next to kNN and the linear probe (METHOD §6):
 *
 *   alignment  = E_{(x,y) positive} ‖f(x) − f(y)‖₂^α        (α = 2; lower is better)
 *   uniformity = log E_{x≠y} exp(−t·‖f(x) − f(y)‖₂²)         (t = 2; lower is more uniform)
 *
 * On the unit sphere ‖a − b‖² = 2 − 2·a·b, so both come from dot products:
 * one N×N Gram matrix on the device for uniformity.
 */
import * as tf from '@tensorflow/tfjs';

/** a, b: N×D rows already L2-normalised, row i of a paired with row i of b → mean ‖a_i − b_i‖^α. */
export async function alignment(a: tf.Tensor2D, b: tf.Tensor2D, alpha = 2): Promise<number> {
  const t = tf.tidy(() => tf.mean(tf.pow(tf.norm(tf.sub(a, b), 'euclidean', 1), alpha)));
  const v = (await t.data())[0];
  t.dispose();
  return v;
}

/**
 * z: N×D L2-normalised rows (N ≥ 2) → log of the mean of exp(−t·‖z_i − z_j‖²)
 * over the N(N−1) ordered pairs i ≠ j. The diagonal is pushed out of the
 * exponential's range before the sum: subtracting its N ones afterwards lost
 * the small off-diagonal terms to float32 cancellation.
 */
export async function uniformity(z: tf.Tensor2D, t = 2): Promise<number> {
  const n = z.shape[0];
  if (n < 2) throw new Error(`uniformity needs at least 2 embeddings (got ${n})`);
  const s = tf.tidy(() => {
    const gram = tf.matMul(z, tf.transpose(z)); // N×N
    const sq = tf.add(tf.maximum(tf.sub(2, tf.mul(2, gram)), 0), tf.mul(tf.eye(n), 1e4));
    return tf.sum(tf.exp(tf.mul(-t, sq)));
  });
  const total = (await s.data())[0];
  s.dispose();
  return Math.log(total / (n * (n - 1)));
}
