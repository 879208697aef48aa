import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { KeyQueue } from './queue';
import { Rng } from '../rng';

/** A naive FIFO of row ids, the reference for the ring buffer. */
function naiveFifo(size: number, init: number[], batches: number[][]): number[] {
  let q = [...init];
  for (const b of batches) q = [...q, ...b].slice(-size);
  return q;
}

describe('KeyQueue', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [K, B] of [[7, 3], [5, 5], [4, 6], [1, 2]]) {
    it(`is a FIFO with K=${K}, batch=${B} (batch not dividing the queue)`, async () => {
      const q = new KeyQueue(K, 1, new Rng(1));
      q.keys.assign(tf.tensor2d(Array.from({ length: K }, (_, i) => -1 - i), [K, 1]));
      const batches: number[][] = [];
      let next = 1;
      for (let s = 0; s < 5; s++) {
        const b = Array.from({ length: B }, () => next++);
        batches.push(b);
        q.enqueue(tf.tensor2d(b, [B, 1]));
      }
      const rows = Array.from(await q.keys.data());
      const want = naiveFifo(K, Array.from({ length: K }, (_, i) => -1 - i), batches);
      // The ring buffer holds the FIFO's contents rotated by the write pointer.
      const ordered = Array.from({ length: K }, (_, i) => rows[(q.pointer + i) % K]);
      expect(ordered).toEqual(want);
      q.dispose();
    });
  }

  it('with size 0 does nothing', async () => {
    const q = new KeyQueue(0, 4, new Rng(1));
    q.enqueue(tf.ones([3, 4]));
    expect(q.keys.shape).toEqual([0, 4]);
    q.dispose();
  });

  it('starts with unit rows drawn from the seed', async () => {
    const a = new KeyQueue(6, 5, new Rng(4));
    const b = new KeyQueue(6, 5, new Rng(4));
    const va = await a.keys.data();
    expect(Array.from(va)).toEqual(Array.from(await b.keys.data()));
    for (let r = 0; r < 6; r++) {
      let n = 0;
      for (let c = 0; c < 5; c++) n += va[r * 5 + c] ** 2;
      expect(n).toBeCloseTo(1, 5);
    }
  });
});
