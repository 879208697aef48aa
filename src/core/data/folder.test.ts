import { describe, expect, it } from 'vitest';
import { assembleDataset, heldOutCount, holdOutSplit, labelsFromPaths, squareBoxes, toRgb } from './folder';
import { imageBytes } from './dataset';
import { Rng } from '../rng';

const arr = (a: Int32Array | null) => (a ? Array.from(a) : null);

describe('labelsFromPaths', () => {
  it('labels <label>/<image> under a dropped root folder, classes sorted by name', () => {
    const paths = ['pets/dog/1.png', 'pets/cat/a.JPG', 'pets/dog/2.jpeg', 'pets/bird/x.webp', 'pets/cat/b.gif'];
    const r = labelsFromPaths(paths);
    expect(r.classNames).toEqual(['bird', 'cat', 'dog']);
    expect(r.keep).toEqual([0, 1, 2, 3, 4]);
    expect(arr(r.labels)).toEqual([2, 1, 2, 0, 1]);
    expect(r.ignored).toEqual([]);
    expect(r.problems).toEqual([]);
  });

  it('labels class folders dropped without a common root', () => {
    const r = labelsFromPaths(['b/1.png', 'a/2.png', 'B/3.png']);
    // Code-unit order: 'B' < 'a' < 'b'.
    expect(r.classNames).toEqual(['B', 'a', 'b']);
    expect(arr(r.labels)).toEqual([2, 1, 0]);
  });

  it('flat files (no folder, or one dropped folder) are unlabelled', () => {
    for (const paths of [
      ['1.png', '2.jpg', '3.bmp'],
      ['root/1.png', 'root/2.jpg', 'root/3.bmp'],
    ]) {
      const r = labelsFromPaths(paths);
      expect(r.labels).toBeNull();
      expect(r.classNames).toEqual([]);
      expect(r.keep).toEqual([0, 1, 2]);
      expect(r.problems).toEqual([]);
    }
  });

  it('a single nested folder with no class folders is unlabelled', () => {
    const r = labelsFromPaths(['root/photos/1.png', 'root/photos/2.png', 'root/photos/3.avif']);
    expect(r.labels).toBeNull();
    expect(r.classNames).toEqual([]);
    expect(r.keep).toEqual([0, 1, 2]);
    expect(r.problems).toEqual([]);
  });

  it('a mixed layout is unlabelled with a problem saying why', () => {
    const r = labelsFromPaths(['root/loose.png', 'root/cat/1.png', 'root/dog/2.png']);
    expect(r.labels).toBeNull();
    expect(r.classNames).toEqual([]);
    expect(r.keep).toEqual([0, 1, 2]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/mixed layout: 1 image at the top level and 2 inside folders/);
    expect(r.problems[0]).toMatch(/unlabelled/);
  });

  it('deeper nesting takes the first folder level as the label', () => {
    const r = labelsFromPaths([
      'root/cat/indoor/1.png',
      'root/dog/2.png',
      'root/cat/outdoor/deep/3.png',
      'root/dog/x/4.png',
    ]);
    expect(r.classNames).toEqual(['cat', 'dog']);
    expect(arr(r.labels)).toEqual([0, 1, 0, 1]);
  });

  it('ignores hidden files and folders and __MACOSX, which do not break the common root', () => {
    const paths = [
      '__MACOSX/root/cat/._1.png',
      'root/cat/1.png',
      'root/.DS_Store',
      'root/dog/2.png',
      'root/.git/x.png',
      'root/dog/.hidden.png',
    ];
    const r = labelsFromPaths(paths);
    expect(r.keep).toEqual([1, 3]);
    expect(r.ignored).toEqual([
      '__MACOSX/root/cat/._1.png',
      'root/.DS_Store',
      'root/.git/x.png',
      'root/dog/.hidden.png',
    ]);
    expect(r.classNames).toEqual(['cat', 'dog']);
    expect(arr(r.labels)).toEqual([0, 1]);
  });

  it('ignores unsupported extensions (case-insensitive match for the supported ones)', () => {
    const paths = ['a/1.PNG', 'a/notes.txt', 'b/2.Jpeg', 'b/3.tiff', 'b/README', 'a/4.svg', 'b/5.BMP', 'a/6.AVIF'];
    const r = labelsFromPaths(paths);
    expect(r.keep).toEqual([0, 2, 6, 7]);
    expect(r.ignored).toEqual(['a/notes.txt', 'b/3.tiff', 'b/README', 'a/4.svg']);
    expect(r.classNames).toEqual(['a', 'b']);
    expect(arr(r.labels)).toEqual([0, 1, 1, 0]);
  });

  it('accepts backslash separators', () => {
    const r = labelsFromPaths(['root\\a\\1.png', 'root\\b\\2.png']);
    expect(r.classNames).toEqual(['a', 'b']);
    expect(arr(r.labels)).toEqual([0, 1]);
  });

  it('one image, and nothing usable', () => {
    const one = labelsFromPaths(['root/cat/1.png']);
    expect(one.keep).toEqual([0]);
    expect(one.labels).toBeNull();
    const none = labelsFromPaths([]);
    expect(none.keep).toEqual([]);
    expect(none.labels).toBeNull();
    expect(none.problems[0]).toMatch(/no image files found/);
    const junk = labelsFromPaths(['.DS_Store', 'a.txt']);
    expect(junk.ignored).toEqual(['.DS_Store', 'a.txt']);
    expect(junk.problems[0]).toMatch(/no image files found/);
  });
});

/** The rule, written out naively, per label. */
function expectedHeldOut(count: number, fraction: number, labelled: boolean): number {
  if (fraction === 0 || count === 1) return 0;
  let k = Math.round(fraction * count);
  if (labelled && k < 1) k = 1;
  if (k > count - 1) k = count - 1;
  return k;
}

function checkSplit(
  n: number,
  labels: Int32Array | null,
  fraction: number,
  s: { train: Int32Array; test: Int32Array },
): void {
  const seen = new Uint8Array(n);
  for (const a of [s.train, s.test]) {
    for (let i = 0; i < a.length; i++) {
      if (i > 0) expect(a[i]).toBeGreaterThan(a[i - 1]);
      expect(seen[a[i]]).toBe(0);
      seen[a[i]] = 1;
    }
  }
  expect(s.train.length + s.test.length).toBe(n);
  expect(seen.every((v) => v === 1)).toBe(true);
  if (labels) {
    const total = new Map<number, number>();
    const held = new Map<number, number>();
    labels.forEach((l) => total.set(l, (total.get(l) ?? 0) + 1));
    s.test.forEach((i) => held.set(labels[i], (held.get(labels[i]) ?? 0) + 1));
    for (const [l, c] of total) expect(held.get(l) ?? 0).toBe(expectedHeldOut(c, fraction, true));
  } else {
    expect(s.test.length).toBe(expectedHeldOut(n, fraction, false));
  }
}

describe('holdOutSplit', () => {
  // Counts per label 1, 2, 3, 7, 20, interleaved.
  const counts = [1, 2, 3, 7, 20];
  const labels = Int32Array.from(counts.flatMap((c, l) => Array.from({ length: c }, () => l)));
  new Rng(99).shuffle(labels);

  it('hand-worked per-label counts at fraction 0.2', () => {
    // 1 → 0 (single image); 2 → round(0.4)=0 → at least 1; 3 → round(0.6)=1; 7 → round(1.4)=1; 20 → 4.
    expect(counts.map((c) => heldOutCount(c, 0.2, true))).toEqual([0, 1, 1, 1, 4]);
    // Unlabelled 33 → round(6.6) = 7.
    expect(heldOutCount(33, 0.2, false)).toBe(7);
    // 0.9 of 2 rounds to 2 but one image stays for training.
    expect(heldOutCount(2, 0.9, true)).toBe(1);
  });

  it('is disjoint, complete, sorted and stratified as the rule says, for several seeds and fractions', () => {
    for (const fraction of [0, 0.1, 0.2, 0.25, 0.5, 0.9]) {
      for (const seed of [1, 2, 3, 42, 1234]) {
        checkSplit(labels.length, labels, fraction, holdOutSplit(labels.length, labels, fraction, new Rng(seed)));
        checkSplit(labels.length, null, fraction, holdOutSplit(labels.length, null, fraction, new Rng(seed)));
      }
    }
  });

  it('same seed gives the same split; different seeds differ for a large n', () => {
    const n = 1000;
    const big = Int32Array.from({ length: n }, (_, i) => i % 7);
    for (const l of [big, null]) {
      const a = holdOutSplit(n, l, 0.2, new Rng(5));
      const b = holdOutSplit(n, l, 0.2, new Rng(5));
      const c = holdOutSplit(n, l, 0.2, new Rng(6));
      expect(Array.from(a.test)).toEqual(Array.from(b.test));
      expect(Array.from(a.train)).toEqual(Array.from(b.train));
      expect(Array.from(a.test)).not.toEqual(Array.from(c.test));
      expect(c.test.length).toBe(a.test.length);
    }
  });

  it('n = 1 holds out nothing', () => {
    for (const l of [Int32Array.from([0]), null]) {
      const s = holdOutSplit(1, l, 0.9, new Rng(1));
      expect(Array.from(s.train)).toEqual([0]);
      expect(Array.from(s.test)).toEqual([]);
    }
  });

  it('rejects a bad fraction, n < 1 and mismatched labels with clear messages', () => {
    expect(() => holdOutSplit(10, null, 0.95, new Rng(1))).toThrow(
      /fraction must be a number from 0 to 0.9 \(got 0.95\)/,
    );
    expect(() => holdOutSplit(10, null, -0.1, new Rng(1))).toThrow(/from 0 to 0.9/);
    expect(() => holdOutSplit(10, null, NaN, new Rng(1))).toThrow(/from 0 to 0.9/);
    expect(() => holdOutSplit(0, null, 0.2, new Rng(1))).toThrow(/at least one image/);
    expect(() => holdOutSplit(3, Int32Array.from([0, 1]), 0.2, new Rng(1))).toThrow(/2 labels for 3 images/);
  });
});

describe('squareBoxes', () => {
  const W = [6, 3, 4, 5];
  const H = [4, 7, 4, 2];

  it('crop: centred square of side min(w, h) inside the image', () => {
    expect(squareBoxes(W, H, 'crop')).toEqual([
      { x: 1, y: 0, w: 4, h: 4 }, // landscape 6×4
      { x: 0, y: 2, w: 3, h: 3 }, // portrait 3×7: (7−3)/2 = 2
      { x: 0, y: 0, w: 4, h: 4 }, // square
      { x: 1, y: 0, w: 2, h: 2 }, // 5×2: ⌊3/2⌋ = 1, the extra column on the right
    ]);
  });

  it('pad: centred square of side max(w, h) extending beyond the image', () => {
    expect(squareBoxes(W, H, 'pad')).toEqual([
      { x: 0, y: -1, w: 6, h: 6 },
      { x: -2, y: 0, w: 7, h: 7 },
      { x: 0, y: 0, w: 4, h: 4 },
      { x: 0, y: -1, w: 5, h: 5 }, // 5×2: 3 rows of padding, 1 above, 2 below
    ]);
  });

  it('accepts typed arrays and rejects bad input', () => {
    expect(squareBoxes(Int32Array.from([2]), Int32Array.from([8]), 'crop')).toEqual([{ x: 0, y: 3, w: 2, h: 2 }]);
    expect(squareBoxes([], [], 'pad')).toEqual([]);
    expect(() => squareBoxes([1, 2], [1], 'crop')).toThrow(/2 widths but 1 heights/);
    expect(() => squareBoxes([0], [1], 'crop')).toThrow(/image 0 has size 0×1/);
    expect(() => squareBoxes([1], [1], 'fit' as 'crop')).toThrow(/mode must be/);
  });
});

describe('toRgb', () => {
  it('repeats grey three times, pixel by pixel', () => {
    const grey = Uint8Array.from([0, 17, 128, 255]);
    expect(Array.from(toRgb(grey, 1))).toEqual([0, 0, 0, 17, 17, 17, 128, 128, 128, 255, 255, 255]);
  });

  it('copies RGB (a new array) and reads Uint8ClampedArray', () => {
    const rgb = Uint8ClampedArray.from([1, 2, 3, 250, 251, 252]);
    const out = toRgb(rgb, 3);
    expect(out).toBeInstanceOf(Uint8Array);
    expect(Array.from(out)).toEqual([1, 2, 3, 250, 251, 252]);
    out[0] = 9;
    expect(rgb[0]).toBe(1);
  });

  it('composites RGBA over white, pixel by pixel', () => {
    const rgba = Uint8Array.from([
      10,
      20,
      30,
      255, // opaque: unchanged
      10,
      20,
      30,
      0, // transparent: white
      0,
      0,
      0,
      128, // half black: round(255·127/255) = 127
      100,
      200,
      255,
      128, // round((100·128 + 255·127)/255) = round(177.196) = 177; 200 → round(227.39) = 227; 255 → 255
      0,
      255,
      0,
      1, // nearly transparent: 254, 255, 254
    ]);
    expect(Array.from(toRgb(rgba, 4))).toEqual([
      10, 20, 30, 255, 255, 255, 127, 127, 127, 177, 227, 255, 254, 255, 254,
    ]);
  });

  it('rejects a length that is not whole pixels, and a bad channel count', () => {
    expect(() => toRgb(new Uint8Array(5), 4)).toThrow(/not a whole number of 4-channel pixels/);
    expect(() => toRgb(new Uint8Array(4), 2 as 1)).toThrow(/channels must be 1, 3 or 4/);
  });
});

describe('assembleDataset', () => {
  const S = 2;
  const B = imageBytes(S);
  /** n images whose every byte is the image index, so each image is recognisable. */
  const imagesOf = (n: number) => Uint8Array.from({ length: n * B }, (_, i) => Math.floor(i / B));
  /** The source index of each image in a split, checking it is uniform. */
  const sources = (images: Uint8Array): number[] => {
    const out: number[] = [];
    for (let j = 0; j < images.length / B; j++) {
      const img = images.subarray(j * B, (j + 1) * B);
      expect(img.every((v) => v === img[0])).toBe(true);
      out.push(img[0]);
    }
    return out;
  };

  it('builds labelled train/test splits with images and labels in the right split', () => {
    const n = 12;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const ds = assembleDataset({
      name: 'pets',
      size: S,
      images: imagesOf(n),
      labels,
      classNames: ['bird', 'cat', 'dog'],
      fraction: 0.25,
      seed: 7,
    });
    expect(ds.id).toBe('folder:pets:12:s=2');
    expect(ds.name).toBe('pets');
    expect(ds.size).toBe(S);
    expect(ds.classNames).toEqual(['bird', 'cat', 'dog']);
    expect(ds.train.n).toBe(9);
    expect(ds.test.n).toBe(3);
    expect(ds.train.images.length).toBe(9 * B);
    expect(ds.test.images.length).toBe(3 * B);
    const split = holdOutSplit(n, labels, 0.25, new Rng(7));
    expect(sources(ds.train.images)).toEqual(Array.from(split.train));
    expect(sources(ds.test.images)).toEqual(Array.from(split.test));
    expect(arr(ds.train.labels)).toEqual(Array.from(split.train, (i) => i % 3));
    expect(arr(ds.test.labels)).toEqual(Array.from(split.test, (i) => i % 3));
    // One test image per class (4 each, round(0.25·4) = 1).
    expect(arr(ds.test.labels)?.sort()).toEqual([0, 1, 2]);
  });

  it('builds an unlabelled set; one image keeps it for training', () => {
    const ds = assembleDataset({
      name: 'u',
      size: S,
      images: imagesOf(10),
      labels: null,
      classNames: [],
      fraction: 0.2,
      seed: 1,
    });
    expect(ds.train.n).toBe(8);
    expect(ds.test.n).toBe(2);
    expect(ds.train.labels).toBeNull();
    expect(ds.test.labels).toBeNull();
    expect([...sources(ds.train.images), ...sources(ds.test.images)].sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    const one = assembleDataset({
      name: 'one',
      size: S,
      images: imagesOf(1),
      labels: Int32Array.from([0]),
      classNames: ['a'],
      fraction: 0.5,
      seed: 1,
    });
    expect(one.id).toBe('folder:one:1:s=2');
    expect(one.train.n).toBe(1);
    expect(one.test.n).toBe(0);
    expect(one.test.images.length).toBe(0);
    expect(arr(one.test.labels)).toEqual([]);
  });

  it('rejects empty input and inconsistent arguments with clear errors', () => {
    const base = { name: 'x', size: S, labels: null, classNames: [], fraction: 0.2, seed: 1 };
    expect(() => assembleDataset({ ...base, images: new Uint8Array(0) })).toThrow(/no images/);
    expect(() => assembleDataset({ ...base, images: new Uint8Array(B + 1) })).toThrow(
      /not a whole number of 2×2×3 images/,
    );
    expect(() =>
      assembleDataset({ ...base, images: imagesOf(2), labels: Int32Array.from([0]), classNames: ['a'] }),
    ).toThrow(/1 labels for 2 images/);
    expect(() =>
      assembleDataset({ ...base, images: imagesOf(2), labels: Int32Array.from([0, 2]), classNames: ['a', 'b'] }),
    ).toThrow(/label 1 is 2/);
    expect(() => assembleDataset({ ...base, images: imagesOf(2), classNames: ['a'] })).toThrow(/no class names/);
    expect(() => assembleDataset({ ...base, images: imagesOf(2), fraction: 1 })).toThrow(/from 0 to 0.9/);
  });
});
