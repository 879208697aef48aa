import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { effectiveGroups, groupNorm } from './groupnorm';
import { Rng } from '../rng';

/** GroupNorm as the textbook formula, differentiated by tfjs' own tape: the reference for the hand-written backward. */
function tapeGroupNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const g = effectiveGroups(groups, c);
  const xg = tf.reshape(x, [b, h, w, g, c / g]);
  const { mean, variance } = tf.moments(xg, [1, 2, 4], true);
  const xn = tf.mul(tf.sub(xg, mean), tf.rsqrt(tf.add(variance, 1e-5)));
  return tf.add(tf.mul(tf.reshape(xn, [b, h, w, c]), gamma), beta) as tf.Tensor4D;
}

function randomCase(seed: number, shape: [number, number, number, number]) {
  const rng = new Rng(seed);
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  const vals = Float32Array.from({ length: n }, () => rng.normal() * 3 + 1);
  const c = shape[3];
  return {
    vals,
    gamma: Float32Array.from({ length: c }, () => rng.normal()),
    beta: Float32Array.from({ length: c }, () => rng.normal()),
    // Loss weights make every output position matter differently to the gradient.
    weights: Float32Array.from({ length: n }, () => rng.normal()),
  };
}

async function gradsOf(fn: typeof groupNorm, shape: [number, number, number, number], groups: number, seed: number) {
  const cs = randomCase(seed, shape);
  return tf.tidy(() => {
    const x = tf.tensor4d(cs.vals, shape);
    const gamma = tf.tensor1d(cs.gamma);
    const beta = tf.tensor1d(cs.beta);
    const wt = tf.tensor4d(cs.weights, shape);
    const f = (a: tf.Tensor, g: tf.Tensor, bt: tf.Tensor) =>
      tf.sum(tf.mul(fn(a as tf.Tensor4D, g, bt, groups), wt)) as tf.Scalar;
    const grads = tf.grads(f)([x, gamma, beta]);
    return [fn(x, gamma, beta, groups), ...grads];
  });
}

async function maxRelDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = await Promise.all([a.data(), b.data()]);
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num = Math.max(num, Math.abs(x[i] - y[i]));
    den = Math.max(den, Math.abs(y[i]));
  }
  return num / Math.max(den, 1e-12);
}

describe('groupNorm', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('effectiveGroups clips to C and lowers to a divisor of C', () => {
    expect(effectiveGroups(8, 16)).toBe(8);
    expect(effectiveGroups(8, 4)).toBe(4);
    expect(effectiveGroups(4, 6)).toBe(3);
    expect(effectiveGroups(5, 7)).toBe(1);
  });

  it('normalises each (sample, group) over H, W and the group channels, like a naive loop', async () => {
    const [B, H, W, C, G] = [2, 3, 2, 6, 3];
    const rng = new Rng(11);
    const vals = Array.from({ length: B * H * W * C }, () => rng.normal() * 3 + 1);
    const gamma = Array.from({ length: C }, () => rng.normal());
    const beta = Array.from({ length: C }, () => rng.normal());
    const got = await groupNorm(tf.tensor4d(vals, [B, H, W, C]), tf.tensor1d(gamma), tf.tensor1d(beta), G).data();
    const at = (b: number, h: number, w: number, c: number) => ((b * H + h) * W + w) * C + c;
    const cg = C / G;
    for (let b = 0; b < B; b++) {
      for (let g = 0; g < G; g++) {
        const xs: number[] = [];
        for (let h = 0; h < H; h++)
          for (let w = 0; w < W; w++) for (let c = g * cg; c < (g + 1) * cg; c++) xs.push(vals[at(b, h, w, c)]);
        const mean = xs.reduce((a, v) => a + v, 0) / xs.length;
        const variance = xs.reduce((a, v) => a + (v - mean) ** 2, 0) / xs.length;
        for (let h = 0; h < H; h++)
          for (let w = 0; w < W; w++)
            for (let c = g * cg; c < (g + 1) * cg; c++) {
              const want = ((vals[at(b, h, w, c)] - mean) / Math.sqrt(variance + 1e-5)) * gamma[c] + beta[c];
              expect(got[at(b, h, w, c)]).toBeCloseTo(want, 4);
            }
      }
    }
  });

  // Shapes: several groups of several channels; one channel per group; one group; a 1×1 map; batch 1.
  const cases: [string, [number, number, number, number], number][] = [
    ['B2 4×3 C8 G4', [2, 4, 3, 8], 4],
    ['B3 2×2 C4 G4 (one channel per group)', [3, 2, 2, 4], 4],
    ['B2 3×3 C6 G1 (layer norm)', [2, 3, 3, 6], 1],
    ['B2 1×1 C6 G2', [2, 1, 1, 6], 2],
    ['B1 5×5 C16 G8', [1, 5, 5, 16], 8],
  ];
  for (const [name, shape, groups] of cases) {
    it(`hand-written backward equals the tape's gradients of the textbook formula: ${name}`, async () => {
      const mine = await gradsOf(groupNorm, shape, groups, 3);
      const ref = await gradsOf(tapeGroupNorm, shape, groups, 3);
      const labels = ['y', 'dx', 'dγ', 'dβ'];
      for (let i = 0; i < 4; i++) {
        expect(mine[i].shape, labels[i]).toEqual(ref[i].shape);
        expect(await maxRelDiff(mine[i], ref[i]), labels[i]).toBeLessThan(1e-4);
      }
      tf.dispose([...mine, ...ref]);
    });
  }

  it('the same on WASM as on cpu (values and gradients)', async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    const shape: [number, number, number, number] = [4, 6, 6, 16];
    const ref = await gradsOf(tapeGroupNorm, shape, 8, 5);
    const refVals = await Promise.all(ref.map((t) => t.data()));
    tf.dispose(ref);
    await tf.setBackend('wasm');
    try {
      const mine = await gradsOf(groupNorm, shape, 8, 5);
      for (let i = 0; i < 4; i++) {
        const r = tf.tensor(refVals[i], mine[i].shape);
        expect(await maxRelDiff(mine[i], r)).toBeLessThan(1e-4);
        r.dispose();
      }
      tf.dispose(mine);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
