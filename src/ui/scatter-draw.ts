/**
 * Drawing of the Clusters map's points (ScatterMap.tsx): points bucketed by
 * group (cluster or label), each group's marker drawn once as a stamp and
 * blended into one ImageData (see `drawPoints` for why, and
 * docs/BENCHMARKS.md §M13 for the cost). Canvas-only, no React, so the browser benchmark
 * (bench/map-draw.ts) times exactly this code.
 */
import { groupStyle, type Shape } from './scatter-geometry';

/** Adds one marker to the current path (filled together with the rest of its group). */
export function addMarker(ctx: CanvasRenderingContext2D, shape: Shape, x: number, y: number, r: number): void {
  switch (shape) {
    case 'circle':
      ctx.moveTo(x + r, y);
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      break;
    case 'square':
      ctx.rect(x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8);
      break;
    case 'triangle':
      ctx.moveTo(x, y - r * 1.2);
      ctx.lineTo(x + r * 1.1, y + r * 0.8);
      ctx.lineTo(x - r * 1.1, y + r * 0.8);
      ctx.closePath();
      break;
    case 'diamond':
      ctx.moveTo(x, y - r * 1.3);
      ctx.lineTo(x + r * 1.1, y);
      ctx.lineTo(x, y + r * 1.3);
      ctx.lineTo(x - r * 1.1, y);
      ctx.closePath();
      break;
    case 'cross': {
      const w = r * 0.45;
      const l = r * 1.25;
      ctx.rect(x - l, y - w, 2 * l, 2 * w);
      ctx.rect(x - w, y - l, 2 * w, 2 * l);
      break;
    }
  }
}

/**
 * Points of each group, grouped: one path and one fill per group instead of
 * one per point (counting sort by group id).
 */
export function bucketByGroup(groups: Int32Array, n: number): { ids: number[]; start: Int32Array; order: Int32Array } {
  let max = 0;
  for (let i = 0; i < n; i++) if (groups[i] > max) max = groups[i];
  const start = new Int32Array(max + 2);
  for (let i = 0; i < n; i++) start[Math.max(0, groups[i]) + 1]++;
  for (let g = 0; g <= max; g++) start[g + 1] += start[g];
  const fill = start.slice(0, -1);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[fill[Math.max(0, groups[i])]++] = i;
  const ids: number[] = [];
  for (let g = 0; g <= max; g++) if (start[g + 1] > start[g]) ids.push(g);
  return { ids, start, order };
}

export type Buckets = ReturnType<typeof bucketByGroup>;

/** A marker's coverage: offsets (device px from the top-left corner) and alpha 0–255 of every pixel it touches. */
interface Stamp {
  dx: Int32Array;
  dy: Int32Array;
  alpha: Uint8Array;
  half: number;
}

const stamps = new Map<string, Stamp>();

/** Rasterises a shape once (anti-aliased, by the canvas itself) and keeps only its covered pixels. */
function stampOf(shape: Shape, r: number, dpr: number): Stamp {
  const key = `${shape}/${r}/${dpr}`;
  const hit = stamps.get(key);
  if (hit) return hit;
  const size = Math.ceil((2 * r * 1.4 + 2) * dpr);
  const canvas: HTMLCanvasElement | OffscreenCanvas =
    typeof OffscreenCanvas !== 'undefined'
      ? new OffscreenCanvas(size, size)
      : Object.assign(document.createElement('canvas'), { width: size, height: size });
  const c = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  c.fillStyle = '#000';
  c.beginPath();
  addMarker(c, shape, size / (2 * dpr), size / (2 * dpr), r);
  c.fill();
  const px = c.getImageData(0, 0, size, size).data;
  const dx: number[] = [];
  const dy: number[] = [];
  const alpha: number[] = [];
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const a = px[(y * size + x) * 4 + 3];
      if (a === 0) continue;
      dx.push(x);
      dy.push(y);
      alpha.push(a);
    }
  const st = { dx: Int32Array.from(dx), dy: Int32Array.from(dy), alpha: Uint8Array.from(alpha), half: size / 2 };
  stamps.set(key, st);
  return st;
}

/** Opacity of a marker: overlaps stay readable as darker patches. */
const OPACITY = 0.75;

/**
 * Clears a width×height (CSS px) canvas at device pixel ratio dpr and draws
 * every point of `screen` (N×2 CSS px, NaN = skip) with its group's colour
 * and shape, marker radius r. Returns the time taken in ms.
 *
 * Why pixels by hand: in software-rendered Chromium one canvas path per
 * group with 20,000 arcs and triangles, and 20,000 drawImage calls of
 * pre-drawn sprites, were both slow (bench/map-draw.ts, docs/BENCHMARKS.md
 * §M13). Here each marker is a precomputed coverage stamp blended
 * source-over into one ImageData, then a single putImageData. The page runs
 * this in map-draw.worker.ts: even so it is too long for the main thread.
 */
export function drawPoints(
  ctx: Pick<CanvasRenderingContext2D, 'createImageData' | 'putImageData'>,
  screen: Float32Array,
  buckets: Buckets,
  width: number,
  height: number,
  dpr: number,
  r: number,
): number {
  const t0 = performance.now();
  const W = Math.round(width * dpr);
  const H = Math.round(height * dpr);
  const img = ctx.createImageData(W, H);
  const d = img.data;
  for (const g of buckets.ids) {
    const st = groupStyle(g);
    const stamp = stampOf(st.shape, r, dpr);
    const hex = parseInt(st.colour.slice(1), 16);
    const cr = (hex >> 16) & 255;
    const cg = (hex >> 8) & 255;
    const cb = hex & 255;
    const m = stamp.alpha.length;
    for (let k = buckets.start[g]; k < buckets.start[g + 1]; k++) {
      const i = buckets.order[k];
      const x = screen[i * 2];
      const y = screen[i * 2 + 1];
      if (x !== x) continue; // NaN: a non-finite point
      const ox = Math.round(x * dpr - stamp.half);
      const oy = Math.round(y * dpr - stamp.half);
      for (let j = 0; j < m; j++) {
        const px = ox + stamp.dx[j];
        const py = oy + stamp.dy[j];
        if (px < 0 || py < 0 || px >= W || py >= H) continue;
        const o = (py * W + px) * 4;
        const sa = (OPACITY * stamp.alpha[j]) / 255;
        const da = d[o + 3] / 255;
        if (da === 0) {
          d[o] = cr;
          d[o + 1] = cg;
          d[o + 2] = cb;
          d[o + 3] = sa * 255;
          continue;
        }
        // Source-over on straight (non-premultiplied) RGBA.
        const oa = sa + da * (1 - sa);
        const wd = (da * (1 - sa)) / oa;
        const ws = sa / oa;
        d[o] = cr * ws + d[o] * wd;
        d[o + 1] = cg * ws + d[o + 1] * wd;
        d[o + 2] = cb * ws + d[o + 2] * wd;
        d[o + 3] = oa * 255;
      }
    }
  }
  ctx.putImageData(img, 0, 0);
  return performance.now() - t0;
}
