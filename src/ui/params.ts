/**
 * Page URL options: `?backend=webgpu|webgl|wasm|cpu` forces a backend,
 * `?config=tiny` picks the tiny model (for slow software backends),
 * `?preset=<id>` a named preset (src/core/presets.ts; wins over `config`),
 * `?batch=N` overrides the batch size, `?climwarmup=N` the steps of plain
 * MoCo before CLIM's selection and mixing switch on (0: from step 1), `?dataset=fashion-mnist|shapes` the
 * data set (default fashion-mnist), `?seed=N`, `?n=N` (training images) and
 * `?ntest=N` (held-out images) adjust the run. `?wasmthreads=N` (N > 1)
 * loads the threaded WASM build with N threads. `?autosave=N` checkpoints
 * to IndexedDB every N steps (0: only on Pause and Save; default 100).
 * `?testhooks=1` lets the end-to-end tests inject faults (window.__climTest). `?bench=1` exposes a
 * read-only `window.__climPlayground` for bench/browser.ts (bench-hook.ts).
 * A `#hash` run description wins over these where both set something
 * (initialRun in url-sync.ts).
 */
import { defaultConfig, tinyConfig, type ClimConfig } from '../core/config';
import { PRESETS, presetConfig } from '../core/presets';
import type { ConnectOptions } from './store';
import { isBackendName, isDatasetName } from '../worker/protocol';

function positiveInt(v: string | null): number | undefined {
  if (v === null || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

function nonNegativeInt(v: string | null): number | undefined {
  return v === '0' ? 0 : positiveInt(v);
}

function baseConfig(q: URLSearchParams): ClimConfig {
  const preset = q.get('preset');
  if (preset !== null && PRESETS.some((p) => p.id === preset)) return presetConfig(preset);
  return q.get('config') === 'tiny' ? tinyConfig() : defaultConfig();
}

export function parseParams(search: string): ConnectOptions {
  const q = new URLSearchParams(search);
  const b = q.get('backend');
  const backend = isBackendName(b) ? b : null;
  const seed = positiveInt(q.get('seed'));
  const batchSize = positiveInt(q.get('batch'));
  const climWarmupSteps = nonNegativeInt(q.get('climwarmup'));
  let config = baseConfig(q);
  if (seed !== undefined) config = { ...config, seed };
  if (batchSize !== undefined) config = { ...config, batchSize };
  if (climWarmupSteps !== undefined) config = { ...config, climWarmupSteps };
  const nTrain = positiveInt(q.get('n'));
  const nTest = positiveInt(q.get('ntest'));
  const d = q.get('dataset');
  const name = isDatasetName(d) ? d : undefined;
  const opts: ConnectOptions = { backend, config };
  const autosaveEvery = nonNegativeInt(q.get('autosave'));
  if (autosaveEvery !== undefined) opts.autosaveEvery = autosaveEvery;
  if (q.get('testhooks') === '1') opts.testHooks = true;
  const wasmThreads = positiveInt(q.get('wasmthreads'));
  if (wasmThreads !== undefined) opts.wasmThreads = wasmThreads;
  if (name !== undefined || nTrain !== undefined || nTest !== undefined) {
    opts.dataset = { seed: config.seed, nTrain, nTest };
    if (name !== undefined) opts.dataset.name = name;
  }
  return opts;
}

/** `?bench=1`: install the read-only benchmark hook (see bench-hook.ts). */
export function benchHookRequested(search: string): boolean {
  return new URLSearchParams(search).get('bench') === '1';
}

/** `?testhooks=1`: the end-to-end tests may inject faults (NaN loss, lost device, crash, hang). */
export function testHooksRequested(search: string): boolean {
  return new URLSearchParams(search).get('testhooks') === '1';
}
