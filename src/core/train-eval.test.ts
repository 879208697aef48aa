/**
 * Trainer.evaluate({ full: true }) against the same measures recomputed
 * outside the trainer (naive loops from the definitions where they are
 * cheap), and the promise that evaluating never changes the loss sequence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { EVAL_REPR_MAX, Trainer } from './train';
import { tinyConfig } from './config';
import { makeShapesDataset } from './data/shapes';
import { centreView } from './augment/augment';
import { DEFAULT_PROBE, linearProbe } from './eval/linear-probe';
import { clusterAgreement } from './eval/cluster-metrics';
import { l2Normalize } from './models/encoder';

const data = makeShapesDataset({ seed: 5, nTrain: 120, nTest: 40, size: 16 });

describe('Trainer.evaluate (full)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('linear probe, kNN, alignment, uniformity and cluster agreement match recomputations', async () => {
    const cfg = tinyConfig({ seed: 9 });
    const t = await Trainer.create(cfg, data);
    for (let s = 0; s < 3; s++) await t.trainStep();
    const before = tf.memory().numTensors;
    const e = await t.evaluate({ full: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(e.step).toBe(3);
    expect(e.classes).toBe(data.classNames.length);

    // Linear probe on the same frozen features, computed here.
    const r = cfg.resolutions[0];
    const imgs = (s: typeof data.train) =>
      tf.tidy(() => tf.div(tf.tensor4d(s.images, [s.n, data.size, data.size, 3], 'float32'), 255) as tf.Tensor4D);
    const xtr = imgs(data.train);
    const xte = imgs(data.test);
    const ftr = tf.tidy(() => t.query.features(centreView(xtr, r)));
    const fte = tf.tidy(() => t.query.features(centreView(xte, r)));
    const probe = await linearProbe(ftr, data.train.labels!, fte, data.test.labels!, {
      ...DEFAULT_PROBE,
      classes: e.classes,
    });
    expect(e.linearTop1).toBeCloseTo(probe.top1, 6);
    expect(Array.from(e.confusion!)).toEqual(Array.from(probe.confusion));
    // The confusion matrix counts every held-out image once, and its diagonal is the top-1.
    const K = e.classes;
    let diag = 0;
    let total = 0;
    for (let i = 0; i < K; i++)
      for (let j = 0; j < K; j++) {
        total += e.confusion![i * K + j];
        if (i === j) diag += e.confusion![i * K + j];
      }
    expect(total).toBe(data.test.n);
    expect(diag / total).toBeCloseTo(e.linearTop1!, 10);

    // kNN top-1 stays what the light evaluation reports.
    expect((await t.evaluate()).knnTop1).toBe(e.knnTop1);

    // Uniformity: the definition's double loop over the first view's embeddings is not
    // reachable from outside, so check its range and the bound log E exp(−t‖·‖²) ≤ 0 instead,
    // and that alignment lies in [0, 4] (squared distance of unit vectors).
    expect(e.uniformity!).toBeLessThan(0);
    expect(e.uniformity!).toBeGreaterThanOrEqual(-4 * 2);
    expect(e.alignment!).toBeGreaterThan(0);
    expect(e.alignment!).toBeLessThanOrEqual(4);
    expect(Math.min(data.test.n, EVAL_REPR_MAX)).toBe(40);

    // Cluster agreement equals the metric of the snapshot's assignments.
    const snap = await t.clusterSnapshot();
    const a = clusterAgreement(snap.assignments, data.train.labels!);
    expect(e.clusterNmi).toBeCloseTo(a.nmi, 12);
    expect(e.clusterAri).toBeCloseTo(a.ari, 12);
    expect(e.clusterPurity).toBeCloseTo(a.purity, 12);

    // The same evaluation twice gives the same numbers (its own seeded draws).
    const again = await t.evaluate({ full: true });
    expect(again.alignment).toBe(e.alignment);
    expect(again.uniformity).toBe(e.uniformity);
    tf.dispose([xtr, xte, ftr, fte]);
    t.dispose();
  });

  it('uniformity of the evaluation equals a naive double loop on one-image-per-class embeddings', async () => {
    // With EVAL_REPR_MAX ≥ N, uniformity is over all held-out first views; recompute from
    // alignment's definition on a tiny set where both views are identical (no augmentation).
    const cfg = tinyConfig({ seed: 2, cropScaleMin: 1, cropScaleMax: 1, flipProb: 0, jitterProb: 0, grayscaleProb: 0 });
    const t = await Trainer.create(cfg, data);
    const e = await t.evaluate({ full: true });
    const x = tf.tidy(
      () =>
        tf.div(tf.tensor4d(data.test.images, [data.test.n, data.size, data.size, 3], 'float32'), 255) as tf.Tensor4D,
    );
    const z = tf.tidy(() => l2Normalize(t.query.embed(centreView(x, cfg.resolutions[0]))));
    const zz = await z.array();
    let s = 0;
    let pairs = 0;
    for (let i = 0; i < zz.length; i++)
      for (let j = 0; j < zz.length; j++) {
        if (i === j) continue;
        let d2 = 0;
        for (let k = 0; k < zz[i].length; k++) d2 += (zz[i][k] - zz[j][k]) ** 2;
        s += Math.exp(-2 * d2);
        pairs++;
      }
    expect(e.alignment).toBeCloseTo(0, 5);
    expect(e.uniformity).toBeCloseTo(Math.log(s / pairs), 4);
    tf.dispose([x, z]);
    t.dispose();
  });

  it('evaluating between steps leaves the loss sequence unchanged', async () => {
    const cfg = tinyConfig({ seed: 11 });
    const plain = await Trainer.create(cfg, data);
    const a: number[] = [];
    for (let s = 0; s < 5; s++) a.push((await plain.trainStep()).loss);
    plain.dispose();
    const looked = await Trainer.create(cfg, data);
    const b: number[] = [];
    for (let s = 0; s < 5; s++) {
      b.push((await looked.trainStep()).loss);
      await looked.evaluate({ full: s % 2 === 0 });
    }
    looked.dispose();
    expect(b).toEqual(a);
  });
});
