/** Diagnostic: kNN top-1 on shapes from backbone vs projection features, query vs key encoder, before and after training. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { defaultConfig } from '../src/core/config';
import { Trainer } from '../src/core/train';
import { makeShapesDataset } from '../src/core/data/shapes';
import { knnClassify } from '../src/core/eval/knn-monitor';
import { l2Normalize, type Encoder } from '../src/core/models/encoder';
import { centreView } from '../src/core/augment/augment';

await tf.setBackend('wasm');
const d = makeShapesDataset({ seed: 1 });
const steps = Number(process.argv[2] ?? 150);
const cfg = { ...defaultConfig(), totalSteps: steps };
const t = await Trainer.create(cfg, d);
const imgs = (u: Uint8Array, n: number) =>
  tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(u), [n, 32, 32, 3]), 255) as tf.Tensor4D);
const tr = imgs(d.train.images, d.train.n);
const te = imgs(d.test.images, d.test.n);
async function acc(enc: Encoder, proj: boolean): Promise<number> {
  const f = (x: tf.Tensor4D) =>
    tf.tidy(() => {
      const parts: tf.Tensor2D[] = [];
      for (let s = 0; s < x.shape[0]; s += 256) {
        const p = centreView(tf.slice(x, [s, 0, 0, 0], [Math.min(256, x.shape[0] - s), -1, -1, -1]), 32);
        parts.push(proj ? enc.embed(p) : l2Normalize(enc.features(p)));
      }
      return tf.concat(parts) as tf.Tensor2D;
    });
  const a = f(tr);
  const b = f(te);
  const pred = await knnClassify(a, d.train.labels!, b, 20, 0.1, 8);
  tf.dispose([a, b]);
  let ok = 0;
  pred.forEach((p, i) => {
    if (p === d.test.labels![i]) ok++;
  });
  return ok / d.test.n;
}
async function report(tag: string) {
  console.log(
    tag,
    'query backbone',
    await acc(t.query, false),
    'query proj',
    await acc(t.query, true),
    'key backbone',
    await acc(t.key, false),
  );
}
await report('step 0');
for (let s = 0; s < steps; s++) await t.trainStep();
await report(`step ${steps}`);
