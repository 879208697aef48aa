/**
 * `fashion-mnist`: a fixed, class-balanced subset of Fashion-MNIST (Xiao,
 * Rasul & Vollgraf 2017, Zalando Research, MIT licence) shipped as one file,
 * `public/datasets/fashion-mnist.bin`, made by `scripts/make-fashion-mnist.ts`.
 *
 * The writer (`encodeFashionMnist`) and the reader (`parseFashionMnist`) of
 * the file format live here together. The file on disk is the gzip of the
 * bytes below; unpacking the gzip is the loader's job (worker, CLI), so this
 * module stays pure (no compression library, no I/O).
 *
 * Format, version 1 (all integers little-endian):
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0 | 8 | magic, ASCII `CLIMFMN1` |
 * | 8 | 4 | version (uint32) = 1 |
 * | 12 | 4 | nTrain (uint32) |
 * | 16 | 4 | nTest (uint32) |
 * | 20 | 4 | side S (uint32) = 28 |
 * | 24 | 4 | channels C (uint32) = 1 (grey) |
 * | 28 | nTrain | train labels, uint8, 0–9 |
 * | … | nTrain·S·S·C | train images, uint8, row-major HWC |
 * | … | nTest | test labels |
 * | … | nTest·S·S·C | test images |
 *
 * Nothing follows the test images. The reader returns the project's RGB
 * layout (N×S×S×3), repeating a grey channel three times.
 */
import type { Dataset, Split } from './dataset';

export const FASHION_MNIST_MAGIC = 'CLIMFMN1';
export const FASHION_MNIST_VERSION = 1;
export const FASHION_MNIST_HEADER_BYTES = 28;

/** Class names in label order (Zalando's README). */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** One split as stored: labels and images with `channels` channels per pixel. */
export interface RawSplit {
  labels: Uint8Array;
  images: Uint8Array;
}

export interface FashionMnistContents {
  side: number;
  channels: 1 | 3;
  train: RawSplit;
  test: RawSplit;
}

function checkSplit(name: string, s: RawSplit, pixels: number): void {
  const n = s.labels.length;
  if (s.images.length !== n * pixels) {
    throw new Error(
      `fashion-mnist: ${name} has ${n} labels but ${s.images.length} image bytes (expected ${n * pixels})`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (s.labels[i] >= FASHION_MNIST_CLASSES.length)
      throw new Error(
        `fashion-mnist: ${name} label ${i} is ${s.labels[i]}, not a class 0–${FASHION_MNIST_CLASSES.length - 1}`,
      );
  }
}

/** The uncompressed file bytes for `c` (see the format above). */
export function encodeFashionMnist(c: FashionMnistContents): Uint8Array {
  if (!Number.isInteger(c.side) || c.side < 1)
    throw new Error(`fashion-mnist: side must be a positive whole number (got ${c.side})`);
  if (c.channels !== 1 && c.channels !== 3)
    throw new Error(`fashion-mnist: channels must be 1 or 3 (got ${String(c.channels)})`);
  const pixels = c.side * c.side * c.channels;
  checkSplit('train', c.train, pixels);
  checkSplit('test', c.test, pixels);
  const nTrain = c.train.labels.length;
  const nTest = c.test.labels.length;
  const out = new Uint8Array(FASHION_MNIST_HEADER_BYTES + (nTrain + nTest) * (1 + pixels));
  for (let i = 0; i < FASHION_MNIST_MAGIC.length; i++) out[i] = FASHION_MNIST_MAGIC.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setUint32(8, FASHION_MNIST_VERSION, true);
  view.setUint32(12, nTrain, true);
  view.setUint32(16, nTest, true);
  view.setUint32(20, c.side, true);
  view.setUint32(24, c.channels, true);
  let o = FASHION_MNIST_HEADER_BYTES;
  for (const s of [c.train, c.test]) {
    out.set(s.labels, o);
    o += s.labels.length;
    out.set(s.images, o);
    o += s.images.length;
  }
  return out;
}

/** Stored pixels (C = 1 or 3) → RGB, N×S×S×3. */
function toRgb(src: Uint8Array, channels: number): Uint8Array {
  if (channels === 3) return src.slice();
  const out = new Uint8Array(src.length * 3);
  for (let i = 0, j = 0; i < src.length; i++, j += 3) {
    const v = src[i];
    out[j] = v;
    out[j + 1] = v;
    out[j + 2] = v;
  }
  return out;
}

/**
 * Reads the uncompressed file (see the format above) into a labelled
 * `Dataset`. Throws a message naming what is wrong on a bad magic, an unknown
 * version, a bad header or a length that does not match the header.
 */
export function parseFashionMnist(bytes: Uint8Array): Dataset {
  const H = FASHION_MNIST_HEADER_BYTES;
  if (bytes.length < H)
    throw new Error(`fashion-mnist: file too short (${bytes.length} bytes; the header alone is ${H})`);
  let magic = '';
  for (let i = 0; i < FASHION_MNIST_MAGIC.length; i++) magic += String.fromCharCode(bytes[i]);
  if (magic !== FASHION_MNIST_MAGIC) {
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (these are gzip bytes: unpack the file first)' : '';
    throw new Error(`fashion-mnist: bad magic ${JSON.stringify(magic)}, expected "${FASHION_MNIST_MAGIC}"${gz}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FASHION_MNIST_VERSION)
    throw new Error(
      `fashion-mnist: unsupported format version ${version} (this build reads version ${FASHION_MNIST_VERSION})`,
    );
  const nTrain = view.getUint32(12, true);
  const nTest = view.getUint32(16, true);
  const side = view.getUint32(20, true);
  const channels = view.getUint32(24, true);
  if (side < 1 || side > 1024) throw new Error(`fashion-mnist: bad image side ${side}`);
  if (channels !== 1 && channels !== 3) throw new Error(`fashion-mnist: bad channel count ${channels} (1 or 3)`);
  const pixels = side * side * channels;
  const expected = H + (nTrain + nTest) * (1 + pixels);
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'has trailing bytes';
    throw new Error(
      `fashion-mnist: file ${what}: ${bytes.length} bytes, but the header (${nTrain} train + ${nTest} test images of ${side}×${side}×${channels}) needs ${expected}`,
    );
  }
  let o = H;
  const split = (name: string, n: number): Split => {
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const l = bytes[o + i];
      if (l >= FASHION_MNIST_CLASSES.length)
        throw new Error(`fashion-mnist: ${name} label ${i} is ${l}, not a class 0–${FASHION_MNIST_CLASSES.length - 1}`);
      labels[i] = l;
    }
    o += n;
    const images = toRgb(bytes.subarray(o, o + n * pixels), channels);
    o += n * pixels;
    return { n, images, labels };
  };
  const train = split('train', nTrain);
  const test = split('test', nTest);
  return {
    id: `fashion-mnist:${nTrain}+${nTest}`,
    name: 'fashion-mnist',
    size: side,
    train,
    test,
    classNames: [...FASHION_MNIST_CLASSES],
  };
}
