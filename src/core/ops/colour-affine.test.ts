import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { colourAffineKernel, hasColourAffineKernel } from './colour-affine';
import { Rng } from '../rng';

const LUMA = [0.299, 0.587, 0.114];
const K = [LUMA[0], LUMA[0], LUMA[0], LUMA[1], LUMA[1], LUMA[1], LUMA[2], LUMA[2], LUMA[2]];
// Any 3×3 works for the check; a rotation-like one with negative entries exercises the clip.
const S = [0.2, -0.6, 0.4, 0.5, 0.1, -0.6, -0.7, 0.5, 0.2];

/** From the definition, term by term: p·x + q·(x·K) + r·(x·S) + o·mean(x·K), then clip each channel. */
function naive(x: Float32Array, batch: number, coeffs: number[]): number[] {
  const n = x.length / (batch * 3);
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const [p, q, r, o] = coeffs.slice(b * 4, b * 4 + 4);
    const px = (i: number) => [x[(b * n + i) * 3], x[(b * n + i) * 3 + 1], x[(b * n + i) * 3 + 2]];
    const times = (v: number[], m: number[]) => [0, 1, 2].map((j) => v[0] * m[j] + v[1] * m[3 + j] + v[2] * m[6 + j]);
    let sumK = 0;
    for (let i = 0; i < n; i++) sumK += times(px(i), K).reduce((a, c) => a + c, 0);
    const mu = sumK / (n * 3);
    for (let i = 0; i < n; i++) {
      const v = px(i);
      const vk = times(v, K);
      const vs = times(v, S);
      for (let j = 0; j < 3; j++) out.push(Math.min(1, Math.max(0, p * v[j] + q * vk[j] + r * vs[j] + o * mu)));
    }
  }
  return out;
}

describe('colourAffineKernel (WASM)', () => {
  let before = '';
  beforeAll(async () => {
    before = tf.getBackend();
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    if (before) await tf.setBackend(before);
  });

  it('is offered on WASM only', async () => {
    expect(hasColourAffineKernel()).toBe(true);
    await tf.setBackend('cpu');
    expect(hasColourAffineKernel()).toBe(false);
    await tf.setBackend('wasm');
  });

  it('equals the map written term by term: identity, grey, contrast offset, chroma turn, clipping, one image, one pixel', async () => {
    const rng = new Rng(8);
    const cases: [number, number, number[]][] = [
      [3, 5, [1, 0, 0, 0, 0, 1, 0, 0, 0.7, 0.1, 0.4, 0.6]],
      [1, 4, [1.3, -0.2, 0.5, 0.4]],
      [2, 1, [0.9, 0.1, -0.3, 0.2, 2, 0, 0, -0.5]],
    ];
    for (const [batch, side, coeffs] of cases) {
      const x = Float32Array.from({ length: batch * side * side * 3 }, () => rng.uniform(0, 1));
      expect(hasColourAffineKernel()).toBe(true);
      const xt = tf.tensor4d(x, [batch, side, side, 3]);
      const ct = tf.tensor2d(coeffs, [batch, 4]);
      const y = colourAffineKernel(xt, ct, K, S, LUMA);
      expect(y.shape).toEqual([batch, side, side, 3]);
      const got = Array.from(await y.data());
      const want = naive(x, batch, coeffs);
      got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-6));
      // The clip is reached in some of these cases.
      if (coeffs.some((c) => c > 1.2)) expect(got.some((v) => v === 1 || v === 0)).toBe(true);
      tf.dispose([xt, ct, y]);
    }
  });
});
