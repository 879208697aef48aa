/**
 * The own-key mask (METHOD §1.4): negatives that are older keys of the very
 * images a query is pulled towards. A pure function of the queue's row table
 * and the batch's ids.
 */
import * as tf from '@tensorflow/tfjs';

/** Added to masked logits (after the division by the temperature): exp underflows to 0, and it fits half floats. */
export const OWN_KEY_MASK = -1e4;

/** What the mask reads of a queue (KeyQueue has both). */
export interface QueueSlots {
  /** K, the queue's rows. */
  readonly size: number;
  /** For every image id in [0, n): 1 + the row holding its newest key, 0 when none does (KeyQueue.slotTable). */
  slotTable(n: number): Int32Array;
}

/**
 * B×K additive mask over queue rows: OWN_KEY_MASK where the row holds an older
 * key of the anchor or of its positive, 0 elsewhere; null for an empty queue.
 * anchorIdx, positives: B int32 ids in [0, n). On small data sets a queue of
 * K keys holds each image's previous key with probability ≈ K/N (85% for
 * 2048 keys over 2,400 images), and InfoNCE would then push a query away
 * from its own image (or from the positive it is pulled towards). Found on
 * the device from the host's row table, so the positives need no readback:
 * oneHot over K+1 columns with column 0 meaning "not in the queue", then cut.
 */
export function ownKeyMask(
  queue: QueueSlots,
  n: number,
  anchorIdx: tf.Tensor1D,
  positives: tf.Tensor1D,
): tf.Tensor2D | null {
  const K = queue.size;
  if (K === 0) return null;
  return tf.tidy(() => {
    const table = tf.tensor1d(queue.slotTable(n), 'int32');
    const hits = tf.add(tf.oneHot(tf.gather(table, anchorIdx), K + 1), tf.oneHot(tf.gather(table, positives), K + 1));
    const b = anchorIdx.shape[0];
    return tf.mul(tf.minimum(tf.slice(hits, [0, 1], [b, K]), 1), OWN_KEY_MASK) as tf.Tensor2D;
  });
}
