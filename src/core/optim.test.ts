import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { AdamW, SgdMomentum } from './optim';
import type { Param } from './models/encoder';

function params(): Param[] {
  return [
    { name: 'w', kind: 'weight', variable: tf.variable(tf.tensor1d([1, -2]), true, `w${Math.random()}`) },
    { name: 'g', kind: 'norm', variable: tf.variable(tf.tensor1d([0.5]), true, `g${Math.random()}`) },
  ];
}

describe('optimisers', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('SGD: v ← μv + g + λw (weights only), w ← w − lr·v, as torch.optim.SGD', async () => {
    const p = params();
    const opt = new SgdMomentum(p, 0.9, 0.1);
    const g = { [p[0].variable.name]: tf.tensor1d([0.2, 0.4]), [p[1].variable.name]: tf.tensor1d([1]) };
    // naive
    let w = [1, -2],
      vw = [0, 0],
      gg = 0.5,
      vg = 0;
    for (let s = 0; s < 3; s++) {
      opt.apply(g, 0.5);
      vw = vw.map((v, i) => 0.9 * v + [0.2, 0.4][i] + 0.1 * w[i]);
      w = w.map((x, i) => x - 0.5 * vw[i]);
      vg = 0.9 * vg + 1; // no decay on norm gains
      gg = gg - 0.5 * vg;
    }
    const got = await p[0].variable.data();
    expect(got[0]).toBeCloseTo(w[0], 5);
    expect(got[1]).toBeCloseTo(w[1], 5);
    expect((await p[1].variable.data())[0]).toBeCloseTo(gg, 5);
  });

  it('SGD takes new momentum and weight decay mid-run (a live edit): with both 0 the next update is exactly lr·g', async () => {
    const p = params();
    const opt = new SgdMomentum(p, 0.9, 0.1);
    const g = { [p[0].variable.name]: tf.tensor1d([0.2, 0.4]) };
    opt.apply(g, 0.5);
    const before = await p[0].variable.data();
    opt.setHyperparameters(0, 0);
    opt.apply(g, 0.5);
    const after = await p[0].variable.data();
    // The old μ = 0.9 and λ = 0.1 would add 0.9·v + 0.1·w to the step.
    expect(before[0] - after[0]).toBeCloseTo(0.5 * 0.2, 6);
    expect(before[1] - after[1]).toBeCloseTo(0.5 * 0.4, 6);
  });

  it('AdamW first step moves each weight by lr·(sign(g) + λw)', async () => {
    const p = params();
    const opt = new AdamW(p, 0.01);
    opt.apply({ [p[0].variable.name]: tf.tensor1d([0.3, -0.7]) }, 0.1);
    const got = await p[0].variable.data();
    // bias-corrected m/√v = g/|g| = ±1 on the first step (ε negligible)
    expect(got[0]).toBeCloseTo(1 - 0.1 * (1 + 0.01 * 1), 5);
    expect(got[1]).toBeCloseTo(-2 - 0.1 * (-1 + 0.01 * -2), 5);
  });
});
