/**
 * Pixel operations for decoders that get raw pixels instead of a canvas: the
 * Node runner (issue 4) decodes PNG and JPEG with pure-JS libraries and has no
 * `drawImage` to orient and resize with, so it does both here.
 *
 * Pure (no I/O, no tfjs), and exact: every result is defined by integer
 * arithmetic, so a test can recompute it another way and expect equality.
 */
import type { Box } from './folder';

/**
 * Turns pixels as stored in a file into pixels as meant to be seen, per the
 * EXIF Orientation tag (0x0112, defined by TIFF 6.0 and taken over by the Exif
 * standard, CIPA DC-008). The tag says where the stored 0th row and 0th column
 * belong on screen:
 *
 * | value | 0th row | 0th column | so apply |
 * | --- | --- | --- | --- |
 * | 1 | top | left | nothing |
 * | 2 | top | right | mirror left↔right |
 * | 3 | bottom | right | rotate 180° |
 * | 4 | bottom | left | mirror top↔bottom |
 * | 5 | left | top | transpose (mirror about the main diagonal) |
 * | 6 | right | top | rotate 90° clockwise |
 * | 7 | right | bottom | transverse (mirror about the anti-diagonal) |
 * | 8 | left | bottom | rotate 90° counter-clockwise |
 *
 * Phones store portrait shots as landscape sensor pixels plus 6 or 8; the
 * browser's `createImageBitmap` applies the tag by default, so without this
 * the runner would train on sideways copies of the images the page shows
 * upright. Any other value (absent, 0, out of range) means "as stored".
 * Works on 4 bytes per pixel (RGBA, as the decoders return them).
 */
export function orientRgba(
  pixels: Uint8Array,
  w: number,
  h: number,
  orientation: number,
): { pixels: Uint8Array; width: number; height: number } {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1)
    throw new Error(`orientRgba: size ${w}×${h} is not a positive whole-number size`);
  if (pixels.length !== w * h * 4)
    throw new Error(`orientRgba: ${pixels.length} bytes for a ${w}×${h} RGBA image (expected ${w * h * 4})`);
  if (!Number.isInteger(orientation) || orientation < 2 || orientation > 8) return { pixels, width: w, height: h };
  const swap = orientation >= 5;
  const W = swap ? h : w;
  const H = swap ? w : h;
  // Whole pixels move as 32-bit words (byte order is irrelevant for a copy); a view unless the offset is unaligned.
  const src =
    pixels.byteOffset % 4 === 0
      ? new Uint32Array(pixels.buffer, pixels.byteOffset, w * h)
      : new Uint32Array(pixels.slice().buffer);
  const dst = new Uint32Array(W * H);
  // For every output (x, y), the stored pixel it shows (derivations in the table above).
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2:
          sx = w - 1 - x;
          sy = y;
          break;
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;
        case 4:
          sx = x;
          sy = h - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;
        default:
          sx = w - 1 - y;
          sy = x;
          break; // 8
      }
      dst[y * W + x] = src[sy * w + sx];
    }
  }
  return { pixels: new Uint8Array(dst.buffer), width: W, height: H };
}

/** Per output index along one axis: the source indices it covers and how much of each (in units of 1/size source pixel). */
interface Taps {
  /** start[i]…start[i+1] index into `src` and `weight`. */
  start: Int32Array;
  src: Int32Array;
  weight: Float64Array;
}

/**
 * Output cell i spans [offset + i·span/size, offset + (i+1)·span/size) in
 * source pixels. Scaled by `size` everything is an integer: the cell is
 * [offset·size + i·span, … + span) and source pixel s is [s·size, (s+1)·size),
 * so each overlap is a whole number and the weights of a cell sum to `span`
 * (counting the part outside 0…limit−1, which is left out: padding is black).
 */
function taps(offset: number, span: number, size: number, limit: number): Taps {
  const start = new Int32Array(size + 1);
  const src: number[] = [];
  const weight: number[] = [];
  for (let i = 0; i < size; i++) {
    start[i] = src.length;
    const a = offset * size + i * span;
    const b = a + span;
    const first = Math.max(0, Math.floor(a / size));
    const last = Math.min(limit - 1, Math.ceil(b / size) - 1);
    for (let s = first; s <= last; s++) {
      const ov = Math.min(b, (s + 1) * size) - Math.max(a, s * size);
      if (ov > 0) {
        src.push(s);
        weight.push(ov);
      }
    }
  }
  start[size] = src.length;
  return { start, src: Int32Array.from(src), weight: Float64Array.from(weight) };
}

/**
 * The source `box` of a w×h RGB image resampled to size×size RGB by area
 * averaging: each output pixel is the mean of the source area it covers, each
 * source pixel weighted by the fraction of it inside, rounded half up. The
 * part of the box outside the image (the `pad` fit of `squareBoxes`, negative
 * x or y) counts as black (0, 0, 0), as the browser decoder fills it.
 *
 * Why this filter: the browser resizes with `drawImage` at
 * `imageSmoothingQuality: 'high'`, whose filter each browser picks for
 * itself; Node has no canvas. An area average is the natural downscale (every
 * source pixel counts, no aliasing of fine texture), it is separable and
 * cheap, and in integer units it is exact, so results do not depend on the
 * machine and a test can check them against a direct computation. When the
 * box is smaller than `size` (upsampling) the same coverage rule gives
 * nearest-pixel copies, blended where a cell straddles two source pixels;
 * size = box side is an exact copy. Results match the browser's in colour
 * and layout but not bit for bit.
 *
 * Sums are whole numbers up to 255·box.w·box.h, and the rounding step doubles
 * them: exact in a double while 511·box.w·box.h < 2^53 (a square box side
 * below 4 million pixels).
 */
export function resizeBoxRgb(rgb: Uint8Array, w: number, h: number, box: Box, size: number): Uint8Array {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1)
    throw new Error(`resizeBoxRgb: size ${w}×${h} is not a positive whole-number size`);
  if (rgb.length !== w * h * 3)
    throw new Error(`resizeBoxRgb: ${rgb.length} bytes for a ${w}×${h} RGB image (expected ${w * h * 3})`);
  if (![box.x, box.y, box.w, box.h].every(Number.isInteger) || box.w < 1 || box.h < 1) {
    throw new Error(
      `resizeBoxRgb: box ${box.x},${box.y} ${box.w}×${box.h} must have whole-number coordinates and a positive size`,
    );
  }
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`resizeBoxRgb: output side must be a positive whole number (got ${size})`);
  const tx = taps(box.x, box.w, size, w);
  const ty = taps(box.y, box.h, size, h);
  // Source rows the box touches inside the image.
  const y0 = Math.max(0, box.y);
  const y1 = Math.min(h, box.y + box.h);
  const rows = Math.max(0, y1 - y0);
  // Pass 1: every touched source row → `size` columns of horizontal sums (≤ 255·box.w each).
  const mid = new Float64Array(rows * size * 3);
  for (let r = 0; r < rows; r++) {
    const rowBase = (y0 + r) * w * 3;
    const midBase = r * size * 3;
    for (let i = 0; i < size; i++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      for (let t = tx.start[i]; t < tx.start[i + 1]; t++) {
        const p = rowBase + tx.src[t] * 3;
        const wt = tx.weight[t];
        s0 += wt * rgb[p];
        s1 += wt * rgb[p + 1];
        s2 += wt * rgb[p + 2];
      }
      mid[midBase + 3 * i] = s0;
      mid[midBase + 3 * i + 1] = s1;
      mid[midBase + 3 * i + 2] = s2;
    }
  }
  // Pass 2: vertical sums, then the rounded mean over the cell area box.w·box.h (in the same units).
  const den = box.w * box.h;
  const out = new Uint8Array(size * size * 3);
  const acc = new Float64Array(size * 3);
  for (let j = 0; j < size; j++) {
    acc.fill(0);
    for (let t = ty.start[j]; t < ty.start[j + 1]; t++) {
      const base = (ty.src[t] - y0) * size * 3;
      const wt = ty.weight[t];
      for (let k = 0; k < size * 3; k++) acc[k] += wt * mid[base + k];
    }
    const o = j * size * 3;
    for (let k = 0; k < size * 3; k++) out[o + k] = roundedQuotient(acc[k], den);
  }
  return out;
}

/** round(num / den) with halves up, for whole numbers num ≥ 0, den > 0: exact, where a float division then Math.round can land on the wrong side of .5. */
function roundedQuotient(num: number, den: number): number {
  const n2 = 2 * num + den;
  const d2 = 2 * den;
  let q = Math.floor(n2 / d2);
  if (q * d2 > n2) q--;
  else if ((q + 1) * d2 <= n2) q++;
  return q;
}
