import { describe, expect, it } from 'vitest';
import { orientRgba, resizeBoxRgb } from './pixels';
import { squareBoxes, type Box } from './folder';
import { Rng } from '../rng';

/**
 * Reference resampler, written the slow direct way: for every output pixel,
 * every source pixel of the whole image, the 2-D overlap of the two squares
 * (coordinates scaled by `size` so they are whole numbers), summed with
 * BigInt and rounded half up with BigInt division. Outside the image is black
 * simply because no source pixel lies there.
 */
function naiveResize(rgb: Uint8Array, w: number, h: number, box: Box, size: number): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  const S = BigInt(size);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const ax = BigInt(box.x) * S + BigInt(i * box.w);
      const bx = ax + BigInt(box.w);
      const ay = BigInt(box.y) * S + BigInt(j * box.h);
      const by = ay + BigInt(box.h);
      const sum = [0n, 0n, 0n];
      for (let sy = 0; sy < h; sy++) {
        const lo = BigInt(sy) * S;
        const oy = (by < lo + S ? by : lo + S) - (ay > lo ? ay : lo);
        if (oy <= 0n) continue;
        for (let sx = 0; sx < w; sx++) {
          const lx = BigInt(sx) * S;
          const ox = (bx < lx + S ? bx : lx + S) - (ax > lx ? ax : lx);
          if (ox <= 0n) continue;
          for (let c = 0; c < 3; c++) sum[c] += ox * oy * BigInt(rgb[(sy * w + sx) * 3 + c]);
        }
      }
      const den = BigInt(box.w * box.h);
      for (let c = 0; c < 3; c++) out[(j * size + i) * 3 + c] = Number((2n * sum[c] + den) / (2n * den));
    }
  }
  return out;
}

function randomImage(rng: Rng, w: number, h: number): Uint8Array {
  return Uint8Array.from({ length: w * h * 3 }, () => rng.int(256));
}

/** One grey value per pixel → RGB with the same value in all channels. */
function grey(values: number[]): Uint8Array {
  return Uint8Array.from(values.flatMap((v) => [v, v, v]));
}

/** The R channel of an RGB image, row by row. */
function reds(rgb: Uint8Array): number[] {
  return Array.from(rgb.filter((_, i) => i % 3 === 0));
}

describe('resizeBoxRgb', () => {
  it('matches the direct 2-D reference on random images, boxes and sizes', () => {
    const rng = new Rng(42);
    for (let trial = 0; trial < 300; trial++) {
      const w = 1 + rng.int(9);
      const h = 1 + rng.int(9);
      const rgb = randomImage(rng, w, h);
      const size = 1 + rng.int(12);
      const kind = trial % 3;
      let box: Box;
      if (kind === 0) box = squareBoxes([w], [h], 'crop')[0];
      else if (kind === 1) box = squareBoxes([w], [h], 'pad')[0];
      else {
        // Any box, partly or wholly outside, not necessarily square.
        box = { x: rng.int(2 * w + 1) - w, y: rng.int(2 * h + 1) - h, w: 1 + rng.int(2 * w), h: 1 + rng.int(2 * h) };
      }
      expect(resizeBoxRgb(rgb, w, h, box, size), `${w}×${h} box ${JSON.stringify(box)} → ${size}`).toEqual(
        naiveResize(rgb, w, h, box, size),
      );
    }
  });

  it('matches the reference on a larger image scaled down by an odd factor', () => {
    const rng = new Rng(7);
    const [w, h] = [37, 23];
    const rgb = randomImage(rng, w, h);
    for (const fit of ['crop', 'pad'] as const) {
      const box = squareBoxes([w], [h], fit)[0];
      for (const size of [5, 8, 23, 37, 40])
        expect(resizeBoxRgb(rgb, w, h, box, size)).toEqual(naiveResize(rgb, w, h, box, size));
    }
  });

  it('averages a 2×2 image into one pixel (25.25 → 25, 35, 45)', () => {
    const rgb = Uint8Array.from([10, 20, 30, 20, 30, 40, 30, 40, 50, 41, 50, 60]);
    expect(Array.from(resizeBoxRgb(rgb, 2, 2, { x: 0, y: 0, w: 2, h: 2 }, 1))).toEqual([25, 35, 45]);
  });

  it('rounds an exact half up', () => {
    // (0 + 1) / 2 = 0.5 → 1; (0 + 0 + 1 + 0) / 4 = 0.25 → 0; (1 + 1 + 1 + 0) / 4 = 0.75 → 1.
    expect(reds(resizeBoxRgb(grey([0, 1]), 2, 1, { x: 0, y: 0, w: 2, h: 1 }, 1))).toEqual([1]);
    expect(reds(resizeBoxRgb(grey([0, 0, 1, 0]), 2, 2, { x: 0, y: 0, w: 2, h: 2 }, 1))).toEqual([0]);
    expect(reds(resizeBoxRgb(grey([1, 1, 1, 0]), 2, 2, { x: 0, y: 0, w: 2, h: 2 }, 1))).toEqual([1]);
  });

  it('weights partly covered pixels by their covered area (3×3 → 2×2, cells of 1.5 px)', () => {
    const img = grey([0, 36, 72, 108, 144, 180, 216, 252, 0]);
    const out = reds(resizeBoxRgb(img, 3, 3, { x: 0, y: 0, w: 3, h: 3 }, 2));
    // Top-left: (0·1 + 36·½ + 108·½ + 144·¼) / 2.25 = 108 / 2.25 = 48.
    expect(out[0]).toBe(48);
    // Bottom-right: (144·¼ + 180·½ + 252·½ + 0·1) / 2.25 = 252 / 2.25 = 112.
    expect(out[3]).toBe(112);
  });

  it('pads a 2×1 image into 2×2 with a black bottom row (the odd pixel goes below)', () => {
    const rgb = Uint8Array.from([200, 100, 50, 10, 20, 30]);
    const box = squareBoxes([2], [1], 'pad')[0];
    expect(box).toEqual({ x: 0, y: 0, w: 2, h: 2 });
    expect(Array.from(resizeBoxRgb(rgb, 2, 1, box, 2))).toEqual([200, 100, 50, 10, 20, 30, 0, 0, 0, 0, 0, 0]);
  });

  it('pads a 1×1 image: the box is larger than the image and the rest is black', () => {
    const box = { x: -1, y: -1, w: 3, h: 3 };
    expect(reds(resizeBoxRgb(grey([200]), 1, 1, box, 3))).toEqual([0, 0, 0, 0, 200, 0, 0, 0, 0]);
    // One output pixel: 200 / 9 = 22.2 → 22.
    expect(reds(resizeBoxRgb(grey([200]), 1, 1, box, 1))).toEqual([22]);
    // A 1×1 image needs no padding in its own pad box, and any size repeats it.
    expect(reds(resizeBoxRgb(grey([77]), 1, 1, squareBoxes([1], [1], 'pad')[0], 4))).toEqual(new Array(16).fill(77));
  });

  it('copies the box exactly when size equals the box side', () => {
    const rng = new Rng(3);
    const rgb = randomImage(rng, 7, 5);
    const box = squareBoxes([7], [5], 'crop')[0]; // x = 1, 5×5
    const expected = new Uint8Array(5 * 5 * 3);
    for (let y = 0; y < 5; y++) expected.set(rgb.subarray((y * 7 + 1) * 3, (y * 7 + 6) * 3), y * 15);
    expect(resizeBoxRgb(rgb, 7, 5, box, 5)).toEqual(expected);
  });

  it('upsamples by coverage: whole source pixels where a cell lies in one, a blend where it straddles two', () => {
    // 2 px → 3 cells of ⅔ px: cell 0 in pixel 0, cell 1 half and half, cell 2 in pixel 1.
    const out = reds(resizeBoxRgb(grey([0, 255, 0, 255]), 2, 2, { x: 0, y: 0, w: 2, h: 2 }, 3));
    expect(out).toEqual([0, 128, 255, 0, 128, 255, 0, 128, 255]);
  });

  it('rejects a pixel count that does not match the size, and a fractional box', () => {
    expect(() => resizeBoxRgb(new Uint8Array(5), 1, 2, { x: 0, y: 0, w: 1, h: 1 }, 2)).toThrow(
      /5 bytes for a 1×2 RGB image \(expected 6\)/,
    );
    expect(() => resizeBoxRgb(new Uint8Array(3), 1, 1, { x: 0.5, y: 0, w: 1, h: 1 }, 2)).toThrow(
      /whole-number coordinates/,
    );
  });
});

describe('orientRgba', () => {
  // 3×2 stored image; pixel k = (k, 100 + k, 200 + k, 255 − k), so the red channel is the stored index.
  //   0 1 2
  //   3 4 5
  const stored = Uint8Array.from(
    { length: 24 },
    (_, i) => [i >> 2, 100 + (i >> 2), 200 + (i >> 2), 255 - (i >> 2)][i & 3],
  );
  const expected: Record<number, { w: number; h: number; idx: number[] }> = {
    1: { w: 3, h: 2, idx: [0, 1, 2, 3, 4, 5] },
    2: { w: 3, h: 2, idx: [2, 1, 0, 5, 4, 3] }, // mirrored left↔right
    3: { w: 3, h: 2, idx: [5, 4, 3, 2, 1, 0] }, // turned 180°
    4: { w: 3, h: 2, idx: [3, 4, 5, 0, 1, 2] }, // mirrored top↔bottom
    5: { w: 2, h: 3, idx: [0, 3, 1, 4, 2, 5] }, // stored row 0 down the left, column 0 along the top
    6: { w: 2, h: 3, idx: [3, 0, 4, 1, 5, 2] }, // turned clockwise: row 0 down the right side
    7: { w: 2, h: 3, idx: [5, 2, 4, 1, 3, 0] }, // row 0 up the right side, column 0 along the bottom
    8: { w: 2, h: 3, idx: [2, 5, 1, 4, 0, 3] }, // turned counter-clockwise: row 0 up the left side
  };

  for (const o of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`orientation ${o} places every stored pixel (all four channels) where EXIF says`, () => {
      const r = orientRgba(stored, 3, 2, o);
      const e = expected[o];
      expect([r.width, r.height]).toEqual([e.w, e.h]);
      const want = e.idx.flatMap((k) => [k, 100 + k, 200 + k, 255 - k]);
      expect(Array.from(r.pixels)).toEqual(want);
    });
  }

  it('leaves the image as stored for values outside 1–8', () => {
    for (const o of [0, 9, -1, 2.5, NaN]) {
      const r = orientRgba(stored, 3, 2, o);
      expect([r.width, r.height]).toEqual([3, 2]);
      expect(Array.from(r.pixels)).toEqual(Array.from(stored));
    }
  });

  it('6 then 8 (a quarter turn each way) gives the original back, on a random image', () => {
    const rng = new Rng(5);
    const px = Uint8Array.from({ length: 5 * 3 * 4 }, () => rng.int(256));
    const a = orientRgba(px, 5, 3, 6);
    const b = orientRgba(a.pixels, a.width, a.height, 8);
    expect([b.width, b.height]).toEqual([5, 3]);
    expect(b.pixels).toEqual(px);
  });

  it('reads pixels from a view with an offset into a larger buffer', () => {
    const big = new Uint8Array(4 + stored.length);
    big.set(stored, 4);
    const r = orientRgba(big.subarray(4), 3, 2, 3);
    expect(reds4(r.pixels)).toEqual(expected[3].idx);
  });
});

function reds4(rgba: Uint8Array): number[] {
  return Array.from(rgba.filter((_, i) => i % 4 === 0));
}
