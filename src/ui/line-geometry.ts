/**
 * Geometry of the Training pane's line charts (LineChartSvg.tsx): scales,
 * round ticks and one SVG path per series, with gaps where a value is
 * missing. Plain functions, tested without a DOM.
 */
import { niceScale } from './chart-geometry';

/** One chart row: `x` (the step) and a value per series key (null: no value at that step). */
export type Row = { x: number } & Record<string, number | null>;

export const LINE_MARGIN = { top: 8, right: 12, bottom: 24, left: 52 };

export interface LineGeometry {
  /** One path per series key, in the order given; '' when the series has no finite value. */
  paths: string[];
  xTicks: { v: number; x: number }[];
  yTicks: { v: number; y: number }[];
  x: (v: number) => number;
  y: (v: number) => number;
}

/**
 * Scales from the data (x spans it exactly; y is padded to round ticks,
 * unless `yDomain` fixes an end) and the paths. A null or non-finite value
 * breaks the line (a move, not a line, to the next point).
 */
export function lineGeometry(
  rows: readonly Row[],
  keys: readonly string[],
  width: number,
  height: number,
  yDomain?: [number | 'auto', number | 'auto'],
): LineGeometry {
  const m = LINE_MARGIN;
  const iw = Math.max(1, width - m.left - m.right);
  const ih = Math.max(1, height - m.top - m.bottom);
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows)
    for (const k of keys) {
      const v = r[k];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  if (yDomain && yDomain[0] !== 'auto') lo = yDomain[0];
  if (yDomain && yDomain[1] !== 'auto') hi = Math.max(yDomain[1], lo);
  if (lo === Infinity) {
    lo = 0;
    hi = 1;
  }
  const ys = niceScale(lo, hi, Math.max(2, Math.min(5, Math.floor(ih / 30))));
  // A fixed end stays where it was asked to be (e.g. 0–100 %), not at a rounder tick beyond.
  const y0 = yDomain && yDomain[0] !== 'auto' ? yDomain[0] : ys.domain[0];
  const y1 = yDomain && yDomain[1] !== 'auto' ? Math.max(yDomain[1], y0 + 1e-9) : ys.domain[1];
  const x0 = rows[0]?.x ?? 0;
  const x1 = Math.max(x0 + 1, rows[rows.length - 1]?.x ?? 1);
  const xs = niceScale(x0, x1, Math.max(2, Math.min(8, Math.floor(iw / 70))), true);
  const x = (v: number) => m.left + ((v - x0) / (x1 - x0)) * iw;
  const y = (v: number) => m.top + (1 - (v - y0) / (y1 - y0 || 1)) * ih;
  const paths = keys.map((k) => {
    let d = '';
    let pen = false;
    for (const r of rows) {
      const v = r[k];
      if (v === null || v === undefined || !Number.isFinite(v)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(r.x).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    }
    return d;
  });
  return {
    paths,
    xTicks: xs.ticks.filter((v) => v >= x0 && v <= x1).map((v) => ({ v, x: x(v) })),
    yTicks: ys.ticks.filter((v) => v >= y0 - 1e-9 && v <= y1 + 1e-9).map((v) => ({ v, y: y(v) })),
    x,
    y,
  };
}

/** Indices of up to `count` rows, evenly spread, where a series draws its marker shape. */
export function markerIndices(n: number, count: number, offset = 0): number[] {
  if (n <= 0 || count <= 0) return [];
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  const stride = n / count;
  // `offset` (0–1) staggers series so their markers do not sit on top of each other.
  for (let i = 0; i < count; i++) out.push(Math.min(n - 1, Math.floor((i + offset) * stride)));
  return out;
}

/** Index of the row whose x is nearest `v` (rows sorted by x). */
export function nearestRow(rows: readonly Row[], v: number): number {
  let lo = 0;
  let hi = rows.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (rows[mid].x < v) lo = mid;
    else hi = mid;
  }
  return Math.abs(rows[hi].x - v) < Math.abs(rows[lo].x - v) ? hi : lo;
}
