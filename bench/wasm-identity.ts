/**
 * A/B of WASM's Identity kernel inside one process (src/core/ops/wasm-identity.ts):
 * tfjs-wasm's own copying kernel against the data-sharing one, in alternating
 * blocks of default-config CLIM steps on one Trainer, so the machine's drift
 * (±30% within minutes here) falls on both sides alike.
 *   npx tsx bench/wasm-identity.ts [--blocks 6] [--steps 6] → bench/results/wasm-identity.json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { defaultConfig } from '../src/core/config';
import { Trainer } from '../src/core/train';
import { makeShapesDataset } from '../src/core/data/shapes';

const { values } = parseArgs({
  options: { blocks: { type: 'string', default: '6' }, steps: { type: 'string', default: '6' } },
});

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

async function main() {
  await tf.setBackend('wasm');
  await tf.ready();
  const copying = tf.getKernel('Identity', 'wasm')!;
  const t = await Trainer.create({ ...defaultConfig(), climWarmupSteps: 0 }, makeShapesDataset({ seed: 1 }));
  const sharing = tf.getKernel('Identity', 'wasm')!;
  if (sharing.kernelFunc === copying.kernelFunc) throw new Error('Trainer.create did not install the sharing Identity');
  const use = (k: tf.KernelConfig) => {
    tf.unregisterKernel('Identity', 'wasm');
    tf.registerKernel(k);
  };
  for (let i = 0; i < 2; i++) await t.trainStep();
  const blocks = Number(values.blocks);
  const steps = Number(values.steps);
  const ms: Record<'copy' | 'share', number[]> = { copy: [], share: [] };
  const tensors: number[] = [];
  for (let b = 0; b < blocks; b++) {
    for (const side of (b % 2 ? ['share', 'copy'] : ['copy', 'share']) as ('copy' | 'share')[]) {
      use(side === 'copy' ? copying : sharing);
      await t.trainStep(); // first step after a switch: not timed
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) await t.trainStep();
      ms[side].push((performance.now() - t0) / steps);
      tensors.push(tf.memory().numTensors);
    }
  }
  use(sharing);
  const out = {
    date: new Date().toISOString(),
    blocks,
    stepsPerBlock: steps,
    msPerStep: ms,
    median: { copy: median(ms.copy), share: median(ms.share) },
    ratioShareOverCopy: +(median(ms.share) / median(ms.copy)).toFixed(3),
    pairedRatios: ms.share.map((s, i) => +(s / ms.copy[i]).toFixed(3)),
    tensorsAfterEachBlock: tensors,
  };
  console.log(JSON.stringify(out));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/wasm-identity.json', JSON.stringify(out, null, 1));
  t.dispose();
}
main();
