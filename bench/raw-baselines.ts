/**
 * The pixel baselines a trained encoder has to beat on the built-in
 * Fashion-MNIST split (issue 15's long-run table): the kNN monitor (k = 20,
 * τ = 0.1) and the app's linear probe (DEFAULT_PROBE) on raw pixels, each
 * image flattened and L2-normalised as `rawPixelKnn` does, on the same
 * 10,000 / 2,000 split the runner trains and evaluates on.
 *   npx tsx bench/raw-baselines.ts [--out bench/results/raw-baselines.json]
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadDataset } from '../src/cli/datasets';
import { rawPixelKnn } from '../src/core/ablation';
import { DEFAULT_PROBE, linearProbe } from '../src/core/eval/linear-probe';
import { l2Normalize } from '../src/core/models/encoder';

const { values: v } = parseArgs({ options: { out: { type: 'string' } } });
await tf.setBackend('wasm');
await tf.ready();
const d = loadDataset('fashion-mnist', 1);
const t0 = performance.now();
const knn = await rawPixelKnn(d, 20, 0.1);
const knnMs = performance.now() - t0;
const dim = d.size * d.size * 3;
const pix = (u: Uint8Array, n: number) => tf.tidy(() => l2Normalize(tf.tensor2d(Float32Array.from(u), [n, dim])));
const tr = pix(d.train.images, d.train.n);
const te = pix(d.test.images, d.test.n);
const t1 = performance.now();
const probe = await linearProbe(tr, d.train.labels as Int32Array, te, d.test.labels as Int32Array, {
  ...DEFAULT_PROBE,
  classes: 10,
});
const probeMs = performance.now() - t1;
tf.dispose([tr, te]);
const result = {
  dataset: d.id,
  train: d.train.n,
  test: d.test.n,
  knnTop1: knn,
  knn: { k: 20, tau: 0.1, ms: knnMs },
  linearTop1: probe.top1,
  probe: { ...DEFAULT_PROBE, ms: probeMs },
  date: new Date().toISOString(),
};
console.log(
  `raw pixels on ${d.id}: kNN top-1 ${knn?.toFixed(4)} (${(knnMs / 1000).toFixed(1)} s), linear probe top-1 ${probe.top1.toFixed(4)} (${(probeMs / 1000).toFixed(1)} s)`,
);
if (v.out) writeFileSync(v.out, JSON.stringify(result, null, 1));
