/**
 * Where a training step's time goes, kernel by kernel (issue 3: "which kernels
 * remain the bottleneck with their measured share of the step").
 * Runs `tf.profile` around measured steps of the real Trainer and sums
 * kernelTimeMs per kernel name, and per kernel name + input shapes.
 *
 *   npx tsx bench/profile-kernels.ts [--config default|b32] [--steps 3] [--backend wasm] [--top 40]
 * Writes bench/results/kernels-<backend>-<config>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { defaultConfig, type ClimConfig } from '../src/core/config';
import { Trainer } from '../src/core/train';
import { makeShapesDataset } from '../src/core/data/shapes';
import type { Dataset } from '../src/core/data/dataset';
import { Rng } from '../src/core/rng';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'default' },
    steps: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'wasm' },
    clim: { type: 'boolean', default: true },
    bank: { type: 'string' },
    top: { type: 'string', default: '40' },
  },
});

function randomDataset(n: number, size: number): Dataset {
  const images = new Uint8Array(n * size * size * 3);
  const rng = new Rng(1);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  return {
    id: `random:${n}`,
    name: 'random',
    size,
    train: { n, images, labels: null },
    test: { n: 0, images: new Uint8Array(0), labels: null },
    classNames: [],
  };
}

const SCOPES = new Set(['unnamed scope', 'forward']);

const configs: Record<string, Partial<ClimConfig>> = { default: {}, b32: { batchSize: 32 } };

async function main() {
  await tf.setBackend(values.backend!);
  await tf.ready();
  // climWarmupSteps 0: profile the full CLIM step (selection + mixing), the expensive one.
  const cfg: ClimConfig = {
    ...defaultConfig(),
    ...configs[values.config!],
    ...(values.clim ? { climWarmupSteps: 0 } : {}),
  };
  // --bank N: a training set of N random-pixel images, for the cost of a large
  // bank (pixels do not change kernel times, and 60k shapes take minutes to draw).
  const bank = values.bank ? Number(values.bank) : 0;
  const data: Dataset = bank ? randomDataset(bank, 32) : makeShapesDataset({ seed: 1 });
  const t = await Trainer.create(cfg, data);
  for (let i = 0; i < 2; i++) await t.trainStep();
  const steps = Number(values.steps);
  const byName = new Map<string, number>();
  const byShape = new Map<string, { ms: number; calls: number }>();
  let wall = 0;
  let kernelTotal = 0;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const info = await tf.profile(async () => {
      await t.trainStep();
      return [];
    });
    wall += performance.now() - t0;
    for (const k of info.kernels) {
      const ms = Number(k.kernelTimeMs) || 0;
      // customGrad wrappers are recorded as their own entries around the
      // kernels they run: listed, but kept out of the total and the shares.
      if (!SCOPES.has(k.name)) kernelTotal += ms;
      byName.set(k.name, (byName.get(k.name) ?? 0) + ms);
      const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
      const e = byShape.get(key) ?? { ms: 0, calls: 0 };
      e.ms += ms;
      e.calls++;
      byShape.set(key, e);
    }
  }
  const perStep = (ms: number) => +(ms / steps).toFixed(2);
  const names = [...byName]
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => ({
      name,
      msPerStep: perStep(ms),
      share: SCOPES.has(name) ? null : +(ms / kernelTotal).toFixed(4),
    }));
  const shapes = [...byShape]
    .sort((a, b) => b[1].ms - a[1].ms)
    .filter(([key]) => !SCOPES.has(key.slice(0, key.indexOf(' ['))))
    .slice(0, Number(values.top))
    .map(([key, e]) => ({ kernel: key, msPerStep: perStep(e.ms), callsPerStep: e.calls / steps }));
  const out = {
    date: new Date().toISOString(),
    backend: tf.getBackend(),
    config: values.config,
    steps,
    wallMsPerStepProfiled: perStep(wall),
    kernelMsPerStep: perStep(kernelTotal),
    byKernel: names,
    topKernelShapes: shapes,
  };
  console.log(`wall ${out.wallMsPerStepProfiled} ms/step (profiled), kernels ${out.kernelMsPerStep} ms/step`);
  for (const n of names.slice(0, 16))
    console.log(
      `${n.name.padEnd(28)} ${String(n.msPerStep).padStart(8)} ms  ${n.share === null ? '(scope)' : (100 * n.share).toFixed(1) + '%'}`,
    );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    `bench/results/kernels-${out.backend}-${values.config}${bank ? `-bank${bank}` : ''}.json`,
    JSON.stringify(out, null, 1),
  );
  t.dispose();
}
main();
