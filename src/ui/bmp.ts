/**
 * An RGB byte image as a 24-bit BMP data URL.
 *
 * Why BMP in an <img> rather than a <canvas> per thumbnail: with 84 canvases
 * on the Positives view, every frame while it mounted spent a long time in
 * the compositor commit on the 2-core test machine, and hiding the canvases
 * alone took away the tab switch's long tasks (e2e/responsiveness.spec.ts,
 * docs/BENCHMARKS.md §M12). An image is decoded once, off the main
 * thread, and painted like any other; BMP needs no compression step, so the
 * bytes are written here in one pass, and the same pixels give the same
 * string, which React then leaves alone.
 */
export function rgbBmp(pixels: Uint8Array, width: number, height: number): Uint8Array {
  if (pixels.length !== width * height * 3)
    throw new Error(
      `rgbBmp: ${pixels.length} bytes for a ${width}×${height} RGB image (expected ${width * height * 3})`,
    );
  const row = (width * 3 + 3) & ~3; // rows are padded to 4 bytes
  const offset = 14 + 40;
  const size = offset + row * height;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  // BITMAPFILEHEADER
  out[0] = 0x42; // 'B'
  out[1] = 0x4d; // 'M'
  v.setUint32(2, size, true);
  v.setUint32(10, offset, true);
  // BITMAPINFOHEADER: positive height = rows stored bottom-up (the form every decoder reads)
  v.setUint32(14, 40, true);
  v.setInt32(18, width, true);
  v.setInt32(22, height, true);
  v.setUint16(26, 1, true); // planes
  v.setUint16(28, 24, true); // bits per pixel
  v.setUint32(34, row * height, true); // image size (compression 0 = none, left 0)
  for (let y = 0; y < height; y++) {
    let o = offset + (height - 1 - y) * row;
    for (let x = 0, i = y * width * 3; x < width; x++, i += 3, o += 3) {
      out[o] = pixels[i + 2];
      out[o + 1] = pixels[i + 1];
      out[o + 2] = pixels[i];
    }
  }
  return out;
}

/** `data:image/bmp;base64,…` for {@link rgbBmp}'s bytes. */
export function rgbBmpDataUrl(pixels: Uint8Array, width: number, height: number): string {
  const bytes = rgbBmp(pixels, width, height);
  let bin = '';
  // Chunks keep String.fromCharCode's argument list short.
  for (let i = 0; i < bytes.length; i += 0x2000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x2000));
  return `data:image/bmp;base64,${btoa(bin)}`;
}
