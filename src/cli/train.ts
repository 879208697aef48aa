/**
 * Headless runner: the same src/core engine as the browser worker, in Node.
 *
 *   npm run train -- --dataset shapes --steps 200 --backend wasm --seed 1 --out run.json
 *
 * Writes a JSON report (fields documented in README, kept stable).
 */
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'fflate';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { CENTER_THRESHOLDS, MIX_MODES, SELECTION_MODES, defaultConfig, validateConfig, type ClimConfig } from '../core/config';
import { Trainer } from '../core/train';
import { makeShapesDataset } from '../core/data/shapes';
import { parseFashionMnist } from '../core/data/fashion-mnist';
import type { Dataset } from '../core/data/dataset';
import type { StepMetrics } from '../core/api';

const BACKENDS = ['wasm', 'cpu'] as const;
const DATASETS = ['shapes', 'fashion-mnist'] as const;
type DatasetName = (typeof DATASETS)[number];

/** The committed data files the page serves (`public/datasets/`), read from the repository. */
export const DATASET_DIR = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'public', 'datasets');

/** Builds or reads a built-in data set; `shapes` depends on the seed, `fashion-mnist` is a fixed file. */
export function loadDataset(name: DatasetName, seed: number): Dataset {
  if (name === 'shapes') return makeShapesDataset({ seed });
  const file = join(DATASET_DIR, 'fashion-mnist.bin');
  let gz: Uint8Array;
  try {
    gz = readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read the fashion-mnist data file ${file} (${(e as Error).message}); it is committed, or rebuild it with npm run data:fashion-mnist`);
  }
  return parseFashionMnist(gunzipSync(gz));
}

class UsageError extends Error {}

export interface RunReport {
  version: 1;
  config: ClimConfig;
  backend: string;
  dataset: { id: string; train: number; test: number; labelled: boolean };
  history: Array<Pick<StepMetrics, 'step' | 'loss' | 'lossAnchor' | 'lossPositive' | 'lr' | 'ms' | 'imagesPerSecond' | 'coverage' | 'precision'>>;
  eval: { step: number; knnTop1: number | null; initialKnnTop1: number | null };
  wallSeconds: number;
}

const HELP = `Usage: npm run train -- [options]
  --dataset NAME              built-in data set: shapes (default) or fashion-mnist
  --steps N                   training steps (default 200; 0 evaluates the untrained encoder)
  --backend wasm|cpu          tfjs backend (default wasm)
  --seed N                    seed of every random draw (default 1)
  --out FILE                  write the JSON report here
  --config FILE               JSON with config fields overriding the defaults
  --selection none|knn|cluster|center-wise
  --threshold anchor|cluster-mean
  --mix none|cutmix|mixup
  --eval-every N              also evaluate every N steps (default: start and end only)
  --quiet                     print only the summary`;

function oneOf<T extends string>(flag: string, v: string | undefined, options: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!options.includes(v as T)) throw new UsageError(`--${flag} must be one of ${options.join(', ')} (got "${v}")`);
  return v as T;
}

function intFlag(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} must be a whole number ≥ ${min} (got "${v}")`);
  return n;
}

export function parseCli(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        dataset: { type: 'string' },
        steps: { type: 'string' },
        backend: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        config: { type: 'string' },
        selection: { type: 'string' },
        threshold: { type: 'string' },
        mix: { type: 'string' },
        'eval-every': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  const v = parsed.values;
  const config = defaultConfig();
  if (v.config) {
    let extra: unknown;
    try {
      extra = JSON.parse(readFileSync(v.config, 'utf8'));
    } catch (e) {
      throw new UsageError(`--config ${v.config}: ${(e as Error).message}`);
    }
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw new UsageError(`--config ${v.config}: expected a JSON object of config fields`);
    for (const key of Object.keys(extra)) {
      if (!(key in config)) throw new UsageError(`--config ${v.config}: unknown field "${key}"`);
    }
    Object.assign(config, extra);
  }
  const seed = intFlag('seed', v.seed, 0);
  if (seed !== undefined) config.seed = seed;
  config.selection = oneOf('selection', v.selection, SELECTION_MODES) ?? config.selection;
  config.centerThreshold = oneOf('threshold', v.threshold, CENTER_THRESHOLDS) ?? config.centerThreshold;
  config.mix = oneOf('mix', v.mix, MIX_MODES) ?? config.mix;
  const steps = intFlag('steps', v.steps, 0) ?? 200;
  if (v.steps !== undefined && v.config === undefined) config.totalSteps = Math.max(1, steps);
  const issues = validateConfig(config);
  if (issues.length) throw new UsageError(issues.map((i) => i.message).join(' '));
  return {
    help: v.help ?? false,
    dataset: oneOf('dataset', v.dataset, DATASETS) ?? 'shapes',
    steps,
    backend: oneOf('backend', v.backend, BACKENDS) ?? 'wasm',
    out: v.out,
    evalEvery: intFlag('eval-every', v['eval-every'], 1),
    quiet: v.quiet ?? false,
    config,
  };
}

export async function run(argv: string[], log: (s: string) => void = (s) => console.log(s)): Promise<RunReport | null> {
  const opts = parseCli(argv);
  if (opts.help) {
    log(HELP);
    return null;
  }
  await tf.setBackend(opts.backend);
  await tf.ready();
  const data = loadDataset(opts.dataset, opts.config.seed);
  const started = Date.now();
  const trainer = await Trainer.create(opts.config, data);
  try {
    const initial = await trainer.evaluate();
    if (!opts.quiet) log(`backend=${tf.getBackend()} dataset=${data.id} train=${data.train.n} test=${data.test.n} kNN@0=${fmt(initial.knnTop1)}`);
    const history: RunReport['history'] = [];
    for (let s = 0; s < opts.steps; s++) {
      const m = await trainer.trainStep();
      if (!Number.isFinite(m.loss)) throw new Error(`loss became ${m.loss} at step ${m.step}`);
      history.push({ step: m.step, loss: m.loss, lossAnchor: m.lossAnchor, lossPositive: m.lossPositive, lr: m.lr, ms: m.ms, imagesPerSecond: m.imagesPerSecond, coverage: m.coverage, precision: m.precision });
      if (!opts.quiet && (m.step % 10 === 0 || m.step === 1)) {
        log(`step ${m.step}/${opts.steps} loss ${m.loss.toFixed(4)} lr ${m.lr.toFixed(4)} ${m.ms.toFixed(0)} ms (${m.imagesPerSecond.toFixed(0)} img/s) coverage ${m.coverage.toFixed(2)} precision ${fmt(m.precision)}`);
      }
      if (opts.evalEvery && m.step % opts.evalEvery === 0 && m.step !== opts.steps) {
        const e = await trainer.evaluate();
        if (!opts.quiet) log(`step ${m.step} kNN top-1 ${fmt(e.knnTop1)}`);
      }
    }
    const final = opts.steps > 0 ? await trainer.evaluate() : initial;
    const report: RunReport = {
      version: 1,
      config: opts.config,
      backend: tf.getBackend(),
      dataset: { id: data.id, train: data.train.n, test: data.test.n, labelled: data.train.labels !== null },
      history,
      eval: { step: final.step, knnTop1: final.knnTop1, initialKnnTop1: initial.knnTop1 },
      wallSeconds: (Date.now() - started) / 1000,
    };
    if (opts.out) writeFileSync(opts.out, JSON.stringify(report, null, 1));
    const firstN = history.slice(0, 20);
    const lastN = history.slice(-20);
    const mean = (h: typeof history) => (h.length ? h.reduce((a, b) => a + b.loss, 0) / h.length : NaN);
    const medianMs = history.length ? [...history.map((h) => h.ms)].sort((a, b) => a - b)[Math.floor(history.length / 2)] : NaN;
    log(`done: ${history.length} steps in ${report.wallSeconds.toFixed(1)} s, median ${medianMs.toFixed(0)} ms/step; loss first20 ${mean(firstN).toFixed(4)} last20 ${mean(lastN).toFixed(4)}; kNN top-1 ${fmt(initial.knnTop1)} → ${fmt(final.knnTop1)}${opts.out ? `; report ${opts.out}` : ''}`);
    return report;
  } finally {
    trainer.dispose();
  }
}

function fmt(v: number | null): string {
  return v === null ? 'n/a' : v.toFixed(4);
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '');
if (isMain) {
  run(process.argv.slice(2)).catch((e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message} (see --help)`);
      process.exit(2);
    }
    console.error(e instanceof Error ? e.stack ?? e.message : String(e));
    process.exit(1);
  });
}
