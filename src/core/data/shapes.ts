/**
 * `shapes`: a procedural, seeded, labelled colour data set, so that every
 * part of the playground runs with no files (the built-in data set;
 * labels serve measurement only, METHOD §6).
 *
 * The class is the kind of shape. Everything else is drawn independently of
 * the class: position, size, rotation, foreground colour, texture (solid,
 * striped, dotted) and background (solid, gradient, noise) with its own
 * colours. Colour therefore says nothing about the class; an encoder has to
 * learn shape. Shapes are signed distance functions in a unit frame, so one
 * evaluation per pixel also gives anti-aliased edges (coverage = ½ − d).
 *
 * Generation is plain JS over pixels: it runs once, before training, not in
 * the training step. 3000 images of 32×32 take well under a second in Node.
 */
import type { Dataset, Split } from './dataset';
import { imageBytes } from './dataset';
import { Rng } from '../rng';

export interface ShapesOptions {
  seed: number;
  nTrain: number;
  nTest: number;
  /** Side S of the square images. */
  size: number;
}

export const SHAPES_DEFAULTS: Readonly<ShapesOptions> = Object.freeze({ seed: 1, nTrain: 2400, nTest: 600, size: 32 });

/** Chosen to stay distinct under any rotation and scale (no square vs diamond). */
export const SHAPE_CLASSES: readonly string[] = Object.freeze([
  'circle',
  'ring',
  'square',
  'triangle',
  'cross',
  'star',
  'crescent',
  'bar',
]);

// Math.hypot is several times slower than this in V8, and it runs per pixel.
const len = (x: number, y: number) => Math.sqrt(x * x + y * y);

type Poly = Float64Array; // x0, y0, x1, y1, …

function regularStar(points: number, outer: number, inner: number): Poly {
  const v = new Float64Array(points * 4);
  for (let i = 0; i < points * 2; i++) {
    const a = -Math.PI / 2 + (i * Math.PI) / points;
    const r = i % 2 ? inner : outer;
    v[2 * i] = r * Math.cos(a);
    v[2 * i + 1] = r * Math.sin(a);
  }
  return v;
}

// Equilateral triangle of circumradius 0.95 centred on its centroid.
const TRIANGLE: Poly = Float64Array.from([
  0,
  -0.95,
  0.95 * Math.cos(Math.PI / 6),
  0.475,
  -0.95 * Math.cos(Math.PI / 6),
  0.475,
]);
const STAR: Poly = regularStar(5, 0.97, 0.44);

/** Exact signed distance to a simple polygon (Quilez): sign from a crossing count. */
function sdPolygon(v: Poly, px: number, py: number): number {
  const n = v.length / 2;
  let d = (px - v[0]) ** 2 + (py - v[1]) ** 2;
  let s = 1;
  for (let i = 0, j = n - 1; i < n; j = i, i++) {
    const vix = v[2 * i];
    const viy = v[2 * i + 1];
    const ex = v[2 * j] - vix;
    const ey = v[2 * j + 1] - viy;
    const wx = px - vix;
    const wy = py - viy;
    const t = Math.min(1, Math.max(0, (wx * ex + wy * ey) / (ex * ex + ey * ey)));
    const bx = wx - ex * t;
    const by = wy - ey * t;
    d = Math.min(d, bx * bx + by * by);
    const c1 = py >= viy;
    const c2 = py < v[2 * j + 1];
    const c3 = ex * wy > ey * wx;
    if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) s = -s;
  }
  return s * Math.sqrt(d);
}

function sdBox(px: number, py: number, bx: number, by: number): number {
  const dx = Math.abs(px) - bx;
  const dy = Math.abs(py) - by;
  return len(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0);
}

/**
 * Signed distance (negative inside) from (u, v) to shape `cls` in its unit
 * frame: every shape lies inside the unit disc (the renderer relies on it to
 * skip pixels) and is roughly centred on the origin.
 */
export function shapeSdf(cls: number, u: number, v: number): number {
  switch (cls) {
    case 0:
      return len(u, v) - 0.85;
    case 1:
      return Math.abs(len(u, v) - 0.7) - 0.2;
    case 2:
      return sdBox(u, v, 0.7, 0.7);
    case 3:
      return sdPolygon(TRIANGLE, u, v);
    case 4:
      return Math.min(sdBox(u, v, 0.92, 0.3), sdBox(u, v, 0.3, 0.92));
    case 5:
      return sdPolygon(STAR, u, v);
    case 6: {
      // A disc minus a shifted disc, moved so the crescent's bulk sits on the origin
      // (tips at |p| ≈ 0.985, inside the unit disc).
      const x = u - 0.2;
      return Math.max(len(x, v) - 0.85, -(len(x - 0.42, v) - 0.68));
    }
    default:
      return sdBox(u, v, 0.95, 0.3);
  }
}

function hsv(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  switch (((i % 6) + 6) % 6) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

const luma = (c: readonly number[]) => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const toByte = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : (v + 0.5) | 0);

/**
 * Renders one image of class `cls` into `out` at byte offset `at` (S×S×3
 * uint8 RGB), drawing all its nuisance parameters from `rng`. Returns the
 * shape's coverage, the mean foreground alpha over the image (for tests).
 */
export function renderShapeImage(cls: number, rng: Rng, size: number, out: Uint8Array, at = 0): number {
  const S = size;
  const R = S * rng.uniform(0.3, 0.45);
  const m = 0.85 * R; // a shape may touch the border, never leave the frame by much
  const cx = rng.uniform(m, S - m);
  const cy = rng.uniform(m, S - m);
  const rot = rng.uniform(0, 2 * Math.PI);
  const cr = Math.cos(rot);
  const sr = Math.sin(rot);

  const fg = hsv(rng.next(), rng.uniform(0.35, 1), rng.uniform(0.45, 1));
  // Background colours are resampled until the shape stands out by luma or chroma.
  let bg = hsv(rng.next(), rng.uniform(0, 0.8), rng.uniform(0.05, 0.95));
  for (let k = 0; k < 20; k++) {
    const dist = Math.hypot(fg[0] - bg[0], fg[1] - bg[1], fg[2] - bg[2]);
    if (Math.abs(luma(fg) - luma(bg)) > 0.2 || dist > 0.45) break;
    bg = hsv(rng.next(), rng.uniform(0, 0.8), rng.uniform(0.05, 0.95));
  }
  const bgKind = rng.bool(0.2) ? 2 : rng.int(2); // 0 solid, 1 gradient (40% each), 2 noise (20%)
  const bg2 = hsv(rng.next(), rng.uniform(0, 0.6), clamp01(luma(bg) + rng.uniform(-0.25, 0.25)));
  const gAngle = rng.uniform(0, 2 * Math.PI);
  const gx = Math.cos(gAngle) / S;
  const gy = Math.sin(gAngle) / S;
  const noiseAmp = rng.uniform(0.03, 0.08);

  const texture = rng.int(3); // 0 solid, 1 striped, 2 dotted
  const fgDark = rng.bool(0.5);
  const fg2 = fg.map((c) => (fgDark ? c * 0.5 : c + (1 - c) * 0.55));
  const tAngle = rng.uniform(0, Math.PI);
  const tc = Math.cos(tAngle);
  const ts = Math.sin(tAngle);
  const period = rng.uniform(3, 5.5);
  const phase = rng.next();

  // Colours in byte units from here on.
  const B = bg.map((c) => 255 * c);
  const B2 = bg2.map((c) => 255 * c);
  const F = fg.map((c) => 255 * c);
  const F2 = fg2.map((c) => 255 * c);
  const amp = 255 * noiseAmp;

  // Background first, straight into the output bytes.
  let noise = rng.nextU32() | 1; // xorshift32 state: any non-zero int32
  for (let y = 0, k = at; y < S; y++) {
    for (let x = 0; x < S; x++, k += 3) {
      let b0 = B[0];
      let b1 = B[1];
      let b2 = B[2];
      if (bgKind === 1) {
        const t = clamp01((x - S / 2) * gx + (y - S / 2) * gy + 0.5);
        b0 += (B2[0] - b0) * t;
        b1 += (B2[1] - b1) * t;
        b2 += (B2[2] - b2) * t;
      } else if (bgKind === 2) {
        // Two uniform 16-bit draws from one 32-bit word: a grey and a tint
        // component, both of standard deviation ∝ noiseAmp. A local xorshift32
        // seeded from rng: per-pixel calls into Rng allocate (its state words
        // exceed V8's small integers) and dominated the generation time.
        noise ^= noise << 13;
        noise ^= noise >>> 17;
        noise ^= noise << 5;
        const w = noise >>> 0;
        const nv = amp * 3.4641 * ((w >>> 16) / 65536 - 0.5);
        const tint = amp * 1.0392 * ((w & 0xffff) / 65536 - 0.5);
        b0 += nv + tint;
        b1 += nv;
        b2 += nv - tint;
      }
      out[k] = toByte(b0);
      out[k + 1] = toByte(b1);
      out[k + 2] = toByte(b2);
    }
  }

  // Then the shape, blended over those bytes, only where its unit disc (plus
  // the ½-px anti-aliasing rim) can reach: outside it the SDF is ≥ |p| − 1 > ½ px.
  let coverage = 0;
  const reach = R + 1;
  const rim2 = (1 + 0.5 / R) ** 2;
  const y0 = Math.max(0, Math.floor(cy - reach));
  const y1 = Math.min(S, Math.ceil(cy + reach));
  const x0 = Math.max(0, Math.floor(cx - reach));
  const x1 = Math.min(S, Math.ceil(cx + reach));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const u = (cr * dx + sr * dy) / R;
      const v = (-sr * dx + cr * dy) / R;
      if (u * u + v * v >= rim2) continue;
      const alpha = clamp01(0.5 - shapeSdf(cls, u, v) * R);
      if (alpha === 0) continue;
      coverage += alpha;
      let f = F;
      if (texture === 1) {
        if (((Math.floor((u * tc + v * ts) * (R / period) + phase) % 2) + 2) % 2 === 1) f = F2;
      } else if (texture === 2) {
        // Dots on a square lattice in the shape's own frame (they rotate with it).
        const gu = (u * R) / period + phase;
        const gv = (v * R) / period + phase;
        if (len(gu - Math.round(gu), gv - Math.round(gv)) < 0.3) f = F2;
      }
      const k = at + (y * S + x) * 3;
      out[k] = toByte(out[k] + (f[0] - out[k]) * alpha);
      out[k + 1] = toByte(out[k + 1] + (f[1] - out[k + 1]) * alpha);
      out[k + 2] = toByte(out[k + 2] + (f[2] - out[k + 2]) * alpha);
    }
  }
  return coverage / (S * S);
}

function makeSplit(n: number, size: number, rng: Rng): Split {
  const nc = SHAPE_CLASSES.length;
  // Balanced: counts differ by at most one, in a shuffled order.
  const labels = new Int32Array(n).map((_, i) => i % nc);
  rng.shuffle(labels);
  const images = new Uint8Array(n * imageBytes(size));
  for (let i = 0; i < n; i++) renderShapeImage(labels[i], rng, size, images, i * imageBytes(size));
  return { n, images, labels };
}

/** The built-in data set; the same options always give the same bytes. */
export function makeShapesDataset(opts: Partial<ShapesOptions> = {}): Dataset {
  const o = { ...SHAPES_DEFAULTS, ...opts };
  for (const k of ['nTrain', 'nTest'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 0) throw new Error(`${k} must be a whole number ≥ 0 (got ${o[k]})`);
  }
  if (!Number.isInteger(o.size) || o.size < 8 || o.size > 256)
    throw new Error(`size must be a whole number from 8 to 256 (got ${o.size})`);
  const root = new Rng(o.seed);
  // Separate streams: the test split does not change when nTrain does.
  const trainRng = root.fork();
  const testRng = root.fork();
  return {
    id: `shapes:seed=${o.seed}:n=${o.nTrain}+${o.nTest}:s=${o.size}`,
    name: 'shapes',
    size: o.size,
    train: makeSplit(o.nTrain, o.size, trainRng),
    test: makeSplit(o.nTest, o.size, testRng),
    classNames: [...SHAPE_CLASSES],
  };
}
