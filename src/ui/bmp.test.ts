import { describe, expect, it } from 'vitest';
import { rgbBmp, rgbBmpDataUrl } from './bmp';

/** Reads a 24-bit bottom-up BMP back the way the format describes it, independently of the writer's loop. */
function readBmp(b: Uint8Array) {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const width = v.getInt32(18, true);
  const height = v.getInt32(22, true);
  const offset = v.getUint32(10, true);
  const stride = Math.ceil((width * 24) / 32) * 4;
  const rgb: number[][] = [];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = offset + (height - 1 - y) * stride + x * 3;
      rgb.push([b[p + 2], b[p + 1], b[p]]);
    }
  return {
    magic: String.fromCharCode(b[0], b[1]),
    fileSize: v.getUint32(2, true),
    headerSize: v.getUint32(14, true),
    width,
    height,
    planes: v.getUint16(26, true),
    bpp: v.getUint16(28, true),
    compression: v.getUint32(30, true),
    offset,
    rgb,
  };
}

describe('rgbBmp', () => {
  it('writes a hand-worked 2×2 image: header, BGR order, bottom-up rows, 4-byte row padding', () => {
    // Top row red, green; bottom row blue, white.
    const px = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
    const b = rgbBmp(px, 2, 2);
    // Each row: 6 bytes of pixels + 2 of padding = 8; 54 + 16 = 70 bytes.
    expect(b.length).toBe(70);
    expect(Array.from(b.subarray(0, 2))).toEqual([0x42, 0x4d]);
    // The first stored row is the bottom one: blue (BGR ff 00 00), white, then two zero pad bytes.
    expect(Array.from(b.subarray(54, 62))).toEqual([255, 0, 0, 255, 255, 255, 0, 0]);
    expect(Array.from(b.subarray(62, 70))).toEqual([0, 0, 255, 0, 255, 0, 0, 0]);
    const r = readBmp(b);
    expect(r).toMatchObject({
      magic: 'BM',
      fileSize: 70,
      headerSize: 40,
      width: 2,
      height: 2,
      planes: 1,
      bpp: 24,
      compression: 0,
      offset: 54,
    });
  });

  it.each([
    [1, 1],
    [3, 2],
    [5, 7],
    [28, 28],
  ])('round-trips a %i×%i image through an independent reader', (w, h) => {
    const px = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37 + 11) % 256);
    const r = readBmp(rgbBmp(px, w, h));
    expect(r.width).toBe(w);
    expect(r.height).toBe(h);
    expect(r.fileSize).toBe(54 + Math.ceil((w * 3) / 4) * 4 * h);
    expect(r.rgb.flat()).toEqual(Array.from(px));
  });

  it('refuses a buffer of the wrong length, naming both sizes', () => {
    expect(() => rgbBmp(new Uint8Array(11), 2, 2)).toThrow(/11 bytes for a 2×2 RGB image \(expected 12\)/);
  });

  it('makes a base64 data URL of the same bytes', () => {
    const px = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const url = rgbBmpDataUrl(px, 2, 1);
    expect(url.startsWith('data:image/bmp;base64,')).toBe(true);
    const bytes = Uint8Array.from(atob(url.slice('data:image/bmp;base64,'.length)), (c) => c.charCodeAt(0));
    expect(Array.from(bytes)).toEqual(Array.from(rgbBmp(px, 2, 1)));
  });
});
