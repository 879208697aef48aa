/**
 * Page URL options: `?backend=webgpu|webgl|wasm|cpu` forces a backend,
 * `?config=tiny` picks the tiny model (for slow software backends),
 * `?dataset=fashion-mnist|shapes` the data set (default fashion-mnist),
 * `?seed=N`, `?n=N` (training images) and `?ntest=N` (held-out images)
 * adjust the run.
 */
import { defaultConfig, tinyConfig } from '../core/config';
import type { ConnectOptions } from './store';
import { isBackendName, isDatasetName } from '../worker/protocol';

function positiveInt(v: string | null): number | undefined {
  if (v === null || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export function parseParams(search: string): ConnectOptions {
  const q = new URLSearchParams(search);
  const b = q.get('backend');
  const backend = isBackendName(b) ? b : null;
  const seed = positiveInt(q.get('seed'));
  const base = q.get('config') === 'tiny' ? tinyConfig() : defaultConfig();
  const config = seed === undefined ? base : { ...base, seed };
  const nTrain = positiveInt(q.get('n'));
  const nTest = positiveInt(q.get('ntest'));
  const d = q.get('dataset');
  const name = isDatasetName(d) ? d : undefined;
  const opts: ConnectOptions = { backend, config };
  if (name !== undefined || nTrain !== undefined || nTest !== undefined) {
    opts.dataset = { seed: config.seed, nTrain, nTest };
    if (name !== undefined) opts.dataset.name = name;
  }
  return opts;
}
