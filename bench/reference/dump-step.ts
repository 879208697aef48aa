/**
 * Dumps one CLIM loss evaluation of src/core — weights, the mixed query views,
 * the anchor/positive key views, the queues, λ, the loss and every parameter's
 * gradient — for bench/reference/clim_ref.py `check`, which recomputes the same
 * loss and gradients in PyTorch from these inputs (issue 3, item 2).
 *
 * Uses the engine's own pieces (Encoder, applyAugment, the cutmix mixer,
 * mixedInfoNCE averaged over resolution pairs as in Trainer.trainStep), on the
 * backend given (default wasm, where the conv gradients are forward convs).
 *
 *   npx tsx bench/reference/dump-step.ts [--backend wasm] [--out bench/reference/out/dump]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { defaultConfig } from '../../src/core/config';
import { Rng } from '../../src/core/rng';
import { Encoder } from '../../src/core/models/encoder';
import { applyAugment, centreView, drawAugment } from '../../src/core/augment/augment';
import { getMixer } from '../../src/core/clim/mix';
import { mixedInfoNCE } from '../../src/core/losses/infonce';
import { makeShapesDataset } from '../../src/core/data/shapes';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    out: { type: 'string', default: 'bench/reference/out/dump' },
    seed: { type: 'string', default: '7' },
  },
});

async function main() {
  await tf.setBackend(values.backend!);
  await tf.ready();
  const cfg = { ...defaultConfig(), queueSize: 512 };
  const rng = new Rng(Number(values.seed));
  const data = makeShapesDataset({ seed: 1 });
  const B = cfg.batchSize;
  const n = data.train.n;
  const pick = () => Int32Array.from({ length: B }, () => rng.int(n));
  const all = tf.tidy(
    () => tf.div(tf.tensor4d(data.train.images, [n, data.size, data.size, 3], 'int32').toFloat(), 255) as tf.Tensor4D,
  );
  const xa = tf.gather(all, tf.tensor1d(pick(), 'int32')) as tf.Tensor4D;
  const xp = tf.gather(all, tf.tensor1d(pick(), 'int32')) as tf.Tensor4D;
  const query = Encoder.create(cfg, rng);
  const key = query.copy(false);
  // A few plain SGD-like perturbations would make query ≠ key; the check only needs the same weights on both sides.
  const tensors: Record<string, tf.Tensor> = {};
  const mixer = getMixer('cutmix');
  const plan = mixer.plan(B, 1, 1, rng);
  const R = cfg.resolutions.length;
  cfg.resolutions.forEach((r, i) => {
    tensors[`keyAnchor/${i}`] = applyAugment(xa, r, drawAugment(B, cfg, rng));
    tensors[`keyPositive/${i}`] = applyAugment(xp, r, drawAugment(B, cfg, rng));
    const m = mixer.apply(
      plan,
      applyAugment(xa, r, drawAugment(B, cfg, rng)),
      applyAugment(xp, r, drawAugment(B, cfg, rng)),
    );
    tensors[`query/${i}`] = m.mixed;
    tensors[`lambda/${i}`] = tf.tensor1d(m.lambda);
    tensors[`queue/${i}`] = key.embed(
      centreView(
        tf.gather(
          all,
          tf.tensor1d(
            Int32Array.from({ length: cfg.queueSize }, () => rng.int(n)),
            'int32',
          ),
        ) as tf.Tensor4D,
        r,
      ),
    );
  });
  const keys = cfg.resolutions.map((_, s) => {
    const k = key.embed(tf.concat([tensors[`keyAnchor/${s}`], tensors[`keyPositive/${s}`]], 0) as tf.Tensor4D);
    return { a: tf.slice(k, [0, 0], [B, -1]) as tf.Tensor2D, p: tf.slice(k, [B, 0], [B, -1]) as tf.Tensor2D };
  });
  const { value, grads } = tf.variableGrads(() => {
    const totals: tf.Scalar[] = [];
    for (let r = 0; r < R; r++) {
      const q = query.embed(tensors[`query/${r}`] as tf.Tensor4D);
      for (let s = 0; s < R; s++)
        totals.push(
          mixedInfoNCE(
            q,
            keys[s].a,
            keys[s].p,
            tensors[`queue/${s}`] as tf.Tensor2D,
            tensors[`lambda/${r}`] as tf.Tensor1D,
            cfg.temperature,
          ).total,
        );
    }
    return tf.div(tf.addN(totals), R * R) as tf.Scalar;
  }, query.trainableVariables());
  for (const p of query.params) {
    tensors[`param/${p.name}`] = p.variable;
    tensors[`grad/${p.name}`] = grads[p.variable.name];
  }
  const manifest: {
    config: typeof cfg;
    backend: string;
    loss: number;
    tensors: Record<string, { offset: number; shape: number[] }>;
  } = { config: cfg, backend: tf.getBackend(), loss: (await value.data())[0], tensors: {} };
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const v = Float32Array.from(await t.data());
    manifest.tensors[name] = { offset, shape: t.shape };
    chunks.push(v);
    offset += v.length;
  }
  mkdirSync(values.out!, { recursive: true });
  writeFileSync(join(values.out!, 'tensors.bin'), Buffer.concat(chunks.map((c) => Buffer.from(c.buffer))));
  writeFileSync(join(values.out!, 'manifest.json'), JSON.stringify(manifest));
  console.log(
    `backend=${manifest.backend} loss=${manifest.loss} tensors=${Object.keys(tensors).length} floats=${offset} → ${values.out}`,
  );
}
main();
