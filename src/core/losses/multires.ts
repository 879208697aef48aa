/**
 * The multi-resolution loss (METHOD §5): every resolution's mixed query
 * against every resolution's keys and queue. A pure function of tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { mixedInfoNCE, type MixedLoss } from './infonce';

/** The key encoder's embeddings at one resolution s: B×d each, unit rows. */
export interface KeyPair {
  /** k_i,s: of the anchors' key views. */
  anchor: tf.Tensor2D;
  /** k_p,s: of the positives' key views. */
  positive: tf.Tensor2D;
}

/**
 * With R resolutions, queries q_r (R tensors B×d, f_q of the mixed view at
 * resolution r), their mixing weights λ_r (R tensors B), keys (R pairs B×d),
 * queues (R tensors K_s×d) and own-key masks (R, B×K_s or null, §1.4):
 *   total = 1/R² Σ_r Σ_s mixedInfoNCE(q_r, k_i,s, k_p,s, queue_s, λ_r, T, mask_s).total
 * and likewise the unweighted anchor and positive terms. Every query meets
 * every resolution's keys, so small crops learn to agree with large ones
 * (§5). The pair order (r outer, s inner) is the sum order: keep it, the
 * golden run records the result bit for bit.
 */
export function multiResolutionLoss(
  queries: readonly tf.Tensor2D[],
  lambdas: readonly tf.Tensor1D[],
  keys: readonly KeyPair[],
  queues: readonly tf.Tensor2D[],
  temperature: number,
  masks: ReadonlyArray<tf.Tensor2D | null>,
): MixedLoss {
  const R = queries.length;
  if (lambdas.length !== R || keys.length !== R || queues.length !== R || masks.length !== R) {
    throw new Error(
      `multiResolutionLoss needs ${R} of each input, got ${lambdas.length} λ, ${keys.length} keys, ${queues.length} queues, ${masks.length} masks`,
    );
  }
  const totals: tf.Scalar[] = [];
  const anchors: tf.Scalar[] = [];
  const positives: tf.Scalar[] = [];
  for (let r = 0; r < R; r++) {
    for (let s = 0; s < R; s++) {
      const l = mixedInfoNCE(
        queries[r],
        keys[s].anchor,
        keys[s].positive,
        queues[s],
        lambdas[r],
        temperature,
        masks[s],
      );
      totals.push(l.total);
      anchors.push(l.anchor);
      positives.push(l.positive);
    }
  }
  const pairs = R * R;
  return {
    total: tf.div(tf.addN(totals), pairs) as tf.Scalar,
    anchor: tf.div(tf.addN(anchors), pairs) as tf.Scalar,
    positive: tf.div(tf.addN(positives), pairs) as tf.Scalar,
  };
}
