import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { OWN_KEY_MASK, ownKeyMask } from './own-key-mask';
import { KeyQueue } from '../clim/queue';
import { Rng } from '../rng';

const M = OWN_KEY_MASK;
/** The mask's rows, −0 (0 × OWN_KEY_MASK) read as 0. */
const rows = async (m: tf.Tensor2D) => (await m.array()).map((r) => r.map((v) => v + 0));

describe('ownKeyMask', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('masks the rows of the anchor’s and the positive’s keys in a hand-built table', async () => {
    // n = 6 images, K = 4 rows: image 1 in row 2, image 3 in row 0, image 4 in row 3; 0, 2, 5 nowhere.
    const table = Int32Array.from([0, 3, 0, 1, 4, 0]);
    const queue = { size: 4, slotTable: (n: number) => (n === 6 ? table : new Int32Array(n)) };
    const anchors = tf.tensor1d([1, 0, 4, 2], 'int32');
    const positives = tf.tensor1d([3, 5, 4, 1], 'int32');
    const m = ownKeyMask(queue, 6, anchors, positives)!;
    expect(m.shape).toEqual([4, 4]);
    expect(await rows(m)).toEqual([
      [M, 0, M, 0], // anchor 1 → row 2, positive 3 → row 0
      [0, 0, 0, 0], // neither 0 nor 5 is queued
      [0, 0, 0, M], // a self positive masks its row once, not twice
      [0, 0, M, 0], // only the positive (1) is queued
    ]);
    tf.dispose([m, anchors, positives]);
  });

  it('is null for an empty queue (nothing to mask)', () => {
    const a = tf.tensor1d([0], 'int32');
    expect(ownKeyMask({ size: 0, slotTable: (n) => new Int32Array(n) }, 3, a, a)).toBeNull();
    a.dispose();
  });

  it("reads a KeyQueue's newest row per image: an id enqueued again masks its new row only", async () => {
    const q = new KeyQueue(3, 2, new Rng(1));
    q.fill(tf.zeros([3, 2]), Int32Array.from([5, 6, 7]));
    q.enqueue(tf.zeros([1, 2]), Int32Array.from([6])); // row 0 now holds 6 too, newer than row 1
    const a = tf.tensor1d([6, 7], 'int32');
    const p = tf.tensor1d([0, 5], 'int32');
    const m = ownKeyMask(q, 8, a, p)!;
    expect(await rows(m)).toEqual([
      [M, 0, 0],
      [0, 0, M],
    ]);
    tf.dispose([m, a, p]);
    q.dispose();
  });
});
