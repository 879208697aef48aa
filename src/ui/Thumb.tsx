import { memo, useEffect, useRef } from 'react';

/**
 * One S×S RGB image from a byte buffer, drawn on a canvas and scaled up with
 * crisp pixels (the images are 24–32 px; smoothing would blur them away).
 */
export const Thumb = memo(function Thumb({ pixels, size, scale = 2, label, className }: { pixels: Uint8Array | null; size: number; scale?: number; label: string; className?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  // What this canvas shows now: a new snapshot (or a pane shown again, which re-runs effects) often brings the same image.
  const drawn = useRef<{ canvas: HTMLCanvasElement; size: number; pixels: Uint8Array } | null>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c || !pixels || size <= 0) return;
    const d = drawn.current;
    if (d && d.canvas === c && d.size === size && sameBytes(d.pixels, pixels)) return;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(size, size);
    for (let i = 0, j = 0; i < size * size; i++, j += 3) {
      img.data[i * 4] = pixels[j];
      img.data[i * 4 + 1] = pixels[j + 1];
      img.data[i * 4 + 2] = pixels[j + 2];
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    drawn.current = { canvas: c, size, pixels: pixels.slice() };
  }, [pixels, size]);
  if (!pixels) return <span className={`thumb missing ${className ?? ''}`} style={{ width: size * scale, height: size * scale }} role="img" aria-label={`${label} (no image)`} />;
  return <canvas ref={ref} width={size} height={size} className={`thumb ${className ?? ''}`} style={{ width: size * scale, height: size * scale }} role="img" aria-label={label} />;
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The bytes of training image `index` in a thumbnail set, or null when the set lacks it. */
export function thumbPixels(t: { size: number; index: Int32Array; pixels: Uint8Array } | null, index: number): Uint8Array | null {
  if (!t) return null;
  // index is sorted ascending (engine.worker.ts thumbnailsFor): binary search.
  let lo = 0;
  let hi = t.index.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = t.index[mid];
    if (v === index) {
      const per = t.size * t.size * 3;
      return t.pixels.subarray(mid * per, (mid + 1) * per);
    }
    if (v < index) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}
