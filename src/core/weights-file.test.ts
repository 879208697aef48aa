import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  WEIGHTS_MAGIC,
  WeightsFileError,
  decodeWeights,
  encodeWeights,
  weightsMismatch,
  type WeightsFile,
} from './weights-file';
import { fnv1a } from './checkpoint';
import { Trainer } from './train';
import { tinyConfig } from './config';
import { makeShapesDataset } from './data/shapes';

const arch = {
  width: 4,
  stemStride: 1,
  stages: 2,
  blocksPerStage: 1,
  norm: 'group' as const,
  groups: 2,
  projHidden: 8,
  projDim: 6,
};
const file = (): WeightsFile => ({
  architecture: arch,
  info: { savedAt: '2026-12-06T00:00:00.000Z', steps: 7, note: 'test' },
  params: [
    { name: 'a', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { name: 'b.c', shape: [1], data: Float32Array.from([-0.5]) },
  ],
});
const kind = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WeightsFileError);
    return (e as WeightsFileError).kind;
  }
  return 'no error';
};

describe('weights file format', () => {
  it('round-trips names, shapes, values and info; the layout is the documented one', () => {
    const bytes = encodeWeights(file());
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe(WEIGHTS_MAGIC);
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(8, true)).toBe(1);
    const h = view.getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + h)));
    expect(header.table).toEqual([
      { name: 'a', shape: [2, 3], offset: 0 },
      { name: 'b.c', shape: [1], offset: 24 },
    ]);
    const at = 16 + h + ((4 - ((16 + h) % 4)) % 4);
    // The payload is the float32 values in table order, and the checksum is FNV-1a over it.
    expect(Array.from(new Float32Array(bytes.slice(at).buffer))).toEqual([1, 2, 3, 4, 5, 6, -0.5]);
    expect(header.checksum).toBe(fnv1a(bytes.subarray(at)).toString(16).padStart(8, '0'));
    const back = decodeWeights(bytes);
    expect(back.architecture).toEqual(arch);
    expect(back.info).toEqual(file().info);
    expect(back.params.map((p) => [p.name, p.shape, Array.from(p.data)])).toEqual([
      ['a', [2, 3], [1, 2, 3, 4, 5, 6]],
      ['b.c', [1], [-0.5]],
    ]);
  });

  it('refuses other files, versions, truncation and damage, each by name', () => {
    const bytes = encodeWeights(file());
    expect(kind(() => decodeWeights(new TextEncoder().encode('CLIMRUN\n0000000000000')))).toBe('not-a-weights-file');
    expect(kind(() => decodeWeights(new Uint8Array(3)))).toBe('not-a-weights-file');
    const v2 = bytes.slice();
    new DataView(v2.buffer).setUint32(8, 2, true);
    expect(kind(() => decodeWeights(v2))).toBe('version');
    expect(kind(() => decodeWeights(bytes.slice(0, bytes.length - 4)))).toBe('truncated');
    expect(kind(() => decodeWeights(bytes.slice(0, 20)))).toBe('truncated');
    const flipped = bytes.slice();
    flipped[flipped.length - 1] ^= 1;
    expect(kind(() => decodeWeights(flipped))).toBe('corrupt');
    expect(kind(() => decodeWeights(bytes))).toBe('no error');
  });

  it('names the first architecture field, missing, reshaped or extra parameter that does not fit', () => {
    const f = file();
    const want = [
      { name: 'a', shape: [2, 3] },
      { name: 'b.c', shape: [1] },
    ];
    expect(weightsMismatch(f, arch, want)).toBeNull();
    expect(weightsMismatch(f, { ...arch, width: 8, projDim: 4 }, want)).toBe(
      "The weights are for another encoder: width 4 (this run: 8), projDim 6 (this run: 4). Set these fields to the file's values, or pick weights trained with this run's encoder.",
    );
    expect(weightsMismatch(f, arch, [...want, { name: 'z', shape: [1] }])).toBe(
      'The weights file has no parameter "z".',
    );
    expect(weightsMismatch(f, arch, [{ name: 'a', shape: [3, 2] }, want[1]])).toBe(
      'Parameter "a" is [2×3] in the file, the encoder needs [3×2].',
    );
    expect(weightsMismatch(f, arch, [want[0]])).toBe('The weights file has parameters this encoder does not: "b.c".');
    const nan = file();
    nan.params[0].data[4] = Number.NaN;
    expect(weightsMismatch(nan, arch, want)).toBe('Parameter "a" holds a non-finite value (NaN) at position 4.');
  });
});

describe('Trainer with weights', () => {
  const data = makeShapesDataset({ seed: 5, nTrain: 48, nTest: 16, size: 16 });
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('a run started from saved weights has those weights in both encoders and its bank embedded with them', async () => {
    const cfg = tinyConfig({ seed: 3 });
    const a = await Trainer.create(cfg, data);
    for (let i = 0; i < 3; i++) await a.trainStep();
    const saved = decodeWeights(encodeWeights(await a.weightsFile({ note: 'x' })));
    expect(saved.info.steps).toBe(3);
    expect(saved.info.note).toBe('x');
    // A fresh run (another seed: other random weights) started from them has A's query encoder in both of its encoders.
    const b = await Trainer.create({ ...cfg, seed: 9 }, data, { init: saved });
    for (const enc of [b.query, b.key]) {
      for (const [i, p] of enc.params.entries())
        expect(Array.from(await p.variable.data())).toEqual(Array.from(await a.query.params[i].variable.data()));
    }
    // Its bank: A's query encoder's normalised backbone features of the clean images (resolution 16 = the image size).
    const want = tf.tidy(() => {
      const f = a.query.features(
        tf.div(tf.tensor4d(Float32Array.from(data.train.images), [data.train.n, 16, 16, 3]), 255) as tf.Tensor4D,
      );
      return tf.div(f, tf.norm(f, 'euclidean', 1, true));
    });
    const got = await b.bank.tensor.data();
    (await want.data()).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
    want.dispose();
    // And at step 0 it evaluates what A evaluated after its 3 steps (the same features).
    expect((await b.evaluate()).knnTop1).toBe((await a.evaluate()).knnTop1);
    a.dispose();
    b.dispose();
  });

  it('refuses weights of another encoder with the reason, leaving no tensor behind', async () => {
    const cfg = tinyConfig({ seed: 3 });
    const a = await Trainer.create(cfg, data);
    const w = await a.weightsFile();
    a.dispose();
    const before = tf.memory().numTensors;
    await expect(Trainer.create({ ...cfg, width: 16 }, data, { init: w })).rejects.toThrow(/width 8 \(this run: 16\)/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
