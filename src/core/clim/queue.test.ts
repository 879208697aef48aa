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

  for (const [K, B] of [
    [7, 3],
    [5, 5],
    [4, 6],
    [1, 2],
  ]) {
    it(`is a FIFO with K=${K}, batch=${B} (batch not dividing the queue)`, async () => {
      const q = new KeyQueue(K, 1, new Rng(1));
      q.keys.assign(
        tf.tensor2d(
          Array.from({ length: K }, (_, i) => -1 - i),
          [K, 1],
        ),
      );
      const batches: number[][] = [];
      let next = 1;
      for (let s = 0; s < 5; s++) {
        const b = Array.from({ length: B }, () => next++);
        batches.push(b);
        q.enqueue(tf.tensor2d(b, [B, 1]));
      }
      const rows = Array.from(await q.keys.data());
      const want = naiveFifo(
        K,
        Array.from({ length: K }, (_, i) => -1 - i),
        batches,
      );
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

  for (const [K, B] of [
    [7, 3],
    [4, 6],
    [1, 2],
  ]) {
    it(`ids follow the keys and slotTable names each id's newest row (K=${K}, batch=${B})`, async () => {
      const q = new KeyQueue(K, 1, new Rng(1));
      const n = 9;
      const rng = new Rng(K * 10 + B);
      for (let s = 0; s < 6; s++) {
        const ids = Int32Array.from({ length: B }, () => rng.int(n));
        // Key value = id, so the key rows and the id mirror can be compared.
        q.enqueue(tf.tensor2d(Array.from(ids), [B, 1]), ids);
        const rows = await q.keys.data();
        for (let r = 0; r < K; r++) if (q.ids[r] >= 0) expect(rows[r]).toBe(q.ids[r]);
        // Naive reference: scan rows oldest → newest, the last row holding an id wins.
        const table = q.slotTable(n);
        for (let id = 0; id < n; id++) {
          let want = 0;
          for (let i = 0; i < K; i++) {
            const row = (q.pointer + i) % K;
            if (q.ids[row] === id) want = row + 1;
          }
          expect(table[id]).toBe(want);
        }
      }
      q.dispose();
    });
  }

  it('fill records ids; rows without ids are −1 and never appear in the table', () => {
    const q = new KeyQueue(3, 2, new Rng(1));
    expect(Array.from(q.slotTable(4))).toEqual([0, 0, 0, 0]);
    q.fill(tf.ones([3, 2]), Int32Array.from([2, 0, 2]));
    expect(Array.from(q.ids)).toEqual([2, 0, 2]);
    expect(Array.from(q.slotTable(4))).toEqual([2, 0, 3, 0]);
    q.enqueue(tf.ones([1, 2]));
    expect(Array.from(q.ids)).toEqual([-1, 0, 2]);
    expect(Array.from(q.slotTable(4))).toEqual([2, 0, 3, 0]);
    q.dispose();
  });
});
