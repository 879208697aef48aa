import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  LUMA,
  applyAugment,
  augmentBatch,
  centreView,
  drawAugment,
  hueMatrix,
  type AugmentDraw,
  type AugmentParams,
} from './augment';
import { Rng } from '../rng';

const S = 32;

const MOCO: AugmentParams = {
  cropScaleMin: 0.3,
  cropScaleMax: 1,
  flipProb: 0.5,
  jitterProb: 0.8,
  brightness: 0.4,
  contrast: 0.4,
  saturation: 0.4,
  hue: 0.1,
  grayscaleProb: 0.2,
};
const PLAIN: AugmentParams = {
  ...MOCO,
  cropScaleMin: 1,
  cropScaleMax: 1,
  flipProb: 0,
  jitterProb: 0,
  grayscaleProb: 0,
};

function randomImages(b: number, side: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return rng.floats(b * side * side * 3);
}

/** A draw with the given edge boxes and every colour op off. */
function plainDraw(boxes: number[][]): AugmentDraw {
  const b = boxes.length;
  return {
    boxes: Float32Array.from(boxes.flat()),
    flips: Uint8Array.from(boxes.map((bx) => (bx[1] > bx[3] ? 1 : 0))),
    jitter: new Uint8Array(b),
    brightness: new Float32Array(b).fill(1),
    contrast: new Float32Array(b).fill(1),
    saturation: new Float32Array(b).fill(1),
    hue: new Float32Array(b),
    gray: new Uint8Array(b),
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function run(pixels: Float32Array, b: number, out: number, d: AugmentDraw, side = S): Promise<Float32Array> {
  const x = tf.tensor4d(pixels, [b, side, side, 3]);
  const y = applyAugment(x, out, d);
  const v = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return v;
}

const px = (img: ArrayLike<number>, side: number, b: number, y: number, x: number, c: number) =>
  img[((b * side + y) * side + x) * 3 + c];

/**
 * Reference crop: torch-style bilinear (half-pixel centres, coordinates clamped
 * to the image) of the edge box (y1, x1, y2, x2) of image b.
 */
function naiveCrop(img: Float32Array, side: number, b: number, box: number[], out: number): Float32Array {
  const [y1, x1, y2, x2] = box;
  const res = new Float32Array(out * out * 3);
  const clamp = (v: number) => Math.min(Math.max(v, 0), side - 1);
  for (let i = 0; i < out; i++) {
    const sy = clamp(y1 * side + ((i + 0.5) * (y2 - y1) * side) / out - 0.5);
    const y0 = Math.floor(sy);
    const yb = Math.min(y0 + 1, side - 1);
    const fy = sy - y0;
    for (let j = 0; j < out; j++) {
      const sx = clamp(x1 * side + ((j + 0.5) * (x2 - x1) * side) / out - 0.5);
      const x0 = Math.floor(sx);
      const xb = Math.min(x0 + 1, side - 1);
      const fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const top = px(img, side, b, y0, x0, c) * (1 - fx) + px(img, side, b, y0, xb, c) * fx;
        const bot = px(img, side, b, yb, x0, c) * (1 - fx) + px(img, side, b, yb, xb, c) * fx;
        res[(i * out + j) * 3 + c] = top * (1 - fy) + bot * fy;
      }
    }
  }
  return res;
}

const clip01 = (v: number) => Math.min(1, Math.max(0, v));
const grey = (r: number, g: number, b: number) => LUMA[0] * r + LUMA[1] * g + LUMA[2] * b;

/** Reference colour pipeline for one image (N×3 pixels), ops in the order given, one clip at the end. */
function naiveColour(pix: Float32Array, d: AugmentDraw, b: number, order: number[]): Float32Array {
  const x = Float32Array.from(pix);
  const n = x.length / 3;
  if (d.jitter[b]) {
    for (const op of order) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += grey(x[3 * i], x[3 * i + 1], x[3 * i + 2]);
      mean /= n;
      for (let i = 0; i < n; i++) {
        const [r, g, bl] = [x[3 * i], x[3 * i + 1], x[3 * i + 2]];
        let o: number[];
        if (op === 0) o = [r, g, bl].map((v) => d.brightness[b] * v);
        else if (op === 1) o = [r, g, bl].map((v) => d.contrast[b] * v + (1 - d.contrast[b]) * mean);
        else if (op === 2) {
          const gr = grey(r, g, bl);
          o = [r, g, bl].map((v) => d.saturation[b] * v + (1 - d.saturation[b]) * gr);
        } else {
          // Textbook YIQ (rounded inverse), rotation by −2π·hue.
          const Y = 0.299 * r + 0.587 * g + 0.114 * bl;
          const I = 0.596 * r - 0.274 * g - 0.322 * bl;
          const Q = 0.211 * r - 0.523 * g + 0.312 * bl;
          const t = -2 * Math.PI * d.hue[b];
          const I2 = Math.cos(t) * I - Math.sin(t) * Q;
          const Q2 = Math.sin(t) * I + Math.cos(t) * Q;
          o = [Y + 0.956 * I2 + 0.621 * Q2, Y - 0.272 * I2 - 0.647 * Q2, Y - 1.106 * I2 + 1.703 * Q2];
        }
        for (let c = 0; c < 3; c++) x[3 * i + c] = o[c];
      }
    }
  }
  if (d.gray[b]) {
    for (let i = 0; i < n; i++) {
      const gr = grey(x[3 * i], x[3 * i + 1], x[3 * i + 2]);
      x[3 * i] = x[3 * i + 1] = x[3 * i + 2] = gr;
    }
  }
  return x.map(clip01);
}

describe('augment (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('a full-image crop with no flip or jitter returns the input', async () => {
    const b = 3;
    const pix = randomImages(b, S, 1);
    const x = tf.tensor4d(pix, [b, S, S, 3]);
    const y = augmentBatch(x, S, PLAIN, new Rng(5));
    expect(y.shape).toEqual([b, S, S, 3]);
    expect(maxAbsDiff(await y.data(), pix)).toBeLessThan(1e-5);
    tf.dispose([x, y]);
  });

  it('a flipped full crop (x1 > x2 in one cropAndResize call) mirrors the image', async () => {
    const b = 2;
    const pix = randomImages(b, S, 2);
    const got = await run(
      pix,
      b,
      S,
      plainDraw([
        [0, 1, 1, 0],
        [0, 0, 1, 1],
      ]),
    );
    const want = new Float32Array(pix.length);
    for (let i = 0; i < b; i++) {
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          for (let c = 0; c < 3; c++) {
            const src = i === 0 ? S - 1 - x : x;
            want[((i * S + y) * S + x) * 3 + c] = px(pix, S, i, y, src, c);
          }
        }
      }
    }
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
  });

  it('crops match a naive half-pixel bilinear crop (down, up, flipped, at the edge)', async () => {
    const boxes = [
      [0.1, 0.2, 0.7, 0.9], // 19 × 22 px: upscaled to 24 and 32
      [0, 0, 0.4, 0.5], // strong upscale touching the top-left edge (edge replication)
      [0.55, 1, 1, 0.45], // flipped, touching the right and bottom edges
      [0.05, 0.05, 0.95, 0.95], // downscale 28.8 → 24
    ];
    const b = boxes.length;
    const pix = randomImages(b, S, 3);
    for (const out of [24, 32]) {
      const got = await run(pix, b, out, plainDraw(boxes));
      for (let i = 0; i < b; i++) {
        const want = naiveCrop(pix, S, i, boxes[i], out);
        const gotI = got.subarray(i * out * out * 3, (i + 1) * out * out * 3);
        expect(maxAbsDiff(gotI, want), `box ${i} out ${out}`).toBeLessThan(1e-5);
      }
    }
  });

  it('centreView: 32 → 16 is 2×2 average pooling, 32 → 24 naive bilinear, 32 → 32 a copy', async () => {
    const b = 2;
    const pix = randomImages(b, S, 4);
    const x = tf.tensor4d(pix, [b, S, S, 3]);
    const v16 = (await centreView(x, 16).data()) as Float32Array;
    const pool = new Float32Array(b * 16 * 16 * 3);
    for (let i = 0; i < b; i++)
      for (let y = 0; y < 16; y++)
        for (let xx = 0; xx < 16; xx++)
          for (let c = 0; c < 3; c++) {
            pool[((i * 16 + y) * 16 + xx) * 3 + c] =
              (px(pix, S, i, 2 * y, 2 * xx, c) +
                px(pix, S, i, 2 * y + 1, 2 * xx, c) +
                px(pix, S, i, 2 * y, 2 * xx + 1, c) +
                px(pix, S, i, 2 * y + 1, 2 * xx + 1, c)) /
              4;
          }
    expect(maxAbsDiff(v16, pool)).toBeLessThan(1e-5);
    const v24 = (await centreView(x, 24).data()) as Float32Array;
    for (let i = 0; i < b; i++) {
      expect(
        maxAbsDiff(v24.subarray(i * 24 * 24 * 3, (i + 1) * 24 * 24 * 3), naiveCrop(pix, S, i, [0, 0, 1, 1], 24)),
      ).toBeLessThan(1e-5);
    }
    const before = tf.memory().numTensors;
    const v32 = centreView(x, 32);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(maxAbsDiff(await v32.data(), pix)).toBe(0);
    tf.dispose([x, v32]);
  });

  it('brightness, contrast, saturation and grayscale each match a naive per-pixel loop', async () => {
    const pix = randomImages(1, S, 6);
    const cases: [string, (d: AugmentDraw) => void, number[]][] = [
      [
        'brightness 1.35',
        (d) => {
          d.jitter[0] = 1;
          d.brightness[0] = 1.35;
        },
        [0],
      ],
      [
        'brightness 0.6',
        (d) => {
          d.jitter[0] = 1;
          d.brightness[0] = 0.6;
        },
        [0],
      ],
      [
        'contrast 0.7',
        (d) => {
          d.jitter[0] = 1;
          d.contrast[0] = 0.7;
        },
        [1],
      ],
      [
        'contrast 1.4',
        (d) => {
          d.jitter[0] = 1;
          d.contrast[0] = 1.4;
        },
        [1],
      ],
      [
        'saturation 0.65',
        (d) => {
          d.jitter[0] = 1;
          d.saturation[0] = 0.65;
        },
        [2],
      ],
      [
        'saturation 1.4',
        (d) => {
          d.jitter[0] = 1;
          d.saturation[0] = 1.4;
        },
        [2],
      ],
      [
        'grayscale',
        (d) => {
          d.gray[0] = 1;
        },
        [],
      ],
    ];
    for (const [name, set, ops] of cases) {
      const d = plainDraw([[0, 0, 1, 1]]);
      set(d);
      const got = await run(pix, 1, S, d);
      const want = naiveColour(pix, d, 0, ops);
      expect(maxAbsDiff(got, want), name).toBeLessThan(1e-5);
    }
    // Hand-worked: brightness 1.5 on 0.5 → 0.75, on 0.8 → 1.2 clipped to 1.
    const d = plainDraw([[0, 0, 1, 1]]);
    d.jitter[0] = 1;
    d.brightness[0] = 1.5;
    const flat = new Float32Array(S * S * 3).map((_, i) => (i % 2 ? 0.8 : 0.5));
    const got = await run(flat, 1, S, d);
    expect(got[0]).toBeCloseTo(0.75, 6);
    expect(got[1]).toBe(1);
  });

  it('hue: a zero shift is the identity, half a turn is 2·1·lumaᵀ − I, luma is kept, +hue turns red towards yellow', async () => {
    const id = hueMatrix(0);
    expect(maxAbsDiff(id, [1, 0, 0, 0, 1, 0, 0, 0, 1])).toBeLessThan(1e-12);
    // Rotation by π negates I and Q: M = T⁻¹·diag(1, −1, −1)·T = 2·T⁻¹e₁·e₁ᵀT − I, T⁻¹e₁ = (1,1,1).
    const half = hueMatrix(0.5);
    const want: number[] = [];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) want.push(2 * LUMA[c] - (r === c ? 1 : 0));
    expect(maxAbsDiff(half, want)).toBeLessThan(1e-9);
    // Red (1,0,0) → (2·0.299 − 1, 0.598, 0.598) = (−0.402, 0.598, 0.598) → clipped (0, 0.598, 0.598).
    const d = plainDraw([[0, 0, 1, 1]]);
    d.jitter[0] = 1;
    d.hue[0] = 0.5;
    const red = new Float32Array(S * S * 3).map((_, i) => (i % 3 === 0 ? 1 : 0));
    const got = await run(red, 1, S, d);
    expect(Array.from(got.subarray(0, 3)).map((v) => +v.toFixed(5))).toEqual([0, 0.598, 0.598]);
    for (const t of [0.03, -0.2, 0.37]) {
      const m = hueMatrix(t);
      for (let c = 0; c < 3; c++)
        expect(LUMA[0] * m[c] + LUMA[1] * m[3 + c] + LUMA[2] * m[6 + c]).toBeCloseTo(LUMA[c], 9);
    }
    const m = hueMatrix(0.05);
    expect(m[3]).toBeGreaterThan(0.05); // green gained from red
    expect(m[6]).toBeLessThan(0.05); // blue did not gain as much
  });

  it('brightness, contrast, saturation then grayscale compose exactly, and the ops commute', async () => {
    const b = 12;
    const pix = randomImages(b, S, 17);
    const d = drawAugment(
      b,
      { ...MOCO, jitterProb: 0.9, grayscaleProb: 0.4, brightness: 0.8, contrast: 0.8 },
      new Rng(19),
    );
    d.hue.fill(0);
    const got = await run(pix, b, S, d);
    // Every order of the ops gives the same result without intermediate clips (why the order is fixed).
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
    ]) {
      let err = 0;
      for (let i = 0; i < b; i++) {
        const crop = naiveCrop(pix, S, i, Array.from(d.boxes.subarray(i * 4, i * 4 + 4)), S);
        err = Math.max(
          err,
          maxAbsDiff(got.subarray(i * S * S * 3, (i + 1) * S * S * 3), naiveColour(crop, d, i, order)),
        );
      }
      expect(err, order.join()).toBeLessThan(2e-5);
    }
  });

  it('a full drawn pipeline (hue and grayscale included) matches the naive loop', async () => {
    const b = 8;
    const pix = randomImages(b, S, 7);
    const p = { ...MOCO, jitterProb: 0.9, grayscaleProb: 0.3 };
    const d = drawAugment(b, p, new Rng(11));
    const out = 24;
    const got = await run(pix, b, out, d);
    for (let i = 0; i < b; i++) {
      const crop = naiveCrop(pix, S, i, Array.from(d.boxes.subarray(i * 4, i * 4 + 4)), out);
      // Reversed order on purpose: hue commutes with the others too.
      const want = naiveColour(crop, d, i, i % 2 ? [0, 1, 2, 3] : [3, 2, 1, 0]);
      // 5e-3: the reference uses the 3-digit textbook YIQ inverse.
      expect(maxAbsDiff(got.subarray(i * out * out * 3, (i + 1) * out * out * 3), want), `image ${i}`).toBeLessThan(
        5e-3,
      );
    }
    expect(Math.min(...got)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...got)).toBeLessThanOrEqual(1);
  });

  it('drawn crops follow RandomResizedCrop: area in [min, max], ratio in range, inside the image', () => {
    const n = 5000;
    const d = drawAugment(n, MOCO, new Rng(12));
    let flips = 0;
    let jit = 0;
    let gray = 0;
    // Extremes over all draws, checked once (thousands of expect calls are slow).
    const lo = { edge: Infinity, area: Infinity, ratio: Infinity, factor: Infinity };
    const hi = { edge: -Infinity, area: -Infinity, ratio: -Infinity, factor: -Infinity, hue: 0 };
    for (let i = 0; i < n; i++) {
      const [y1, bx1, y2, bx2] = d.boxes.subarray(i * 4, i * 4 + 4);
      const [x1, x2] = d.flips[i] ? [bx2, bx1] : [bx1, bx2];
      const h = y2 - y1;
      const w = x2 - x1;
      lo.edge = Math.min(lo.edge, y1, x1);
      hi.edge = Math.max(hi.edge, y2, x2);
      lo.area = Math.min(lo.area, w * h);
      hi.area = Math.max(hi.area, w * h);
      lo.ratio = Math.min(lo.ratio, w / h);
      hi.ratio = Math.max(hi.ratio, w / h);
      for (const arr of [d.brightness, d.contrast, d.saturation]) {
        lo.factor = Math.min(lo.factor, arr[i]);
        hi.factor = Math.max(hi.factor, arr[i]);
      }
      hi.hue = Math.max(hi.hue, Math.abs(d.hue[i]));
      flips += d.flips[i];
      jit += d.jitter[i];
      gray += d.gray[i];
    }
    expect(lo.edge).toBeGreaterThanOrEqual(0);
    expect(hi.edge).toBeLessThanOrEqual(1 + 1e-6);
    expect(lo.area).toBeGreaterThanOrEqual(0.3 - 1e-5);
    expect(lo.area).toBeLessThan(0.32); // the range is actually used
    expect(hi.area).toBeLessThanOrEqual(1 + 1e-5);
    expect(lo.ratio).toBeGreaterThanOrEqual(0.75 - 1e-4);
    expect(hi.ratio).toBeLessThanOrEqual(4 / 3 + 1e-4);
    expect(lo.factor).toBeGreaterThanOrEqual(0.6 - 1e-6);
    expect(hi.factor).toBeLessThanOrEqual(1.4 + 1e-6);
    expect(hi.hue).toBeLessThanOrEqual(0.1 + 1e-6);
    expect(flips / n).toBeCloseTo(0.5, 1);
    expect(jit / n).toBeCloseTo(0.8, 1);
    expect(gray / n).toBeCloseTo(0.2, 1);
    // A range that mostly cannot fit (ratio ≥ 3 at area ≥ 0.9) falls back to a centre crop of ratio 3.
    const f = drawAugment(200, { ...PLAIN, cropScaleMin: 0.9, ratioMin: 3, ratioMax: 4 }, new Rng(13));
    for (let i = 0; i < 200; i++) {
      const [y1, x1, y2, x2] = f.boxes.subarray(i * 4, i * 4 + 4);
      expect(x2 - x1).toBeCloseTo(1, 6);
      expect(y2 - y1).toBeCloseTo(1 / 3, 6);
      expect(y1).toBeCloseTo(1 / 3, 6);
    }
    expect(() => drawAugment(1, { ...MOCO, cropScaleMin: 0.8, cropScaleMax: 0.5 }, new Rng(1))).toThrow(/crop scale/);
  });

  it('same seed ⇒ same views, different seed ⇒ different; no tensors leak', async () => {
    const b = 4;
    const x = tf.tensor4d(randomImages(b, S, 8), [b, S, S, 3]);
    const before = tf.memory().numTensors;
    const a1 = augmentBatch(x, 24, MOCO, new Rng(21));
    const a2 = augmentBatch(x, 24, MOCO, new Rng(21));
    const a3 = augmentBatch(x, 24, MOCO, new Rng(22));
    expect(tf.memory().numTensors).toBe(before + 3);
    expect(a1.shape).toEqual([b, 24, 24, 3]);
    const [v1, v2, v3] = await Promise.all([a1.data(), a2.data(), a3.data()]);
    expect(maxAbsDiff(v1, v2)).toBe(0);
    expect(maxAbsDiff(v1, v3)).toBeGreaterThan(0.1);
    tf.dispose([x, a1, a2, a3]);
  });
});

describe('augment (wasm against cpu)', () => {
  it('the same draw gives the same views on wasm and cpu, flips included', async () => {
    const b = 6;
    const pix = randomImages(b, S, 9);
    const d = drawAugment(b, { ...MOCO, flipProb: 0.5 }, new Rng(31));
    d.flips[0] = 1; // make sure at least one flipped box goes through the wasm kernel
    d.boxes.set([0.1, 0.9, 0.8, 0.2], 0);
    await tf.setBackend('cpu');
    const cpu = await run(pix, b, 24, d);
    const one = pix.subarray(0, S * S * 3);
    const flipCpu = await run(one, 1, S, plainDraw([[0, 1, 1, 0]]));
    await tf.setBackend('wasm');
    await tf.ready();
    expect(tf.getBackend()).toBe('wasm');
    const wasm = await run(pix, b, 24, d);
    const flipWasm = await run(one, 1, S, plainDraw([[0, 1, 1, 0]]));
    const x = tf.tensor4d(pix, [b, S, S, 3]);
    const cv = await centreView(x, 24).data();
    x.dispose();
    await tf.setBackend('cpu');
    expect(maxAbsDiff(wasm, cpu)).toBeLessThan(1e-4);
    expect(maxAbsDiff(flipWasm, flipCpu)).toBeLessThan(1e-5);
    for (let i = 0; i < b; i++) {
      expect(
        maxAbsDiff(cv.subarray(i * 24 * 24 * 3, (i + 1) * 24 * 24 * 3), naiveCrop(pix, S, i, [0, 0, 1, 1], 24)),
      ).toBeLessThan(1e-5);
    }
    // And the flip is a mirror on wasm too.
    for (let x2 = 0; x2 < S; x2++) expect(flipWasm[x2 * 3]).toBeCloseTo(pix[(S - 1 - x2) * 3], 5);
  });
});
