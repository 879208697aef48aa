/**
 * The memory bank of §2: one embedding per training image (N×d), written with
 * the key-encoder embedding of each image whenever it is in a batch. kNN and
 * k-means read it; it never leaves the device.
 */
import * as tf from '@tensorflow/tfjs';

export class MemoryBank {
  /** N×d, rows L2-normalised. */
  readonly embeddings: tf.Variable;

  constructor(
    readonly n: number,
    readonly dim: number,
  ) {
    // In a tidy: tf.variable shares the initial tensor's data but leaves that tensor alive too.
    this.embeddings = tf.tidy(() => tf.variable(tf.zeros([n, dim]), false));
  }

  get tensor(): tf.Tensor2D {
    return this.embeddings as unknown as tf.Tensor2D;
  }

  /** Overwrites all rows (the initial pass of the encoder over the data set). */
  setAll(z: tf.Tensor2D): void {
    if (z.shape[0] !== this.n || z.shape[1] !== this.dim)
      throw new Error(`bank expects ${this.n}×${this.dim}, got ${z.shape}`);
    this.embeddings.assign(z);
  }

  /** rows[b] ← z[b] for bank indices idx (B, int32); z: B×d. Duplicate indices: the last write wins is not guaranteed — callers pass distinct indices. */
  update(idx: tf.Tensor1D, z: tf.Tensor2D): void {
    tf.tidy(() => {
      this.embeddings.assign(tf.tensorScatterUpdate(this.embeddings, tf.reshape(idx, [-1, 1]), z));
    });
  }

  dispose(): void {
    this.embeddings.dispose();
  }
}
