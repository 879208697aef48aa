/**
 * Stock WASM kernels against the JavaScript ones of src/core/ops/wasm-kernels.ts
 * and src/core/ops/topk-columns.ts, at the shapes a training step and a 60k
 * selection use (issue 3). Calls alternate stock / fast one by one so that
 * the machine's drift hits both alike; each result is also checked equal.
 *
 * Then whole default-config CLIM steps on one Trainer, in blocks that
 * alternate the two kernel sets (the shared Identity is on in both).
 *
 *   npx tsx bench/wasm-kernels.ts [--reps 30] [--blocks 6] [--steps 5] [--untimed 1]
 * (`--blocks 40 --steps 1 --untimed 0`: the two sets alternate every step.)
 * Writes bench/results/wasm-kernels.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installFastWasmKernels, installStockWasmKernels } from '../src/core/ops/wasm-kernels';
import { topkColumns } from '../src/core/ops/topk-columns';
import { defaultConfig } from '../src/core/config';
import { Trainer } from '../src/core/train';
import { makeShapesDataset } from '../src/core/data/shapes';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '30' },
    blocks: { type: 'string', default: '6' },
    steps: { type: 'string', default: '5' },
    untimed: { type: 'string', default: '1' },
  },
});
const reps = Number(values.reps);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

type Out = tf.Tensor | tf.Tensor[];

async function timeOnce(f: () => Out): Promise<{ ms: number; out: Out }> {
  const t0 = performance.now();
  const out = f();
  await Promise.all((Array.isArray(out) ? out : [out]).map((t) => t.data()));
  return { ms: performance.now() - t0, out };
}

async function same(a: Out, b: Out): Promise<boolean> {
  const as = Array.isArray(a) ? a : [a];
  const bs = Array.isArray(b) ? b : [b];
  for (let i = 0; i < as.length; i++) {
    const x = await as[i].data();
    const y = await bs[i].data();
    if (x.length !== y.length || x.some((v, j) => v !== y[j])) return false;
  }
  return true;
}

async function main() {
  await tf.setBackend('wasm');
  await tf.ready();
  const sample = (shape: number[]) => tf.randomUniform(shape, -1, 1, 'float32', 3);
  const img = tf.randomUniform([64, 34, 34, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
  const boxes = tf.tensor2d(
    Array.from({ length: 64 }, (_, i) => [0.05 + i / 1000, 0.9 - i / 500, 0.8, 0.1 + i / 700]).flat(),
    [64, 4],
  );
  const boxInd = tf.range(0, 64, 1, 'int32') as tf.Tensor1D;
  const bank = sample([2400, 128]);
  const idx = tf.randomUniform([640], 0, 2400, 'int32', 5);
  const act = sample([64, 12, 12, 16]);
  const act16 = sample([64, 16, 16, 16]);
  const sims = sample([64, 60000]);
  const simsT = sample([60000, 64]);

  // [name, stock call, fast call]; most are the same call under the two kernel sets.
  const cases: [string, () => Out, () => Out][] = [];
  const both = (name: string, f: () => Out) => cases.push([name, f, f]);
  both('GatherV2 2400×128, 640 rows', () => tf.gather(bank, idx));
  both('CropAndResize 64×34×34×3 → 32×32', () => tf.image.cropAndResize(img, boxes, boxInd, [32, 32], 'bilinear'));
  both('PadV2 64×12×12×16, H and W by 1', () =>
    tf.pad(act, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]),
  );
  both('PadV2 64×16×16×16, H and W by 1', () =>
    tf.pad(act16, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]),
  );
  both('TopK k = 11 over 64×60,000', () => {
    const r = tf.topk(sims, 11, true);
    return [r.values, r.indices];
  });
  cases.push([
    'kNN top-k of a 60,000×64 block: Transpose + TopK vs ClimTopKColumns',
    () => {
      const r = tf.tidy(() => tf.topk(tf.transpose(simsT), 11, true));
      return [r.values, r.indices];
    },
    () => {
      const r = topkColumns(simsT as tf.Tensor2D, 11);
      return [r.values, r.indices];
    },
  ]);

  const rows: Record<string, unknown>[] = [];
  for (const [name, stockF, fastF] of cases) {
    const stock: number[] = [];
    const fast: number[] = [];
    let equal = true;
    for (let i = 0; i < reps + 3; i++) {
      installStockWasmKernels();
      const a = await timeOnce(stockF);
      installFastWasmKernels();
      const b = await timeOnce(fastF);
      if (i === 0) equal = await same(a.out, b.out);
      if (i >= 3) {
        stock.push(a.ms);
        fast.push(b.ms);
      }
      tf.dispose([a.out, b.out] as tf.Tensor[]);
    }
    const row = {
      case: name,
      stockMs: median(stock),
      fastMs: median(fast),
      speedup: median(stock) / median(fast),
      equal,
      reps,
    };
    rows.push(row);
    console.log(
      `${name.padEnd(70)} ${row.stockMs.toFixed(2).padStart(7)} → ${row.fastMs.toFixed(2).padStart(6)} ms  ×${row.speedup.toFixed(1)}  ${equal ? 'equal' : 'DIFFERENT'}`,
    );
  }
  tf.dispose([img, boxes, boxInd, bank, idx, act, act16, sims, simsT]);

  // Whole steps: default config, CLIM from step 0 (selection and mixing in every step).
  const t = await Trainer.create({ ...defaultConfig(), climWarmupSteps: 0 }, makeShapesDataset({ seed: 1 }));
  for (let i = 0; i < 2; i++) await t.trainStep();
  const blocks = Number(values.blocks);
  const steps = Number(values.steps);
  const ms: Record<'stock' | 'fast', number[]> = { stock: [], fast: [] };
  const sel: Record<'stock' | 'fast', number[]> = { stock: [], fast: [] };
  // CPU time of this process as well: on this shared 2-core VM the wall clock
  // also counts time the host gave to others (steal), the CPU time does not.
  const cpu: Record<'stock' | 'fast', number[]> = { stock: [], fast: [] };
  for (let b = 0; b < blocks; b++) {
    for (const side of (b % 2 ? ['fast', 'stock'] : ['stock', 'fast']) as ('stock' | 'fast')[]) {
      if (side === 'stock') installStockWasmKernels();
      else installFastWasmKernels();
      for (let i = 0; i < Number(values.untimed); i++) await t.trainStep(); // steps after a switch left untimed
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      for (let i = 0; i < steps; i++) sel[side].push((await t.trainStep()).selectionMs ?? 0);
      const c = process.cpuUsage(c0);
      ms[side].push((performance.now() - t0) / steps);
      cpu[side].push((c.user + c.system) / 1000 / steps);
    }
  }
  installFastWasmKernels();
  t.dispose();
  const paired = ms.fast.map((f, i) => f / ms.stock[i]);
  const pairedCpu = cpu.fast.map((f, i) => f / cpu.stock[i]);
  const step = {
    config: 'default, climWarmupSteps 0',
    blocks,
    stepsPerBlock: steps,
    untimedAfterSwitch: Number(values.untimed),
    msPerStep: ms,
    median: { stock: median(ms.stock), fast: median(ms.fast) },
    pairedRatiosFastOverStock: paired.map((r) => +r.toFixed(3)),
    medianPairedRatio: +median(paired).toFixed(3),
    selectionMsMedian: { stock: median(sel.stock), fast: median(sel.fast) },
    cpuMsPerStep: cpu,
    cpuMedian: { stock: median(cpu.stock), fast: median(cpu.fast) },
    pairedCpuRatiosFastOverStock: pairedCpu.map((r) => +r.toFixed(3)),
    medianPairedCpuRatio: +median(pairedCpu).toFixed(3),
  };
  console.log(
    `default step: stock ${step.median.stock.toFixed(1)} ms, fast ${step.median.fast.toFixed(1)} ms, paired fast/stock ${step.medianPairedRatio} (${step.pairedRatiosFastOverStock.join(', ')}); selection ${step.selectionMsMedian.stock.toFixed(1)} → ${step.selectionMsMedian.fast.toFixed(1)} ms; CPU time ${step.cpuMedian.stock.toFixed(1)} → ${step.cpuMedian.fast.toFixed(1)} ms, paired ${step.medianPairedCpuRatio} (${step.pairedCpuRatiosFastOverStock.join(', ')})`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/wasm-kernels.json',
    JSON.stringify({ date: new Date().toISOString(), backend: 'wasm', rows, step }, null, 2),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
