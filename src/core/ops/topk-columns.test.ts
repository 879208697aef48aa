import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { topkColumns, topKColumnsBlockedInto, topKColumnsInto, TOPK_BLOCKED_FROM } from './topk-columns';
import { Rng } from '../rng';

const rng = new Rng(3);

/** Reference from the definition: per column, rows sorted by value descending, then row ascending, first k. */
function naive(x: Float32Array, n: number, b: number, k: number): { values: number[][]; indices: number[][] } {
  const values: number[][] = [];
  const indices: number[][] = [];
  for (let c = 0; c < b; c++) {
    const rows = Array.from({ length: n }, (_, r) => r).sort((r1, r2) => x[r2 * b + c] - x[r1 * b + c] || r1 - r2);
    indices.push(rows.slice(0, k));
    values.push(rows.slice(0, k).map((r) => x[r * b + c]));
  }
  return { values, indices };
}

async function run(x: Float32Array, n: number, b: number, k: number) {
  const t = tf.tensor2d(x, [n, b]);
  const r = topkColumns(t, k);
  const out = {
    values: (await r.values.array()) as number[][],
    indices: (await r.indices.array()) as number[][],
    shape: r.values.shape,
    dtype: r.indices.dtype,
  };
  tf.dispose([t, r.values, r.indices]);
  return out;
}

describe('topkColumns', () => {
  let before = '';
  beforeAll(() => {
    before = tf.getBackend();
  });
  afterAll(async () => {
    if (before) await tf.setBackend(before);
  });

  for (const backend of ['wasm', 'cpu']) {
    it(`${backend}: equals a sort of each column (random values; integer values full of ties; k = 0, 1, n; one row; one column)`, async () => {
      await tf.setBackend(backend);
      const cases: [number, number, number, (i: number) => number][] = [
        [300, 7, 11, () => rng.normal()],
        [120, 5, 9, () => rng.int(4)], // ties: lower row first
        [40, 3, 0, () => rng.normal()],
        [40, 3, 1, () => rng.normal()],
        [17, 4, 17, () => rng.int(3)],
        [1, 6, 1, () => rng.normal()],
        [50, 1, 10, () => rng.normal()],
      ];
      for (const [n, b, k, gen] of cases) {
        const x = Float32Array.from({ length: n * b }, (_, i) => gen(i));
        const got = await run(x, n, b, k);
        const want = naive(x, n, b, k);
        expect(got.shape).toEqual([b, k]);
        expect(got.dtype).toBe('int32');
        if (k === 0) continue; // array() of a b×0 tensor is [], not b empty rows
        expect(got.indices).toEqual(want.indices);
        expect(got.values).toEqual(want.values);
      }
    });
  }

  it('wasm kernel agrees with transpose + tf.topk on the cpu backend for a 2,000×64 block (the kNN shape)', async () => {
    const x = Float32Array.from({ length: 2000 * 64 }, () => rng.normal());
    await tf.setBackend('cpu');
    const t = tf.tensor2d(x, [2000, 64]);
    const ref = tf.topk(tf.transpose(t), 11);
    const want = { values: await ref.values.array(), indices: await ref.indices.array() };
    tf.dispose([t, ref.values, ref.indices]);
    await tf.setBackend('wasm');
    const got = await run(x, 2000, 64, 11);
    expect(got.indices).toEqual(want.indices);
    expect(got.values).toEqual(want.values);
  });

  it('the block pre-pass gives the plain result: ties, a partial last block, −∞ and NaN columns, fewer blocks than k', () => {
    const blockMaxOf = (x: Float32Array, n: number, b: number, block: number) => {
      const nb = Math.floor(n / block);
      const m = new Float32Array(nb * b).fill(-Infinity);
      for (let blk = 0; blk < nb; blk++)
        for (let r = blk * block; r < blk * block + block; r++)
          for (let c = 0; c < b; c++) m[blk * b + c] = Math.max(m[blk * b + c], x[r * b + c]);
      return m;
    };
    const cases: [number, number, number, () => number][] = [
      [16 * 40 + 7, 5, 11, () => rng.normal()],
      [16 * 30, 4, 9, () => rng.int(3)], // many ties straddling τ
      [16 * 3 + 2, 3, 5, () => rng.normal()], // 3 blocks < k = 5: plain pass
    ];
    for (const [n, b, k, gen] of cases) {
      const x = Float32Array.from({ length: n * b }, gen);
      if (n > 100) {
        // Column 1: mostly −∞ (fewer than k finite values); column 2 of the first case: a NaN.
        for (let r = 0; r < n; r++) if (r % 97 !== 0) x[r * b + 1] = -Infinity;
        x[5 * b + 2] = NaN;
      }
      const want = naive(x, n, b, k);
      const plainV = new Float32Array(b * k);
      const plainI = new Int32Array(b * k);
      topKColumnsInto(x, n, b, k, plainV, plainI);
      const v = new Float32Array(b * k);
      const i = new Int32Array(b * k);
      topKColumnsBlockedInto(x, n, b, k, blockMaxOf(x, n, b, 16), 16, v, i);
      expect(Array.from(i)).toEqual(Array.from(plainI));
      expect(Array.from(v)).toEqual(Array.from(plainV));
      // And the plain kernel agrees with the sort wherever no NaN is involved.
      for (let c = 0; c < b; c++)
        if (!(n > 100 && c === 2)) expect(Array.from(i.subarray(c * k, c * k + k))).toEqual(want.indices[c]);
    }
  });

  it(`wasm, ${TOPK_BLOCKED_FROM}+ rows (max-pool pre-pass): equals transpose + tf.topk on cpu, ties included`, async () => {
    const n = TOPK_BLOCKED_FROM + 37;
    for (const gen of [() => rng.normal(), () => rng.int(5)]) {
      const x = Float32Array.from({ length: n * 8 }, gen);
      await tf.setBackend('cpu');
      const t = tf.tensor2d(x, [n, 8]);
      const ref = tf.topk(tf.transpose(t), 11);
      const want = { values: await ref.values.array(), indices: await ref.indices.array() };
      tf.dispose([t, ref.values, ref.indices]);
      await tf.setBackend('wasm');
      const n0 = tf.memory().numTensors;
      const got = await run(x, n, 8, 11);
      expect(tf.memory().numTensors).toBe(n0);
      expect(got.indices).toEqual(want.indices);
      expect(got.values).toEqual(want.values);
    }
  });

  it('−∞ and NaN entries fill only places nothing else takes, −∞ first, in row order', () => {
    // Column 0: 2, −∞, NaN, 1, −∞; column 1: NaN, NaN, 5, NaN, NaN.
    const x = Float32Array.from([2, NaN, -Infinity, NaN, NaN, 5, 1, NaN, -Infinity, NaN]);
    const values = new Float32Array(10);
    const indices = new Int32Array(10);
    topKColumnsInto(x, 5, 2, 5, values, indices);
    expect(Array.from(indices)).toEqual([0, 3, 1, 4, 2, 2, 0, 1, 3, 4]);
    expect(Array.from(values.subarray(0, 4))).toEqual([2, 1, -Infinity, -Infinity]);
    expect(values[4]).toBeNaN();
    expect(values[5]).toBe(5);
  });

  it('refuses k outside 0..N, and leaves no tensors behind', async () => {
    await tf.setBackend('wasm');
    const t = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    expect(() => topkColumns(t, 3)).toThrow('k = 3 must be a whole number from 0 to 2');
    const n0 = tf.memory().numTensors;
    const r = topkColumns(t, 2);
    expect(tf.memory().numTensors - n0).toBe(2);
    tf.dispose([r.values, r.indices, t]);
  });
});
