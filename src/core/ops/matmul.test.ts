import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { matMulABt, matMulAtB, matMulFastGrad } from './matmul';
import { Rng } from '../rng';

function rand(shape: [number, number], rng: Rng): tf.Tensor2D {
  return tf.tensor2d(
    Float32Array.from({ length: shape[0] * shape[1] }, () => rng.normal()),
    shape,
  );
}

/** Naive triple loop over plain arrays: the reference every backend is held to. */
async function naive(a: tf.Tensor2D, b: tf.Tensor2D, ta: boolean, tb: boolean): Promise<number[]> {
  const [A, B] = await Promise.all([a.array(), b.array()]);
  const at = (i: number, k: number) => (ta ? A[k][i] : A[i][k]);
  const bt = (k: number, j: number) => (tb ? B[j][k] : B[k][j]);
  const m = ta ? A[0].length : A.length;
  const kk = ta ? A.length : A[0].length;
  const n = tb ? B.length : B[0].length;
  const out: number[] = [];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < kk; k++) s += at(i, k) * bt(k, j);
      out.push(s);
    }
  return out;
}

async function close(t: tf.Tensor, want: number[]) {
  const got = await t.data();
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 3));
}

describe.each(['cpu', 'wasm'])('matmul helpers on %s', (backend) => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  // Both branches of matMulABt: result smaller than bᵀ (3×7 vs 7×5) and larger (9×2 vs 2×3).
  const shapes: [[number, number], [number, number]][] = [
    [
      [3, 5],
      [7, 5],
    ],
    [
      [9, 3],
      [2, 3],
    ],
    [
      [1, 4],
      [1, 4],
    ],
  ];
  it('a·bᵀ and aᵀ·b equal a naive loop', async () => {
    await tf.setBackend(backend);
    const rng = new Rng(4);
    for (const [sa, sb] of shapes) {
      const a = rand(sa, rng);
      const b = rand(sb, rng);
      await close(matMulABt(a, b), await naive(a, b, false, true));
      const c = rand([sa[0], sb[0]], rng);
      await close(matMulAtB(a, c), await naive(a, c, true, false));
    }
  });

  it("matMulFastGrad's value and gradients equal tfjs matMul's tape", async () => {
    await tf.setBackend(backend);
    const rng = new Rng(5);
    const a = rand([6, 4], rng);
    const b = rand([4, 3], rng);
    const w = rand([6, 3], rng); // weights every output differently
    const f = (mm: typeof matMulFastGrad) =>
      tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(mm(x as tf.Tensor2D, y as tf.Tensor2D), w)) as tf.Scalar)([
        a,
        b,
      ]);
    const mine = f(matMulFastGrad);
    const ref = f((x, y) => tf.matMul(x, y));
    await close(matMulFastGrad(a, b), await naive(a, b, false, false));
    for (let i = 0; i < 2; i++) await close(mine[i], Array.from(await ref[i].data()));
  });
});
