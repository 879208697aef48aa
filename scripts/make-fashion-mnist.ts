/**
 * Builds `public/datasets/fashion-mnist.bin`, the built-in `fashion-mnist`
 * data set, from Debian's `dataset-fashion-mnist` package:
 *
 *   sudo apt-get install dataset-fashion-mnist
 *   npm run data:fashion-mnist        # = npx tsx scripts/make-fashion-mnist.ts [SOURCE_DIR] [OUT]
 *
 * Subset rule: from the training file, 1000 images of each of the 10 classes
 * (10,000); from the t10k file, 200 of each class (2,000 held-out). Within a
 * class the images are a seeded uniform draw (Fisher–Yates with the project's
 * `Rng`, seed FASHION_MNIST_SEED); each split is then stored in one seeded
 * shuffled order, so any prefix is a random subset. The output is the gzip
 * (fflate, level 9, mtime 0) of the format in `src/core/data/fashion-mnist.ts`,
 * so running the script twice gives the same bytes.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'fflate';
import { Rng } from '../src/core/rng';
import { FASHION_MNIST_CLASSES, encodeFashionMnist, type RawSplit } from '../src/core/data/fashion-mnist';

export const FASHION_MNIST_SOURCE = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_SEED = 20170825; // Fashion-MNIST's release date; any fixed value
export const TRAIN_PER_CLASS = 1000;
export const TEST_PER_CLASS = 200;
export const SIDE = 28;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const FASHION_MNIST_OUT = join(repoRoot, 'public', 'datasets', 'fashion-mnist.bin');

export interface IdxSplit {
  n: number;
  labels: Uint8Array;
  /** n×28×28 grey. */
  images: Uint8Array;
}

/** Reads one gzipped IDX file: big-endian magic (0x0000 08 dims), dims, uint8 data. */
export function readIdx(path: string): { dims: number[]; data: Uint8Array } {
  const buf = gunzipSync(readFileSync(path));
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic >>> 8 !== 0x08)
    throw new Error(`${path}: not an IDX file of unsigned bytes (magic 0x${magic.toString(16)})`);
  const nd = magic & 0xff;
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const start = 4 + 4 * nd;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== start + size)
    throw new Error(`${path}: ${bytes.length - start} data bytes, dims ${dims.join('×')} need ${size}`);
  return { dims, data: bytes.subarray(start) };
}

/** One split of the Debian files, e.g. `readSource(dir, 'train')` or `'t10k'`. */
export function readSource(dir: string, prefix: 'train' | 't10k'): IdxSplit {
  const img = readIdx(join(dir, `${prefix}-images-idx3-ubyte.gz`));
  const lab = readIdx(join(dir, `${prefix}-labels-idx1-ubyte.gz`));
  const [n, h, w] = img.dims;
  if (img.dims.length !== 3 || h !== SIDE || w !== SIDE)
    throw new Error(`${prefix} images: dims ${img.dims.join('×')}, expected N×28×28`);
  if (lab.dims.length !== 1 || lab.dims[0] !== n)
    throw new Error(`${prefix} labels: dims ${lab.dims.join('×')}, expected ${n}`);
  return { n, labels: lab.data, images: img.data };
}

/**
 * Source indices of `perClass` images of every class, drawn uniformly within
 * the class, in one shuffled order. Throws if a class has too few images.
 */
export function selectBalanced(labels: Uint8Array, perClass: number, rng: Rng): Int32Array {
  const C = FASHION_MNIST_CLASSES.length;
  const byClass: number[][] = Array.from({ length: C }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const picked: number[] = [];
  for (let c = 0; c < C; c++) {
    const idx = Int32Array.from(byClass[c]);
    if (idx.length < perClass) throw new Error(`class ${c} has ${idx.length} images, fewer than ${perClass}`);
    rng.shuffle(idx);
    for (let i = 0; i < perClass; i++) picked.push(idx[i]);
  }
  return rng.shuffle(Int32Array.from(picked)) as Int32Array;
}

function gather(src: IdxSplit, idx: Int32Array): RawSplit {
  const px = SIDE * SIDE;
  const labels = new Uint8Array(idx.length);
  const images = new Uint8Array(idx.length * px);
  idx.forEach((s, i) => {
    labels[i] = src.labels[s];
    images.set(src.images.subarray(s * px, (s + 1) * px), i * px);
  });
  return { labels, images };
}

/** The uncompressed file and the source indices it was built from. */
export function buildFashionMnist(dir = FASHION_MNIST_SOURCE): {
  bytes: Uint8Array;
  trainIndex: Int32Array;
  testIndex: Int32Array;
} {
  const rng = new Rng(FASHION_MNIST_SEED);
  const trainRng = rng.fork();
  const testRng = rng.fork();
  const train = readSource(dir, 'train');
  const test = readSource(dir, 't10k');
  const trainIndex = selectBalanced(train.labels, TRAIN_PER_CLASS, trainRng);
  const testIndex = selectBalanced(test.labels, TEST_PER_CLASS, testRng);
  const bytes = encodeFashionMnist({
    side: SIDE,
    channels: 1,
    train: gather(train, trainIndex),
    test: gather(test, testIndex),
  });
  return { bytes, trainIndex, testIndex };
}

/** gzip with a zero mtime and no file name: the same input always gives the same bytes. */
export function compress(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes, { level: 9, mem: 12, mtime: 0 });
}

function main(argv: string[]): void {
  const dir = argv[0] ?? FASHION_MNIST_SOURCE;
  const out = argv[1] ?? FASHION_MNIST_OUT;
  const t0 = Date.now();
  const { bytes } = buildFashionMnist(dir);
  const gz = compress(bytes);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, gz);
  console.log(
    `${out}: ${gz.length} bytes (${(gz.length / 2 ** 20).toFixed(2)} MiB; ${bytes.length} uncompressed), ` +
      `${10 * TRAIN_PER_CLASS} train + ${10 * TEST_PER_CLASS} test images, seed ${FASHION_MNIST_SEED}, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') {
      console.error(
        `error: ${err.message}\nInstall Debian's dataset-fashion-mnist package (sudo apt-get install dataset-fashion-mnist) or pass its directory as the first argument.`,
      );
    } else {
      console.error(err.stack ?? String(e));
    }
    process.exit(1);
  }
}
