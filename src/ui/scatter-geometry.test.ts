import { describe, expect, it } from 'vitest';
import { GridIndex, PALETTE, SHAPES, fitToCanvas, groupStyle, nearestBrute, toScreen } from './scatter-geometry';
/** A small seeded generator (the UI may not import core/rng): mulberry32. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
}

describe('fitToCanvas / toScreen', () => {
  it('maps the bounding box into the padded canvas with one scale for both axes, y up', () => {
    // Data box x ∈ [−1, 3] (span 4), y ∈ [0, 1] (span 1); canvas 200×100, pad 10 → room 180×80.
    // Scale = min(180/4, 80/1) = 45; centre (1, 0.5) → (100, 50).
    const xy = Float32Array.from([-1, 0, 3, 1, 1, 0.5]);
    const fit = fitToCanvas(xy, 200, 100, 10);
    expect(fit.scale).toBe(45);
    const s = toScreen(xy, fit);
    expect(Array.from(s)).toEqual([10, 72.5, 190, 27.5, 100, 50]);
  });

  it('keeps every point inside the padded box on random data', () => {
    const rng = new Rng(1);
    const xy = Float32Array.from({ length: 2000 }, () => rng.normal() * 50 + 7);
    const s = toScreen(xy, fitToCanvas(xy, 640, 480, 8));
    for (let i = 0; i < s.length; i += 2) {
      expect(s[i]).toBeGreaterThanOrEqual(8 - 1e-3);
      expect(s[i]).toBeLessThanOrEqual(632 + 1e-3);
      expect(s[i + 1]).toBeGreaterThanOrEqual(8 - 1e-3);
      expect(s[i + 1]).toBeLessThanOrEqual(472 + 1e-3);
    }
  });

  it('centres a single point or identical points, and ignores non-finite coordinates', () => {
    const one = toScreen([5, 5], fitToCanvas([5, 5], 100, 60, 4));
    expect(Array.from(one)).toEqual([50, 30]);
    const same = toScreen([2, 2, 2, 2], fitToCanvas([2, 2, 2, 2], 100, 60, 4));
    expect(Array.from(same)).toEqual([50, 30, 50, 30]);
    const withNaN = Float32Array.from([0, 0, NaN, 1, 1, 1]);
    const s = toScreen(withNaN, fitToCanvas(withNaN, 100, 100, 0));
    expect(Number.isNaN(s[2])).toBe(true);
    expect([s[0], s[1], s[4], s[5]]).toEqual([0, 100, 100, 0]);
    expect(fitToCanvas([], 10, 10, 0)).toEqual({ scale: 1, ox: 5, oy: 5 });
  });
});

describe('GridIndex', () => {
  it('finds the same nearest point as brute force on random points and queries (incl. duplicates and edges)', () => {
    const rng = new Rng(2);
    for (const [n, cell] of [
      [20_000, 16],
      [500, 8],
      [50, 64],
      [1, 10],
    ]) {
      const pts = Float32Array.from({ length: n * 2 }, (_, i) => (i % 2 ? rng.uniform(0, 300) : rng.uniform(0, 500)));
      // Exact duplicates exercise the lower-index tie rule.
      if (n > 10) for (let k = 0; k < 10; k++) pts.set([pts[0], pts[1]], (n - 1 - k) * 2);
      const grid = new GridIndex(pts, 500, 300, cell);
      for (let q = 0; q < 2000; q++) {
        const x = rng.uniform(-20, 520);
        const y = rng.uniform(-20, 320);
        const r = rng.uniform(0.5, 30);
        expect(grid.nearest(x, y, r)).toBe(nearestBrute(pts, x, y, r));
      }
      expect(grid.nearest(pts[0], pts[1], 1)).toBe(nearestBrute(pts, pts[0], pts[1], 1));
    }
  });

  it('skips points outside the canvas or not finite; returns −1 when nothing is within r', () => {
    const pts = Float32Array.from([10, 10, NaN, NaN, -5, 3, 90, 90]);
    const grid = new GridIndex(pts, 100, 100, 10);
    expect(grid.nearest(11, 11, 5)).toBe(0);
    expect(grid.nearest(-4, 3, 5)).toBe(-1); // off-canvas point is not indexed
    expect(grid.nearest(50, 50, 5)).toBe(-1);
    expect(grid.nearest(89, 89, 3)).toBe(3);
  });
});

describe('groupStyle', () => {
  it('gives 40 distinct colour–shape pairs, and consecutive groups differ in both', () => {
    const seen = new Set<string>();
    for (let g = 0; g < 40; g++) {
      const s = groupStyle(g);
      seen.add(`${s.colour}/${s.shape}`);
      const t = groupStyle(g + 1);
      expect(t.colour).not.toBe(s.colour);
      expect(t.shape).not.toBe(s.shape);
    }
    expect(seen.size).toBe(PALETTE.length * SHAPES.length);
  });
});
