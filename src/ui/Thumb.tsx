import { memo, useMemo } from 'react';
import { rgbBmpDataUrl } from './bmp';

/**
 * One S×S RGB image from a byte buffer, shown as an <img> of a BMP data URL
 * (see bmp.ts for why not a canvas) and scaled up with crisp pixels (the
 * images are 24–32 px; smoothing would blur them away).
 */
export const Thumb = memo(function Thumb({ pixels, size, scale = 2, label, className }: ThumbProps) {
  const src = useMemo(
    () => (pixels && size > 0 && pixels.length === size * size * 3 ? rgbBmpDataUrl(pixels, size, size) : null),
    [pixels, size],
  );
  if (!src)
    return (
      <span
        className={`thumb missing ${className ?? ''}`}
        style={{ width: size * scale, height: size * scale }}
        role="img"
        aria-label={`${label} (no image)`}
      />
    );
  return (
    <img
      src={src}
      width={size}
      height={size}
      className={`thumb ${className ?? ''}`}
      style={{ width: size * scale, height: size * scale }}
      alt={label}
      decoding="async"
      draggable={false}
    />
  );
}, sameThumb);

interface ThumbProps {
  pixels: Uint8Array | null;
  size: number;
  scale?: number;
  label: string;
  className?: string;
}

/**
 * Props equal when the pixels hold the same bytes: each snapshot (and each
 * thumbPixels call) hands a new subarray, often of the same image, and a
 * re-render would rebuild its data URL for nothing.
 */
function sameThumb(a: ThumbProps, b: ThumbProps): boolean {
  return (
    a.size === b.size &&
    a.scale === b.scale &&
    a.label === b.label &&
    a.className === b.className &&
    samePixels(a.pixels, b.pixels)
  );
}

function samePixels(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The bytes of training image `index` in a thumbnail set, or null when the set lacks it. */
export function thumbPixels(
  t: { size: number; index: Int32Array; pixels: Uint8Array } | null,
  index: number,
): Uint8Array | null {
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
