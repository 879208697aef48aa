/**
 * Pure geometry of the Clusters map (ScatterMap.tsx): fitting N×2 data
 * coordinates to the canvas, a uniform-grid index for the hover lookup, and
 * the colour-blind-safe styles of the point groups. No DOM, so it is unit
 * tested in Node.
 */

export interface Fit {
  /** Screen x = ox + scale·x, screen y = oy − scale·y (y up, as in a plot). */
  scale: number;
  ox: number;
  oy: number;
}

/**
 * The uniform scale (both axes alike, so distances on the map are honest)
 * and offsets that centre the data's bounding box in a width×height box
 * with `pad` pixels free on every side. Non-finite coordinates are ignored;
 * no finite point (or a single point) centres the map at scale 1.
 */
export function fitToCanvas(xy: ArrayLike<number>, width: number, height: number, pad: number): Fit {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let i = 0; i + 1 < xy.length; i += 2) {
    const x = xy[i];
    const y = xy[i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  if (x0 > x1) return { scale: 1, ox: width / 2, oy: height / 2 };
  const w = Math.max(1, width - 2 * pad);
  const h = Math.max(1, height - 2 * pad);
  const span = Math.max(x1 - x0, y1 - y0);
  const scale = span > 0 ? Math.min(w / Math.max(x1 - x0, 1e-12), h / Math.max(y1 - y0, 1e-12)) : 1;
  return { scale, ox: width / 2 - scale * ((x0 + x1) / 2), oy: height / 2 + scale * ((y0 + y1) / 2) };
}

/** Screen positions (N×2, row-major) of data points under a fit; non-finite points go to NaN. */
export function toScreen(xy: ArrayLike<number>, fit: Fit): Float32Array {
  const out = new Float32Array(xy.length);
  for (let i = 0; i + 1 < xy.length; i += 2) {
    const x = xy[i];
    const y = xy[i + 1];
    const ok = Number.isFinite(x) && Number.isFinite(y);
    out[i] = ok ? fit.ox + fit.scale * x : NaN;
    out[i + 1] = ok ? fit.oy - fit.scale * y : NaN;
  }
  return out;
}

/**
 * Uniform grid over screen points (counting sort into cells): the nearest
 * point to the cursor within a radius r visits only the cells the r-disc
 * touches, O(points nearby) instead of O(N) per mouse move. Exact: it
 * returns what a brute-force scan with the same tie rule returns.
 */
export class GridIndex {
  private readonly start: Int32Array;
  private readonly items: Int32Array;
  private readonly cols: number;
  private readonly rows: number;

  constructor(
    private readonly pts: Float32Array,
    readonly width: number,
    readonly height: number,
    readonly cell: number,
  ) {
    this.cols = Math.max(1, Math.ceil(width / cell));
    this.rows = Math.max(1, Math.ceil(height / cell));
    const n = pts.length >> 1;
    const cellOf = new Int32Array(n);
    const count = new Int32Array(this.cols * this.rows + 1);
    for (let i = 0; i < n; i++) {
      const c = this.cellAt(pts[i * 2], pts[i * 2 + 1]);
      cellOf[i] = c;
      if (c >= 0) count[c + 1]++;
    }
    for (let c = 0; c < count.length - 1; c++) count[c + 1] += count[c];
    this.start = count;
    this.items = new Int32Array(count[count.length - 1]);
    const fill = count.slice(0, -1);
    // Ascending i inside each cell, which the tie rule below relies on.
    for (let i = 0; i < n; i++) if (cellOf[i] >= 0) this.items[fill[cellOf[i]]++] = i;
  }

  /** Cell of a screen point, or −1 outside the grid (or not finite). */
  private cellAt(x: number, y: number): number {
    if (!(x >= 0 && y >= 0 && x < this.cols * this.cell && y < this.rows * this.cell)) return -1;
    return Math.floor(y / this.cell) * this.cols + Math.floor(x / this.cell);
  }

  /** Index of the point nearest (x, y) within distance r (ties: lower index), or −1. */
  nearest(x: number, y: number, r: number): number {
    const c0 = Math.max(0, Math.floor((x - r) / this.cell));
    const c1 = Math.min(this.cols - 1, Math.floor((x + r) / this.cell));
    const r0 = Math.max(0, Math.floor((y - r) / this.cell));
    const r1 = Math.min(this.rows - 1, Math.floor((y + r) / this.cell));
    let best = -1;
    let bestD = r * r;
    for (let row = r0; row <= r1; row++)
      for (let col = c0; col <= c1; col++) {
        const c = row * this.cols + col;
        for (let k = this.start[c]; k < this.start[c + 1]; k++) {
          const i = this.items[k];
          const dx = this.pts[i * 2] - x;
          const dy = this.pts[i * 2 + 1] - y;
          const d = dx * dx + dy * dy;
          if (d < bestD || (d === bestD && (best < 0 || i < best))) {
            best = i;
            bestD = d;
          }
        }
      }
    return best;
  }
}

/** Brute-force reference of GridIndex.nearest (also the fallback for tiny maps). */
export function nearestBrute(pts: Float32Array, x: number, y: number, r: number): number {
  let best = -1;
  let bestD = r * r;
  for (let i = 0; i < pts.length >> 1; i++) {
    const dx = pts[i * 2] - x;
    const dy = pts[i * 2 + 1] - y;
    const d = dx * dx + dy * dy;
    if (d < bestD || (d === bestD && best < 0)) {
      best = i;
      bestD = d;
    }
  }
  return best;
}

/**
 * Okabe & Ito (2008) colour-blind-safe palette, minus the yellow that is hard
 * to see on white, plus a grey: eight colours told apart under the common
 * colour-vision deficiencies.
 */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#56B4E9',
  '#CC79A7',
  '#000000',
  '#8C8C8C',
] as const;

export const SHAPES = ['circle', 'square', 'triangle', 'diamond', 'cross'] as const;
export type Shape = (typeof SHAPES)[number];

export interface GroupStyle {
  colour: string;
  shape: Shape;
}

/**
 * Style of group g (a cluster or a label). Colour cycles through 8 and shape
 * through 5, so the first 40 groups are all distinct and consecutive groups
 * differ in both colour and shape: colour is never the only cue.
 */
export function groupStyle(g: number): GroupStyle {
  const k = Math.max(0, Math.floor(g));
  return { colour: PALETTE[k % PALETTE.length], shape: SHAPES[k % SHAPES.length] };
}
