import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'fflate';
import {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_HEADER_BYTES,
  encodeFashionMnist,
  parseFashionMnist,
  type FashionMnistContents,
} from './fashion-mnist';
import { imageBytes, takeSubset, type Dataset } from './dataset';
import { Rng } from '../rng';
import {
  FASHION_MNIST_OUT,
  FASHION_MNIST_SOURCE,
  buildFashionMnist,
  readSource,
} from '../../../scripts/make-fashion-mnist';

/** 3 train + 2 test grey images of 4×4 with distinct, known pixels. */
function tiny(): FashionMnistContents {
  const side = 4;
  const px = side * side;
  const train = { labels: Uint8Array.from([9, 0, 4]), images: new Uint8Array(3 * px) };
  const test = { labels: Uint8Array.from([1, 7]), images: new Uint8Array(2 * px) };
  train.images.forEach((_, i) => (train.images[i] = (i * 7 + 3) % 256));
  test.images.forEach((_, i) => (test.images[i] = 255 - i));
  return { side, channels: 1, train, test };
}

function expectRgbOf(grey: Uint8Array, rgb: Uint8Array): void {
  expect(rgb.length).toBe(grey.length * 3);
  for (let i = 0; i < grey.length; i++) {
    if (rgb[3 * i] !== grey[i] || rgb[3 * i + 1] !== grey[i] || rgb[3 * i + 2] !== grey[i]) {
      throw new Error(`pixel ${i}: grey ${grey[i]} became rgb ${rgb[3 * i]},${rgb[3 * i + 1]},${rgb[3 * i + 2]}`);
    }
  }
}

describe('fashion-mnist file format', () => {
  it('round-trips a hand-built set, grey repeated into RGB pixel by pixel', () => {
    const c = tiny();
    const bytes = encodeFashionMnist(c);
    expect(bytes.length).toBe(FASHION_MNIST_HEADER_BYTES + 5 * (1 + 16));
    expect(String.fromCharCode(...bytes.subarray(0, 8))).toBe('CLIMFMN1');
    const ds = parseFashionMnist(bytes);
    expect(ds.id).toBe('fashion-mnist:3+2');
    expect(ds.name).toBe('fashion-mnist');
    expect(ds.size).toBe(4);
    expect(ds.classNames).toEqual([
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
    expect(ds.train.n).toBe(3);
    expect(ds.test.n).toBe(2);
    expect(Array.from(ds.train.labels ?? [])).toEqual([9, 0, 4]);
    expect(Array.from(ds.test.labels ?? [])).toEqual([1, 7]);
    expect(ds.train.images.length).toBe(3 * imageBytes(4));
    expectRgbOf(c.train.images, ds.train.images);
    expectRgbOf(c.test.images, ds.test.images);
    // Reads at an offset inside a larger buffer too (a subarray, as fflate may return).
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes, 5);
    expect(parseFashionMnist(padded.subarray(5)).train.images).toEqual(ds.train.images);
  });

  it('keeps 3-channel images as they are, and an empty test split', () => {
    const rgb = Uint8Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => i * 10);
    const ds = parseFashionMnist(
      encodeFashionMnist({
        side: 2,
        channels: 3,
        train: { labels: Uint8Array.from([2, 3]), images: rgb },
        test: { labels: new Uint8Array(0), images: new Uint8Array(0) },
      }),
    );
    expect(Array.from(ds.train.images)).toEqual(Array.from(rgb));
    expect(ds.test.n).toBe(0);
    expect(ds.id).toBe('fashion-mnist:2+0');
  });

  it('rejects a bad magic, gzip bytes, another version, truncation, trailing bytes and bad labels, saying which', () => {
    const good = encodeFashionMnist(tiny());
    const bad = good.slice();
    bad[0] = 'X'.charCodeAt(0);
    expect(() => parseFashionMnist(bad)).toThrow(/bad magic "XLIMFMN1", expected "CLIMFMN1"/);
    expect(() => parseFashionMnist(Uint8Array.from([0x1f, 0x8b, 8, 0, ...new Array(40).fill(0)]))).toThrow(
      /gzip bytes: unpack the file first/,
    );
    const v2 = good.slice();
    new DataView(v2.buffer).setUint32(8, 2, true);
    expect(() => parseFashionMnist(v2)).toThrow(/unsupported format version 2/);
    expect(() => parseFashionMnist(good.subarray(0, 10))).toThrow(/file too short \(10 bytes/);
    expect(() => parseFashionMnist(good.subarray(0, good.length - 1))).toThrow(
      /file truncated: 112 bytes, but the header \(3 train \+ 2 test images of 4×4×1\) needs 113/,
    );
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    expect(() => parseFashionMnist(longer)).toThrow(/has trailing bytes/);
    const badLabel = good.slice();
    badLabel[FASHION_MNIST_HEADER_BYTES + 1] = 10;
    expect(() => parseFashionMnist(badLabel)).toThrow(/train label 1 is 10, not a class 0–9/);
    const ch = good.slice();
    new DataView(ch.buffer).setUint32(24, 2, true);
    expect(() => parseFashionMnist(ch)).toThrow(/bad channel count 2/);
    expect(() =>
      encodeFashionMnist({ ...tiny(), train: { labels: new Uint8Array(2), images: new Uint8Array(3) } }),
    ).toThrow(/train has 2 labels but 3 image bytes/);
  });

  it('takeSubset keeps a prefix of each split and renames the id', () => {
    const ds = parseFashionMnist(encodeFashionMnist(tiny()));
    const s = takeSubset(ds, 2, 1);
    expect(s.id).toBe('fashion-mnist:2+1');
    expect(s.train.n).toBe(2);
    expect(Array.from(s.train.labels ?? [])).toEqual([9, 0]);
    expect(s.train.images).toEqual(ds.train.images.subarray(0, 2 * imageBytes(4)));
    expect(s.test.n).toBe(1);
    expect(takeSubset(ds, 100, undefined)).toBe(ds);
  });
});

describe('public/datasets/fashion-mnist.bin (committed)', () => {
  const present = existsSync(FASHION_MNIST_OUT);
  const haveSource = existsSync(`${FASHION_MNIST_SOURCE}/train-images-idx3-ubyte.gz`);
  let cached: { raw: Uint8Array; ds: Dataset } | null = null;
  const load = () => {
    if (!present)
      throw new Error(`${FASHION_MNIST_OUT} is missing: it is committed; rebuild it with npm run data:fashion-mnist`);
    if (!cached) {
      const raw = gunzipSync(readFileSync(FASHION_MNIST_OUT));
      cached = { raw, ds: parseFashionMnist(raw) };
    }
    return cached;
  };

  it('holds exactly 1000 images of every class for training and 200 for testing, shuffled', () => {
    const { ds } = load();
    expect(ds.id).toBe('fashion-mnist:10000+2000');
    expect(ds.size).toBe(28);
    for (const [split, per] of [
      [ds.train, 1000],
      [ds.test, 200],
    ] as const) {
      const counts = new Array(FASHION_MNIST_CLASSES.length).fill(0);
      for (const l of split.labels ?? []) counts[l]++;
      expect(counts).toEqual(new Array(10).fill(per));
      expect(split.images.length).toBe(split.n * imageBytes(28));
      // Stored in a shuffled order, so a prefix mixes the classes.
      expect(new Set(Array.from((split.labels ?? new Int32Array()).subarray(0, 40))).size).toBeGreaterThanOrEqual(8);
    }
    // Grey: every pixel has R = G = B.
    const im = ds.train.images;
    for (let i = 0; i < im.length; i += 3 * 997) expect(im[i + 1] === im[i] && im[i + 2] === im[i]).toBe(true);
  });

  // CI machines lack Debian's dataset-fashion-mnist package; the checks against it run where it exists.
  it.skipIf(!haveSource)(
    `images equal their source images in ${FASHION_MNIST_SOURCE}, and the script rebuilds the file byte for byte (skipped without Debian's dataset-fashion-mnist)`,
    () => {
      const { raw, ds } = load();
      const px = 28 * 28;
      const rng = new Rng(5);
      for (const [split, prefix] of [
        [ds.train, 'train'],
        [ds.test, 't10k'],
      ] as const) {
        const src = readSource(FASHION_MNIST_SOURCE, prefix);
        for (let k = 0; k < 4; k++) {
          const i = k === 0 ? 0 : rng.int(split.n);
          const grey = new Uint8Array(px);
          for (let p = 0; p < px; p++) grey[p] = split.images[(i * px + p) * 3];
          // Find the image in the source by content; its label must match.
          let found = -1;
          for (let s = 0; s < src.n && found < 0; s++) {
            if (src.labels[s] !== split.labels?.[i]) continue;
            let same = true;
            for (let p = 0; p < px && same; p++) same = src.images[s * px + p] === grey[p];
            if (same) found = s;
          }
          expect(found, `${prefix} image ${i} not found in the source`).toBeGreaterThanOrEqual(0);
        }
      }
      const rebuilt = buildFashionMnist(FASHION_MNIST_SOURCE);
      expect(rebuilt.bytes.length).toBe(raw.length);
      expect(Buffer.compare(Buffer.from(rebuilt.bytes), Buffer.from(raw))).toBe(0);
    },
  );
});
