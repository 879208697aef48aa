/**
 * Chart series from the run's history: thinning to a drawable number of
 * points and CSV export. Plain functions, tested without a DOM.
 */
import type { EvalResult } from '../core/api';

/** One line of a chart: its key, legend name and value per history row (null: no point). */
export interface SeriesDef<T> {
  key: string;
  name: string;
  value: (row: T) => number | null;
}

const KNN_SERIES: SeriesDef<EvalResult>[] = [
  { key: 'knn', name: 'kNN top-1', value: (e) => (e.knnTop1 === null ? null : e.knnTop1 * 100) },
  { key: 'linear', name: 'linear top-1', value: (e) => (e.linearTop1 === null ? null : e.linearTop1 * 100) },
];

/**
 * The held-out chart's series (percent): kNN and linear top-1, and the
 * raw-pixel kNN top-1 of the same split as a flat reference line once the
 * worker has measured it: the level a trained encoder has to pass.
 */
export function heldOutSeries(raw: { knnTop1: number } | null): SeriesDef<EvalResult>[] {
  if (!raw) return KNN_SERIES;
  const level = raw.knnTop1 * 100;
  return [...KNN_SERIES, { key: 'raw', name: `raw pixels, kNN (${level.toFixed(1)}%)`, value: () => level }];
}

/**
 * At most `max` rows, evenly spaced over the history, always ending on the
 * newest row (so a line reaches the current step). Past a few hundred points
 * a chart shows no more detail, only costs more to draw.
 */
export function downsample<T>(rows: readonly T[], max: number): T[] {
  if (rows.length <= max) return rows.slice();
  const out: T[] = [];
  const stride = (rows.length - 1) / (max - 1);
  for (let i = 0; i < max - 1; i++) out.push(rows[Math.round(i * stride)]);
  out.push(rows[rows.length - 1]);
  return out;
}

export interface CsvColumn<T> {
  header: string;
  value: (row: T) => number | string | null;
}

function cell(v: number | string | null): string {
  if (v === null || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  // RFC 4180: quote fields holding a comma, quote or line break; double the quotes.
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header row and CRLF line ends. */
export function toCsv<T>(rows: readonly T[], columns: readonly CsvColumn<T>[]): string {
  const lines = [columns.map((c) => cell(c.header)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => cell(c.value(r))).join(','));
  return lines.join('\r\n') + '\r\n';
}
