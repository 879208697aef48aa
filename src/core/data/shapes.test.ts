import { beforeAll, describe, expect, it } from 'vitest';
import { SHAPES_DEFAULTS, SHAPE_CLASSES, makeShapesDataset, renderShapeImage, shapeSdf } from './shapes';
import { imageBytes, type Dataset } from './dataset';
import { Rng } from '../rng';

const C = SHAPE_CLASSES.length;

function bytesEqual(a: Uint8Array | Int32Array | null, b: Uint8Array | Int32Array | null): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('shapes data set', () => {
  let ds: Dataset;

  beforeAll(() => {
    ds = makeShapesDataset();
  });

  it('has the documented defaults, id, sizes and 8 balanced classes in both splits', () => {
    expect(SHAPES_DEFAULTS).toEqual({ seed: 1, nTrain: 2400, nTest: 600, size: 32 });
    expect(ds.id).toBe('shapes:seed=1:n=2400+600:s=32');
    expect(ds.name).toBe('shapes');
    expect(ds.size).toBe(32);
    expect(ds.classNames).toEqual([...SHAPE_CLASSES]);
    expect(C).toBe(8);
    for (const [split, n] of [
      [ds.train, 2400],
      [ds.test, 600],
    ] as const) {
      expect(split.n).toBe(n);
      expect(split.images.length).toBe(n * imageBytes(32));
      const counts = new Array(C).fill(0);
      for (const l of split.labels ?? []) counts[l]++;
      expect(counts).toEqual(new Array(C).fill(n / C));
    }
    // Labels are shuffled, not in blocks.
    const first = Array.from((ds.train.labels ?? new Int32Array()).subarray(0, 16));
    expect(new Set(first).size).toBeGreaterThan(3);
    // Uneven sizes: counts differ by at most one.
    const odd = makeShapesDataset({ nTrain: 13, nTest: 3 });
    const c = new Array(C).fill(0);
    for (const l of odd.train.labels ?? []) c[l]++;
    expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
  });

  it('is deterministic for a seed, differs across seeds, and the test split does not depend on nTrain', () => {
    const a = makeShapesDataset({ seed: 7, nTrain: 200, nTest: 80 });
    const b = makeShapesDataset({ seed: 7, nTrain: 200, nTest: 80 });
    expect(bytesEqual(a.train.images, b.train.images)).toBe(true);
    expect(bytesEqual(a.train.labels, b.train.labels)).toBe(true);
    expect(bytesEqual(a.test.images, b.test.images)).toBe(true);
    const c = makeShapesDataset({ seed: 8, nTrain: 200, nTest: 80 });
    let differ = 0;
    for (let i = 0; i < a.train.images.length; i++) if (a.train.images[i] !== c.train.images[i]) differ++;
    expect(differ / a.train.images.length).toBeGreaterThan(0.5);
    const d = makeShapesDataset({ seed: 7, nTrain: 120, nTest: 80 });
    expect(bytesEqual(a.test.images, d.test.images)).toBe(true);
    expect(bytesEqual(a.train.images.subarray(0, 0), d.train.images.subarray(0, 0))).toBe(true);
  });

  it('pixel statistics are sane: varied images, full range, no flat frames', () => {
    const per = imageBytes(32);
    const { images, n } = ds.train;
    let sum = 0;
    let min = 255;
    let max = 0;
    let flat = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      let s2 = 0;
      for (let k = i * per; k < (i + 1) * per; k++) {
        const v = images[k];
        s += v;
        s2 += v * v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      sum += s;
      const mean = s / per;
      if (Math.sqrt(s2 / per - mean * mean) < 8) flat++;
    }
    const mean = sum / images.length;
    console.log(`shapes: mean pixel ${mean.toFixed(1)}, range ${min}–${max}, flat images ${flat}`);
    expect(mean).toBeGreaterThan(60);
    expect(mean).toBeLessThan(200);
    expect(min).toBeLessThan(20);
    expect(max).toBeGreaterThan(235);
    expect(flat).toBe(0);
  });

  it('every class covers a visible share of the image (not all background)', () => {
    const buf = new Uint8Array(imageBytes(32));
    const rng = new Rng(3);
    for (let c = 0; c < C; c++) {
      let lo = 1;
      let hi = 0;
      let sum = 0;
      for (let i = 0; i < 200; i++) {
        const cov = renderShapeImage(c, rng, 32, buf);
        lo = Math.min(lo, cov);
        hi = Math.max(hi, cov);
        sum += cov;
      }
      expect(lo, SHAPE_CLASSES[c]).toBeGreaterThan(0.03);
      expect(hi, SHAPE_CLASSES[c]).toBeLessThan(0.6);
      expect(sum / 200, SHAPE_CLASSES[c]).toBeGreaterThan(0.08);
    }
  });

  it('shapes lie inside the unit disc and differ pairwise (IoU < 0.85 at every rotation tried)', () => {
    const G = 64;
    const masks: Uint8Array[][] = [];
    for (let c = 0; c < C; c++) {
      // Positive everywhere on the unit circle: the renderer may skip pixels outside it.
      for (let a = 0; a < 360; a++)
        expect(shapeSdf(c, Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180))).toBeGreaterThan(0);
      const rots: Uint8Array[] = [];
      for (let r = 0; r < 12; r++) {
        const t = (r * Math.PI) / 12;
        const m = new Uint8Array(G * G);
        for (let y = 0; y < G; y++) {
          for (let x = 0; x < G; x++) {
            const u = ((x + 0.5) / G) * 2 - 1;
            const v = ((y + 0.5) / G) * 2 - 1;
            m[y * G + x] =
              shapeSdf(c, Math.cos(t) * u + Math.sin(t) * v, -Math.sin(t) * u + Math.cos(t) * v) < 0 ? 1 : 0;
          }
        }
        rots.push(m);
      }
      expect(
        rots[0].reduce((s, v) => s + v, 0),
        SHAPE_CLASSES[c],
      ).toBeGreaterThan(G * G * 0.1);
      masks.push(rots);
    }
    for (let a = 0; a < C; a++) {
      for (let b = a + 1; b < C; b++) {
        let best = 0;
        for (const mb of masks[b]) {
          let inter = 0;
          let uni = 0;
          for (let k = 0; k < G * G; k++) {
            inter += masks[a][0][k] & mb[k];
            uni += masks[a][0][k] | mb[k];
          }
          best = Math.max(best, inter / uni);
        }
        expect(best, `${SHAPE_CLASSES[a]} vs ${SHAPE_CLASSES[b]}`).toBeLessThan(0.85);
      }
    }
  });

  it('colour alone does not give the class: nearest class-mean colour is near chance', () => {
    const per = imageBytes(32);
    const meanRgb = (images: Uint8Array, i: number) => {
      const m = [0, 0, 0];
      for (let k = 0; k < per; k += 3) for (let c = 0; c < 3; c++) m[c] += images[i * per + k + c];
      return m.map((v) => v / (per / 3));
    };
    const centres = Array.from({ length: C }, () => [0, 0, 0]);
    const counts = new Array(C).fill(0);
    const trainLabels = ds.train.labels ?? new Int32Array();
    for (let i = 0; i < ds.train.n; i++) {
      const m = meanRgb(ds.train.images, i);
      for (let c = 0; c < 3; c++) centres[trainLabels[i]][c] += m[c];
      counts[trainLabels[i]]++;
    }
    centres.forEach((ct, k) => ct.forEach((_, c) => (ct[c] /= counts[k])));
    let correct = 0;
    const testLabels = ds.test.labels ?? new Int32Array();
    for (let i = 0; i < ds.test.n; i++) {
      const m = meanRgb(ds.test.images, i);
      let best = 0;
      let bestD = Infinity;
      for (let k = 0; k < C; k++) {
        const d = (m[0] - centres[k][0]) ** 2 + (m[1] - centres[k][1]) ** 2 + (m[2] - centres[k][2]) ** 2;
        if (d < bestD) [best, bestD] = [k, d];
      }
      if (best === testLabels[i]) correct++;
    }
    const acc = correct / ds.test.n;
    console.log(
      `shapes: nearest class-mean colour accuracy ${(100 * acc).toFixed(1)}% (chance ${(100 / C).toFixed(1)}%)`,
    );
    expect(acc).toBeLessThan(0.25);
  });

  it('refuses bad options', () => {
    expect(() => makeShapesDataset({ nTrain: -1 })).toThrow(/nTrain/);
    expect(() => makeShapesDataset({ size: 4 })).toThrow(/size/);
  });
});
