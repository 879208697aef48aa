import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../rng';
import { eigSym2, fixSigns, pca2 } from './pca';

/** Naive covariance (float64, divided by N) of row-major N×D data. */
function covariance(x: number[][]): number[][] {
  const n = x.length;
  const d = x[0].length;
  const mean = Array.from({ length: d }, (_, j) => x.reduce((s, r) => s + r[j], 0) / n);
  return Array.from({ length: d }, (_, a) =>
    Array.from({ length: d }, (_, b) => x.reduce((s, r) => s + (r[a] - mean[a]) * (r[b] - mean[b]), 0) / n),
  );
}

/** Cyclic Jacobi eigen-decomposition of a symmetric matrix (float64): values descending, vectors as columns. */
function jacobi(m: number[][]): { values: number[]; vectors: number[][] } {
  const d = m.length;
  const a = m.map((r) => r.slice());
  const v: number[][] = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p][q] ** 2;
    if (off < 1e-24) break;
    for (let p = 0; p < d; p++)
      for (let q = p + 1; q < d; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => a[j][j] - a[i][i]);
  return { values: order.map((i) => a[i][i]), vectors: v.map((r) => order.map((i) => r[i])) };
}

/** The naive PCA: Jacobi's top-2 eigenvectors, the same sign rule, projection of the centred rows. */
function naivePca(x: number[][]) {
  const d = x[0].length;
  const cov = covariance(x);
  const { values, vectors } = jacobi(cov);
  const axes = new Float32Array(d * 2);
  for (let i = 0; i < d; i++) for (let k = 0; k < 2; k++) axes[i * 2 + k] = vectors[i][k] ?? 0;
  fixSigns(axes, d);
  const mean = Array.from({ length: d }, (_, j) => x.reduce((s, r) => s + r[j], 0) / x.length);
  const xy = x.flatMap((r) => [0, 1].map((k) => r.reduce((s, v, j) => s + (v - mean[j]) * axes[j * 2 + k], 0)));
  const total = values.reduce((s, v) => s + v, 0);
  return { axes, xy, values, explained: [values[0] / total, (values[1] ?? 0) / total] };
}

/** N×D rows with standard deviations `scales` along a random orthonormal basis, plus an offset. */
function spectrumData(n: number, scales: number[], rng: Rng): number[][] {
  const d = scales.length;
  const basis = jacobi(
    covariance(Array.from({ length: d + 5 }, () => Array.from({ length: d }, () => rng.normal()))),
  ).vectors;
  return Array.from({ length: n }, () => {
    const z = scales.map((s) => s * rng.normal());
    return Array.from({ length: d }, (_, j) => 3 + z.reduce((s, v, k) => s + v * basis[j][k], 0));
  });
}

async function run(x: number[][], init?: Float32Array) {
  const t = tf.tensor2d(x);
  const r = await pca2(t, { init });
  t.dispose();
  return r;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('pca2', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('eigSym2 diagonalises a symmetric 2×2 (A·v = λ·v, λ1 ≥ λ2)', () => {
    for (const [a, b, c] of [
      [2, 1, 3],
      [5, 0, 1],
      [1, 0, 5],
      [1, -2, 1],
      [4, 4, 4],
    ]) {
      const { values, vectors } = eigSym2(a, b, c);
      expect(values[0]).toBeGreaterThanOrEqual(values[1]);
      for (let k = 0; k < 2; k++) {
        const [x, y] = [vectors[0][k], vectors[1][k]];
        expect(a * x + b * y).toBeCloseTo(values[k] * x, 10);
        expect(b * x + c * y).toBeCloseTo(values[k] * y, 10);
      }
    }
  });

  it('matches a naive Jacobi PCA on data with a clear spectrum (axes, map, explained shares)', async () => {
    const x = spectrumData(400, [5, 3, 1, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.2, 0.1, 0.1], new Rng(1));
    const ref = naivePca(x);
    const before = tf.memory().numTensors;
    const r = await run(x);
    expect(tf.memory().numTensors).toBe(before);
    expect(maxAbsDiff(r.axes, ref.axes)).toBeLessThan(1e-3);
    expect(maxAbsDiff(r.xy, ref.xy)).toBeLessThan(1e-2);
    expect(r.variance[0]).toBeCloseTo(ref.values[0], 2);
    expect(r.variance[1]).toBeCloseTo(ref.values[1], 2);
    expect(r.explained[0]).toBeCloseTo(ref.explained[0], 4);
    expect(r.explained[1]).toBeCloseTo(ref.explained[1], 4);
    // Largest-magnitude component of each axis is positive; axes orthonormal.
    const d = 12;
    let dot = 0;
    for (let i = 0; i < d; i++) dot += r.axes[i * 2] * r.axes[i * 2 + 1];
    expect(Math.abs(dot)).toBeLessThan(1e-5);
  });

  it('a warm start from earlier axes converges to the same answer in a few iterations, with the same signs', async () => {
    const rng = new Rng(2);
    const x = spectrumData(300, [4, 2, 0.5, 0.5, 0.3, 0.2, 0.1, 0.1], rng);
    const cold = await run(x);
    // Perturb the data a little, as training does between snapshots, and warm-start from the old axes.
    const moved = x.map((r) => r.map((v) => v + 0.05 * rng.normal()));
    const ref = naivePca(moved);
    const warm = await run(moved, cold.axes);
    expect(maxAbsDiff(warm.axes, ref.axes)).toBeLessThan(2e-3);
    // Negated axes are not a different start: the sign rule gives the same map.
    const flipped = await run(
      moved,
      cold.axes.map((v) => -v),
    );
    expect(maxAbsDiff(flipped.xy, warm.xy)).toBeLessThan(1e-3);
  });

  it('N < D: rank N−1 covariance, still matches the naive PCA on the first axis and the map', async () => {
    const rng = new Rng(3);
    const x = Array.from({ length: 4 }, () => Array.from({ length: 20 }, () => rng.normal()));
    const ref = naivePca(x);
    const r = await run(x);
    expect(maxAbsDiff(r.xy, ref.xy)).toBeLessThan(1e-3);
    expect(r.explained[0] + r.explained[1]).toBeLessThanOrEqual(1 + 1e-6);
    // Two points span one direction: the second axis explains nothing and maps every point to 0.
    const two = await run(x.slice(0, 2));
    expect(two.explained[0]).toBeCloseTo(1, 5);
    expect(two.explained[1]).toBeCloseTo(0, 5);
    expect(Math.abs(two.xy[1]) + Math.abs(two.xy[3])).toBeLessThan(1e-4);
    expect(two.xy[0]).toBeCloseTo(-two.xy[2], 4);
  });

  it('N = 1 and identical rows give a zero map, zero explained variance and no NaN', async () => {
    for (const x of [[[0.3, -1, 2]], Array.from({ length: 5 }, () => [0.3, -1, 2, 7])]) {
      const r = await run(x);
      expect(Array.from(r.xy).every((v) => v === 0)).toBe(true);
      expect(r.explained).toEqual([0, 0]);
      expect(Array.from(r.axes).every(Number.isFinite)).toBe(true);
    }
  });

  it('D = 1: the one axis carries all the variance', async () => {
    const r = await run([[1], [2], [4]]);
    expect(r.explained[0]).toBeCloseTo(1, 5);
    expect(Array.from(r.xy.filter((_, i) => i % 2 === 0)).map((v) => +v.toFixed(4))).toEqual([
      -1.3333, -0.3333, 1.6667,
    ]);
  });
});
