/**
 * Text and pixel exports of a run (issue "Evaluation, checkpoints, export"):
 * embeddings for the TensorFlow Embedding Projector, the metrics history and
 * evaluations as CSV, the config as JSON. Pure functions over plain data (no
 * tfjs, DOM or Node APIs), so the browser can zip/download them and the Node
 * runner can write them to files.
 *
 * Embedding Projector formats (projector.tensorflow.org, "Load" / "Publish";
 * TensorBoard's projector plugin, `projector_config.proto`):
 * - vectors TSV: one row per point, D tab-separated numbers, no header;
 * - metadata TSV: one row per point in the same order; with more than one
 *   column the first row is the header of column names;
 * - sprite: one PNG holding all thumbnails of one size (singleImageDim
 *   [width, height]) in a grid filled row-major from the top-left, point i at
 *   column i mod cols and row ⌊i / cols⌋, cols = ⌈√N⌉ (a square grid, as the
 *   projector's own examples build it); the projector accepts sprites of at
 *   most 8192×8192 px;
 * - projector_config.json: `{ embeddings: [{ tensorName, tensorShape,
 *   tensorPath, metadataPath, sprite: { imagePath, singleImageDim } }] }`.
 */
import type { EvalResult, StepMetrics } from '../api';
import { csvCell, escapeControl } from '../text';

/** The Embedding Projector's largest sprite side in pixels. */
export const SPRITE_MAX_PX = 8192;

/** N×D row-major vectors → the projector's vectors TSV (D numbers per line, tab-separated, shortest round-trip decimal). */
export function vectorsTsv(vectors: Float32Array, dim: number): string {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`dim must be a positive integer (got ${dim})`);
  if (vectors.length % dim !== 0) throw new Error(`${vectors.length} values are not rows of ${dim}`);
  const lines: string[] = [];
  const row: string[] = new Array(dim);
  for (let i = 0; i < vectors.length; i += dim) {
    for (let j = 0; j < dim; j++) row[j] = String(vectors[i + j]);
    lines.push(row.join('\t'));
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/**
 * A field of a TSV row. TSV has no quoting, so a tab or line break in a
 * class or file name would split the row; they are escaped (text.ts) rather
 * than blanked so two names differing only there stay distinct.
 */
function tsvField(s: string): string {
  return escapeControl(s);
}

export interface MetadataRow {
  /** Class name, or null when unlabelled (an empty field). */
  label: string | null;
  cluster: number;
  /** File name, or an id such as `train/12` for built-in sets. */
  name: string;
}

/** Metadata TSV for the projector: header `label\tcluster\tname`, then one row per point. */
export function metadataTsv(rows: MetadataRow[]): string {
  const lines = ['label\tcluster\tname'];
  for (const r of rows) lines.push(`${tsvField(r.label ?? '')}\t${r.cluster}\t${tsvField(r.name)}`);
  return lines.join('\n') + '\n';
}

/** How many images of side `size` a sprite within SPRITE_MAX_PX² can hold: ⌊8192/size⌋² (4,096 at 128 px, 262,144 at 16 px). */
export function spriteCapacity(size: number): number {
  const perSide = Math.floor(SPRITE_MAX_PX / size);
  return perSide * perSide;
}

export interface Sprite {
  width: number;
  height: number;
  /** height×width×4 RGBA bytes, row-major, alpha 255 everywhere. */
  rgba: Uint8Array;
  /** Images per row (= rows: the grid is square). */
  cols: number;
  /** Images tiled: min(n, spriteCapacity(size)). */
  count: number;
}

/**
 * Tiles the first n of N×S×S×3 RGB images (S = `size`) into the projector's
 * square sprite: cols = ⌈√count⌉ per side, image i at (i mod cols, ⌊i/cols⌋),
 * unused cells opaque black. Only the first spriteCapacity(size) images are
 * tiled so the sprite stays within 8192×8192 px: callers exporting more points
 * should cap the point count the same way (the sprite must cover every point).
 */
export function spriteRgba(images: Uint8Array, n: number, size: number): Sprite {
  const px = size * size * 3;
  if (images.length < n * px)
    throw new Error(`images hold ${Math.floor(images.length / px)} images of ${size}×${size}, fewer than ${n}`);
  const count = Math.min(n, spriteCapacity(size));
  const cols = Math.max(1, Math.ceil(Math.sqrt(count)));
  const width = cols * size;
  const height = cols * size;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  for (let i = 0; i < count; i++) {
    const x0 = (i % cols) * size;
    const y0 = Math.floor(i / cols) * size;
    for (let y = 0; y < size; y++) {
      let src = i * px + y * size * 3;
      let dst = ((y0 + y) * width + x0) * 4;
      for (let x = 0; x < size; x++, src += 3, dst += 4) {
        rgba[dst] = images[src];
        rgba[dst + 1] = images[src + 1];
        rgba[dst + 2] = images[src + 2];
      }
    }
  }
  return { width, height, rgba, cols, count };
}

export interface ProjectorConfigOptions {
  tensorName: string;
  /** Paths relative to where the projector loads the config from (or URLs). */
  tensorPath: string;
  metadataPath?: string;
  spritePath?: string;
  /** Side of one sprite thumbnail in px (singleImageDim = [size, size]). */
  spriteSize?: number;
  /** [N, D]. */
  shape: [number, number];
}

/** projector_config.json with one embedding (the Embedding Projector's ProjectorConfig as JSON). */
export function projectorConfig(o: ProjectorConfigOptions): string {
  const emb: Record<string, unknown> = { tensorName: o.tensorName, tensorShape: o.shape, tensorPath: o.tensorPath };
  if (o.metadataPath) emb.metadataPath = o.metadataPath;
  if (o.spritePath) {
    if (!o.spriteSize) throw new Error('spritePath needs spriteSize');
    emb.sprite = { imagePath: o.spritePath, singleImageDim: [o.spriteSize, o.spriteSize] };
  }
  return JSON.stringify({ embeddings: [emb] }, null, 2) + '\n';
}

/** A CSV field: numbers as shortest round-trip decimals, null/undefined empty, text through `csvCell` (escaped, then quoted as RFC 4180 needs). */
function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  return csvCell(String(v));
}

function csv<T>(columns: readonly (keyof T & string)[], rows: readonly T[]): string {
  const lines = [columns.join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c])).join(','));
  return lines.join('\n') + '\n';
}

/**
 * Every StepMetrics field, in a fixed order. The Record type makes the
 * compiler flag a field added to StepMetrics and missing here.
 */
const STEP_COLUMNS_SET: Record<keyof StepMetrics, true> = {
  step: true,
  loss: true,
  lossAnchor: true,
  lossPositive: true,
  lr: true,
  ms: true,
  imagesPerSecond: true,
  coverage: true,
  precision: true,
  lambdaMean: true,
  selectionMs: true,
  kmeansMs: true,
  refreshMs: true,
};
export const STEP_COLUMNS = Object.keys(STEP_COLUMNS_SET) as (keyof StepMetrics)[];

/** The metrics history, one row per step, one column per StepMetrics field (null → empty). */
export function metricsCsv(history: readonly StepMetrics[]): string {
  return csv(STEP_COLUMNS, history);
}

/** EvalResult fields except the K×K confusion matrix (not one value per row). */
const EVAL_COLUMNS_SET: Record<Exclude<keyof EvalResult, 'confusion'>, true> = {
  step: true,
  knnTop1: true,
  linearTop1: true,
  classes: true,
  alignment: true,
  uniformity: true,
  clusterPurity: true,
  clusterNmi: true,
  clusterAri: true,
  ms: true,
};
export const EVAL_COLUMNS = Object.keys(EVAL_COLUMNS_SET) as Exclude<keyof EvalResult, 'confusion'>[];

/** The evaluations, one row each (null → empty), without the confusion matrix. */
export function evalCsv(evals: readonly EvalResult[]): string {
  return csv(EVAL_COLUMNS, evals);
}

/** config.json of the export zip: the same file as the page's Export config for PyTorch. */
export { configJson } from '../config';
