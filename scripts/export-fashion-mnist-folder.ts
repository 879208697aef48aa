/**
 * Writes a class-balanced slice of Fashion-MNIST as an image folder, one
 * subfolder per class, from Debian's `dataset-fashion-mnist` files:
 *
 *   npx tsx scripts/export-fashion-mnist-folder.ts --out DIR [--per-class 500] [--source /usr/share/datasets/fashion-mnist]
 *
 * DIR/<class>/<index>.png, 28×28 grey PNGs, where <index> is the image's
 * position in the training file (zero-padded to 5 digits). Its purpose is a
 * real, labelled folder to check the upload path end to end (issue 4): the
 * Node runner (`npm run train -- --dataset DIR`) and the page's folder picker
 * read it through the same layout rules, so their kNN accuracy can be set
 * against the built-in `fashion-mnist` set's.
 *
 * Deterministic: the images are the first `perClass` of a seeded draw per
 * class (`selectBalanced` with FASHION_MNIST_SEED, as the built-in set), so a
 * rerun writes the same files. 'T-shirt/top' becomes the folder 'T-shirt-top'
 * (a '/' would be a nested folder).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import { Rng } from '../src/core/rng';
import { FASHION_MNIST_CLASSES } from '../src/core/data/fashion-mnist';
import { FASHION_MNIST_SEED, FASHION_MNIST_SOURCE, SIDE, readSource, selectBalanced } from './make-fashion-mnist';

export const DEFAULT_PER_CLASS = 500;

/** Folder name of a class: its name with '/' replaced, since a path separator would nest folders. */
export function classFolder(name: string): string {
  return name.replace(/[\\/]/g, '-');
}

/** One 28×28 grey image as PNG bytes (colour type 0, 8 bits). */
export function greyPng(pixels: Uint8Array, side: number): Buffer {
  const png = new PNG({ width: side, height: side });
  png.data = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

/**
 * Writes the folder; returns the written paths relative to `out`, sorted.
 * Refuses a non-empty `out`, so files of an earlier export with another
 * --per-class cannot mix in.
 */
export function exportFashionMnistFolder(
  out: string,
  perClass = DEFAULT_PER_CLASS,
  source = FASHION_MNIST_SOURCE,
): string[] {
  if (!Number.isInteger(perClass) || perClass < 1)
    throw new Error(`--per-class must be a whole number ≥ 1 (got ${perClass})`);
  let existing: string[] = [];
  try {
    existing = readdirSync(out);
  } catch {
    // Does not exist yet: created below.
  }
  if (existing.length > 0) throw new Error(`${out} is not empty; choose a new folder or remove it first`);
  const train = readSource(source, 'train');
  const picked = selectBalanced(train.labels, perClass, new Rng(FASHION_MNIST_SEED));
  const px = SIDE * SIDE;
  const written: string[] = [];
  for (const dir of FASHION_MNIST_CLASSES.map(classFolder)) mkdirSync(join(out, dir), { recursive: true });
  for (const i of Array.from(picked).sort((a, b) => a - b)) {
    const rel = `${classFolder(FASHION_MNIST_CLASSES[train.labels[i]])}/${String(i).padStart(5, '0')}.png`;
    writeFileSync(join(out, rel), greyPng(train.images.subarray(i * px, (i + 1) * px), SIDE));
    written.push(rel);
  }
  return written.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, 'per-class': { type: 'string' }, source: { type: 'string' } },
    strict: true,
  });
  if (!values.out) throw new Error('--out DIR is required');
  const perClass = values['per-class'] === undefined ? DEFAULT_PER_CLASS : Number(values['per-class']);
  const t0 = Date.now();
  const files = exportFashionMnistFolder(values.out, perClass, values.source ?? FASHION_MNIST_SOURCE);
  console.log(
    `${values.out}: ${files.length} PNGs, ${perClass} per class in ${FASHION_MNIST_CLASSES.length} class folders, seed ${FASHION_MNIST_SEED}, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') {
      console.error(
        `error: ${err.message}\nInstall Debian's dataset-fashion-mnist package (sudo apt-get install dataset-fashion-mnist) or pass its directory with --source.`,
      );
    } else {
      console.error(`error: ${err.message}`);
    }
    process.exit(1);
  }
}
