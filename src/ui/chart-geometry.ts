/**
 * Geometry of the loss chart (LossChart.tsx): thinning, round ticks, the
 * SVG path. Plain functions, so they are tested without a DOM.
 */
import type { StepMetrics } from '../core/api';

/** SVG cost grows with points; a few hundred show the trend of any run. */
const MAX_POINTS = 400;
export const HEIGHT = 260;
/** Plot margins: room for the y tick labels on the left and x labels below. */
export const M = { top: 8, right: 16, bottom: 28, left: 56 };

export interface Point {
  step: number;
  loss: number;
}

export function thin(metrics: StepMetrics[], max = MAX_POINTS): Point[] {
  const stride = Math.max(1, Math.ceil(metrics.length / max));
  const out: Point[] = [];
  for (let i = 0; i < metrics.length; i += stride) out.push({ step: metrics[i].step, loss: metrics[i].loss });
  // Always end on the newest point, so the line reaches the current step.
  const last = metrics[metrics.length - 1];
  if (last && out[out.length - 1]?.step !== last.step) out.push({ step: last.step, loss: last.loss });
  return out;
}

/** Round tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k), with the padded domain they span. */
export function niceScale(lo: number, hi: number, count = 5, integer = false): { domain: [number, number]; ticks: number[] } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { domain: [0, 1], ticks: [0, 1] };
  if (hi <= lo) {
    const pad = integer ? 1 : Math.abs(lo) * 0.05 || 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  let step = mag * (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10);
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.floor(lo / step + 1e-9) * step;
  const last = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= last + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return { domain: [first, last], ticks };
}

// Four significant digits: early losses move in the third decimal and fixed
// two-decimal ticks repeated the same label.
export const tick = (v: number) => String(Number(v.toPrecision(4)));

export interface ChartGeometry {
  path: string;
  xTicks: { v: number; x: number }[];
  yTicks: { v: number; y: number }[];
  x: (step: number) => number;
  y: (loss: number) => number;
}

export function chartGeometry(data: Point[], width: number, height = HEIGHT): ChartGeometry {
  const iw = Math.max(1, width - M.left - M.right);
  const ih = Math.max(1, height - M.top - M.bottom);
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of data) {
    if (!Number.isFinite(p.loss)) continue;
    if (p.loss < lo) lo = p.loss;
    if (p.loss > hi) hi = p.loss;
  }
  const xs = niceScale(data[0]?.step ?? 0, data[data.length - 1]?.step ?? 1, Math.max(2, Math.min(10, Math.floor(iw / 80))), true);
  // The x axis spans the data exactly (as the step count grows), ticks inside it.
  const x0 = data[0]?.step ?? 0;
  const x1 = Math.max(x0 + 1, data[data.length - 1]?.step ?? 1);
  const ys = niceScale(lo, hi, 5);
  const [y0, y1] = ys.domain;
  const x = (s: number) => M.left + ((s - x0) / (x1 - x0)) * iw;
  const y = (l: number) => M.top + (1 - (l - y0) / (y1 - y0)) * ih;
  let path = '';
  for (const p of data) {
    if (!Number.isFinite(p.loss)) continue;
    path += `${path ? 'L' : 'M'}${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`;
  }
  return {
    path,
    xTicks: xs.ticks.filter((v) => v >= x0 && v <= x1).map((v) => ({ v, x: x(v) })),
    yTicks: ys.ticks.map((v) => ({ v, y: y(v) })),
    x,
    y,
  };
}

/** Index of the point whose step is nearest `step` (data sorted by step). */
export function nearestIndex(data: Point[], step: number): number {
  let lo = 0;
  let hi = data.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (data[mid].step < step) lo = mid;
    else hi = mid;
  }
  return Math.abs(data[hi].step - step) < Math.abs(data[lo].step - step) ? hi : lo;
}
