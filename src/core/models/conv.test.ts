import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { conv2dSame, rot180, setConvGradMode } from './conv';
import { Rng } from '../rng';

/** Random tensor from the seeded generator, as plain values usable on any backend. */
function randn(shape: number[], rng: Rng): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

interface Case {
  b: number;
  h: number;
  ci: number;
  co: number;
  k: number;
  s: number;
}
const cases: Case[] = [
  { b: 2, h: 8, ci: 3, co: 4, k: 3, s: 1 },
  { b: 3, h: 8, ci: 4, co: 5, k: 3, s: 2 },
  { b: 2, h: 8, ci: 4, co: 6, k: 1, s: 2 },
  { b: 1, h: 6, ci: 2, co: 3, k: 5, s: 1 },
  { b: 2, h: 12, ci: 3, co: 2, k: 5, s: 2 },
  { b: 1, h: 1, ci: 1, co: 1, k: 3, s: 1 },
  // Stride 3: one tap per phase (k = 3), and phases reaching both ways (k = 5: d from −1 to 1).
  { b: 2, h: 9, ci: 2, co: 3, k: 3, s: 3 },
  { b: 1, h: 9, ci: 3, co: 2, k: 5, s: 3 },
];

/** Gradients of sum(conv(x, w) ⊙ g) w.r.t. x and w, so every output position has a distinct weight. */
async function grads(c: Case, seed: number) {
  const rng = new Rng(seed);
  const ho = Math.ceil(c.h / c.s);
  const x = tf.tensor4d(randn([c.b, c.h, c.h, c.ci], rng), [c.b, c.h, c.h, c.ci]);
  const w = tf.tensor4d(randn([c.k, c.k, c.ci, c.co], rng), [c.k, c.k, c.ci, c.co]);
  const g = tf.tensor4d(randn([c.b, ho, ho, c.co], rng), [c.b, ho, ho, c.co]);
  const f = (xi: tf.Tensor, wi: tf.Tensor) => tf.sum(tf.mul(conv2dSame(xi as tf.Tensor4D, wi as tf.Tensor4D, c.s), g));
  const [dx, dw] = tf.grads(f)([x, w]);
  const value = await tf.conv2d(x, w, c.s, 'same').data();
  const out = { dx: await dx.data(), dw: await dw.data(), value };
  tf.dispose([x, w, g, dx, dw]);
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('conv2dSame forward-conv gradients', () => {
  afterAll(() => setConvGradMode('auto'));

  it('match the cpu backend native Conv2DBackpropInput/Filter (cpu, forward mode)', async () => {
    await tf.setBackend('cpu');
    for (const [i, c] of cases.entries()) {
      setConvGradMode('native');
      const ref = await grads(c, 100 + i);
      setConvGradMode('forward');
      const got = await grads(c, 100 + i);
      expect(maxAbsDiff(got.dx, ref.dx), `dx ${JSON.stringify(c)}`).toBeLessThan(1e-4);
      expect(maxAbsDiff(got.dw, ref.dw), `dw ${JSON.stringify(c)}`).toBeLessThan(1e-4);
    }
  });

  describe('on wasm', () => {
    beforeAll(async () => {
      await tf.setBackend('wasm');
    });
    it('trains: wasm forward-conv gradients equal cpu native gradients', async () => {
      for (const [i, c] of cases.entries()) {
        await tf.setBackend('cpu');
        setConvGradMode('native');
        const ref = await grads(c, 200 + i);
        await tf.setBackend('wasm');
        setConvGradMode('auto'); // auto picks forward-conv gradients on wasm
        const got = await grads(c, 200 + i);
        expect(maxAbsDiff(got.value, ref.value)).toBeLessThan(1e-4);
        expect(maxAbsDiff(got.dx, ref.dx), `dx ${JSON.stringify(c)}`).toBeLessThan(1e-3);
        expect(maxAbsDiff(got.dw, ref.dw), `dw ${JSON.stringify(c)}`).toBeLessThan(1e-3);
      }
    });
  });

  it('rot180 equals a naive index flip of both spatial axes (3×3, 1×1, 5×3)', async () => {
    await tf.setBackend('cpu');
    const rng = new Rng(9);
    for (const [kh, kw, ci, co] of [
      [3, 3, 2, 3],
      [1, 1, 4, 2],
      [5, 3, 2, 2],
    ]) {
      const vals = randn([kh, kw, ci, co], rng);
      const got = await rot180(tf.tensor4d(vals, [kh, kw, ci, co])).data();
      const at = (a: number, b: number, i: number, o: number) => ((a * kw + b) * ci + i) * co + o;
      for (let a = 0; a < kh; a++)
        for (let b = 0; b < kw; b++)
          for (let i = 0; i < ci; i++)
            for (let o = 0; o < co; o++) {
              expect(got[at(a, b, i, o)]).toBe(vals[at(kh - 1 - a, kw - 1 - b, i, o)]);
            }
    }
  });
});
