/**
 * The engine's embeddings of given images under given weights, for the
 * PyTorch package's equivalence test (issue 18, python/tests/test_equivalence.py):
 *
 *   npx tsx scripts/embed-weights.ts --weights FILE.climweights --images IN.bin --out OUT.bin [--backend cpu]
 *
 * IN.bin: little-endian float32 pixels N×H×W×3 in [0, 1] (the engine's scale,
 * src/core/trainer/images.ts), with a sidecar IN.bin.json {"shape": [N, H, W, 3]}.
 * OUT.bin: float32 `Encoder.embed` (N×d, L2-normalised) then `Encoder.features`
 * (N×F, the backbone before the head, not normalised), with a sidecar
 * OUT.bin.json {"embed": [N, d], "features": [N, F], "backend": "cpu"}.
 *
 * The weights are loaded exactly as `--init-weights` loads them
 * (decodeWeights → loadEncoderWeights into an `Encoder.create`d encoder), on
 * the tfjs CPU backend by default: plain float32 JavaScript kernels, the same
 * on every machine.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { Encoder } from '../src/core/models/encoder';
import { Rng } from '../src/core/rng';
import { decodeWeights } from '../src/core/weights-file';
import { loadEncoderWeights } from '../src/core/trainer/weights-io';
import type { ClimConfig } from '../src/core/config';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      weights: { type: 'string' },
      images: { type: 'string' },
      out: { type: 'string' },
      backend: { type: 'string', default: 'cpu' },
    },
  });
  if (!values.weights || !values.images || !values.out)
    throw new Error('usage: embed-weights.ts --weights FILE --images IN.bin --out OUT.bin [--backend cpu]');
  const file = decodeWeights(readFileSync(values.weights));
  const meta = JSON.parse(readFileSync(`${values.images}.json`, 'utf8')) as { shape: number[] };
  const [n, h, w, c] = meta.shape;
  const raw = readFileSync(values.images);
  if (c !== 3 || raw.length !== n * h * w * c * 4)
    throw new Error(
      `${values.images}: ${raw.length} bytes do not hold float32 ${meta.shape.join('×')} pixels (3 channels)`,
    );
  // A copy: Node's Buffer may sit unaligned in its pool.
  const pixels = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));

  if (!(await tf.setBackend(values.backend as string)))
    throw new Error(`tfjs backend ${values.backend} is not available`);
  await tf.ready();
  const arch = file.architecture;
  const enc = Encoder.create(arch, new Rng(1));
  // loadEncoderWeights reads only the architecture fields of its config.
  loadEncoderWeights(file, arch as ClimConfig, [enc]);
  const x = tf.tensor4d(pixels, [n, h, w, 3]);
  const f = enc.features(x);
  const z = enc.project(f);
  const zd = (await z.data()) as Float32Array;
  const fd = (await f.data()) as Float32Array;
  const out = new Uint8Array(zd.byteLength + fd.byteLength);
  out.set(new Uint8Array(zd.buffer, zd.byteOffset, zd.byteLength), 0);
  out.set(new Uint8Array(fd.buffer, fd.byteOffset, fd.byteLength), zd.byteLength);
  writeFileSync(values.out, out);
  writeFileSync(
    `${values.out}.json`,
    JSON.stringify({ embed: z.shape, features: f.shape, backend: tf.getBackend() }) + '\n',
  );
  tf.dispose([x, f, z]);
  enc.dispose();
}

main().catch((e: unknown) => {
  process.stderr.write(`embed-weights: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
