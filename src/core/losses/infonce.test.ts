import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { infoNCE, infoNCEShared, mixedInfoNCE } from './infonce';
import { Rng } from '../rng';

function unitRows(n: number, d: number, rng: Rng): number[][] {
  return Array.from({ length: n }, () => {
    const v = Array.from({ length: d }, () => rng.normal());
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

/** Naive per-sample InfoNCE, written straight from the formula. */
function naiveInfoNCE(q: number[][], k: number[][], queue: number[][], t: number): number[] {
  return q.map((qb, b) => {
    const logits = [dot(qb, k[b]) / t, ...queue.map((n) => dot(qb, n) / t)];
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((s, l) => s + Math.exp(l - m), 0));
    return lse - logits[0];
  });
}

describe('infoNCE', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const K of [0, 1, 7]) {
    it(`matches a naive loop with a queue of ${K}`, async () => {
      const rng = new Rng(K + 3);
      const [B, d, T] = [5, 6, 0.2];
      const q = unitRows(B, d, rng);
      const k = unitRows(B, d, rng);
      const queue = unitRows(K, d, rng);
      const got = await infoNCE(tf.tensor2d(q), tf.tensor2d(k), tf.tensor2d(queue.flat(), [K, d]), T).data();
      const want = naiveInfoNCE(q, k, queue, T);
      want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 4));
      if (K === 0) want.forEach((w) => expect(w).toBe(0));
    });
  }

  it('is log(1+K) when all similarities are equal', async () => {
    const d = 4;
    const q = tf.tensor2d([[1, 0, 0, 0]]);
    const k = tf.tensor2d([[0, 1, 0, 0]]);
    const queue = tf.tensor2d(
      [
        [0, 0, 1, 0],
        [0, 0, 0, 1],
        [0, -1, 0, 0],
      ],
      [3, d],
    );
    const got = await infoNCE(q, k, queue, 0.5).data();
    expect(got[0]).toBeCloseTo(Math.log(4), 5);
  });

  it('mixed loss weights the anchor and positive terms by λ per sample', async () => {
    const rng = new Rng(9);
    const [B, d, K, T] = [4, 5, 6, 0.1];
    const q = unitRows(B, d, rng);
    const ka = unitRows(B, d, rng);
    const kp = unitRows(B, d, rng);
    const queue = unitRows(K, d, rng);
    const lambda = [1, 0, 0.25, 0.6];
    const out = mixedInfoNCE(
      tf.tensor2d(q),
      tf.tensor2d(ka),
      tf.tensor2d(kp),
      tf.tensor2d(queue),
      tf.tensor1d(lambda),
      T,
    );
    const la = naiveInfoNCE(q, ka, queue, T);
    const lp = naiveInfoNCE(q, kp, queue, T);
    const want = lambda.reduce((s, l, b) => s + l * la[b] + (1 - l) * lp[b], 0) / B;
    expect((await out.total.data())[0]).toBeCloseTo(want, 4);
    expect((await out.anchor.data())[0]).toBeCloseTo(la.reduce((a, b) => a + b) / B, 4);
    expect((await out.positive.data())[0]).toBeCloseTo(lp.reduce((a, b) => a + b) / B, 4);
  });

  for (const K of [0, 1, 7]) {
    it(`hand-written gradient wrt q equals the tape's gradient of the textbook formula (queue ${K})`, async () => {
      const rng = new Rng(K + 21);
      const [B, d, T] = [4, 5, 0.3];
      const q = tf.tensor2d(unitRows(B, d, rng));
      const k = tf.tensor2d(unitRows(B, d, rng));
      const queue = tf.tensor2d(unitRows(K, d, rng).flat(), [K, d]);
      const w = tf.tensor1d(Array.from({ length: B }, () => rng.normal()));
      const textbook = (x: tf.Tensor2D) => {
        const logits = tf.div(tf.concat([tf.sum(tf.mul(x, k), 1, true), tf.matMul(x, queue, false, true)], 1), T);
        return tf.sub(tf.logSumExp(logits, 1), tf.squeeze(tf.slice(logits, [0, 0], [-1, 1]), [1]));
      };
      const mine = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(infoNCE(x as tf.Tensor2D, k, queue, T), w)))(q);
      const ref = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(textbook(x as tf.Tensor2D), w)))(q);
      const [a, b] = await Promise.all([mine.data(), ref.data()]);
      b.forEach((v, i) => expect(a[i]).toBeCloseTo(v, 4));
      if (K === 0) b.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-6));
    });
  }

  it("mixed loss: gradient wrt q (shared negatives, two keys) equals the tape's gradient of the textbook λ-mixed formula", async () => {
    const rng = new Rng(31);
    const [B, d, K, T] = [5, 6, 9, 0.2];
    const q = tf.tensor2d(unitRows(B, d, rng));
    const ka = tf.tensor2d(unitRows(B, d, rng));
    const kp = tf.tensor2d(unitRows(B, d, rng));
    const queue = tf.tensor2d(unitRows(K, d, rng));
    const lambda = tf.tensor1d([1, 0, 0.3, 0.5, 0.9]);
    const one = (x: tf.Tensor2D, k: tf.Tensor2D) => {
      const logits = tf.div(tf.concat([tf.sum(tf.mul(x, k), 1, true), tf.matMul(x, queue, false, true)], 1), T);
      return tf.sub(tf.logSumExp(logits, 1), tf.squeeze(tf.slice(logits, [0, 0], [-1, 1]), [1]));
    };
    const textbook = (x: tf.Tensor2D) =>
      tf.mean(tf.add(tf.mul(lambda, one(x, ka)), tf.mul(tf.sub(1, lambda), one(x, kp)))) as tf.Scalar;
    const mine = tf.grad((x: tf.Tensor) => mixedInfoNCE(x as tf.Tensor2D, ka, kp, queue, lambda, T).total)(q);
    const ref = tf.grad((x: tf.Tensor) => textbook(x as tf.Tensor2D))(q);
    const [a, b] = await Promise.all([mine.data(), ref.data()]);
    b.forEach((v, i) => expect(a[i]).toBeCloseTo(v, 5));
    expect((await mixedInfoNCE(q, ka, kp, queue, lambda, T).total.data())[0]).toBeCloseTo(
      (await textbook(q).data())[0],
      5,
    );
  });

  it('a −1e4 negMask entry removes that negative: equal to the loss over the queue without it, gradient included', async () => {
    const rng = new Rng(41);
    const [B, d, K, T] = [3, 5, 6, 0.2];
    const q = tf.tensor2d(unitRows(B, d, rng));
    const k = tf.tensor2d(unitRows(B, d, rng));
    const rows = unitRows(K, d, rng);
    // Row b drops negative (2b) only.
    const mask = tf.tensor2d(
      Array.from({ length: B }, (_, b) => Array.from({ length: K }, (_, j) => (j === 2 * b ? -1e4 : 0))),
    );
    const got = await infoNCEShared(q, [k], tf.tensor2d(rows), T, mask).data();
    const qs = await q.array();
    const ks = await k.array();
    for (let b = 0; b < B; b++) {
      const kept = rows.filter((_, j) => j !== 2 * b);
      expect(got[b]).toBeCloseTo(naiveInfoNCE([qs[b]], [ks[b]], kept, T)[0], 4);
      const gMasked = tf.grad((x: tf.Tensor) =>
        tf.sum(tf.slice(infoNCEShared(x as tf.Tensor2D, [k], tf.tensor2d(rows), T, mask), [0, b], [1, 1])),
      )(q);
      const gKept = tf.grad((x: tf.Tensor) =>
        tf.sum(tf.slice(infoNCE(x as tf.Tensor2D, k, tf.tensor2d(kept), T), [b], [1])),
      )(q);
      const [a1, a2] = await Promise.all([gMasked.data(), gKept.data()]);
      a2.forEach((v, i) => expect(a1[i]).toBeCloseTo(v, 4));
    }
  });
});
