/** kNN top-1 of raw pixels (L2-normalised, centred) on a built-in set: the floor any encoder should beat. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { makeShapesDataset } from '../src/core/data/shapes';
import { knnClassify } from '../src/core/eval/knn-monitor';
import { l2Normalize } from '../src/core/models/encoder';

await tf.setBackend('wasm');
const d = makeShapesDataset({ seed: 1 });
const feats = (imgs: Uint8Array, n: number) =>
  tf.tidy(() => {
    const x = tf.reshape(tf.tensor(Float32Array.from(imgs), [n, 32 * 32 * 3]), [n, -1]).div(255);
    return l2Normalize(tf.sub(x, tf.mean(x, 1, true)) as tf.Tensor2D);
  });
const tr = feats(d.train.images, d.train.n);
const te = feats(d.test.images, d.test.n);
for (const k of [1, 20]) {
  const pred = await knnClassify(tr, d.train.labels!, te, k, 0.1, 8);
  let ok = 0;
  pred.forEach((p, i) => {
    if (p === d.test.labels![i]) ok++;
  });
  console.log(`raw pixels k=${k}: kNN top-1 ${(ok / d.test.n).toFixed(4)}`);
}
