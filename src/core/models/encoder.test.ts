import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Encoder, featureDim } from './encoder';
import { tinyConfig } from '../config';
import { Rng } from '../rng';

describe('Encoder', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('momentum update is θk ← m·θk + (1−m)·θq for every parameter', async () => {
    const cfg = tinyConfig();
    const q = Encoder.create(cfg, new Rng(1));
    const k = Encoder.create(cfg, new Rng(2), false);
    const before = await Promise.all(k.params.map((p) => p.variable.data()));
    const qv = await Promise.all(q.params.map((p) => p.variable.data()));
    k.momentumUpdate(q, 0.9);
    for (let i = 0; i < k.params.length; i++) {
      const after = await k.params[i].variable.data();
      for (let j = 0; j < after.length; j++) expect(after[j]).toBeCloseTo(0.9 * before[i][j] + 0.1 * qv[i][j], 5);
    }
    q.dispose();
    k.dispose();
  });

  it('embeds to unit vectors of size d, features of size width·2^(stages−1), same seed ⇒ same output', async () => {
    const cfg = tinyConfig({ width: 4, stages: 3, projDim: 6 });
    const x = tf.randomUniform([3, 16, 16, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const a = Encoder.create(cfg, new Rng(3));
    const b = Encoder.create(cfg, new Rng(3));
    const f = a.features(x);
    expect(f.shape).toEqual([3, featureDim(cfg)]);
    expect(featureDim(cfg)).toBe(16);
    const za = await a.embed(x).data();
    const zb = await b.embed(x).data();
    expect(Array.from(za)).toEqual(Array.from(zb));
    for (let i = 0; i < 3; i++) {
      let n = 0;
      for (let j = 0; j < 6; j++) n += za[i * 6 + j] ** 2;
      expect(n).toBeCloseTo(1, 5);
    }
    a.dispose();
    b.dispose();
  });

  it('copy() makes an independent, equal, non-trainable key encoder', async () => {
    const q = Encoder.create(tinyConfig(), new Rng(1));
    const k = q.copy();
    expect(k.params.every((p) => !p.variable.trainable)).toBe(true);
    expect(Array.from(await k.params[0].variable.data())).toEqual(Array.from(await q.params[0].variable.data()));
    q.params[0].variable.assign(tf.zerosLike(q.params[0].variable));
    expect((await k.params[0].variable.data()).some((v) => v !== 0)).toBe(true);
    q.dispose();
    k.dispose();
  });
});

describe('Encoder gradients across backends', () => {
  it('wasm (forward-conv gradients) equals cpu (native gradients) for the whole encoder, stem stride 2 included', async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    const cfg = tinyConfig({ width: 4, stemStride: 2, stages: 2, projDim: 5, projHidden: 6, groups: 2 });
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const enc = Encoder.create(cfg, new Rng(21));
      const rng = new Rng(22);
      const x = tf.tensor4d(
        Array.from({ length: 2 * 16 * 16 * 3 }, () => rng.next()),
        [2, 16, 16, 3],
      );
      const w = tf.tensor2d(
        Array.from({ length: 2 * 5 }, () => rng.normal()),
        [2, 5],
      );
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(enc.embed(x), w)) as tf.Scalar, enc.trainableVariables());
      const out = await Promise.all(enc.params.map((p) => grads[p.variable.name].data()));
      enc.dispose();
      return out;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    await tf.setBackend('cpu');
    cpu.forEach((g, i) => {
      for (let j = 0; j < g.length; j++)
        expect(Math.abs(wasm[i][j] - g[j])).toBeLessThan(1e-3 * Math.max(1, Math.abs(g[j])));
    });
  });
});
