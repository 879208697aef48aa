import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../rng';
import { knn, knnCount, takeAlongRows } from './knn';
import { type Mat, f32, minGap, naiveKnn, randomUnitRows, rows } from './naive.test-util';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

async function runKnn(query: Mat, bank: Mat, k: number, exclude: number[] | null, chunk?: number) {
  const q = tf.tensor2d(query);
  const b = tf.tensor2d(bank);
  const e = exclude ? tf.tensor1d(exclude, 'int32') : null;
  const r = knn(q, b, k, e, chunk);
  const [bb, kk] = r.indices.shape;
  const out = {
    shape: [bb, kk],
    dtypes: [r.indices.dtype, r.similarities.dtype],
    indices: kk ? rows(await r.indices.data(), kk) : Array.from({ length: bb }, () => [] as number[]),
    sims: kk ? rows(await r.similarities.data(), kk) : Array.from({ length: bb }, () => [] as number[]),
  };
  tf.dispose([q, b, r.indices, r.similarities]);
  e?.dispose();
  return out;
}

/** Small-integer rows: every dot product is exact in float32, and many tie. */
function integerGrid(rng: Rng, n: number, d: number): Mat {
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.int(5) - 2));
}

describe('knn (§3 step 1) against a brute-force sort', () => {
  it('matches exactly on integer data full of ties, with exclusion, across chunk merges (lower index first)', async () => {
    const rng = new Rng(11);
    const bank = integerGrid(rng, 40, 3);
    const anchors = [0, 7, 13, 39, 22];
    const query = anchors.map((i) => bank[i]);
    const ref = naiveKnn(query, bank, 7, anchors);
    // The data really has ties inside the top 7, so the tie rule is exercised.
    expect(ref.sims.some((s) => s.some((v, t) => t > 0 && v === s[t - 1]))).toBe(true);
    for (const chunk of [6, 7, 16384]) {
      const got = await runKnn(query, bank, 7, anchors, chunk);
      expect(got.shape).toEqual([5, 7]);
      expect(got.dtypes).toEqual(['int32', 'float32']);
      expect(got.indices).toEqual(ref.indices);
      expect(got.sims).toEqual(ref.sims);
    }
  });

  it('excluded index first, in the middle, last, or absent from the k+1 candidates (hand-worked, 1-D bank)', async () => {
    // Bank of scalars: sims to query [1] are the values themselves, ranked 5 > 4 > 3 > 2 > 1 > −1 > −2.
    const bank = [[3], [5], [-1], [4], [1], [-2], [2]];
    const query = [[1], [1], [1], [1], [1]];
    // k = 3 → candidates (k+1 = 4) are rows 1, 3, 0, 6 in that order.
    const exclude = [1, 0, 6, 5, 4];
    const got = await runKnn(query, bank, 3, exclude);
    expect(got.indices).toEqual([
      [3, 0, 6], // excluded first
      [1, 3, 6], // excluded in the middle
      [1, 3, 0], // excluded is the (k+1)-th candidate
      [1, 3, 0], // excluded far below: the (k+1)-th candidate is dropped
      [1, 3, 0], // same, excluded just below the candidates
    ]);
    expect(got.sims).toEqual([
      [4, 3, 2],
      [5, 4, 2],
      [5, 4, 3],
      [5, 4, 3],
      [5, 4, 3],
    ]);
    expect(naiveKnn(query, bank, 3, exclude).indices).toEqual(got.indices);
  });

  it('matches on random unit rows (B=8, N=200, chunk 37) and never returns the excluded anchor', async () => {
    const rng = new Rng(5);
    const bank = randomUnitRows(rng, 200, 16);
    const anchors = [3, 50, 199, 0, 120, 77, 78, 150];
    const query = anchors.map((i) => bank[i]);
    // Distinct similarities, so the order does not depend on float rounding.
    for (const [b, i] of anchors.entries()) expect(minGap(bank, query[b], i, 10)).toBeGreaterThan(1e-5);
    const ref = naiveKnn(query, bank, 10, anchors);
    const got = await runKnn(query, bank, 10, anchors, 37);
    expect(got.indices).toEqual(ref.indices);
    got.sims.forEach((r, b) => r.forEach((s, t) => expect(s).toBeCloseTo(ref.sims[b][t], 5)));
    got.indices.forEach((r, b) => expect(r).not.toContain(anchors[b]));
    // Sorted by descending similarity.
    got.sims.forEach((r) => r.forEach((s, t) => t > 0 && expect(s).toBeLessThanOrEqual(r[t - 1])));
  });

  it('without exclude the query row finds itself first (cos = 1)', async () => {
    const bank = randomUnitRows(new Rng(2), 30, 8);
    const got = await runKnn([bank[4], bank[9]], bank, 3, null, 8);
    expect(got.indices.map((r) => r[0])).toEqual([4, 9]);
    got.sims.forEach((r) => expect(r[0]).toBeCloseTo(1, 5));
    expect(got.indices).toEqual(naiveKnn([bank[4], bank[9]], bank, 3, null).indices);
  });

  it('k ≥ N returns every other row (k′ = N − 1 with exclude, N without)', async () => {
    const bank = randomUnitRows(new Rng(9), 12, 4);
    expect(knnCount(50, 12, true)).toBe(11);
    expect(knnCount(50, 12, false)).toBe(12);
    const ex = await runKnn([bank[2], bank[5]], bank, 50, [2, 5], 5);
    expect(ex.shape).toEqual([2, 11]);
    expect(ex.indices).toEqual(naiveKnn([bank[2], bank[5]], bank, 50, [2, 5]).indices);
    expect([...ex.indices[0]].sort((a, b) => a - b)).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const all = await runKnn([bank[2]], bank, 50, null, 5);
    expect(all.shape).toEqual([1, 12]);
    expect(all.indices).toEqual(naiveKnn([bank[2]], bank, 50, null).indices);
  });

  it('a bank of one row: B×0 when that row is excluded, B×1 otherwise', async () => {
    const bank = [[0.6, 0.8]];
    const none = await runKnn(
      [
        [0.6, 0.8],
        [1, 0],
      ],
      bank,
      5,
      [0, 0],
    );
    expect(none.shape).toEqual([2, 0]);
    const one = await runKnn(
      [
        [0.6, 0.8],
        [1, 0],
      ],
      bank,
      5,
      null,
    );
    expect(one.shape).toEqual([2, 1]);
    expect(one.indices).toEqual([[0], [0]]);
    expect(one.sims[0][0]).toBeCloseTo(1, 6);
    expect(one.sims[1][0]).toBeCloseTo(0.6, 6);
  });

  it('B = 1 with chunk 1 (every row its own block)', async () => {
    const bank = f32([
      [1, 0],
      [0, 1],
      [Math.SQRT1_2, Math.SQRT1_2],
      [-1, 0],
      [0.8, 0.6],
    ]);
    const got = await runKnn([bank[0]], bank, 3, [0], 1);
    // Hand-worked: cos to (1,0) is 0, 0.707, −1, 0.8 for rows 1..4 → 4, 2, 1.
    expect(got.indices).toEqual([[4, 2, 1]]);
    expect(got.sims[0][0]).toBeCloseTo(0.8, 6);
    expect(got.sims[0][1]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(got.sims[0][2]).toBeCloseTo(0, 6);
  });

  it('takeAlongRows picks params[b, idx[b, t]] on cpu and wasm (batchDims gather is wrong on wasm)', async () => {
    const [B, M, K] = [4, 36, 9];
    const rng = new Rng(8);
    const params = Array.from({ length: B }, () => Array.from({ length: M }, () => rng.int(1000)));
    const idx = Array.from({ length: B }, () => Array.from({ length: K }, () => rng.int(M)));
    const expected = idx.map((r, b) => r.map((j) => params[b][j])); // naive loop
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const p = tf.tensor2d(params, [B, M], 'int32');
      const i = tf.tensor2d(idx, [B, K], 'int32');
      const out = takeAlongRows(p, i);
      expect(rows(await out.data(), K)).toEqual(expected);
      tf.dispose([p, i, out]);
    }
    await tf.setBackend('cpu');
  });

  it('leaves no tensors behind', async () => {
    const bank = tf.tensor2d(randomUnitRows(new Rng(4), 50, 4));
    const q = bank.slice([0, 0], [3, 4]) as tf.Tensor2D;
    const ex = tf.tensor1d([0, 1, 2], 'int32');
    const before = tf.memory().numTensors;
    const r = knn(q, bank, 5, ex, 7);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([r.indices, r.similarities]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([bank, q, ex]);
  });

  it('wasm backend gives the same neighbours as cpu (random rows, and ties on integer rows)', async () => {
    const bank = randomUnitRows(new Rng(21), 150, 12);
    const anchors = [0, 10, 149, 75];
    const query = anchors.map((i) => bank[i]);
    const grid = integerGrid(new Rng(11), 40, 3);
    const gridAnchors = [0, 7, 13];
    const cpu = await runKnn(query, bank, 9, anchors, 40);
    const cpuGrid = await runKnn(
      gridAnchors.map((i) => grid[i]),
      grid,
      7,
      gridAnchors,
      6,
    );
    await tf.setBackend('wasm');
    try {
      expect(tf.getBackend()).toBe('wasm');
      const wasm = await runKnn(query, bank, 9, anchors, 40);
      expect(wasm.indices).toEqual(cpu.indices);
      wasm.sims.forEach((r, b) => r.forEach((s, t) => expect(s).toBeCloseTo(cpu.sims[b][t], 5)));
      const wasmGrid = await runKnn(
        gridAnchors.map((i) => grid[i]),
        grid,
        7,
        gridAnchors,
        6,
      );
      expect(wasmGrid.indices).toEqual(cpuGrid.indices);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
