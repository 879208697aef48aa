import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installFastWasmKernels, installStockWasmKernels } from '../ops/wasm-kernels';
import { Rng } from '../rng';
import { type KMeansState, sphericalKMeans } from './kmeans';
import {
  type Mat,
  blobs,
  dot,
  naiveAssign,
  naiveClusterTables,
  naiveSphericalKMeans,
  normalise,
  randomUnitRows,
  rows,
} from './naive.test-util';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Read {
  centroids: Mat;
  assign: number[];
  sizes: number[];
  meanCentreSim: number[];
  order: number[];
  start: number[];
  rank: number[];
}

async function read(s: KMeansState): Promise<Read> {
  return {
    centroids: rows(await s.centroids.data(), s.centroids.shape[1]),
    assign: Array.from(await s.assignments.data()),
    sizes: Array.from(s.sizes),
    meanCentreSim: Array.from(await s.meanCentreSim.data()),
    order: Array.from(await s.order.data()),
    start: Array.from(await s.start.data()),
    rank: Array.from(await s.rank.data()),
  };
}

async function run(
  x: Mat,
  clusters: number,
  iters: number,
  seed: number,
  init?: Mat,
  blockElements?: number,
  segmentSumFrom?: number,
): Promise<Read> {
  const xt = tf.tensor2d(x);
  const it = init ? tf.tensor2d(init) : null;
  const s = await sphericalKMeans(xt, clusters, iters, new Rng(seed), it, { blockElements, segmentSumFrom });
  const out = await read(s);
  s.dispose();
  tf.dispose([xt, it].filter((t): t is tf.Tensor2D => t !== null));
  return out;
}

function expectClose(a: Mat | number[], b: Mat | number[], digits = 5) {
  expect(a.length).toBe(b.length);
  (a as unknown[]).forEach((v, i) => {
    if (Array.isArray(v)) expectClose(v, (b as Mat)[i], digits);
    else expect(v as number).toBeCloseTo((b as number[])[i], digits);
  });
}

/** The state's tables must equal what direct counting gives from its own assignment and centres. */
function expectConsistent(x: Mat, r: Read) {
  const live = r.centroids.filter((c) => dot(c, c) > 0);
  const ref = naiveClusterTables(x, r.assign, r.centroids);
  expect(r.sizes).toEqual(ref.sizes);
  expect(r.order).toEqual(ref.order);
  expect(r.start).toEqual(ref.start);
  expect(r.rank).toEqual(ref.rank);
  expectClose(r.meanCentreSim, ref.meanCentreSim);
  // Every non-empty centre is the normalised mean of its members (§2 update).
  r.centroids.forEach((c, k) => {
    if (r.sizes[k] === 0) return;
    const sum = new Array(x[0].length).fill(0);
    x.forEach((v, i) => r.assign[i] === k && v.forEach((e, j) => (sum[j] += e)));
    expectClose(c, normalise(sum));
  });
  expect(live.length).toBeGreaterThan(0);
}

/** Assignments equal generating groups up to a relabelling (a bijection group ↔ cluster). */
function expectSameGrouping(assign: number[], group: number[]) {
  const g2c = new Map<number, number>();
  const c2g = new Map<number, number>();
  assign.forEach((c, i) => {
    const g = group[i];
    if (!g2c.has(g)) g2c.set(g, c);
    if (!c2g.has(c)) c2g.set(c, g);
    expect(g2c.get(g)).toBe(c);
    expect(c2g.get(c)).toBe(g);
  });
}

describe('sphericalKMeans (§2)', () => {
  it('recovers well-separated blobs with k-means++ seeding, and its tables match direct counting', async () => {
    const { x, group } = blobs(new Rng(1), 4, 30, 8, 0.1);
    for (const seed of [1, 2, 3]) {
      const r = await run(x, 4, 10, seed);
      expectSameGrouping(r.assign, group);
      expect(r.sizes).toEqual([30, 30, 30, 30]);
      expectConsistent(x, r);
      // Converged: re-assigning to the returned centres changes nothing.
      expect(naiveAssign(x, r.centroids).assign).toEqual(r.assign);
    }
  });

  it('warm-started from given centres, follows the naive Lloyd loop step for step (row blocks of 16)', async () => {
    const { x } = blobs(new Rng(4), 5, 30, 6, 0.35);
    const init = [x[3], x[40], x[41], x[100], x[149]];
    for (const iters of [1, 3, 8]) {
      const ref = naiveSphericalKMeans(x, init, iters);
      // No point sits within 1e-5 of a boundary, so float32 and float64 must agree.
      const margins = x.map((v) => {
        const s = ref.centroids.map((c) => dot(v, c)).sort((a, b) => b - a);
        return s[0] - s[1];
      });
      expect(Math.min(...margins)).toBeGreaterThan(1e-5);
      const r = await run(x, 5, iters, 0, init, 5 * 16);
      expect(r.assign).toEqual(ref.assign);
      expect(r.sizes).toEqual(ref.sizes);
      expectClose(r.centroids, ref.centroids);
      expectConsistent(x, r);
    }
  });

  it('re-seeds an empty cluster with the point least similar to its own centre, then keeps iterating', async () => {
    const { x } = blobs(new Rng(6), 3, 10, 6, 0.15);
    // Centre 3 points away from every row (all rows lean towards e0, e1 or e2): it attracts nothing.
    const away = normalise([-1, -1, -1, 0, 0, 0]);
    const init = [[1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0], away];
    expect(naiveAssign(x, init).assign).not.toContain(3);

    const ref1 = naiveSphericalKMeans(x, init, 1);
    const fit = naiveAssign(x, init);
    const worst = fit.best.indexOf(Math.min(...fit.best));
    expect(ref1.reseeded[0]).toEqual([worst]);
    const r1 = await run(x, 4, 1, 0, init);
    expect(r1.sizes.every((s) => s > 0)).toBe(true);
    expect(r1.assign.map((c, i) => (c === 3 ? i : -1)).filter((i) => i >= 0)).toEqual([worst]);
    expectClose(r1.centroids[3], x[worst]);
    expect(r1.assign).toEqual(ref1.assign);
    expectConsistent(x, r1);

    const ref5 = naiveSphericalKMeans(x, init, 5);
    const r5 = await run(x, 4, 5, 0, init);
    expect(r5.assign).toEqual(ref5.assign);
    expect(r5.sizes.every((s) => s > 0)).toBe(true);
    expectConsistent(x, r5);
  });

  it('never re-seeds from a cluster of one, even when its member is the worst-fitting point', async () => {
    // Six rows near e0 (cluster 0) and one lone row p in cluster 1 at cos ≈ 0.51 to e1: p fits worst
    // of all, but moving it would empty cluster 1, so the worst row of cluster 0 moves instead.
    const rng = new Rng(15);
    const group = Array.from({ length: 6 }, () =>
      normalise([1, 0.1 * rng.normal(), 0.1 * rng.normal(), 0.1 * rng.normal()]),
    );
    const p = normalise([0, 1, 1.7, 0]);
    const x = [...group, p];
    const init = [[1, 0, 0, 0], [0, 1, 0, 0], normalise([-1, -1, -1, 0])];
    const fit = naiveAssign(x, init);
    expect(fit.assign).toEqual([0, 0, 0, 0, 0, 0, 1]);
    expect(Math.min(...fit.best)).toBe(fit.best[6]);
    const worstOfGroup = fit.best.slice(0, 6).indexOf(Math.min(...fit.best.slice(0, 6)));
    const r = await run(x, 3, 1, 0, init);
    expect(r.assign[6]).toBe(1);
    expect(r.assign.map((c, i) => (c === 2 ? i : -1)).filter((i) => i >= 0)).toEqual([worstOfGroup]);
    expect(r.sizes).toEqual([5, 1, 1]);
    expect(r.assign).toEqual(naiveSphericalKMeans(x, init, 1).assign);
  });

  it('fills every cluster when N ≥ C even with duplicate rows (k-means++ seeds collide)', async () => {
    const same = normalise([1, 2, 3]);
    const x = [same, same, same, normalise([3, -1, 0]), same];
    for (const seed of [1, 2, 3, 4]) {
      const r = await run(x, 3, 4, seed);
      expect(r.sizes.reduce((a, b) => a + b, 0)).toBe(5);
      expect(r.sizes.every((s) => s > 0)).toBe(true);
      expectConsistent(x, r);
    }
    const r = await run(x, 5, 2, 1); // C = N: one row per cluster
    expect(r.sizes).toEqual([1, 1, 1, 1, 1]);
  });

  it('C > N does not crash: extra clusters stay empty with zero centres, start N and meanCentreSim 0', async () => {
    const x = randomUnitRows(new Rng(3), 3, 4);
    for (const init of [undefined, randomUnitRows(new Rng(7), 5, 4)]) {
      const r = await run(x, 5, 3, 2, init);
      expect(r.sizes.slice(0, 3)).toEqual([1, 1, 1]);
      expect(r.sizes.slice(3)).toEqual([0, 0]);
      expect(r.centroids[3]).toEqual([0, 0, 0, 0]);
      expect(r.centroids[4]).toEqual([0, 0, 0, 0]);
      expect(r.start).toEqual([0, 1, 2, 3, 3]);
      expect(r.meanCentreSim.slice(3)).toEqual([0, 0]);
      expect([...r.order].sort()).toEqual([0, 1, 2]);
      expectConsistent(x, r);
      // Each row is alone, so its centre is the row itself.
      r.assign.forEach((c, i) => expectClose(r.centroids[c], x[i]));
    }
  });

  it('one image, one cluster; one cluster for many images', async () => {
    const x = [normalise([0.3, 0.4, 0.5])];
    const r = await run(x, 1, 3, 1);
    expect(r.assign).toEqual([0]);
    expect(r.sizes).toEqual([1]);
    expect(r.order).toEqual([0]);
    expect(r.start).toEqual([0]);
    expect(r.rank).toEqual([0]);
    expect(r.meanCentreSim[0]).toBeCloseTo(1, 6);
    const many = randomUnitRows(new Rng(5), 9, 3);
    const all = await run(many, 1, 2, 1); // C = 1: every row in cluster 0
    expect(all.assign).toEqual(new Array(9).fill(0));
    expectConsistent(many, all);
    const more = await run(x, 3, 2, 1);
    expect(more.sizes).toEqual([1, 0, 0]);
    expect(more.start).toEqual([0, 1, 1]);
  });

  it('order/start/rank and meanCentreSim match direct counting when built in many row blocks', async () => {
    const x = randomUnitRows(new Rng(12), 97, 5);
    for (const blockElements of [6, 6 * 10, undefined]) {
      const r = await run(x, 6, 4, 9, undefined, blockElements);
      expectConsistent(x, r);
      for (let i = 0; i < x.length; i++) expect(r.order[r.start[r.assign[i]] + r.rank[i]]).toBe(i);
    }
  });

  it('is reproducible for a fixed seed and rejects a mis-shaped init', async () => {
    const x = randomUnitRows(new Rng(13), 60, 4);
    expect(await run(x, 5, 3, 42)).toEqual(await run(x, 5, 3, 42));
    const xt = tf.tensor2d(x);
    const bad = tf.zeros([4, 4]) as tf.Tensor2D;
    await expect(sphericalKMeans(xt, 5, 3, new Rng(1), bad)).rejects.toThrow(/init is 4×4, expected 5×4/);
    tf.dispose([xt, bad]);
  });

  it('leaves no tensors behind once the state is disposed', async () => {
    const xt = tf.tensor2d(randomUnitRows(new Rng(14), 40, 4));
    const before = tf.memory().numTensors;
    const s = await sphericalKMeans(xt, 6, 3, new Rng(1), null, { blockElements: 24 });
    expect(tf.memory().numTensors).toBe(before + 6);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
    xt.dispose();
  });

  it('wasm backend: same warm-started run as cpu, and k-means++ recovers the blobs there too (one-hot sums, then the segment-sum kernel)', async () => {
    const { x } = blobs(new Rng(4), 5, 30, 6, 0.35);
    const init = [x[3], x[40], x[41], x[100], x[149]];
    const cpu = await run(x, 5, 5, 0, init, 5 * 16);
    const cpuPP = await run(blobs(new Rng(1), 4, 30, 8, 0.1).x, 4, 10, 1);
    await tf.setBackend('wasm');
    try {
      for (const segmentSum of [false, true]) {
        // Without ops/wasm-kernels.ts, WASM has no UnsortedSegmentSum and clusterSums takes the one-hot product;
        // with it, segmentSumFrom 1 makes these few clusters use the segment sum.
        if (segmentSum) installFastWasmKernels();
        expect(tf.getKernel('UnsortedSegmentSum', 'wasm') !== undefined).toBe(segmentSum);
        expect(tf.getBackend()).toBe('wasm');
        const from = segmentSum ? 1 : undefined;
        const wasm = await run(x, 5, 5, 0, init, 5 * 16, from);
        expect(wasm.assign).toEqual(cpu.assign);
        expect(wasm.order).toEqual(cpu.order);
        expect(wasm.rank).toEqual(cpu.rank);
        expect(wasm.start).toEqual(cpu.start);
        expectClose(wasm.centroids, cpu.centroids);
        expectClose(wasm.meanCentreSim, cpu.meanCentreSim);
        const b = blobs(new Rng(1), 4, 30, 8, 0.1);
        const pp = await run(b.x, 4, 10, 1, undefined, undefined, from);
        expectSameGrouping(pp.assign, b.group);
        expect(pp.assign).toEqual(cpuPP.assign);
      }
    } finally {
      installStockWasmKernels();
      tf.unregisterKernel('UnsortedSegmentSum', 'wasm');
      await tf.setBackend('cpu');
    }
  });
});
