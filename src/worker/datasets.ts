/**
 * Built-in data sets for the engine worker: `shapes` is generated in place;
 * `fashion-mnist` is fetched once from the app's own origin
 * (`<BASE_URL>datasets/fashion-mnist.bin`, copied from `public/` by Vite),
 * unpacked with fflate and parsed by src/core. The parsed set is kept, so a
 * Reset or a new config does not fetch it again.
 */
import { gunzipSync } from 'fflate';
import { makeShapesDataset } from '../core/data/shapes';
import { parseFashionMnist } from '../core/data/fashion-mnist';
import { takeSubset, type Dataset } from '../core/data/dataset';
import type { DatasetName } from './protocol';

export interface DatasetOptions {
  seed: number;
  nTrain?: number;
  nTest?: number;
}

/** The data file's URL: same origin as the page, under Vite's base path. */
export function datasetUrl(
  file: string,
  base: string = import.meta.env.BASE_URL,
  origin: string = globalThis.location.origin,
): URL {
  return new URL(`datasets/${file}`, new URL(base, origin));
}

let fashion: Promise<Dataset> | null = null;

async function fetchFashionMnist(): Promise<Dataset> {
  const url = datasetUrl('fashion-mnist.bin');
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(
      `Could not load the fashion-mnist data set from ${url.href}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  if (!res.ok)
    throw new Error(
      `Could not load the fashion-mnist data set from ${url.href}: HTTP ${res.status} ${res.statusText}`.trim(),
    );
  const gz = new Uint8Array(await res.arrayBuffer());
  let raw: Uint8Array;
  try {
    raw = gunzipSync(gz);
  } catch (e) {
    throw new Error(
      `The fashion-mnist data file at ${url.href} is not a valid gzip file (${e instanceof Error ? e.message : String(e)}).`,
      { cause: e },
    );
  }
  return parseFashionMnist(raw);
}

/**
 * Starts fetching fashion-mnist (once) and returns the shared promise. A
 * failed fetch is forgotten, so the next request tries again.
 */
export function preloadFashionMnist(): Promise<Dataset> {
  if (!fashion) {
    const p = fetchFashionMnist();
    fashion = p;
    p.catch(() => {
      if (fashion === p) fashion = null;
    });
  }
  return fashion;
}

/** The data set `name` with the requested sizes; `fashion-mnist` ignores the seed (a fixed file). */
export async function loadDataset(name: DatasetName, opts: DatasetOptions): Promise<Dataset> {
  if (name === 'shapes') {
    const o: Parameters<typeof makeShapesDataset>[0] = { seed: opts.seed };
    if (opts.nTrain !== undefined) o.nTrain = opts.nTrain;
    if (opts.nTest !== undefined) o.nTest = opts.nTest;
    return makeShapesDataset(o);
  }
  return takeSubset(await preloadFashionMnist(), opts.nTrain, opts.nTest);
}
