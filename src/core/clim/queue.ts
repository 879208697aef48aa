/**
 * MoCo's negative queue (METHOD §1): K key embeddings, FIFO. One queue per
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
  /**
   * Host mirror: the training-image id whose key each row holds (−1: none, e.g.
   * the random initial rows). The queue only ever receives anchor keys, whose
   * ids the trainer knows on the host, so this costs no readback.
   */
  readonly ids: Int32Array;

  constructor(
    readonly size: number,
    readonly dim: number,
    rng: Rng,
  ) {
    // MoCo's random unit vectors, only a placeholder: they are far easier
    // negatives than real keys and would hide early learning, so the trainer
    // replaces them with real keys before step 1 (seedQueues in trainer/bank-rows.ts, §1.3).
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
    // In a tidy: tf.variable shares the initial tensor's data but leaves that tensor alive too.
    this.keys = tf.tidy(() => tf.variable(tf.tensor2d(init, [size, dim]), false));
    this.ids = new Int32Array(size).fill(-1);
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

  /** Replaces every row (K×d), e.g. with real key embeddings at the start of a run; `ids` (K) name their images. */
  fill(rows: tf.Tensor2D, ids?: Int32Array): void {
    if (rows.shape[0] !== this.size || rows.shape[1] !== this.dim)
      throw new Error(`queue expects ${this.size}×${this.dim}, got ${rows.shape}`);
    if (ids && ids.length !== this.size) throw new Error(`queue fill expects ${this.size} ids, got ${ids.length}`);
    this.keys.assign(rows);
    this.ids.set(ids ?? new Int32Array(this.size).fill(-1));
    this.ptr = 0;
  }

  /**
   * For every image id in [0, n): 1 + the row holding its most recently
   * enqueued key, or 0 when no row holds it. Gathered at a batch's anchor and
   * positive ids on the device, this finds the keys to mask (see losses/own-key-mask.ts).
   */
  slotTable(n: number): Int32Array {
    const t = new Int32Array(n);
    // Oldest first, so a later row of the same id wins.
    for (let i = 0; i < this.size; i++) {
      const row = (this.ptr + i) % this.size;
      const id = this.ids[row];
      if (id >= 0 && id < n) t[id] = row + 1;
    }
    return t;
  }

  /** Enqueue B×d keys (of images `ids`, B), dropping the oldest. When B > K only the last K survive, as in a FIFO. */
  enqueue(k: tf.Tensor2D, ids?: Int32Array): void {
    if (this.size === 0) return;
    const b = k.shape[0];
    if (ids && ids.length !== b) throw new Error(`enqueue got ${b} keys but ${ids.length} ids`);
    tf.tidy(() => {
      const take = Math.min(b, this.size);
      const rows = take < b ? tf.slice(k, [b - take, 0], [take, -1]) : k;
      // Advance past the dropped keys first so the survivors land where a FIFO puts them.
      const start = (this.ptr + (b - take)) % this.size;
      const idx = new Int32Array(take);
      for (let i = 0; i < take; i++) idx[i] = (start + i) % this.size;
      this.keys.assign(tf.tensorScatterUpdate(this.keys, tf.tensor2d(idx, [take, 1], 'int32'), rows));
      for (let i = 0; i < take; i++) this.ids[idx[i]] = ids ? ids[b - take + i] : -1;
    });
    this.ptr = (this.ptr + b) % this.size;
  }

  dispose(): void {
    this.keys.dispose();
  }
}
