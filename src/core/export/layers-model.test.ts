import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Encoder, featureDim } from '../models/encoder';
import { tinyConfig, type ClimConfig } from '../config';
import { Rng } from '../rng';
import { WEIGHTS_FILE, artifactsIOHandler, encoderToLayersModel, saveLayersModelArtifacts } from './layers-model';

/** Moves every norm and bias term away from its initial 1 / 0, so γ and β are really exercised. */
function perturb(enc: Encoder, seed: number): void {
  const rng = new Rng(seed);
  tf.tidy(() => {
    for (const p of enc.params) {
      if (p.kind === 'weight') continue;
      const n = p.variable.size;
      const noise = Float32Array.from({ length: n }, () => rng.normal());
      const base = p.name.endsWith('.gamma') ? 1 : 0;
      const scale = p.name.endsWith('.gamma') ? 0.4 : 0.2;
      p.variable.assign(tf.add(base, tf.mul(tf.tensor(noise, p.variable.shape), scale)));
    }
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Layer classes of the Keras/tfjs core set: a loader needs nothing registered beyond these. */
const BUILT_IN = new Set([
  'InputLayer',
  'Conv2D',
  'DepthwiseConv2D',
  'Reshape',
  'LayerNormalization',
  'Activation',
  'Add',
  'GlobalAveragePooling2D',
  'Dense',
]);

const cases: Array<[string, ClimConfig, number]> = [
  ['tinyConfig (GroupNorm, stem stride 1)', tinyConfig(), 16],
  [
    'stem stride 2, 3 stages, 2 blocks (identity shortcuts), GroupNorm',
    tinyConfig({ stemStride: 2, stages: 3, blocksPerStage: 2, width: 8, groups: 4 }),
    32,
  ],
  ['groups 4 on width 6 (effective 3 groups)', tinyConfig({ width: 6, groups: 4 }), 16],
  ["tinyConfig with norm 'none'", tinyConfig({ norm: 'none' }), 16],
  ["stem stride 2, 3 stages, norm 'none'", tinyConfig({ stemStride: 2, stages: 3, norm: 'none' }), 16],
];

describe('encoderToLayersModel', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [label, cfg, size] of cases) {
    it(`${label}: reloaded from model.json + weights.bin, gives Encoder.embed and features within 1e-5`, async () => {
      const start = tf.memory().numTensors;
      const enc = Encoder.create(cfg, new Rng(11));
      perturb(enc, 12);
      const x = tf.randomUniform([5, size, size, 3], 0, 1, 'float32', 13) as tf.Tensor4D;
      const wantZ = tf.tidy(() => enc.embed(x));
      const wantF = tf.tidy(() => enc.features(x));

      const model = encoderToLayersModel(enc, size);
      const { modelJson, weights } = await saveLayersModelArtifacts(model);
      model.dispose();
      const json = JSON.parse(modelJson);
      expect(json.format).toBe('layers-model');
      expect(json.weightsManifest.map((g: { paths: string[] }) => g.paths)).toEqual([[WEIGHTS_FILE]]);
      const classes = new Set<string>(
        json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name),
      );
      for (const c of classes) expect(BUILT_IN.has(c)).toBe(true);
      if (cfg.norm === 'group') expect(classes.has('LayerNormalization')).toBe(true);
      // Byte count = every weight of the manifest as float32.
      const nValues = json.weightsManifest[0].weights.reduce(
        (a: number, w: { shape: number[] }) => a + w.shape.reduce((p, q) => p * q, 1),
        0,
      );
      expect(weights.byteLength).toBe(4 * nValues);

      const loaded = await tf.loadLayersModel(artifactsIOHandler(modelJson, weights));
      const [gotF, gotZ] = loaded.predict(x) as tf.Tensor[];
      expect(gotF.shape).toEqual([5, featureDim(cfg)]);
      expect(gotZ.shape).toEqual([5, cfg.projDim]);
      const dz = maxAbsDiff(await gotZ.data(), await wantZ.data());
      const df = maxAbsDiff(await gotF.data(), await wantF.data());
      console.log(`${label}: max |Δembedding| = ${dz.toExponential(2)}, max |Δfeatures| = ${df.toExponential(2)}`);
      expect(dz).toBeLessThan(1e-5);
      // Features are not normalised (magnitude O(1–10)): relative 1e-5.
      const fScale = Math.max(1, ...Array.from(await wantF.data(), Math.abs));
      expect(df / fScale).toBeLessThan(1e-5);
      // The embedding is not degenerate: differs between images.
      const zs = (await gotZ.array()) as number[][];
      expect(maxAbsDiff(zs[0], zs[1])).toBeGreaterThan(1e-3);

      tf.dispose([gotF, gotZ, wantZ, wantF, x]);
      loaded.dispose();
      enc.dispose();
      expect(tf.memory().numTensors).toBe(start);
    });
  }

  it('{ features: false } outputs the embedding alone; the model is a snapshot of the weights', async () => {
    const start = tf.memory().numTensors;
    const cfg = tinyConfig();
    const enc = Encoder.create(cfg, new Rng(21));
    perturb(enc, 22);
    const x = tf.randomUniform([3, 16, 16, 3], 0, 1, 'float32', 23) as tf.Tensor4D;
    const want = tf.tidy(() => enc.embed(x));
    const model = encoderToLayersModel(enc, 16, { features: false });
    expect(model.outputs).toHaveLength(1);
    perturb(enc, 24); // later training must not reach the exported model
    const got = model.predict(x) as tf.Tensor;
    expect(maxAbsDiff(await got.data(), await want.data())).toBeLessThan(1e-5);
    tf.dispose([got, want, x]);
    model.dispose();
    enc.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('runs on the WASM backend too (LayerNormalization, depthwise 1×1) within 1e-5', async () => {
    await tf.setBackend('wasm');
    try {
      const start = tf.memory().numTensors;
      const cfg = tinyConfig({ stemStride: 2, stages: 3 });
      const enc = Encoder.create(cfg, new Rng(31));
      perturb(enc, 32);
      const x = tf.randomUniform([4, 16, 16, 3], 0, 1, 'float32', 33) as tf.Tensor4D;
      const want = tf.tidy(() => enc.embed(x));
      const model = encoderToLayersModel(enc, 16);
      const { modelJson, weights } = await saveLayersModelArtifacts(model);
      model.dispose();
      const loaded = await tf.loadLayersModel(artifactsIOHandler(modelJson, weights));
      const [f, z] = loaded.predict(x) as tf.Tensor[];
      const dz = maxAbsDiff(await z.data(), await want.data());
      console.log(`wasm: max |Δembedding| = ${dz.toExponential(2)}`);
      expect(dz).toBeLessThan(1e-5);
      tf.dispose([f, z, want, x]);
      loaded.dispose();
      enc.dispose();
      expect(tf.memory().numTensors).toBe(start);
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('artifactsIOHandler rejects a manifest naming another weights file', async () => {
    const json = JSON.stringify({
      modelTopology: {},
      format: 'layers-model',
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [] }],
    });
    await expect(artifactsIOHandler(json, new Uint8Array(0)).load!()).rejects.toThrow(/expected weights\.bin/);
  });
});
