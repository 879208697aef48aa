/**
 * The runner's data sets: a built-in set by name, or an image folder or .zip
 * read through the browser's upload pipeline (src/io/load-images.ts) with
 * PNG/JPEG decoded by `NodeDecoder`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'fflate';
import { makeShapesDataset } from '../core/data/shapes';
import { parseFashionMnist } from '../core/data/fashion-mnist';
import type { Dataset } from '../core/data/dataset';
import { escapeControl } from '../core/text';
import { IMAGE_EXTENSIONS, assembleDataset } from '../core/data/folder';
import { formatReport } from '../core/data/upload';
import { DEFAULT_MAX_PIXELS, loadImages, type Fit } from '../io/load-images';
import { NodeDecoder, nodeFiles } from './decode-node';
import type { LoadSummary } from './load-summary';
import type { DatasetName } from '../worker/protocol';

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
    throw new Error(
      `cannot read the fashion-mnist data file ${file} (${(e as Error).message}); it is committed, or rebuild it with npm run data:fashion-mnist`,
    );
  }
  return parseFashionMnist(gunzipSync(gz));
}

/** Nothing in the folder or .zip decoded; the report lines are already printed. */
export class NoImagesError extends Error {}

export interface FolderLoadOptions {
  /** Side S of the stored images: the largest crop resolution, so no crop is upsampled from a smaller copy. */
  size: number;
  fit: Fit;
  /** Held-out fraction for a labelled set; an unlabelled one holds out nothing (there is nothing to evaluate). */
  holdout: number;
  seed: number;
}

/** What the JSON report records about a folder or .zip load (load-summary.ts). */
export type { LoadSummary };

/**
 * Reads, checks and decodes an image folder or .zip into a data set, and
 * prints the upload report and the decode rate through `warn`. Throws
 * `DatasetPathError` for a path that is not a folder or readable zip and
 * `NoImagesError` when no image decoded (after printing the report, which
 * says why).
 */
export async function loadFolderDataset(
  path: string,
  opts: FolderLoadOptions,
  warn: (s: string) => void,
): Promise<{ data: Dataset; load: LoadSummary }> {
  const { name, files } = await nodeFiles(path);
  const r = await loadImages(files, new NodeDecoder(), {
    size: opts.size,
    fit: opts.fit,
    maxPixels: DEFAULT_MAX_PIXELS,
  });
  // File and label names come from the disk: a tab or newline in one must not split or fake a report line.
  for (const line of formatReport(r.report)) warn(escapeControl(line));
  const n = r.plan.candidates.length;
  const seconds = r.ms / 1000;
  warn(
    `decode: ${n} image file${n === 1 ? '' : 's'} read and decoded in ${seconds.toFixed(2)} s, ${(n / Math.max(seconds, 1e-3)).toFixed(0)} images/s (${opts.size}×${opts.size}, fit ${opts.fit})`,
  );
  if (r.report.loaded === 0) {
    throw new NoImagesError(
      `no decodable image in ${path}${n === 0 ? ` (no file has an image extension: ${IMAGE_EXTENSIONS.join(', ')})` : ''}`,
    );
  }
  const fraction = r.labels ? opts.holdout : 0;
  if (r.labels && fraction === 0)
    warn('note: --holdout 0 keeps every image for training, so there is no kNN evaluation');
  const data = assembleDataset({
    name,
    size: opts.size,
    images: r.images,
    labels: r.labels,
    classNames: r.classNames,
    fraction,
    seed: opts.seed,
  });
  const load: LoadSummary = {
    path,
    fit: opts.fit,
    files: r.report.files,
    loaded: r.report.loaded,
    hidden: r.report.hiddenCount,
    skipped: r.report.countsByKind,
    seconds,
  };
  return { data, load };
}
