/**
 * Writing the memory bank (METHOD §2.1–§2.3) and seeding the queues (§1.3)
 * from the key encoder f_k. Each function takes the tensors it reads and the
 * state it writes explicitly; temporaries die in its own tidy.
 */
import * as tf from '@tensorflow/tfjs';
import type { ClimConfig } from '../config';
import type { Rng } from '../rng';
import { l2Normalize, type Encoder } from '../models/encoder';
import type { MemoryBank } from '../clim/bank';
import type { KeyQueue } from '../clim/queue';
import { centreView } from '../augment/augment';
import { sphericalKMeans, type KMeansState } from '../clim/kmeans';
import { mapChunks } from './images';

/** What the bank writers read of the config: the bank's space and the first resolution (the clean view's size). */
export type BankConfig = Pick<ClimConfig, 'bankSpace' | 'resolutions'>;

/** Bank rows of views x (B×S×S×3) in the bank's space (§2.1, config.bankSpace): B×bankDim, unit rows. */
export function bankRows(key: Encoder, c: BankConfig, x: tf.Tensor4D): tf.Tensor2D {
  return c.bankSpace === 'projection' ? key.embed(x) : l2Normalize(key.features(x));
}

/** Re-embeds every bank row from its image's clean centre view (§2.3); images: N×S×S×3. */
export function refreshBankRows(bank: MemoryBank, key: Encoder, c: BankConfig, images: tf.Tensor4D): void {
  const r = c.resolutions[0];
  tf.tidy(() => bank.setAll(mapChunks(images, 256, (x) => bankRows(key, c, centreView(x, r)))));
}

/**
 * bankView 'clean' (§2.2): each anchor's bank row (anchorIdx, B) becomes f_k's
 * embedding of its clean centre view (xa, B×S×S×3) before the selection
 * reads the bank, so the anchor searches with a fresh z_i. The anchors of a
 * batch are the images whose rows are oldest (each epoch draws every image
 * once), and searching with their stale rows cost 15 points of step
 * precision (docs/BENCHMARKS.md, "Memory bank").
 */
export function writeCleanRows(
  bank: MemoryBank,
  key: Encoder,
  c: BankConfig,
  anchorIdx: tf.Tensor1D,
  xa: tf.Tensor4D,
): void {
  tf.tidy(() => bank.update(anchorIdx, bankRows(key, c, centreView(xa, c.resolutions[0]))));
}

/**
 * Starts every queue with real key embeddings of K images drawn from `rng`
 * (bank rows, or f_k of their centre views when the bank is in backbone
 * space and so holds no keys) instead of MoCo's random unit vectors: those
 * are far easier negatives than real keys of a fresh encoder, so the loss
 * would first climb while the queue fills and hide the learning from the curve.
 */
export function seedQueues(
  queues: readonly KeyQueue[],
  bank: MemoryBank,
  key: Encoder,
  c: BankConfig,
  images: tf.Tensor4D,
  rng: Rng,
): void {
  const n = images.shape[0];
  for (const q of queues) {
    if (q.size === 0) continue;
    const idx = new Int32Array(q.size);
    for (let i = 0; i < q.size; i++) idx[i] = rng.int(n);
    tf.tidy(() => {
      const at = tf.tensor1d(idx, 'int32');
      const keys =
        c.bankSpace === 'projection'
          ? tf.gather(bank.tensor, at)
          : key.embed(centreView(tf.gather(images, at), c.resolutions[0]));
      q.fill(keys as tf.Tensor2D, idx);
    });
  }
}

/** Spherical k-means (§2.4) on the bank, warm-started from `prev`'s centroids; `prev` is disposed. */
export async function reclusterBank(
  bank: MemoryBank,
  c: Pick<ClimConfig, 'clusters' | 'kmeansIters'>,
  rng: Rng,
  prev: KMeansState | null,
): Promise<KMeansState> {
  const next = await sphericalKMeans(bank.tensor, c.clusters, c.kmeansIters, rng, prev ? prev.centroids : null);
  prev?.dispose();
  return next;
}
