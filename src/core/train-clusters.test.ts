import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { GALLERY_SIZE, MAP_MAX_POINTS, Trainer, clusterGalleries, sampleSubset } from './train';
import { tinyConfig } from './config';
import { makeShapesDataset } from './data/shapes';
import { clusterAgreement } from './eval/cluster-metrics';
import { Rng } from './rng';

const data = makeShapesDataset({ seed: 7, nTrain: 120, nTest: 24, size: 16 });

/** Naive galleries: sort each cluster's members by similarity (desc / asc), ties by index. */
function naiveGalleries(assign: ArrayLike<number>, sims: ArrayLike<number>, clusters: number, g: number) {
  const near = new Int32Array(clusters * g).fill(-1);
  const far = new Int32Array(clusters * g).fill(-1);
  for (let c = 0; c < clusters; c++) {
    const members = Array.from({ length: assign.length }, (_, i) => i).filter((i) => assign[i] === c);
    const desc = [...members].sort((a, b) => sims[b] - sims[a] || a - b);
    const asc = [...members].sort((a, b) => sims[a] - sims[b] || a - b);
    desc.slice(0, g).forEach((v, k) => (near[c * g + k] = v));
    asc.slice(0, g).forEach((v, k) => (far[c * g + k] = v));
  }
  return { near, far };
}

describe('clusterGalleries', () => {
  it('equals a per-cluster sort on random data with ties, small and empty clusters', () => {
    const rng = new Rng(9);
    for (let trial = 0; trial < 30; trial++) {
      const n = rng.int(80);
      const C = 1 + rng.int(12);
      const g = 1 + rng.int(7);
      const assign = Int32Array.from({ length: n }, () => rng.int(C));
      // Coarse similarities so ties are common.
      const sims = Float32Array.from({ length: n }, () => Math.round(rng.uniform(-1, 1) * 4) / 4);
      const got = clusterGalleries(assign, sims, C, g);
      const want = naiveGalleries(assign, sims, C, g);
      expect(Array.from(got.near)).toEqual(Array.from(want.near));
      expect(Array.from(got.far)).toEqual(Array.from(want.far));
    }
  });
});

describe('sampleSubset', () => {
  it('draws distinct ascending indices, reproducibly from the seed; all when max ≥ n', () => {
    const a = sampleSubset(1000, 100, new Rng(1));
    expect(a.length).toBe(100);
    expect(new Set(a).size).toBe(100);
    for (let i = 1; i < a.length; i++) expect(a[i]).toBeGreaterThan(a[i - 1]);
    expect(Array.from(sampleSubset(1000, 100, new Rng(1)))).toEqual(Array.from(a));
    expect(Array.from(sampleSubset(1000, 100, new Rng(2)))).not.toEqual(Array.from(a));
    expect(Array.from(sampleSubset(5, 9, new Rng(1)))).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('Trainer cluster snapshot, map and dumps', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('galleries are the nearest and farthest members by cos(z, μ_c), recomputed naively from the bank; metrics equal cluster-metrics', async () => {
    // k-means after every step: the centres are then the normalised means of the current members.
    const t = await Trainer.create(tinyConfig({ clusters: 5, kmeansEvery: 1 }), data);
    for (let s = 0; s < 2; s++) await t.trainStep();
    const snap = await t.clusterSnapshot();
    const d = t.bank.dim;
    const bank = await t.bank.tensor.data();
    const C = snap.sizes.length;
    // Spherical k-means centres: μ_c = normalise(Σ_{i∈c} z_i) (kmeans.ts), in float64.
    const mu = Array.from({ length: C }, () => new Float64Array(d));
    snap.assignments.forEach((c, i) => {
      for (let j = 0; j < d; j++) mu[c][j] += bank[i * d + j];
    });
    for (const m of mu) {
      const norm = Math.hypot(...m);
      if (norm > 0) for (let j = 0; j < d; j++) m[j] /= norm;
    }
    const sims = Array.from(snap.assignments, (c, i) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += bank[i * d + j] * mu[c][j];
      return s;
    });
    const g = GALLERY_SIZE;
    expect(snap.gallerySize).toBe(g);
    expect(snap.galleryNear.length).toBe(C * g);
    for (let c = 0; c < C; c++) {
      const members = sims.map((s, i) => ({ s, i })).filter(({ i }) => snap.assignments[i] === c);
      const desc = members.map((m) => m.s).sort((a, b) => b - a);
      const count = Math.min(g, members.length);
      const near = Array.from(snap.galleryNear.subarray(c * g, c * g + g));
      const far = Array.from(snap.galleryFar.subarray(c * g, c * g + g));
      // Members only, padded with −1; compared by similarity so float32-vs-float64 ties cannot flip the test.
      expect(near.slice(count).every((v) => v === -1)).toBe(true);
      expect(far.slice(count).every((v) => v === -1)).toBe(true);
      near.slice(0, count).forEach((i, k) => {
        expect(snap.assignments[i]).toBe(c);
        expect(sims[i]).toBeCloseTo(desc[k], 5);
      });
      far.slice(0, count).forEach((i, k) => {
        expect(snap.assignments[i]).toBe(c);
        expect(sims[i]).toBeCloseTo(desc[desc.length - 1 - k], 5);
      });
    }
    // nearest[c]: the image (any cluster) most similar to μ_c, by the naive similarities.
    for (let c = 0; c < C; c++) {
      const simTo = (i: number) => mu[c].reduce((s, v, j) => s + v * bank[i * d + j], 0);
      let best = -Infinity;
      for (let i = 0; i < data.train.n; i++) best = Math.max(best, simTo(i));
      expect(simTo(snap.nearest[c])).toBeCloseTo(best, 5);
    }
    const labels = data.train.labels as Int32Array;
    const agree = clusterAgreement(snap.assignments, labels);
    expect(snap.purity).toBe(agree.purity);
    expect(snap.nmi).toBe(agree.nmi);
    expect(snap.ari).toBe(agree.ari);
    t.dispose();
  });

  it('without labels the metrics are null', async () => {
    const unlabelled = { ...data, train: { ...data.train, labels: null }, test: { ...data.test, labels: null } };
    const t = await Trainer.create(tinyConfig({ clusters: 3 }), unlabelled);
    const snap = await t.clusterSnapshot();
    expect([snap.purity, snap.nmi, snap.ari]).toEqual([null, null, null]);
    const p = await t.projectionSnapshot();
    expect(p.label).toBeNull();
    t.dispose();
  });

  it('the PCA map covers the whole bank (N ≤ MAP_MAX_POINTS), carries c(i) and labels, and its axis variances are the explained shares of the bank’s total variance', async () => {
    const t = await Trainer.create(tinyConfig({ clusters: 4 }), data);
    await t.trainStep();
    const snap = await t.clusterSnapshot();
    const p = await t.projectionSnapshot(snap.assignments);
    const n = data.train.n;
    expect(MAP_MAX_POINTS).toBeGreaterThanOrEqual(n);
    expect(p.method).toBe('pca');
    expect(Array.from(p.index)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(p.xy.length).toBe(2 * n);
    expect(Array.from(p.cluster)).toEqual(Array.from(snap.assignments));
    expect(Array.from(p.label as Int32Array)).toEqual(Array.from(data.train.labels as Int32Array));
    // Naive total variance (trace of the covariance) of the bank, float64.
    const d = t.bank.dim;
    const bank = await t.bank.tensor.data();
    let total = 0;
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += bank[i * d + j] / n;
      for (let i = 0; i < n; i++) total += (bank[i * d + j] - m) ** 2 / n;
    }
    const [e1, e2] = p.explained as [number, number];
    expect(e1).toBeGreaterThanOrEqual(e2);
    for (let k = 0; k < 2; k++) {
      let v = 0;
      let m = 0;
      for (let i = 0; i < n; i++) m += p.xy[i * 2 + k] / n;
      expect(Math.abs(m)).toBeLessThan(1e-4); // centred
      for (let i = 0; i < n; i++) v += (p.xy[i * 2 + k] - m) ** 2 / n;
      expect(v / total).toBeCloseTo(k === 0 ? e1 : e2, 3);
    }
    // A second snapshot warm-starts from the first one's axes: same bank, same map.
    const again = await t.projectionSnapshot(snap.assignments);
    for (let i = 0; i < p.xy.length; i++) expect(again.xy[i]).toBeCloseTo(p.xy[i], 3);
    t.dispose();
  });

  it('embeddingsDump returns the bank rows it names; a smaller max is a seeded subset', async () => {
    const t = await Trainer.create(tinyConfig({ clusters: 4 }), data);
    const full = await t.embeddingsDump(MAP_MAX_POINTS);
    const bank = await t.bank.tensor.data();
    const d = t.bank.dim;
    expect(full.dim).toBe(d);
    expect(full.index.length).toBe(data.train.n);
    expect(Array.from(full.vectors)).toEqual(Array.from(bank));
    const part = await t.embeddingsDump(50);
    expect(part.index.length).toBe(50);
    expect(part.vectors.length).toBe(50 * d);
    part.index.forEach((row, k) => {
      expect(Array.from(part.vectors.subarray(k * d, (k + 1) * d))).toEqual(
        Array.from(bank.subarray(row * d, (row + 1) * d)),
      );
      expect(part.cluster[k]).toBe(full.cluster[row]);
      expect(part.label?.[k]).toBe(data.train.labels?.[row]);
    });
    expect(Array.from((await t.embeddingsDump(50)).index)).toEqual(Array.from(part.index));
    t.dispose();
  });

  it('keeps tf.memory().numTensors flat across snapshots, maps and dumps', async () => {
    const t = await Trainer.create(tinyConfig({ kmeansEvery: 2 }), data);
    await t.trainStep();
    const snap = await t.clusterSnapshot();
    await t.projectionSnapshot(snap.assignments);
    const before = tf.memory().numTensors;
    for (let s = 0; s < 4; s++) {
      await t.trainStep();
      await t.projectionSnapshot(await t.clusterSnapshot().then((c) => c.assignments));
      await t.projectionSnapshot();
      await t.embeddingsDump(30);
    }
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });
});
