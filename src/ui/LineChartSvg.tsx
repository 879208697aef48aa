import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { tick } from './chart-geometry';
import { LINE_MARGIN as M, lineGeometry, markerIndices, nearestRow, type Row } from './line-geometry';

/**
 * A multi-series line chart in plain SVG for the Training pane. It replaced
 * recharts there: measured in Chromium on the 2-core machine while the
 * worker trains (e2e/responsiveness.spec.ts), recharts' first render of the
 * charts and each redraw (its internal store, selectors and DOM text
 * measurement for ticks) went over the 50 ms long-task budget
 * (docs/BENCHMARKS.md §M12). This draws a few paths, ~15 labels and ≤ 8
 * markers a series, a small fraction of that per update.
 *
 * Styles are attributes, not CSS classes, so the PNG export (export.ts),
 * which serialises the SVG alone, looks like the page.
 */

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'cross';

export interface LineSeries {
  key: string;
  name: string;
  stroke: string;
  dash?: string;
  marker: MarkerShape;
  /** Line width (default 1.8): a thicker line singles one series out. */
  width?: number;
}

const LINE_WIDTH = 1.8;

/** Markers a series draws along its line, so series differ by shape as well as colour and dash. */
const MARKERS_PER_SERIES = 8;

/** SVG path of a marker of radius r at (cx, cy). */
export function markerPath(shape: MarkerShape, cx: number, cy: number, r: number): string {
  switch (shape) {
    case 'square':
      return `M${cx - r},${cy - r}h${2 * r}v${2 * r}h${-2 * r}Z`;
    case 'triangle':
      return `M${cx},${cy - r * 1.2}L${cx + r * 1.1},${cy + r * 0.8}L${cx - r * 1.1},${cy + r * 0.8}Z`;
    case 'diamond':
      return `M${cx},${cy - r * 1.3}L${cx + r * 1.3},${cy}L${cx},${cy + r * 1.3}L${cx - r * 1.3},${cy}Z`;
    case 'cross': {
      // A filled plus sign, arms a third of the marker wide.
      const t = r / 2.5;
      const a = r * 1.2;
      return `M${cx - t},${cy - a}h${2 * t}v${a - t}h${a - t}v${2 * t}h${t - a}v${a - t}h${-2 * t}v${t - a}h${t - a}v${-2 * t}h${a - t}Z`;
    }
    default:
      return `M${cx - r},${cy}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0Z`;
  }
}

/** A legend sample: the series' dash and marker. */
export function SeriesSample({ s }: { s: LineSeries }) {
  return (
    <svg width="26" height="10" aria-hidden="true">
      <line x1="0" y1="5" x2="26" y2="5" stroke={s.stroke} strokeWidth={s.width ?? 2} strokeDasharray={s.dash} />
      <path d={markerPath(s.marker, 13, 5, 3)} fill={s.stroke} />
    </svg>
  );
}

/**
 * Width of the last chart measured: the charts share one column, so a chart
 * mounting (the Training pane shown again, a chart's first data) starts at the
 * right width and lays out once. Measuring in a layout effect instead forced a
 * synchronous page layout and a second render inside the mount's task.
 */
let lastWidth = 0;
/** Before any chart was measured: about a chart's width in the 1280 px layout. */
const FIRST_GUESS = 640;

function useWidth() {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(() => lastWidth || FIRST_GUESS);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (typeof ResizeObserver === 'undefined') {
      setWidth(Math.round(el.getBoundingClientRect().width));
      return;
    }
    // Reports the size after layout (also once on observe): re-renders only when it differs from the guess.
    const ro = new ResizeObserver((entries) => {
      const w = Math.round(entries[0].contentRect.width);
      if (w > 0) {
        lastWidth = w;
        setWidth(w);
      }
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width] as const;
}

const fmtValue = (v: number | null | undefined, unit: string) =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : `${Number(v.toPrecision(4))}${unit}`;

export function LineChartSvg({
  rows,
  series,
  title,
  height = 190,
  unit = '',
  yDomain,
}: {
  rows: Row[];
  series: LineSeries[];
  title: string;
  height?: number;
  unit?: string;
  yDomain?: [number | 'auto', number | 'auto'];
}) {
  const [ref, width] = useWidth();
  const keys = useMemo(() => series.map((s) => s.key), [series]);
  const g = useMemo(
    () => (width > 0 ? lineGeometry(rows, keys, width, height, yDomain) : null),
    [rows, keys, width, height, yDomain],
  );
  const [hover, setHover] = useState<number | null>(null);
  const h = hover !== null && hover < rows.length ? rows[hover] : null;
  const last = rows[rows.length - 1];

  const onPointerMove = (e: PointerEvent<SVGSVGElement>) => {
    if (!g || !rows.length) return;
    const px = e.clientX - e.currentTarget.getBoundingClientRect().left;
    const x0 = rows[0].x;
    const x1 = Math.max(x0 + 1, last.x);
    setHover(nearestRow(rows, x0 + ((px - M.left) / Math.max(1, width - M.left - M.right)) * (x1 - x0)));
  };
  const onKeyDown = (e: KeyboardEvent<SVGSVGElement>) => {
    const end = rows.length - 1;
    const cur = hover ?? end;
    const next = { ArrowLeft: cur - 1, ArrowRight: cur + 1, Home: 0, End: end }[e.key];
    if (next === undefined || end < 0) return;
    e.preventDefault();
    setHover(Math.max(0, Math.min(end, next)));
  };
  const readout = (r: Row) => `step ${r.x}: ${series.map((s) => `${s.name} ${fmtValue(r[s.key], unit)}`).join(', ')}`;

  return (
    <div ref={ref} className="line-chart-frame">
      {g && last && (
        <svg
          className="line-chart"
          width={width}
          height={height}
          role="img"
          tabIndex={0}
          aria-label={`${title}: ${rows.length} points; latest ${readout(last)}. Arrow keys read single points.`}
          onPointerMove={onPointerMove}
          onPointerLeave={() => setHover(null)}
          onKeyDown={onKeyDown}
          onBlur={() => setHover(null)}
          fontSize={11}
        >
          <rect x={0} y={0} width={width} height={height} fill="#fff" />
          <g stroke="#e5e7eb">
            {g.yTicks.map((t) => (
              <line key={`y${t.v}`} x1={M.left} x2={width - M.right} y1={t.y} y2={t.y} />
            ))}
            {g.xTicks.map((t) => (
              <line key={`x${t.v}`} x1={t.x} x2={t.x} y1={M.top} y2={height - M.bottom} />
            ))}
          </g>
          <g fill="#4b5563">
            {g.yTicks.map((t) => (
              <text key={`y${t.v}`} x={M.left - 5} y={t.y} textAnchor="end" dominantBaseline="middle">
                {tick(t.v)}
                {unit}
              </text>
            ))}
            {g.xTicks.map((t) => (
              <text key={`x${t.v}`} x={t.x} y={height - M.bottom + 14} textAnchor="middle">
                {t.v}
              </text>
            ))}
            <text x={width - M.right} y={height - 2} textAnchor="end">
              step
            </text>
          </g>
          <line x1={M.left} x2={width - M.right} y1={height - M.bottom} y2={height - M.bottom} stroke="#9ca3af" />
          <line x1={M.left} x2={M.left} y1={M.top} y2={height - M.bottom} stroke="#9ca3af" />
          {series.map((s, i) => (
            <g key={s.key} data-series={s.key}>
              <path
                d={g.paths[i]}
                fill="none"
                stroke={s.stroke}
                strokeWidth={s.width ?? LINE_WIDTH}
                strokeDasharray={s.dash}
                strokeLinejoin="round"
              />
              {markerIndices(rows.length, MARKERS_PER_SERIES, i / series.length).map((k) => {
                const v = rows[k][s.key];
                if (v === null || v === undefined || !Number.isFinite(v)) return null;
                return <path key={k} d={markerPath(s.marker, g.x(rows[k].x), g.y(v), 3)} fill={s.stroke} />;
              })}
            </g>
          ))}
          {h && (
            <g>
              <line x1={g.x(h.x)} x2={g.x(h.x)} y1={M.top} y2={height - M.bottom} stroke="#9ca3af" />
              {series.map((s) => {
                const v = h[s.key];
                return v === null || v === undefined || !Number.isFinite(v) ? null : (
                  <path key={s.key} d={markerPath(s.marker, g.x(h.x), g.y(v), 4)} fill={s.stroke} stroke="#fff" />
                );
              })}
            </g>
          )}
        </svg>
      )}
      <p className="chart-readout" aria-live="polite">
        {h ? readout(h) : '\u00a0'}
      </p>
    </div>
  );
}
