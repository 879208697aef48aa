import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { alignment, uniformity } from './representation';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function unitRows(rng: Rng, n: number, d: number): number[][] {
  return Array.from({ length: n }, () => {
    const v = Array.from({ length: d }, () => rng.normal());
    const l = Math.hypot(...v);
    return v.map((x) => x / l);
  });
}

describe('alignment and uniformity (Wang & Isola 2020)', () => {
  it('match double loops over the pairs', async () => {
    const rng = new Rng(9);
    const a = unitRows(rng, 12, 5);
    const b = unitRows(rng, 12, 5);
    let al = 0;
    for (let i = 0; i < 12; i++) al += a[i].reduce((s, v, k) => s + (v - b[i][k]) ** 2, 0) / 12;
    expect(await alignment(tf.tensor2d(a), tf.tensor2d(b))).toBeCloseTo(al, 5);
    let u = 0;
    for (let i = 0; i < 12; i++)
      for (let j = 0; j < 12; j++) if (i !== j) u += Math.exp(-2 * a[i].reduce((s, v, k) => s + (v - a[j][k]) ** 2, 0));
    expect(await uniformity(tf.tensor2d(a))).toBeCloseTo(Math.log(u / (12 * 11)), 4);
  });

  it('hand-worked: identical pairs align at 0; two antipodal points give log e^-8 = -8; one point is refused', async () => {
    const z = tf.tensor2d([
      [1, 0],
      [-1, 0],
    ]);
    expect(await alignment(z, z)).toBe(0);
    // ‖z1 − z2‖² = 4, exp(−2·4) for both ordered pairs.
    expect(await uniformity(z)).toBeCloseTo(-8, 5);
    await expect(uniformity(tf.tensor2d([[1, 0]]))).rejects.toThrow(/at least 2/);
  });
});
