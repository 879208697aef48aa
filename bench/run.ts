/**
 * Training-step benchmark in Node (WASM backend): median ms per step over
 * measured steps after warm-up, per config. Results go to bench/results/ and
 * are summarised by hand in docs/BENCHMARKS.md.
 *
 *   npm run bench [-- --steps 10 --warmup 2]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { defaultConfig, tinyConfig, type ClimConfig } from '../src/core/config';
import { Trainer } from '../src/core/train';
import { makeShapesDataset } from '../src/core/data/shapes';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '10' }, warmup: { type: 'string', default: '2' }, backend: { type: 'string', default: 'wasm' } } });
const steps = Number(values.steps);
const warmup = Number(values.warmup);

const configs: Record<string, ClimConfig> = {
  default: defaultConfig(),
  'default-b32': { ...defaultConfig(), batchSize: 32 },
  tiny: tinyConfig(),
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  await tf.setBackend(values.backend!);
  await tf.ready();
  const data = makeShapesDataset({ seed: 1 });
  const rows = [];
  for (const [name, cfg] of Object.entries(configs)) {
    const t = await Trainer.create(cfg, data);
    for (let i = 0; i < warmup; i++) await t.trainStep();
    const ms: number[] = [];
    const tensors0 = tf.memory().numTensors;
    for (let i = 0; i < steps; i++) ms.push((await t.trainStep()).ms);
    const row = { config: name, batchSize: cfg.batchSize, resolutions: cfg.resolutions, medianMs: median(ms), imagesPerSecond: (cfg.batchSize * 1000) / median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms), tensorDelta: tf.memory().numTensors - tensors0 };
    console.log(JSON.stringify(row));
    rows.push(row);
    t.dispose();
  }
  const out = { date: new Date().toISOString(), backend: tf.getBackend(), node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, steps, warmup, rows };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/step-node-${tf.getBackend()}.json`, JSON.stringify(out, null, 1));
}
main();
