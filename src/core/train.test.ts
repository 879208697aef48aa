import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { preferStockWasmKernels } from './ops/wasm-kernels';
import { EpochSampler, Trainer, ownKeyMask } from './train';
import { KeyQueue } from './clim/queue';
import { tinyConfig, type ClimConfig } from './config';
import { makeShapesDataset } from './data/shapes';
import type { Dataset } from './data/dataset';
import { Rng } from './rng';
import { warmupCosine } from './schedule';
import { centreView } from './augment/augment';
import { featureDim } from './models/encoder';

const data = makeShapesDataset({ seed: 3, nTrain: 96, nTest: 32, size: 16 });

async function losses(cfg: ClimConfig, d: Dataset, steps: number): Promise<number[]> {
  const t = await Trainer.create(cfg, d);
  const out: number[] = [];
  for (let s = 0; s < steps; s++) out.push((await t.trainStep()).loss);
  t.dispose();
  return out;
}

describe('EpochSampler', () => {
  it('visits every index once per epoch and never repeats inside a batch', () => {
    const s = new EpochSampler(10, new Rng(1));
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) seen.push(...s.next(4)); // 20 draws = 2 epochs
    for (let e = 0; e < 2; e++)
      expect([...seen.slice(e * 10, e * 10 + 10)].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    const s2 = new EpochSampler(3, new Rng(2));
    for (let i = 0; i < 10; i++) expect(new Set(s2.next(3)).size).toBe(3);
  });
});

describe('Trainer', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it("bankView 'clean' writes each anchor's row from the key encoder's embedding of its clean centre view, before selecting", async () => {
    // keyMomentum 1: the key encoder never moves, so the expected rows can be computed before and after alike.
    const cfg = tinyConfig({ seed: 6, keyMomentum: 1, bankView: 'clean', bankSpace: 'projection', resolutions: [8] });
    const t = await Trainer.create(cfg, data);
    const before = await t.bank.tensor.array();
    await t.trainStep();
    const anchors = Array.from((t as unknown as { last: { anchors: Int32Array } }).last.anchors);
    const after = await t.bank.tensor.array();
    const want = tf.tidy(() => {
      const x = tf.div(
        tf.tensor4d(Float32Array.from(data.train.images), [data.train.n, 16, 16, 3]),
        255,
      ) as tf.Tensor4D;
      return t.key.embed(centreView(tf.gather(x, anchors), 8));
    });
    const wantRows = await want.array();
    want.dispose();
    anchors.forEach((a, b) => after[a].forEach((v, j) => expect(v).toBeCloseTo(wantRows[b][j], 4)));
    // Every other row is untouched.
    const set = new Set(anchors);
    before.forEach((row, i) => {
      if (!set.has(i)) expect(after[i]).toEqual(row);
    });
    // The augmented view gives other rows (the old behaviour, kept as a setting).
    const u = await Trainer.create({ ...cfg, bankView: 'augmented' }, data);
    await u.trainStep();
    const ua = await u.bank.tensor.array();
    const differs = anchors.some((a, b) => ua[a].some((v, j) => Math.abs(v - wantRows[b][j]) > 1e-3));
    expect(differs).toBe(true);
    t.dispose();
    u.dispose();
  });

  it("bankSpace 'backbone' keeps the key encoder's normalised backbone features (F wide), and seeds the queues with real keys", async () => {
    const cfg = tinyConfig({ seed: 8, bankSpace: 'backbone', bankRefreshEvery: 1, climWarmupSteps: 0, projDim: 24 });
    const t = await Trainer.create(cfg, data);
    expect(t.bank.dim).toBe(featureDim(cfg));
    expect(t.bank.dim).not.toBe(cfg.projDim);
    // Queue keys are projections (d wide, unit rows), not bank rows.
    const q = (await t.queues[0].keys.array()) as number[][];
    expect(q[0]).toHaveLength(cfg.projDim);
    q.forEach((row) => expect(Math.hypot(...row)).toBeCloseTo(1, 4));
    await t.trainStep(); // refreshes the whole bank after the step
    const got = await t.bank.tensor.array();
    const want = tf.tidy(() => {
      const x = tf.div(
        tf.tensor4d(Float32Array.from(data.train.images), [data.train.n, 16, 16, 3]),
        255,
      ) as tf.Tensor4D;
      const f = t.key.features(x);
      return tf.div(f, tf.norm(f, 'euclidean', 1, true)) as tf.Tensor2D;
    });
    const wantRows = await want.array();
    want.dispose();
    got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(wantRows[i][j], 4)));
    t.dispose();
  });

  it('bankRefreshEvery re-embeds every row from the clean views with the current key encoder', async () => {
    const cfg = tinyConfig({
      seed: 7,
      bankRefreshEvery: 2,
      climWarmupSteps: 0,
      kmeansEvery: 100,
      bankSpace: 'projection',
    });
    const t = await Trainer.create(cfg, data);
    const m1 = await t.trainStep();
    expect(m1.refreshMs).toBe(0);
    const m2 = await t.trainStep();
    expect(m2.refreshMs).toBeGreaterThan(0);
    const got = await t.bank.tensor.array();
    const want = tf.tidy(() => {
      const x = tf.div(
        tf.tensor4d(Float32Array.from(data.train.images), [data.train.n, 16, 16, 3]),
        255,
      ) as tf.Tensor4D;
      return t.key.embed(x); // resolution 16 = the image size: the centre view is the image itself
    });
    const wantRows = await want.array();
    want.dispose();
    got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(wantRows[i][j], 4)));
    t.dispose();
  });

  it('same seed + config + backend ⇒ the same loss sequence; another seed differs', async () => {
    const cfg = tinyConfig({ seed: 4 });
    const a = await losses(cfg, data, 4);
    const b = await losses(cfg, data, 4);
    expect(b).toEqual(a);
    const c = await losses({ ...cfg, seed: 5 }, data, 4);
    expect(c).not.toEqual(a);
    a.forEach((l) => expect(Number.isFinite(l)).toBe(true));
  });

  it('trains with the JS WASM kernels (ops/wasm-kernels.ts) as with the stock ones: the same losses to float rounding', async () => {
    // Two resolutions and CLIM from step 0: crops, pads, gathers and top-k all run.
    const cfg = tinyConfig({ seed: 9, resolutions: [16, 8] });
    const fast = await losses(cfg, data, 4);
    const fastCrop = tf.getKernel('CropAndResize', 'wasm');
    preferStockWasmKernels(true);
    try {
      const stock = await losses(cfg, data, 4);
      expect(tf.getKernel('CropAndResize', 'wasm')).not.toBe(fastCrop);
      // May differ in the last bits: the stock CropAndResize rounds in float32, the JS one in doubles (as tfjs' cpu kernel).
      fast.forEach((l, i) => expect(Math.abs(l - stock[i])).toBeLessThan(1e-4 * Math.abs(stock[i])));
    } finally {
      preferStockWasmKernels(false);
    }
  });

  it('keeps tf.memory().numTensors flat across 20 steps (k-means and snapshots included)', async () => {
    const t = await Trainer.create(tinyConfig({ kmeansEvery: 3, resolutions: [16, 8] }), data);
    await t.trainStep();
    const before = tf.memory().numTensors;
    for (let s = 0; s < 20; s++) {
      await t.trainStep();
      if (s % 7 === 0) {
        await t.selectionSnapshot(3);
        await t.clusterSnapshot();
        await t.evaluate();
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });

  it('returns every tensor and byte on dispose (create, steps, snapshots, dispose): a Reset must not leak a model', async () => {
    const before = tf.memory();
    const t = await Trainer.create(tinyConfig({ kmeansEvery: 2, optimizer: 'adam' }), data);
    for (let s = 0; s < 3; s++) await t.trainStep();
    await t.selectionSnapshot(2);
    await t.clusterSnapshot();
    t.dispose();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });

  it('captureNextViews keeps that step’s mixed views: with identity augmentation and no mixing they are the images themselves', async () => {
    // Resolution 16 = the data's size, full-image crops, no flip or colour: each view is its image.
    const cfg = tinyConfig({
      resolutions: [16],
      cropScaleMin: 1,
      cropScaleMax: 1,
      flipProb: 0,
      jitterProb: 0,
      grayscaleProb: 0,
      mix: 'none',
      stemStride: 1,
      stages: 2,
    });
    const t = await Trainer.create(cfg, data);
    await t.trainStep();
    const plain = await t.selectionSnapshot(3);
    expect(plain.anchors.every((a) => a.mixed === null)).toBe(true);
    t.captureNextViews();
    await t.trainStep();
    const snap = await t.selectionSnapshot(3);
    expect(snap.anchors).toHaveLength(3);
    const per = 16 * 16 * 3;
    for (const a of snap.anchors) {
      expect(a.mixedSize).toBe(16);
      expect(a.lambda).toBe(1);
      const img = data.train.images.subarray(a.anchor * per, (a.anchor + 1) * per);
      let maxDiff = 0;
      for (let i = 0; i < per; i++) maxDiff = Math.max(maxDiff, Math.abs(a.mixed![i] - img[i]));
      expect(maxDiff).toBeLessThanOrEqual(1);
    }
    // Only the step asked for keeps its views.
    await t.trainStep();
    expect((await t.selectionSnapshot(2)).anchors.every((a) => a.mixed === null)).toBe(true);
    t.dispose();
  });

  it('pinned anchors come first; one that was not in the last batch has no positive, λ or mixed view', async () => {
    const t = await Trainer.create(tinyConfig({ batchSize: 8 }), data);
    await t.trainStep();
    const lastBatch = (await t.selectionSnapshot(8)).anchors.map((a) => a.anchor);
    const outside = [...Array(data.train.n).keys()].find((i) => !lastBatch.includes(i))!;
    const inside = lastBatch[2];
    const snap = await t.selectionSnapshot(4, [outside, inside, outside, -1, 10_000]);
    expect(snap.anchors.map((a) => a.anchor).slice(0, 2)).toEqual([outside, inside]);
    expect(snap.anchors.map((a) => a.pinned)).toEqual([true, true, false, false]);
    expect(snap.anchors[0]).toMatchObject({ positive: null, lambda: null, mixed: null });
    expect(snap.anchors[1].positive).not.toBeNull();
    expect(new Set(snap.anchors.map((a) => a.anchor)).size).toBe(4);
    t.dispose();
  });

  for (const selection of ['none', 'knn', 'cluster', 'center-wise'] as const) {
    for (const mix of ['none', 'cutmix', 'mixup'] as const) {
      it(`trains with selection=${selection}, mix=${mix}`, async () => {
        const t = await Trainer.create(tinyConfig({ selection, mix, mixProb: 1 }), data);
        const m = await t.trainStep();
        expect(Number.isFinite(m.loss)).toBe(true);
        if (mix === 'none') {
          // λ = 1 everywhere: the mixed loss is the anchor term alone.
          expect(m.lambdaMean).toBe(1);
          expect(m.loss).toBeCloseTo(m.lossAnchor, 5);
        } else expect(m.lambdaMean).toBeLessThan(1);
        if (selection === 'none') expect(m.coverage).toBe(0);
        if (selection === 'knn') expect(m.coverage).toBe(1);
        const snap = await t.selectionSnapshot(2);
        expect(snap.anchors).toHaveLength(2);
        for (const a of snap.anchors) {
          expect(a.neighbours).toHaveLength(tinyConfig().knnK);
          if (selection === 'center-wise') {
            for (const n of a.neighbours) {
              if (n.reason === 'kept')
                expect(n.cluster === a.cluster && n.centreSimilarity > a.centreSimilarity - 1e-5).toBe(true);
              if (n.reason === 'different-cluster') expect(n.cluster).not.toBe(a.cluster);
            }
          }
        }
        t.dispose();
      });
    }
  }

  it('runs plain MoCo v2 (no selection, no mixing) during the CLIM warm-up, then the chosen policy and mixer', async () => {
    const t = await Trainer.create(
      tinyConfig({ selection: 'knn', mix: 'mixup', mixProb: 1, climWarmupSteps: 2 }),
      data,
    );
    const steps = [];
    for (let s = 0; s < 4; s++) steps.push(await t.trainStep());
    expect(steps.map((m) => m.coverage)).toEqual([0, 0, 1, 1]);
    expect(steps.map((m) => m.lambdaMean < 1)).toEqual([false, false, true, true]);
    t.dispose();
  });

  it('updateLive: the next step follows the new learning rate and temperature, and the run carries on (no reset)', async () => {
    const cfg = tinyConfig({ seed: 6, warmupSteps: 2, totalSteps: 50 });
    const t = await Trainer.create(cfg, data);
    const first = [await t.trainStep(), await t.trainStep()];
    expect(first.map((m) => m.step)).toEqual([1, 2]);
    expect(first[1].lr).toBeCloseTo(warmupCosine(1, cfg.lr, 2, 50), 12);

    t.updateLive({ lr: 0.5, temperature: 0.07 });
    expect(t.config).toMatchObject({ lr: 0.5, temperature: 0.07 });
    const next = await t.trainStep();
    expect(next.step).toBe(3);
    expect(next.lr).toBeCloseTo(warmupCosine(2, 0.5, 2, 50), 12);
    expect(next.lr).toBeGreaterThan(first[1].lr * 5);

    // A twin run without the edit matches the first two steps and differs at the third only through the live fields.
    const ref = await Trainer.create(cfg, data);
    expect([(await ref.trainStep()).loss, (await ref.trainStep()).loss]).toEqual(first.map((m) => m.loss));
    const refNext = await ref.trainStep();
    expect(refNext.step).toBe(3);
    expect(refNext.lr).toBeCloseTo(warmupCosine(2, cfg.lr, 2, 50), 12);
    expect(next.loss).not.toBe(refNext.loss);
    ref.dispose();
    t.dispose();
  });

  it('updateLive rejects fields that size the run and invalid values, leaving the config as it was', async () => {
    const t = await Trainer.create(tinyConfig(), data);
    expect(() => t.updateLive({ batchSize: 4 } as never)).toThrow(/batchSize cannot change during a run/);
    expect(() => t.updateLive({ lr: 0 })).toThrow(/lr must be a number above 0/);
    expect(t.config.lr).toBe(tinyConfig().lr);
    expect(t.config.batchSize).toBe(tinyConfig().batchSize);
    t.dispose();
  });

  it('snapshots k ≥ bank size: every other image is a neighbour, with cluster-mode reasons', async () => {
    const small: Dataset = {
      ...data,
      id: 'five',
      train: { n: 5, images: data.train.images.slice(0, 5 * 16 * 16 * 3), labels: data.train.labels!.slice(0, 5) },
    };
    const t = await Trainer.create(tinyConfig({ selection: 'cluster', knnK: 10, clusters: 2 }), small);
    await t.trainStep();
    const snap = await t.selectionSnapshot(2);
    for (const a of snap.anchors) {
      expect(a.neighbours.map((n) => n.index).sort()).toEqual([0, 1, 2, 3, 4].filter((i) => i !== a.anchor));
      for (const n of a.neighbours) expect(n.reason).toBe(n.cluster === a.cluster ? 'kept' : 'different-cluster');
    }
    t.dispose();
  });

  it('trains on a single image (positive falls back to the anchor)', async () => {
    const one: Dataset = {
      ...data,
      id: 'one',
      train: { n: 1, images: data.train.images.slice(0, 16 * 16 * 3), labels: Int32Array.from([0]) },
      test: { n: 0, images: new Uint8Array(0), labels: null },
    };
    const t = await Trainer.create(tinyConfig({ selection: 'center-wise' }), one);
    const m = await t.trainStep();
    expect(Number.isFinite(m.loss)).toBe(true);
    expect(m.coverage).toBe(0);
    expect((await t.evaluate()).knnTop1).toBeNull();
    t.dispose();
  });
});

describe('ownKeyMask', () => {
  it('masks exactly the rows that hold an older key of the anchor or of its positive (naive scan), on cpu and wasm', async () => {
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const K = 6;
      const q = new KeyQueue(K, 2, new Rng(1));
      q.fill(tf.zeros([K, 2]), Int32Array.from([4, 1, 7, -1, 1, 3]));
      q.enqueue(tf.zeros([2, 2]), Int32Array.from([9, 4])); // rows 0, 1 now hold 9, 4
      const anchors = [4, 2, 1, 9];
      const positives = [7, 2, 3, 9]; // MoCo-like self positive in rows 1 and 3
      const m = ownKeyMask(q, 10, tf.tensor1d(anchors, 'int32'), tf.tensor1d(positives, 'int32'))!;
      const got = await m.array();
      // Naive: for every id keep only its newest row (rows are written oldest → newest from the pointer).
      const newest = new Map<number, number>();
      for (let i = 0; i < K; i++) {
        const row = (q.pointer + i) % K;
        if (q.ids[row] >= 0) newest.set(q.ids[row], row);
      }
      anchors.forEach((a, b) => {
        for (let j = 0; j < K; j++) {
          const hit = newest.get(a) === j || newest.get(positives[b]) === j;
          expect(got[b][j] + 0, `${backend} b=${b} j=${j}`).toBe(hit ? -1e4 : 0);
        }
      });
      // Spot checks worked by hand: anchor 4 → row 1, positive 7 → row 2; anchor 1 → row 4 (row 1 was overwritten), positive 3 → row 5.
      expect(got[0].map((v) => v !== 0)).toEqual([false, true, true, false, false, false]);
      expect(got[2].map((v) => v !== 0)).toEqual([false, false, false, false, true, true]);
      q.dispose();
      m.dispose();
    }
    await tf.setBackend('cpu');
  });
});
