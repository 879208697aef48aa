/**
 * Checkpoint round trip (issue 6): train 10 steps, save, train 10 more;
 * restore the save, train 10 more: the last 10 losses match exactly. Through
 * the encoded bytes, so the file format is part of the loop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Trainer } from './train';
import { tinyConfig, type ClimConfig } from './config';
import { makeShapesDataset } from './data/shapes';
import { datasetFingerprint } from './data/dataset';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from './checkpoint';

const data = makeShapesDataset({ seed: 4, nTrain: 64, nTest: 16, size: 16 });

async function steps(t: Trainer, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await t.trainStep()).loss);
  return out;
}

async function roundTrip(cfg: ClimConfig): Promise<{ uninterrupted: number[]; resumed: number[] }> {
  const t = await Trainer.create(cfg, data);
  await steps(t, 10);
  const bytes = encodeCheckpoint(await t.checkpoint({ app: { note: 'x' } }));
  const uninterrupted = await steps(t, 10);
  t.dispose();
  const r = await Trainer.restore(decodeCheckpoint(bytes), data);
  expect(r.step).toBe(10);
  const resumed = await steps(r, 10);
  r.dispose();
  return { uninterrupted, resumed };
}

// WASM only: the cpu backend runs the same kernels' logic ~40× slower here (65 s for one case).
describe('checkpoint round trip on wasm', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('SGD, center-wise + CutMix, k-means every 3 steps and an epoch boundary inside the window: the same 10 losses', async () => {
    // 64 images at batch 8: an epoch every 8 steps, so the resumed window crosses one.
    const { uninterrupted, resumed } = await roundTrip(
      tinyConfig({ seed: 21, kmeansEvery: 3, climWarmupSteps: 4, selection: 'center-wise', mix: 'cutmix' }),
    );
    expect(resumed).toEqual(uninterrupted);
    uninterrupted.forEach((l) => expect(Number.isFinite(l)).toBe(true));
  });

  it('a clean-view bank refreshed every 4 steps: the same 10 losses', async () => {
    const { uninterrupted, resumed } = await roundTrip(
      tinyConfig({ seed: 24, bankView: 'clean', bankRefreshEvery: 4, climWarmupSteps: 6, kmeansEvery: 5 }),
    );
    expect(resumed).toEqual(uninterrupted);
  });

  it('a backbone-space bank with augmented rows and Mixup: the same 10 losses', async () => {
    const { uninterrupted, resumed } = await roundTrip(
      tinyConfig({ seed: 26, bankSpace: 'backbone', bankView: 'augmented', mix: 'mixup', kmeansEvery: 4 }),
    );
    expect(resumed).toEqual(uninterrupted);
  });

  it('a run file saved before bankView existed resumes as it ran then: augmented bank rows, no refresh', async () => {
    const cfg = tinyConfig({
      seed: 25,
      bankView: 'augmented',
      bankRefreshEvery: 0,
      bankSpace: 'projection',
      kmeansEvery: 3,
    });
    const t = await Trainer.create(cfg, data);
    await steps(t, 6);
    const ck = await t.checkpoint();
    const old = { ...ck.meta.config } as Partial<ClimConfig>;
    delete old.bankView;
    delete old.bankRefreshEvery;
    delete old.bankSpace;
    const bytes = encodeCheckpoint({ ...ck, meta: { ...ck.meta, config: old as ClimConfig } });
    const uninterrupted = await steps(t, 6);
    t.dispose();
    const decoded = decodeCheckpoint(bytes);
    expect(decoded.meta.config.bankView).toBe('augmented');
    expect(decoded.meta.config.bankRefreshEvery).toBe(0);
    const r = await Trainer.restore(decoded, data);
    expect(r.config.bankView).toBe('augmented');
    expect(await steps(r, 6)).toEqual(uninterrupted);
    r.dispose();
  });

  it('across "Train N more steps": extended at step 8, saved at 12, restored: the same losses and rates (issue 19)', async () => {
    // A finished 8-step run extended by 10 (a new warm-up and cosine segment, §1.5), as the engine's extendRun does.
    const t = await Trainer.create(tinyConfig({ seed: 27, totalSteps: 8, warmupSteps: 2, kmeansEvery: 3 }), data);
    await steps(t, 8);
    t.updateLive({ scheduleStart: 8, totalSteps: 18 });
    await steps(t, 4);
    const bytes = encodeCheckpoint(await t.checkpoint());
    const lrs: number[] = [];
    const uninterrupted: number[] = [];
    for (let i = 0; i < 6; i++) {
      const m = await t.trainStep();
      uninterrupted.push(m.loss);
      lrs.push(m.lr);
    }
    t.dispose();
    const decoded = decodeCheckpoint(bytes);
    expect(decoded.meta.config).toMatchObject({ scheduleStart: 8, totalSteps: 18 });
    const r = await Trainer.restore(decoded, data);
    expect(r.step).toBe(12);
    const resumed: number[] = [];
    const resumedLrs: number[] = [];
    for (let i = 0; i < 6; i++) {
      const m = await r.trainStep();
      resumed.push(m.loss);
      resumedLrs.push(m.lr);
    }
    r.dispose();
    expect(resumed).toEqual(uninterrupted);
    expect(resumedLrs).toEqual(lrs);
    // Steps 12–17 (0-based) are the segment's 4–9: past the 2-step warm-up, down the 8-step cosine to near 0.
    expect(lrs[0]).toBeCloseTo(0.5 * 0.06 * (1 + Math.cos((Math.PI * 2) / 8)), 12);
  });

  it('a run file saved before scheduleStart existed resumes on its one schedule from step 0', async () => {
    const t = await Trainer.create(tinyConfig({ seed: 28, totalSteps: 20 }), data);
    await steps(t, 4);
    const ck = await t.checkpoint();
    const old = { ...ck.meta.config } as Partial<ClimConfig>;
    delete old.scheduleStart;
    const bytes = encodeCheckpoint({ ...ck, meta: { ...ck.meta, config: old as ClimConfig } });
    const uninterrupted = await steps(t, 4);
    t.dispose();
    const decoded = decodeCheckpoint(bytes);
    expect(decoded.meta.config.scheduleStart).toBe(0);
    const r = await Trainer.restore(decoded, data);
    expect(await steps(r, 4)).toEqual(uninterrupted);
    r.dispose();
  });

  it('AdamW with two resolutions and mixup: the same 10 losses', async () => {
    const { uninterrupted, resumed } = await roundTrip(
      tinyConfig({
        seed: 22,
        optimizer: 'adam',
        lr: 1e-3,
        resolutions: [16, 8],
        mix: 'mixup',
        climWarmupSteps: 2,
        kmeansEvery: 4,
      }),
    );
    expect(resumed).toEqual(uninterrupted);
  });
});

describe('restore refuses what does not fit, and leaves nothing behind', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('another data set, a changed shape, a missing tensor', async () => {
    const t = await Trainer.create(tinyConfig({ seed: 3 }), data);
    await steps(t, 2);
    const ck = await t.checkpoint();
    t.dispose();
    expect(ck.meta.dataset.fingerprint).toBe(datasetFingerprint(data));
    const before = tf.memory().numTensors;
    const other = makeShapesDataset({ seed: 5, nTrain: 64, nTest: 16, size: 16 });
    await expect(Trainer.restore(ck, other)).rejects.toThrow(/trained on .* Load the run's data set/);

    const wide = { ...ck, meta: { ...ck.meta, config: { ...ck.meta.config, width: ck.meta.config.width * 2 } } };
    const e = await Trainer.restore(wide, data).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CheckpointError);
    expect((e as CheckpointError).kind).toBe('mismatch');
    expect((e as CheckpointError).message).toMatch(
      /Shape mismatch in the run file: "query\/stem.conv" is float32 \[3×3×3×8\], the model needs float32 \[3×3×3×16\]/,
    );

    const missing = { ...ck, tensors: ck.tensors.filter((r) => r.name !== 'bank') };
    await expect(Trainer.restore(missing, data)).rejects.toThrow('has no "bank"');
    const badKmeans = {
      ...ck,
      tensors: ck.tensors.map((r) => (r.name === 'kmeans/rank' ? { ...r, shape: [3], data: new Int32Array(3) } : r)),
    };
    await expect(Trainer.restore(badKmeans, data)).rejects.toThrow('kmeans/rank');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a fresh run restored before any step (no step, first k-means) continues like the original', async () => {
    const cfg = tinyConfig({ seed: 8 });
    const t = await Trainer.create(cfg, data);
    const ck = await t.checkpoint();
    const a = await steps(t, 3);
    t.dispose();
    const r = await Trainer.restore(ck, data);
    expect(await steps(r, 3)).toEqual(a);
    r.dispose();
  });
});
