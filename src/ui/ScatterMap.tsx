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
/** The map's last measured width: the next map starts at it (it is the same element width each time the view mounts). */
let lastWidth = 640;

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
  /** Extra data-* attributes for the map image (e.g. data-points), for tests and tools. */
  data?: Record<`data-${string}`, string | number>;
}

/**
 * The 2-D map of the Clusters view: up to 20,000 points in one image,
 * batched by group (no element per point), drawn at the device pixel ratio
 * in a worker. An SVG layer on top holds only the highlight and keyboard
 * cursor, so hovering never redraws the points. Hover lookup through a grid index
 * (scatter-geometry.ts). Keyboard: focus the map, arrows move a cursor
 * (Shift: faster), Enter picks the point under it, Escape clears.
 */
export function ScatterMap({ xy, groups, label, describedBy, height = 420, onHover, onPick, data }: ScatterMapProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(lastWidth);
  // No drawing before the first measured width: a draw at a guessed width would be thrown away at once.
  const [measured, setMeasured] = useState(false);
  const [dpr, setDpr] = useState(() => (typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1));
  const [hover, setHover] = useState<number | null>(null);
  const [cursor, setCursor] = useState<{ x: number; y: number } | null>(null);
  const n = Math.min(xy.length >> 1, groups.length);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      lastWidth = Math.max(200, Math.floor(el.clientWidth));
      setWidth(lastWidth);
      setDpr(window.devicePixelRatio || 1);
      setMeasured(true);
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
  // main thread) and shown as an <img> of the PNG it encodes there; only the
  // latest job is shown. An image rather than a canvas: on the 2-core test
  // machine's software compositing, the map's two canvases made each frame's
  // commit slow while the view was shown and took its first frame over the
  // long-task budget in half the runs, none without them (docs/BENCHMARKS.md §M13).
  const [drawn, setDrawn] = useState<{ url: string; ms: number } | null>(null);
  const drawer = useRef<{ worker: Worker | null; job: number }>({ worker: null, job: 0 });
  useEffect(() => {
    const d = drawer.current;
    if (typeof Worker === 'undefined' || typeof OffscreenCanvas === 'undefined') return;
    const w = new Worker(new URL('./map-draw.worker.ts', import.meta.url), { type: 'module', name: 'clim-map-draw' });
    w.onmessage = (ev: MessageEvent<MapDrawResult>) => {
      const { id, png, ms } = ev.data;
      if (id === d.job) setDrawn({ url: URL.createObjectURL(png), ms });
    };
    d.worker = w;
    return () => {
      w.terminate();
      d.worker = null;
    };
  }, []);
  // An image already shown stays decoded: the previous URL can go as soon as the next is set.
  useEffect(() => {
    if (!drawn) return;
    const url = drawn.url;
    return () => URL.revokeObjectURL(url);
  }, [drawn]);
  // Each draw is asked for when the page's main thread is idle: drawing and
  // encoding keep the map worker busy for a while, and on a 2-core machine
  // whose other core trains, a draw running beside the frames that mount the
  // view left the main thread without a core for part of them (a Chrome
  // trace, docs/BENCHMARKS.md §M13).
  useEffect(() => {
    if (!measured) return;
    const d = drawer.current;
    const job = ++d.job;
    const draw = () => {
      if (job !== d.job) return;
      if (d.worker) {
        const req: MapDrawRequest = {
          id: job,
          screen: geometry.screen.slice(),
          groups: groups.slice(0, n),
          n,
          width,
          height,
          dpr,
          r: R,
        };
        d.worker.postMessage(req, [req.screen.buffer, req.groups.buffer]);
        return;
      }
      // No worker (old browser): draw here on a canvas that is never shown, and show its PNG the same way.
      const c = document.createElement('canvas');
      c.width = Math.max(1, Math.round(width * dpr));
      c.height = Math.max(1, Math.round(height * dpr));
      const ctx = c.getContext('2d');
      if (!ctx) return;
      const ms = drawPoints(ctx, geometry.screen, bucketByGroup(groups, n), width, height, dpr, R);
      c.toBlob((png) => {
        if (png && job === d.job) setDrawn({ url: URL.createObjectURL(png), ms });
      }, 'image/png');
    };
    if (typeof requestIdleCallback !== 'function') {
      const t = setTimeout(draw, 0);
      return () => clearTimeout(t);
    }
    const h = requestIdleCallback(draw, { timeout: 1000 });
    return () => cancelIdleCallback(h);
  }, [measured, geometry, groups, n, width, height, dpr]);

  // Highlight and keyboard cursor: two SVG shapes over the image, so hovering never redraws the points.
  const hi = hover !== null && hover < n ? { x: geometry.screen[hover * 2], y: geometry.screen[hover * 2 + 1] } : null;

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
      const next = {
        x: Math.min(width, Math.max(0, from.x + move[0])),
        y: Math.min(height, Math.max(0, from.y + move[1])),
      };
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

  return (
    <div ref={wrap} className="scatter-map" style={{ height }}>
      {drawn ? (
        <img
          src={drawn.url}
          style={{ width, height }}
          className="scatter-base"
          data-testid="cluster-map"
          data-draw-ms={drawn.ms.toFixed(2)}
          alt=""
          aria-hidden="true"
          draggable={false}
          {...data}
        />
      ) : (
        <div
          style={{ width, height }}
          className="scatter-base"
          data-testid="cluster-map"
          aria-hidden="true"
          {...data}
        />
      )}
      <div
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
      >
        <svg width={width} height={height} aria-hidden="true">
          {cursor && (
            <path
              d={`M${cursor.x - 8} ${cursor.y}h16M${cursor.x} ${cursor.y - 8}v16`}
              stroke="#374151"
              strokeWidth={1}
            />
          )}
          {hi && <circle cx={hi.x} cy={hi.y} r={R + 4} fill="none" stroke="#111827" strokeWidth={2} />}
        </svg>
      </div>
    </div>
  );
}
