import { useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent, type RefObject } from 'react';
import { HEIGHT, M, chartGeometry, nearestIndex, thin, tick, type Point } from './chart-geometry';
import { useClim } from './store';

/**
 * The loss curve as plain SVG. It replaced a recharts LineChart: with the
 * worker reporting ~4 times a second, each recharts update (its internal
 * store, selectors and axis measurement) blocked the main thread for
 * 60–200 ms and its first render for ~0.5 s on a 2-core machine
 * (bench/browser.ts), over the 50 ms long-task budget. This draws one path,
 * a grid and ~12 labels, a few ms per update.
 */

function useWidth(): [RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(Math.round(el.getBoundingClientRect().width));
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver((entries) => setWidth(Math.round(entries[0].contentRect.width)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

function Plot({ data, width }: { data: Point[]; width: number }) {
  const g = useMemo(() => chartGeometry(data, width), [data, width]);
  const [hover, setHover] = useState<number | null>(null);
  const h = hover !== null && hover < data.length ? data[hover] : null;

  const onPointerMove = (e: PointerEvent<SVGSVGElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const x0 = data[0].step;
    const x1 = Math.max(x0 + 1, data[data.length - 1].step);
    const step = x0 + ((px - M.left) / Math.max(1, width - M.left - M.right)) * (x1 - x0);
    setHover(nearestIndex(data, step));
  };
  const onKeyDown = (e: KeyboardEvent<SVGSVGElement>) => {
    const last = data.length - 1;
    const cur = hover ?? last;
    const next = { ArrowLeft: cur - 1, ArrowRight: cur + 1, Home: 0, End: last }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    setHover(Math.max(0, Math.min(last, next)));
  };

  const latest = data[data.length - 1];
  return (
    <>
      <svg
        className="loss-chart-surface"
        width={width}
        height={HEIGHT}
        role="img"
        tabIndex={0}
        aria-label={`Loss over ${data.length} plotted steps; latest step ${latest.step}, loss ${latest.loss.toFixed(4)}. Arrow keys read single points.`}
        onPointerMove={onPointerMove}
        onPointerLeave={() => setHover(null)}
        onKeyDown={onKeyDown}
        onBlur={() => setHover(null)}
      >
        <g className="grid">
          {g.yTicks.map((t) => (
            <line key={`y${t.v}`} x1={M.left} x2={width - M.right} y1={t.y} y2={t.y} />
          ))}
          {g.xTicks.map((t) => (
            <line key={`x${t.v}`} x1={t.x} x2={t.x} y1={M.top} y2={HEIGHT - M.bottom} />
          ))}
        </g>
        <g className="axis" fontSize={12}>
          <line x1={M.left} x2={width - M.right} y1={HEIGHT - M.bottom} y2={HEIGHT - M.bottom} />
          <line x1={M.left} x2={M.left} y1={M.top} y2={HEIGHT - M.bottom} />
          {g.yTicks.map((t) => (
            <text key={`y${t.v}`} x={M.left - 6} y={t.y} textAnchor="end" dominantBaseline="middle">
              {tick(t.v)}
            </text>
          ))}
          {g.xTicks.map((t) => (
            <text key={`x${t.v}`} x={t.x} y={HEIGHT - M.bottom + 16} textAnchor="middle">
              {t.v}
            </text>
          ))}
        </g>
        <path className="line" d={g.path} />
        {data.length === 1 && <circle className="line-dot" cx={g.x(latest.step)} cy={g.y(latest.loss)} r={3} />}
        {h && (
          <g className="hover">
            <line x1={g.x(h.step)} x2={g.x(h.step)} y1={M.top} y2={HEIGHT - M.bottom} />
            <circle cx={g.x(h.step)} cy={g.y(h.loss)} r={4} />
          </g>
        )}
      </svg>
      <p className="chart-readout" aria-live="polite">
        {h ? `step ${h.step}: loss ${h.loss.toFixed(4)}` : '\u00a0'}
      </p>
    </>
  );
}

export function LossChart() {
  const metrics = useClim((s) => s.metrics);
  const data = useMemo(() => thin(metrics), [metrics]);
  const [ref, width] = useWidth();

  return (
    <figure className="chart" data-testid="loss-chart" aria-label="Training loss by step">
      <figcaption>Loss</figcaption>
      <div ref={ref} className="chart-area">
        {data.length === 0 ? (
          <p className="placeholder">No steps yet: press Start or Step.</p>
        ) : (
          width > 0 && <Plot data={data} width={width} />
        )}
      </div>
    </figure>
  );
}
