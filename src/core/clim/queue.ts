/**
 * MoCo's negative queue (spec §1): K key embeddings, FIFO. One queue per
 * resolution (§5). Stored as a K×d variable written in place as a ring
 * buffer (tensorScatterUpdate), so nothing leaves the device.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';

export class KeyQueue {
  /** K×d; rows are L2-normalised. */
  readonly keys: tf.Variable;
  /** Next row to overwrite. */
  private ptr = 0;

  constructor(readonly size: number, readonly dim: number, rng: Rng) {
    // MoCo starts from random unit vectors: harmless negatives until real keys arrive.
    const init = new Float32Array(size * dim);
    for (let r = 0; r < size; r++) {
      let n = 0;
      for (let c = 0; c < dim; c++) {
        const v = rng.normal();
        init[r * dim + c] = v;
        n += v * v;
      }
      n = Math.sqrt(n) || 1;
      for (let c = 0; c < dim; c++) init[r * dim + c] /= n;
    }
    this.keys = tf.variable(tf.tensor2d(init, [size, dim]), false);
  }

  get pointer(): number {
    return this.ptr;
  }

  set pointer(p: number) {
    this.ptr = this.size > 0 ? ((p % this.size) + this.size) % this.size : 0;
  }

  /** Row indices, oldest first, that the next `b` keys will overwrite (b ≤ K). */
  slots(b: number): Int32Array {
    const out = new Int32Array(b);
    for (let i = 0; i < b; i++) out[i] = (this.ptr + i) % this.size;
    return out;
  }

  /** Replaces every row (K×d), e.g. with real key embeddings at the start of a run. */
  fill(rows: tf.Tensor2D): void {
    if (rows.shape[0] !== this.size || rows.shape[1] !== this.dim) throw new Error(`queue expects ${this.size}×${this.dim}, got ${rows.shape}`);
    this.keys.assign(rows);
    this.ptr = 0;
  }

  /** Enqueue B×d keys, dropping the oldest. When B > K only the last K survive, as in a FIFO. */
  enqueue(k: tf.Tensor2D): void {
    if (this.size === 0) return;
    const b = k.shape[0];
    tf.tidy(() => {
      const take = Math.min(b, this.size);
      const rows = take < b ? tf.slice(k, [b - take, 0], [take, -1]) : k;
      // Advance past the dropped keys first so the survivors land where a FIFO puts them.
      const start = (this.ptr + (b - take)) % this.size;
      const idx = new Int32Array(take);
      for (let i = 0; i < take; i++) idx[i] = (start + i) % this.size;
      this.keys.assign(tf.tensorScatterUpdate(this.keys, tf.tensor2d(idx, [take, 1], 'int32'), rows));
    });
    this.ptr = (this.ptr + b) % this.size;
  }

  dispose(): void {
    this.keys.dispose();
  }
}
