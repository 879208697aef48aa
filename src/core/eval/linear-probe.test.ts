import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { linearProbe, probeGradients } from './linear-probe';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Softmax cross-entropy + (λ/2)‖W‖² and its gradients in plain float64 loops, from the definitions. */
function naive(x: number[][], labels: number[], w: number[][], b: number[], lambda: number) {
  const n = x.length;
  const F = w.length;
  const K = b.length;
  let loss = 0;
  const dw = w.map((r) => r.map(() => 0));
  const db = b.map(() => 0);
  for (let i = 0; i < n; i++) {
    const z = b.map((bk, k) => bk + x[i].reduce((a, xf, f) => a + xf * w[f][k], 0));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, v) => a + v, 0);
    const p = e.map((v) => v / sum);
    loss -= Math.log(p[labels[i]]) / n;
    for (let k = 0; k < K; k++) {
      const d = (p[k] - (k === labels[i] ? 1 : 0)) / n;
      db[k] += d;
      for (let f = 0; f < F; f++) dw[f][k] += x[i][f] * d;
    }
  }
  for (let f = 0; f < F; f++)
    for (let k = 0; k < K; k++) {
      loss += 0.5 * lambda * w[f][k] ** 2;
      dw[f][k] += lambda * w[f][k];
    }
  return { loss, dw, db };
}

describe('probeGradients', () => {
  it('equals the loss and gradients written from the definition', async () => {
    const rng = new Rng(3);
    const N = 7,
      F = 5,
      K = 4;
    const x = Array.from({ length: N }, () => Array.from({ length: F }, () => rng.normal()));
    const labels = Array.from({ length: N }, () => rng.int(K));
    const w = Array.from({ length: F }, () => Array.from({ length: K }, () => rng.normal() * 0.5));
    const b = Array.from({ length: K }, () => rng.normal() * 0.1);
    const ref = naive(x, labels, w, b, 0.01);
    const g = probeGradients(
      tf.tensor2d(x),
      tf.oneHot(tf.tensor1d(labels, 'int32'), K).toFloat() as tf.Tensor2D,
      tf.tensor2d(w),
      tf.tensor1d(b),
      0.01,
    );
    expect((await g.loss.data())[0]).toBeCloseTo(ref.loss, 5);
    const dw = await g.dw.data();
    ref.dw.flat().forEach((v, i) => expect(dw[i]).toBeCloseTo(v, 5));
    const db = await g.db.data();
    ref.db.forEach((v, i) => expect(db[i]).toBeCloseTo(v, 5));
  });
});

describe('linearProbe', () => {
  it('separates linearly separable classes perfectly and leaves no tensor behind', async () => {
    // Three classes around well-separated centres in 6-d, plus a constant feature (σ = 0 must stay finite).
    const rng = new Rng(11);
    const centres = [
      [4, 0, 0, 0, 0],
      [0, 4, 0, 0, 0],
      [0, 0, 4, 0, 0],
    ];
    const make = (n: number) => {
      const rows: number[][] = [];
      const labels: number[] = [];
      for (let i = 0; i < n; i++) {
        const c = i % 3;
        rows.push([...centres[c].map((v) => v + rng.normal() * 0.5), 1]);
        labels.push(c);
      }
      return { x: tf.tensor2d(rows), y: Int32Array.from(labels) };
    };
    const tr = make(90);
    const te = make(30);
    const before = tf.memory().numTensors;
    const r = await linearProbe(tr.x, tr.y, te.x, te.y, {
      classes: 3,
      steps: 100,
      lr: 0.5,
      momentum: 0.9,
      weightDecay: 1e-4,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.top1).toBe(1);
    expect(Array.from(r.confusion)).toEqual([10, 0, 0, 0, 10, 0, 0, 0, 10]);
    expect(r.trainLoss).toBeLessThan(0.1);
  });

  it('scores chance-level labels near chance and counts every test row once in the confusion matrix', async () => {
    const rng = new Rng(5);
    const x = tf.tensor2d(Array.from({ length: 200 }, () => Array.from({ length: 4 }, () => rng.normal())));
    const labels = Int32Array.from({ length: 200 }, () => rng.int(2));
    const xt = tf.tensor2d(Array.from({ length: 400 }, () => Array.from({ length: 4 }, () => rng.normal())));
    const lt = Int32Array.from({ length: 400 }, () => rng.int(2));
    const r = await linearProbe(x, labels, xt, lt, {
      classes: 2,
      steps: 50,
      lr: 0.5,
      momentum: 0.9,
      weightDecay: 1e-4,
    });
    expect(r.confusion.reduce((a, v) => a + v, 0)).toBe(400);
    // Row sums are the true class counts.
    expect(r.confusion[0] + r.confusion[1]).toBe(lt.filter((v) => v === 0).length);
    expect(r.top1).toBeGreaterThan(0.4);
    expect(r.top1).toBeLessThan(0.6);
  });
});
