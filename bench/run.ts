/**
 * Training-step benchmark (issue 3, items 1, 2 and 4), Node, WASM backend:
 *
 * - median ms per step (and images/s) over `--steps` measured steps after
 *   `--warmup` steps, for the default config (`clim-paper`) and the
 *   `fast-demo-cpu` preset at batch 32/64/128, with CLIM's warm-up switched
 *   off so every measured step does selection and mixing;
 * - the same steps in the PyTorch reference (bench/reference/clim_ref.py,
 *   Debian's python3-torch) on the same data, config and thread count (1:
 *   tfjs WASM runs single-threaded in Node), and the ratio tfjs / PyTorch;
 * - tf.memory() tensors and bytes every 100 steps over `--memory-steps`
 *   steps of the fast-demo preset (must stay flat).
 *
 * - the speed of this shared 2-core machine drifts by ±30% within minutes,
 *   so tfjs and PyTorch steps alternate one by one (the reference runs as a
 *   long-lived `clim_ref.py serve` process), `--rounds` × `--steps` pairs per
 *   case: the ratio is the median of the paired per-step ratios.
 *
 *   npm run bench [-- --steps 10 --warmup 2 --rounds 3 --memory-steps 1000 --no-torch]
 * Writes bench/results/step-node-<backend>.json; docs/BENCHMARKS.md summarises it.
 */
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { ClimConfig } from '../src/core/config';
import { presetConfig } from '../src/core/presets';
import { Trainer } from '../src/core/train';
import { makeShapesDataset } from '../src/core/data/shapes';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    backend: { type: 'string', default: 'wasm' },
    'memory-steps': { type: 'string', default: '1000' },
    'no-torch': { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string', default: '3' },
  },
});
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const PY = '/usr/bin/python3';
const DATA = 'bench/reference/out/shapes.bin';

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Bank size of the `bank60k` case: the selection target (≤ 10% of the step) is set at 60k embeddings. */
const BIG_BANK = 60000;

function cases(): { name: string; config: ClimConfig; bank?: number }[] {
  const out: { name: string; config: ClimConfig; bank?: number }[] = [];
  for (const preset of ['clim-paper', 'fast-demo-cpu']) {
    for (const batchSize of [32, 64, 128]) {
      out.push({ name: `${preset} b${batchSize}`, config: { ...presetConfig(preset), batchSize, climWarmupSteps: 0 } });
    }
  }
  // The default step with a 60k-row bank (a 60k-image training set, as full
  // Fashion-MNIST would give): selection's share of a real step, not of a
  // synthetic one. k-means runs in its own timed field (kmeansMs).
  out.push({
    name: 'clim-paper b64 bank60k',
    config: { ...presetConfig('clim-paper'), climWarmupSteps: 0 },
    bank: BIG_BANK,
  });
  return values.only ? out.filter((c) => c.name.includes(values.only!)) : out;
}

function torchAvailable(): boolean {
  return (
    !values['no-torch'] && existsSync(PY) && spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0
  );
}

/**
 * The PyTorch reference as a long-lived process (`clim_ref.py serve`) that
 * runs one step per request: the benchmark alternates single tfjs and
 * PyTorch steps, so each ratio compares steps taken about a second apart.
 * (Separate runs of a dozen steps each gave per-round ratios of 1.19–2.13
 * for one unchanged case on 2026-11-29.)
 */
class TorchServer {
  private readonly lines: string[] = [];
  private wake: (() => void) | null = null;
  threads = 1;

  private constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({ input: proc.stdout }).on('line', (l) => {
      this.lines.push(l);
      this.wake?.();
    });
    proc.stderr.on('data', (d) => process.stderr.write(d));
  }

  static async start(config: ClimConfig): Promise<TorchServer> {
    mkdirSync('bench/reference/out', { recursive: true });
    const file = 'bench/reference/out/bench-config.json';
    writeFileSync(file, JSON.stringify(config));
    const proc = spawn(PY, [
      'bench/reference/clim_ref.py',
      'serve',
      '--config',
      file,
      '--data',
      DATA,
      '--threads',
      '1',
      '--warmup',
      String(warmup),
    ]);
    const s = new TorchServer(proc);
    const ready = JSON.parse(await s.next()) as { ready: boolean; threads: number };
    s.threads = ready.threads;
    return s;
  }

  private async next(): Promise<string> {
    while (!this.lines.length) {
      if (this.proc.exitCode !== null) throw new Error(`clim_ref.py serve exited with ${this.proc.exitCode}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 1000);
      });
      this.wake = null;
    }
    return this.lines.shift()!;
  }

  async step(): Promise<number> {
    this.proc.stdin.write('step\n');
    return (JSON.parse(await this.next()) as { ms: number }).ms;
  }

  close(): void {
    this.proc.stdin.end();
  }
}

async function main() {
  await tf.setBackend(values.backend!);
  await tf.ready();
  const data = makeShapesDataset({ seed: 1 });
  const torch = torchAvailable();
  if (torch && !existsSync(DATA)) execFileSync('npx', ['tsx', 'bench/reference/export-data.ts'], { stdio: 'inherit' });
  const rows = [];
  for (const { name, config, bank } of cases()) {
    // The PyTorch reference reads the 2.4k-image file, so the big-bank case has no torch row.
    const big = bank !== undefined;
    const t = await Trainer.create(config, big ? makeShapesDataset({ seed: 1, nTrain: bank, nTest: 0 }) : data);
    for (let i = 0; i < warmup; i++) await t.trainStep();
    const ms: number[] = [];
    const selMs: number[] = [];
    const kmMs: number[] = [];
    const rounds: { tfjsMs: number; torchMs?: number; torchThreads?: number; ratio?: number }[] = [];
    const pairRatios: number[] = [];
    const torchMs: number[] = [];
    const server = torch && !big ? await TorchServer.start(config) : null;
    const tensors0 = tf.memory().numTensors;
    for (let r = 0; r < Number(values.rounds); r++) {
      const roundMs: number[] = [];
      const roundTorch: number[] = [];
      const roundRatios: number[] = [];
      for (let i = 0; i < steps; i++) {
        // Alternate which side goes first, so neither always follows the other.
        const torchFirst = server !== null && i % 2 === 1;
        const tm = torchFirst ? await server.step() : 0;
        const m = await t.trainStep();
        roundMs.push(m.ms);
        selMs.push(m.selectionMs);
        kmMs.push(m.kmeansMs);
        if (server) {
          const ms2 = torchFirst ? tm : await server.step();
          roundTorch.push(ms2);
          roundRatios.push(m.ms / ms2);
        }
      }
      ms.push(...roundMs);
      torchMs.push(...roundTorch);
      pairRatios.push(...roundRatios);
      const round: (typeof rounds)[number] = { tfjsMs: +median(roundMs).toFixed(1) };
      if (server) {
        round.torchMs = +median(roundTorch).toFixed(1);
        round.torchThreads = server.threads;
        round.ratio = +median(roundRatios).toFixed(2);
      }
      rounds.push(round);
    }
    server?.close();
    const tensorDelta = tf.memory().numTensors - tensors0;
    t.dispose();
    const med = median(ms);
    const row: Record<string, unknown> = {
      case: name,
      batchSize: config.batchSize,
      resolutions: config.resolutions,
      medianMs: +med.toFixed(1),
      imagesPerSecond: +((config.batchSize * 1000) / med).toFixed(1),
      minMs: +Math.min(...ms).toFixed(1),
      maxMs: +Math.max(...ms).toFixed(1),
      tensorDelta,
      bankSize: big ? bank : data.train.n,
      selectionMedianMs: +median(selMs).toFixed(1),
      selectionShare: +(median(selMs) / med).toFixed(3),
      kmeansMsInRun: +kmMs.reduce((a, b) => a + b, 0).toFixed(0),
      loadavg1: +os.loadavg()[0].toFixed(2),
    };
    if (server) {
      row.torchMedianMs = +median(torchMs).toFixed(1);
      row.torchThreads = server.threads;
      // The median of the paired per-step ratios; the ratio of the medians beside it.
      row.ratio = +median(pairRatios).toFixed(3);
      row.ratioOfMedians = +(med / median(torchMs)).toFixed(3);
      row.pairRatioQuartiles = [quantile(pairRatios, 0.25), quantile(pairRatios, 0.75)].map((v) => +v.toFixed(3));
    }
    row.rounds = rounds;
    console.log(JSON.stringify(row));
    rows.push(row);
  }

  const memorySteps = Number(values['memory-steps']);
  const memory: { step: number; numTensors: number; numBytes: number }[] = [];
  if (memorySteps > 0) {
    const t = await Trainer.create({ ...presetConfig('fast-demo-cpu'), totalSteps: memorySteps }, data);
    for (let s = 1; s <= memorySteps; s++) {
      await t.trainStep();
      if (s % 100 === 0 || s === 1) {
        const m = tf.memory();
        memory.push({ step: s, numTensors: m.numTensors, numBytes: m.numBytes });
        console.log(JSON.stringify(memory[memory.length - 1]));
      }
    }
    t.dispose();
  }

  const out = {
    date: new Date().toISOString(),
    backend: tf.getBackend(),
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    steps,
    warmup,
    rounds: Number(values.rounds),
    torch,
    rows,
    memory,
    memoryConfig: 'fast-demo-cpu',
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/step-node-${tf.getBackend()}.json`, JSON.stringify(out, null, 1));
}
main();
