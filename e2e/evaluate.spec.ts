import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { strFromU8, unzipSync } from 'fflate';
import * as tf from '@tensorflow/tfjs';
import { presetConfig } from '../src/core/presets';
import { bankDim } from '../src/core/config';
import { encodeHash } from '../src/ui/url-state';

/**
 * Evaluation and export in the app (issue 6): after a few steps, "Evaluate
 * now" shows the linear probe's top-1 and a 10×10 confusion matrix whose
 * diagonal share matches it; "Export model & embeddings" downloads a zip
 * whose LayersModel loads in tfjs (outside the browser) and whose projector
 * files agree in size.
 */
test('evaluate now, then export the model and embeddings', async ({ page }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const cfg = { ...presetConfig('fast-demo-cpu'), climWarmupSteps: 0 };
  const hash = encodeHash({ config: cfg, preset: 'fast-demo-cpu', dataset: 'fashion-mnist' });
  await page.goto(`/?backend=wasm&n=300&ntest=100&autosave=0${hash}`);
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  for (let i = 0; i < 3; i++) {
    await page.getByTestId('step-once').click();
    await expect(page.getByTestId('step')).toHaveText(String(i + 1), { timeout: 60_000 });
  }
  await page.getByTestId('evaluate-now').click();
  await expect(page.getByTestId('eval-linear')).toHaveText(/^\d+\.\d%$/, { timeout: 60_000 });
  const linear = parseFloat((await page.getByTestId('eval-linear').textContent()) ?? '') / 100;
  const knn = parseFloat((await page.getByTestId('eval-knn').textContent()) ?? '') / 100;
  expect(linear).toBeGreaterThan(0.1); // above chance (10 classes) even at step 3
  expect(knn).toBeGreaterThan(0.1);
  const rows = page.getByTestId('confusion').locator('tbody tr');
  await expect(rows).toHaveCount(10);
  // Cell titles carry counts: the diagonal over the total is the linear top-1.
  const counts = await page
    .getByTestId('confusion')
    .locator('tbody td')
    .evaluateAll((els) => els.map((e) => Number(e.getAttribute('title')?.split(' ')[0])));
  expect(counts.length).toBe(100);
  const total = counts.reduce((a, b) => a + b, 0);
  const diag = counts.filter((_, i) => i % 11 === 0).reduce((a, b) => a + b, 0);
  expect(total).toBe(100);
  expect(diag / total).toBeCloseTo(linear, 3);

  const download = page.waitForEvent('download');
  await page.getByTestId('export-bundle').click();
  const zipPath = info.outputPath('export.zip');
  await (await download).saveAs(zipPath);
  const files = unzipSync(new Uint8Array(readFileSync(zipPath)));
  expect(Object.keys(files).sort()).toEqual(
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
  const vectors = strFromU8(files['projector/vectors.tsv']).trim().split('\n');
  const meta = strFromU8(files['projector/metadata.tsv']).trim().split('\n');
  expect(vectors.length).toBe(300);
  expect(meta.length).toBe(301); // header + one row per vector
  // The bank rows: backbone features (F wide) by default, projections (d wide) with bankSpace 'projection'.
  expect(vectors[0].split('\t').length).toBe(bankDim(cfg));
  expect(strFromU8(files['metrics.csv']).trim().split('\n').length).toBe(4); // header + 3 steps
  expect(JSON.parse(strFromU8(files['config.json'])).seed).toBe(cfg.seed);
  // The PNG signature, and the model loads with plain tfjs from the two files.
  expect(Array.from(files['projector/sprite.png'].subarray(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
  await tf.setBackend('cpu');
  const json = JSON.parse(strFromU8(files['model/model.json'])) as tf.io.ModelJSON;
  const w = files['model/weights.bin'];
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer,
    }),
  );
  const out = model.predict(tf.ones([2, cfg.resolutions[0], cfg.resolutions[0], 3])) as tf.Tensor[];
  const emb = out[out.length - 1];
  expect(emb.shape).toEqual([2, cfg.projDim]);
  const norms = tf.norm(emb, 2, 1).arraySync() as number[];
  for (const n of norms) expect(n).toBeCloseTo(1, 4);
  expect(errors).toEqual([]);
});
