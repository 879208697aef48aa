import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Trainer } from '../core/train';
import { tinyConfig } from '../core/config';
import { makeShapesDataset } from '../core/data/shapes';
import type { EvalResult, StepMetrics } from '../core/api';
import { EXPORT_FILE_PATHS, writeRunExports } from './export-files';

/** A file-system IOHandler like tfjs-node's file://: model.json, then every weights path of its manifest relative to it. */
function fileHandler(modelPath: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(modelPath, 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const buffers = manifest
          .flatMap((g) => g.paths)
          .map((p) => {
            const b = readFileSync(join(dirname(modelPath), p));
            return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
          });
        return [manifest.flatMap((g) => g.weights), tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

describe('writeRunExports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clim-export-'));
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes model, projector set, CSVs and config that load back consistently', async () => {
    const data = makeShapesDataset({ seed: 3, nTrain: 48, nTest: 16, size: 16 });
    const cfg = tinyConfig({ seed: 5 });
    const trainer = await Trainer.create(cfg, data);
    const history: StepMetrics[] = [];
    for (let s = 0; s < 2; s++) history.push(await trainer.trainStep());
    const evals: EvalResult[] = [await trainer.evaluate()];

    const before = tf.memory().numTensors;
    const paths = await writeRunExports(dir, { trainer, data, history, evals });
    expect(tf.memory().numTensors).toBe(before);
    const rel = paths.map((p) => relative(dir, p).split('\\').join('/')).sort();
    expect(rel).toEqual(
      [
        'config.json',
        'evals.csv',
        'metrics.csv',
        'model/model.json',
        'model/weights.bin',
        'projector/metadata.tsv',
        'projector/projector_config.json',
        'projector/sprite.png',
        'projector/vectors.tsv',
      ].sort(),
    );
    // The list the runner checks before training is the list written.
    expect([...EXPORT_FILE_PATHS].sort()).toEqual(rel);
    for (const p of paths) expect(existsSync(p)).toBe(true);

    // vectors.tsv: the dump's rows × dim, the same float32 values.
    const dump = await trainer.embeddingsDump(5000);
    expect(dump.index.length).toBe(48);
    const lines = readFileSync(join(dir, 'projector/vectors.tsv'), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(dump.index.length);
    const parsed = lines.flatMap((l) => l.split('\t').map(Number));
    expect(parsed).toHaveLength(dump.index.length * dump.dim);
    expect(Float32Array.from(parsed)).toEqual(dump.vectors);

    // metadata.tsv: header + one row per point, label names and clusters from the dump.
    const meta = readFileSync(join(dir, 'projector/metadata.tsv'), 'utf8').trimEnd().split('\n');
    expect(meta[0]).toBe('label\tcluster\tname');
    expect(meta).toHaveLength(dump.index.length + 1);
    expect(meta[1]).toBe(`${data.classNames[dump.label![0]]}\t${dump.cluster[0]}\ttrain/${dump.index[0]}`);

    // sprite.png: ⌈√48⌉ = 7 columns of 16 px; the first cell is image dump.index[0].
    const png = PNG.sync.read(readFileSync(join(dir, 'projector/sprite.png')));
    expect([png.width, png.height]).toEqual([112, 112]);
    const i0 = dump.index[0] * 16 * 16 * 3;
    expect(Array.from(png.data.subarray(0, 4))).toEqual([...data.train.images.subarray(i0, i0 + 3), 255]);

    const pc = JSON.parse(readFileSync(join(dir, 'projector/projector_config.json'), 'utf8'));
    expect(pc.embeddings[0]).toMatchObject({
      tensorShape: [48, cfg.projDim],
      tensorPath: 'vectors.tsv',
      metadataPath: 'metadata.tsv',
      sprite: { imagePath: 'sprite.png', singleImageDim: [16, 16] },
    });
    expect(readFileSync(join(dir, 'metrics.csv'), 'utf8').trimEnd().split('\n')).toHaveLength(3);
    expect(readFileSync(join(dir, 'evals.csv'), 'utf8').trimEnd().split('\n')).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(trainer.config);

    // The model, loaded from the files, gives the query encoder's embeddings.
    const model = await tf.loadLayersModel(fileHandler(join(dir, 'model/model.json')));
    const x = tf.tidy(
      () =>
        tf.div(
          tf.tensor4d(data.train.images.subarray(0, 8 * 16 * 16 * 3), [8, 16, 16, 3], 'int32').toFloat(),
          255,
        ) as tf.Tensor4D,
    );
    const want = tf.tidy(() => trainer.query.embed(x));
    const [feat, got] = model.predict(x) as tf.Tensor[];
    const a = await got.data();
    const b = await want.data();
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    console.log(`export-files: max |Δembedding| after 2 steps = ${maxDiff.toExponential(2)}`);
    expect(a.length).toBe(8 * cfg.projDim);
    expect(maxDiff).toBeLessThan(1e-5);
    tf.dispose([x, want, feat, got]);
    model.dispose();
    trainer.dispose();
  });
});
