/**
 * Axis scales shared by the line charts (LineChartSvg.tsx, line-geometry.ts):
 * round ticks and their labels. Plain functions, so they are tested without a DOM.
 */

/** Round tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k), with the padded domain they span. */
export function niceScale(
  lo: number,
  hi: number,
  count = 5,
  integer = false,
): { domain: [number, number]; ticks: number[] } {
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
