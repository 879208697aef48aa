/**
 * Uploaded image folders → a `Dataset`: the pure part (no DOM, no decoding).
 *
 * The UI lists the dropped files' relative paths and decodes and resizes the
 * images; this module decides which files count and what their labels are
 * (`labelsFromPaths`), where each image's square box lies (`squareBoxes`),
 * turns decoded pixels into RGB (`toRgb`), draws the seeded held-out split
 * (`holdOutSplit`) and puts the pieces together (`assembleDataset`).
 */
import type { Dataset, Split } from './dataset';
import { imageBytes } from './dataset';
import { Rng } from '../rng';

/** File extensions read as images (compared case-insensitively). */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp', 'avif']);

export interface PathLabels {
  /** Indices into the input paths of the image files kept, in input order. */
  keep: number[];
  /** One class id per kept file (`labels[i]` belongs to `paths[keep[i]]`), or null when unlabelled. */
  labels: Int32Array | null;
  /** Class names indexed by id, sorted by name; empty when unlabelled. */
  classNames: string[];
  /** Paths left out, in input order: hidden files or folders, or not a supported image extension. */
  ignored: string[];
  /** Why the set is unlabelled although it has folders, or why nothing is kept; empty when all is well. */
  problems: string[];
}

function segmentsOf(path: string): string[] {
  return path
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.');
}

/** Operating-system files that are never images and never worth a message (compared case-insensitively). */
const SYSTEM_FILES: ReadonlySet<string> = new Set(['thumbs.db', 'ehthumbs.db', 'desktop.ini']);

/**
 * Hidden: any folder or file name starting with '.' (`.DS_Store`, `._x.png`),
 * a `__MACOSX` folder (zip residue), or a system file (`Thumbs.db`, `desktop.ini`).
 */
function isHidden(segments: string[]): boolean {
  return (
    segments.some((s) => s.startsWith('.') || s === '__MACOSX') ||
    SYSTEM_FILES.has(segments[segments.length - 1]?.toLowerCase() ?? '')
  );
}

/** Whether `path` is a hidden or system file that an upload ignores without a message. */
export function isHiddenPath(path: string): boolean {
  const seg = segmentsOf(path);
  return seg.length === 0 || isHidden(seg);
}

function hasImageExtension(name: string): boolean {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return false;
  return IMAGE_EXTENSIONS.includes(name.slice(dot + 1).toLowerCase());
}

/**
 * The upload layout rule: which files are images and what their labels are.
 *
 * 1. Hidden files and folders (a name starting with '.', or `__MACOSX/`) and
 *    files whose extension is not in `IMAGE_EXTENSIONS` go to `ignored`.
 * 2. When every kept path starts with the same folder (a dropped folder,
 *    `root/...`), that one folder is stripped.
 * 3. Then:
 *    - every file directly at the top → unlabelled;
 *    - every file inside folders, all in ONE folder → unlabelled (a single
 *      folder is not a class split);
 *    - every file inside folders, two or more of them → labelled: the label
 *      is the FIRST folder level, so `a/b/c.png` has label `a` (deeper
 *      nesting is folded into its top class folder);
 *    - some files at the top and some inside folders (mixed) → unlabelled,
 *      with a message in `problems`.
 *
 * Class names are sorted by UTF-16 code units (plain `<`, the same in every
 * browser and locale), and ids follow that order. Paths may use '/' or '\'.
 */
export function labelsFromPaths(paths: string[]): PathLabels {
  const keep: number[] = [];
  const kept: string[][] = [];
  const ignored: string[] = [];
  paths.forEach((p, i) => {
    const seg = segmentsOf(p);
    if (seg.length === 0 || isHidden(seg) || !hasImageExtension(seg[seg.length - 1])) {
      ignored.push(p);
    } else {
      keep.push(i);
      kept.push(seg);
    }
  });
  const problems: string[] = [];
  if (kept.length === 0) {
    problems.push(`no image files found (supported extensions: ${IMAGE_EXTENSIONS.join(', ')})`);
    return { keep, labels: null, classNames: [], ignored, problems };
  }
  let rel = kept;
  const top = kept[0][0];
  if (kept.every((s) => s.length >= 2 && s[0] === top)) rel = kept.map((s) => s.slice(1));

  const atTop = rel.filter((s) => s.length === 1).length;
  const inFolders = rel.length - atTop;
  const unlabelled = { keep, labels: null, classNames: [], ignored, problems };
  if (inFolders === 0) return unlabelled;
  if (atTop > 0) {
    problems.push(
      `mixed layout: ${atTop} image${atTop === 1 ? '' : 's'} at the top level and ${inFolders} inside folders; ` +
        'labels need every image in a class folder (<label>/<image>), so the images are used unlabelled',
    );
    return unlabelled;
  }
  const names = [...new Set(rel.map((s) => s[0]))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length < 2) return unlabelled;
  const id = new Map(names.map((n, i) => [n, i]));
  const labels = Int32Array.from(rel, (s) => id.get(s[0]) as number);
  return { keep, labels, classNames: names, ignored, problems };
}

/** How many of `count` images of one label are held out (see `holdOutSplit`). */
export function heldOutCount(count: number, fraction: number, stratified: boolean): number {
  if (fraction === 0 || count < 2) return 0;
  const k = Math.round(fraction * count);
  return Math.min(count - 1, stratified ? Math.max(1, k) : k);
}

function checkFraction(fraction: number): void {
  if (!Number.isFinite(fraction) || fraction < 0 || fraction > 0.9) {
    throw new Error(
      `held-out fraction must be a number from 0 to 0.9 (got ${fraction}): at least a tenth of the images must stay for training`,
    );
  }
}

/**
 * A seeded train/test split of `n` images, as two sorted, disjoint index
 * arrays whose union is 0…n−1.
 *
 * - Labelled: stratified per label. A label with c ≥ 2 images holds out
 *   round(fraction·c), at least 1 and at most c − 1 (one always stays for
 *   training); a label with one image holds out none.
 * - Unlabelled: round(fraction·n) overall, at most n − 1 (so n = 1 holds
 *   out nothing).
 * - fraction = 0 holds out nothing.
 *
 * Throws for n < 1, a fraction outside [0, 0.9], or labels of the wrong length.
 */
export function holdOutSplit(
  n: number,
  labels: Int32Array | null,
  fraction: number,
  rng: Rng,
): { train: Int32Array; test: Int32Array } {
  if (!Number.isInteger(n) || n < 1) throw new Error(`holdOutSplit: need at least one image to split (got n = ${n})`);
  checkFraction(fraction);
  if (labels && labels.length !== n) throw new Error(`holdOutSplit: ${labels.length} labels for ${n} images`);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const l = labels ? labels[i] : 0;
    let g = groups.get(l);
    if (!g) groups.set(l, (g = []));
    g.push(i);
  }
  const isTest = new Uint8Array(n);
  for (const l of [...groups.keys()].sort((a, b) => a - b)) {
    const g = groups.get(l) as number[];
    rng.shuffle(g);
    const k = heldOutCount(g.length, fraction, labels !== null);
    for (let j = 0; j < k; j++) isTest[g[j]] = 1;
  }
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < n; i++) (isTest[i] ? test : train).push(i);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}

/** A box in source-image pixels. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Per image, the square source box to resize to S×S.
 *
 * - `crop`: the centred square of side min(w, h), inside the image.
 * - `pad`: the centred square of side max(w, h); it extends beyond the image
 *   (negative x or y), and the part outside is the padding.
 *
 * When the difference is odd, the extra pixel goes to the right / bottom in
 * both modes (x = ⌊(w − side)/2⌋ for crop, −⌊(side − w)/2⌋ for pad).
 */
export function squareBoxes(widths: ArrayLike<number>, heights: ArrayLike<number>, mode: 'crop' | 'pad'): Box[] {
  if (widths.length !== heights.length)
    throw new Error(`squareBoxes: ${widths.length} widths but ${heights.length} heights`);
  if (mode !== 'crop' && mode !== 'pad')
    throw new Error(`squareBoxes: mode must be 'crop' or 'pad' (got ${String(mode)})`);
  const out: Box[] = [];
  for (let i = 0; i < widths.length; i++) {
    const w = widths[i];
    const h = heights[i];
    if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) {
      throw new Error(`squareBoxes: image ${i} has size ${w}×${h}; sizes must be positive whole numbers`);
    }
    if (mode === 'crop') {
      const s = Math.min(w, h);
      out.push({ x: Math.floor((w - s) / 2), y: Math.floor((h - s) / 2), w: s, h: s });
    } else {
      const s = Math.max(w, h);
      // `0 - v`, not `-v`: an image already square on one axis gets 0, not -0.
      out.push({ x: 0 - Math.floor((s - w) / 2), y: 0 - Math.floor((s - h) / 2), w: s, h: s });
    }
  }
  return out;
}

/**
 * Interleaved pixels with 1 (grey), 3 (RGB) or 4 (RGBA) channels → RGB.
 *
 * Grey is repeated three times; RGB is copied. RGBA (straight, not
 * premultiplied alpha, as `getImageData` returns it) is composited over
 * WHITE, round((c·a + 255·(255 − a)) / 255): transparent PNG icons and
 * drawings are meant to be seen on a white page, and over black their dark
 * strokes would vanish into the background.
 */
export function toRgb(pixels: Uint8Array | Uint8ClampedArray, channels: 1 | 3 | 4): Uint8Array {
  if (channels !== 1 && channels !== 3 && channels !== 4)
    throw new Error(`toRgb: channels must be 1, 3 or 4 (got ${String(channels)})`);
  if (pixels.length % channels !== 0)
    throw new Error(`toRgb: ${pixels.length} values is not a whole number of ${channels}-channel pixels`);
  const n = pixels.length / channels;
  const out = new Uint8Array(n * 3);
  if (channels === 3) {
    out.set(pixels);
    return out;
  }
  for (let i = 0; i < n; i++) {
    if (channels === 1) {
      const v = pixels[i];
      out[3 * i] = v;
      out[3 * i + 1] = v;
      out[3 * i + 2] = v;
    } else {
      const a = pixels[4 * i + 3];
      const bg = 255 * (255 - a);
      for (let c = 0; c < 3; c++) out[3 * i + c] = Math.round((pixels[4 * i + c] * a + bg) / 255);
    }
  }
  return out;
}

export interface FolderImages {
  /** Short name of the upload (e.g. the dropped folder's name). */
  name: string;
  /** Side S of the already-resized square images. */
  size: number;
  /** N×S×S×3 uint8 RGB pixels, row-major, in the order of `labels`. */
  images: Uint8Array;
  /** N class ids, or null for unlabelled images. */
  labels: Int32Array | null;
  /** Class names indexed by id; empty when unlabelled. */
  classNames: string[];
  /** Fraction of images held out for the test split, 0–0.9 (see `holdOutSplit`). */
  fraction: number;
  /** Seed of the split. */
  seed: number;
}

/**
 * Resized RGB images + labels → a `Dataset` with a seeded held-out split
 * (`holdOutSplit`). Images keep their relative order inside each split. The
 * id is `folder:<name>:<n>:s=<S>`.
 */
export function assembleDataset(f: FolderImages): Dataset {
  const { size: S, images, labels, classNames } = f;
  if (!Number.isInteger(S) || S < 1) throw new Error(`folder: image side must be a positive whole number (got ${S})`);
  const bytes = imageBytes(S);
  if (images.length % bytes !== 0)
    throw new Error(`folder: ${images.length} image bytes is not a whole number of ${S}×${S}×3 images`);
  const n = images.length / bytes;
  if (n === 0) throw new Error('folder: no images to build a data set from');
  if (labels) {
    if (labels.length !== n) throw new Error(`folder: ${labels.length} labels for ${n} images`);
    if (classNames.length === 0) throw new Error('folder: labelled images need class names');
    for (let i = 0; i < n; i++) {
      if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] >= classNames.length) {
        throw new Error(`folder: label ${i} is ${labels[i]}, not a class 0–${classNames.length - 1}`);
      }
    }
  } else if (classNames.length !== 0) {
    throw new Error('folder: unlabelled images must have no class names');
  }
  const { train, test } = holdOutSplit(n, labels, f.fraction, new Rng(f.seed));
  const pick = (idx: Int32Array): Split => {
    const out = new Uint8Array(idx.length * bytes);
    idx.forEach((src, j) => out.set(images.subarray(src * bytes, (src + 1) * bytes), j * bytes));
    return { n: idx.length, images: out, labels: labels ? Int32Array.from(idx, (i) => labels[i]) : null };
  };
  return {
    id: `folder:${f.name}:${n}:s=${S}`,
    name: f.name,
    size: S,
    train: pick(train),
    test: pick(test),
    classNames: [...classNames],
  };
}
