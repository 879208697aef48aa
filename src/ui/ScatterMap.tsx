import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { GridIndex, fitToCanvas, toScreen } from './scatter-geometry';
import { bucketByGroup, drawPoints } from './scatter-draw';
import type { MapDrawRequest, MapDrawResult } from './map-draw.worker';

/** Marker radius and hover reach, CSS pixels. */
const R = 2.6;
const HOVER_RADIUS = 10;
/** The keyboard cursor moves this far per arrow press (Shift: four times as far). */
const KEY_STEP = 8;
const PAD = 10;
const CELL = 16;

export interface ScatterMapProps {
  /** N×2 data coordinates, row-major. */
  xy: Float32Array;
  /** Group (cluster or label) of each point: its colour and marker shape. */
  groups: Int32Array;
  /** Accessible name of the map. */
  label: string;
  /** Id of the element holding the map's text summary. */
  describedBy?: string;
  height?: number;
  /** Point under the pointer or keyboard cursor (index into xy), with its CSS position in the map; null when none. */
  onHover(point: number | null, x: number, y: number): void;
  /** Click or Enter on a point. */
  onPick(point: number): void;
  /** Extra data-* attributes for the canvas (e.g. data-points), for tests and tools. */
  data?: Record<`data-${string}`, string | number>;
}

/**
 * The 2-D map of the Clusters view: up to 20,000 points on one canvas,
 * batched by group (no element per point), drawn at the device pixel ratio.
 * A second canvas on top holds only the highlight and keyboard cursor, so
 * hovering never redraws the points. Hover lookup through a grid index
 * (scatter-geometry.ts). Keyboard: focus the map, arrows move a cursor
 * (Shift: faster), Enter picks the point under it, Escape clears.
 */
export function ScatterMap({ xy, groups, label, describedBy, height = 420, onHover, onPick, data }: ScatterMapProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const base = useRef<HTMLCanvasElement>(null);
  const overlay = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(640);
  const [dpr, setDpr] = useState(() => (typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1));
  const [hover, setHover] = useState<number | null>(null);
  const [cursor, setCursor] = useState<{ x: number; y: number } | null>(null);
  const n = Math.min(xy.length >> 1, groups.length);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      setWidth(Math.max(200, Math.floor(el.clientWidth)));
      setDpr(window.devicePixelRatio || 1);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const geometry = useMemo(() => {
    const coords = xy.subarray(0, 2 * n);
    const screen = toScreen(coords, fitToCanvas(coords, width, height, PAD));
    // The hover index is built on the first hover, not in the frame that mounts a 20k-point map.
    let grid: GridIndex | null = null;
    return { screen, grid: () => (grid ??= new GridIndex(screen, width, height, CELL)) };
  }, [xy, n, width, height]);

  // The points: drawn in map-draw.worker.ts (a full redraw is too long for the
  // main thread), shown here with one drawImage; only the latest job is shown.
  const drawer = useRef<{ worker: Worker | null; job: number }>({ worker: null, job: 0 });
  useEffect(() => {
    const d = drawer.current;
    if (typeof Worker === 'undefined' || typeof OffscreenCanvas === 'undefined') return;
    const w = new Worker(new URL('./map-draw.worker.ts', import.meta.url), { type: 'module', name: 'clim-map-draw' });
    w.onmessage = (ev: MessageEvent<MapDrawResult>) => {
      const { id, bitmap, ms } = ev.data;
      const c = base.current;
      const ctx = c?.getContext('2d');
      if (id === d.job && c && ctx) {
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, c.width, c.height);
        ctx.drawImage(bitmap, 0, 0);
        // Read by tests and the benchmark: how long the last full redraw took (in the worker).
        c.dataset.drawMs = ms.toFixed(2);
      }
      bitmap.close();
    };
    d.worker = w;
    return () => {
      w.terminate();
      d.worker = null;
    };
  }, []);
  useEffect(() => {
    const c = base.current;
    if (!c) return;
    const d = drawer.current;
    d.job += 1;
    if (d.worker) {
      const req: MapDrawRequest = { id: d.job, screen: geometry.screen.slice(), groups: groups.slice(0, n), n, width, height, dpr, r: R };
      d.worker.postMessage(req, [req.screen.buffer, req.groups.buffer]);
      return;
    }
    // No worker (old browser, jsdom): draw here.
    const ctx = c.getContext('2d');
    if (!ctx) return;
    c.dataset.drawMs = drawPoints(ctx, geometry.screen, bucketByGroup(groups, n), width, height, dpr, R).toFixed(2);
  }, [geometry, groups, n, width, height, dpr]);

  // Highlight and keyboard cursor on the overlay.
  useEffect(() => {
    const c = overlay.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (cursor) {
      ctx.strokeStyle = '#374151';
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(cursor.x - 8, cursor.y);
      ctx.lineTo(cursor.x + 8, cursor.y);
      ctx.moveTo(cursor.x, cursor.y - 8);
      ctx.lineTo(cursor.x, cursor.y + 8);
      ctx.stroke();
    }
    if (hover !== null && hover < n) {
      const x = geometry.screen[hover * 2];
      const y = geometry.screen[hover * 2 + 1];
      ctx.lineWidth = 2;
      ctx.strokeStyle = '#111827';
      ctx.beginPath();
      ctx.arc(x, y, R + 4, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }, [hover, cursor, geometry, n, width, height, dpr]);

  const hoverAt = (x: number, y: number) => {
    const i = geometry.grid().nearest(x, y, cursor ? HOVER_RADIUS * 2 : HOVER_RADIUS);
    const p = i >= 0 ? i : null;
    setHover(p);
    onHover(p, p === null ? x : geometry.screen[p * 2], p === null ? y : geometry.screen[p * 2 + 1]);
    return p;
  };

  const local = (e: MouseEvent) => {
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const step = e.shiftKey ? KEY_STEP * 4 : KEY_STEP;
    const move = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
    if (move) {
      e.preventDefault();
      const from = cursor ?? { x: width / 2, y: height / 2 };
      const next = { x: Math.min(width, Math.max(0, from.x + move[0])), y: Math.min(height, Math.max(0, from.y + move[1])) };
      setCursor(next);
      hoverAt(next.x, next.y);
    } else if ((e.key === 'Enter' || e.key === ' ') && hover !== null) {
      e.preventDefault();
      onPick(hover);
    } else if (e.key === 'Escape') {
      setCursor(null);
      setHover(null);
      onHover(null, 0, 0);
    }
  };

  const px = (v: number) => Math.round(v * dpr);
  return (
    <div ref={wrap} className="scatter-map" style={{ height }}>
      <canvas
        ref={base}
        width={px(width)}
        height={px(height)}
        style={{ width, height }}
        className="scatter-base"
        data-testid="cluster-map"
        aria-hidden="true"
        {...data}
      />
      <canvas
        ref={overlay}
        width={px(width)}
        height={px(height)}
        style={{ width, height }}
        className="scatter-overlay"
        data-testid="cluster-map-input"
        tabIndex={0}
        role="application"
        aria-roledescription="scatter map"
        aria-label={label}
        aria-describedby={describedBy}
        onMouseMove={(e) => {
          const { x, y } = local(e);
          hoverAt(x, y);
        }}
        onMouseLeave={() => {
          if (cursor) return;
          setHover(null);
          onHover(null, 0, 0);
        }}
        onClick={(e) => {
          const { x, y } = local(e);
          const p = hoverAt(x, y);
          if (p !== null) onPick(p);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setCursor(null)}
      />
    </div>
  );
}
