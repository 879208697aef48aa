/**
 * The kNN monitor of METHOD §6 (Wu et al. 2018, "instance discrimination"):
 * each held-out feature votes with its k most cosine-similar training
 * features, weighted by exp(s/τ); the class with the largest total wins.
 * Frozen backbone features, never trained on labels.
 */
import * as tf from '@tensorflow/tfjs';
import { knn } from '../clim/knn';

/** Weighted vote from neighbour lists (M×k indices and similarities, row-major) → M predictions. */
export function weightedVote(
  indices: ArrayLike<number>,
  sims: ArrayLike<number>,
  m: number,
  k: number,
  trainLabels: Int32Array,
  tau: number,
  classes: number,
): Int32Array {
  const pred = new Int32Array(m);
  const score = new Float64Array(classes);
  for (let i = 0; i < m; i++) {
    score.fill(0);
    for (let j = 0; j < k; j++) score[trainLabels[indices[i * k + j]]] += Math.exp(sims[i * k + j] / tau);
    let best = 0;
    for (let c = 1; c < classes; c++) if (score[c] > score[best]) best = c;
    pred[i] = best;
  }
  return pred;
}

/**
 * train: N×F, test: M×F, both L2-normalised rows; trainLabels: N.
 * Returns M predicted class ids. Neighbour search runs on the device in chunks.
 */
export async function knnClassify(
  train: tf.Tensor2D,
  trainLabels: Int32Array,
  test: tf.Tensor2D,
  k: number,
  tau: number,
  classes: number,
): Promise<Int32Array> {
  const m = test.shape[0];
  const kk = Math.min(k, train.shape[0]);
  const preds = new Int32Array(m);
  const rows = 512;
  for (let s = 0; s < m; s += rows) {
    const n = Math.min(rows, m - s);
    const r = tf.tidy(() => knn(tf.slice(test, [s, 0], [n, -1]), train, kk, null));
    const [idx, sim] = await Promise.all([r.indices.data(), r.similarities.data()]);
    tf.dispose([r.indices, r.similarities]);
    preds.set(weightedVote(idx, sim, n, r.indices.shape[1], trainLabels, tau, classes), s);
  }
  return preds;
}
