/**
 * Over 500 lines: each case builds its own PNG, JPEG or archive byte by byte
 * (a hand-made chunk, a truncated stream, an EXIF rotation), so the inputs
 * are visible next to what the decoder must make of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { PNG, type ColorType } from 'pngjs';
import { encode as encodeJpeg } from 'jpeg-js';
import { Zip, ZipDeflate, zipSync } from 'fflate';
import { NodeDecoder, nodeFiles } from './decode-node';
import { loadImages, readHeader } from '../io/load-images';
import type { DecodeOutcome } from '../core/data/upload';

type Rgba = [number, number, number, number];

/** w×h RGBA bytes from a per-pixel colour function. */
function rgbaImage(w: number, h: number, at: (x: number, y: number) => Rgba): Buffer {
  const b = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) b.set(at(x, y), (y * w + x) * 4);
  return b;
}

function pngBytes(w: number, h: number, at: (x: number, y: number) => Rgba, colorType: ColorType = 6): Uint8Array {
  const png = new PNG({ width: w, height: h });
  png.data = rgbaImage(w, h, at);
  return new Uint8Array(PNG.sync.write(png, { colorType }));
}

function jpegBytes(w: number, h: number, at: (x: number, y: number) => Rgba, quality = 95): Uint8Array {
  return new Uint8Array(encodeJpeg({ data: rgbaImage(w, h, at), width: w, height: h }, quality).data);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A palette PNG written by hand (pngjs writes no palettes): 8-bit indices, PLTE, and tRNS alphas per entry. */
function palettePng(
  w: number,
  h: number,
  palette: [number, number, number][],
  alphas: number[],
  index: (x: number, y: number) => number,
): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, w);
  v.setUint32(4, h);
  ihdr.set([8, 3, 0, 0, 0], 8);
  const raw = new Uint8Array(h * (w + 1));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw[y * (w + 1) + 1 + x] = index(x, y); // filter byte 0 per row
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', Uint8Array.from(palette.flat())),
    chunk('tRNS', Uint8Array.from(alphas)),
    chunk('IDAT', new Uint8Array(deflateSync(raw))),
    chunk('IEND', new Uint8Array(0)),
  ];
  return Uint8Array.from(parts.flatMap((p) => Array.from(p)));
}

/** An APP1 Exif segment holding one IFD entry: Orientation (0x0112), SHORT, 1 value, big-endian TIFF. */
function exifOrientationSegment(orientation: number): Uint8Array {
  const body = [
    ...Buffer.from('Exif\0\0', 'latin1'),
    0x4d,
    0x4d,
    0x00,
    0x2a,
    0x00,
    0x00,
    0x00,
    0x08, // 'MM', 42, offset of IFD0 = 8
    0x00,
    0x01, // one entry
    0x01,
    0x12,
    0x00,
    0x03,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    orientation,
    0x00,
    0x00, // tag, SHORT, count 1, value
    0x00,
    0x00,
    0x00,
    0x00, // no next IFD
  ];
  const len = body.length + 2;
  return Uint8Array.from([0xff, 0xe1, len >> 8, len & 0xff, ...body]);
}

/** The JPEG with the segment put right after its SOI marker. */
function withSegment(jpeg: Uint8Array, segment: Uint8Array): Uint8Array {
  const out = new Uint8Array(jpeg.length + segment.length);
  out.set(jpeg.subarray(0, 2));
  out.set(segment, 2);
  out.set(jpeg.subarray(2), 2 + segment.length);
  return out;
}

const S = 8;
const decoder = new NodeDecoder();

/** Bounding box (inclusive) of the pixels brighter than mid-grey in an S×S RGB image. */
function brightBox(rgb: Uint8Array, size: number): { x0: number; x1: number; y0: number; y1: number } {
  const box = { x0: size, x1: -1, y0: size, y1: -1 };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (rgb[(y * size + x) * 3] <= 128) continue;
      box.x0 = Math.min(box.x0, x);
      box.x1 = Math.max(box.x1, x);
      box.y0 = Math.min(box.y0, y);
      box.y1 = Math.max(box.y1, y);
    }
  }
  return box;
}

async function decode(bytes: Uint8Array, fit: 'crop' | 'pad' = 'crop'): Promise<DecodeOutcome> {
  return decoder.decode(bytes, readHeader(bytes), S, fit);
}

async function pixels(bytes: Uint8Array, fit: 'crop' | 'pad' = 'crop'): Promise<Uint8Array> {
  const r = await decode(bytes, fit);
  if (!r.ok) throw new Error(`expected a decoded image, got ${r.kind}: ${r.reason}`);
  expect(r.rgb.length).toBe(S * S * 3);
  return r.rgb;
}

/** Every output pixel within `tol` of `rgb`, for the rows in [y0, y1). */
function expectRows(px: Uint8Array, y0: number, y1: number, rgb: [number, number, number], tol: number): void {
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < S; x++) {
      const p = (y * S + x) * 3;
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(px[p + c] - rgb[c]);
        if (d > tol) throw new Error(`pixel (${x}, ${y}) channel ${c} is ${px[p + c]}, expected ${rgb[c]} ± ${tol}`);
      }
    }
  }
}

describe('NodeDecoder: PNG', () => {
  it('decodes RGB, grey and grey+alpha PNGs of one colour to that colour everywhere, exactly', async () => {
    expectRows(await pixels(pngBytes(13, 9, () => [12, 200, 99, 255], 2)), 0, S, [12, 200, 99], 0);
    expectRows(await pixels(pngBytes(5, 7, () => [90, 90, 90, 255], 0)), 0, S, [90, 90, 90], 0);
    // Grey 0 at alpha 51 over white: round((0·51 + 255·204) / 255) = 204.
    expectRows(await pixels(pngBytes(6, 6, () => [0, 0, 0, 51], 4)), 0, S, [204, 204, 204], 0);
  });

  it('composites a half-transparent red over white', async () => {
    // alpha 128: G = B = round(255·127 / 255) = 127; the red channel stays 255.
    expectRows(await pixels(pngBytes(4, 4, () => [255, 0, 0, 128])), 0, S, [255, 127, 127], 0);
    // alpha 127 gives the other side of one half: 128.
    expectRows(await pixels(pngBytes(4, 4, () => [255, 0, 0, 127])), 0, S, [255, 128, 128], 0);
  });

  it('reads a 16-bit PNG, scaling each sample to 8 bits (round(v·255 / 65535))', async () => {
    const w = 3;
    const h = 3;
    const data = new Uint16Array(w * h * 4);
    for (let i = 0; i < w * h; i++) data.set([65535, 0x1234, 0x8000, 65535], 4 * i);
    const png = new PNG({ width: w, height: h });
    png.data = Buffer.from(data.buffer);
    const bytes = new Uint8Array(PNG.sync.write(png, { bitDepth: 16, colorType: 6, inputColorType: 6 }));
    expect(bytes[24]).toBe(16); // IHDR bit depth: really a 16-bit file
    // 0x1234 = 4660 → 18.13 → 18; 0x8000 = 32768 → 127.502 → 128.
    expectRows(await pixels(bytes), 0, S, [255, 18, 128], 0);
  });

  it('reads a palette PNG with a transparent entry (tRNS) as white', async () => {
    // Left half palette 0 (opaque teal), right half palette 1 (fully transparent): crop of 8×4 → box x = 2, 4 wide.
    const bytes = palettePng(
      8,
      4,
      [
        [0, 128, 128],
        [255, 0, 0],
      ],
      [255, 0],
      (x) => (x < 4 ? 0 : 1),
    );
    expect(bytes[25]).toBe(3); // IHDR colour type 3: indexed
    const px = await pixels(bytes);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        expect(Array.from(px.subarray((y * S + x) * 3, (y * S + x) * 3 + 3))).toEqual(
          x < 4 ? [0, 128, 128] : [255, 255, 255],
        );
      }
    }
  });

  it("pads a 4×2 image with black bars above and below in 'pad' mode, and crops its centre in 'crop' mode", async () => {
    // Left half red, right half blue.
    const bytes = pngBytes(4, 2, (x) => (x < 2 ? [255, 0, 0, 255] : [0, 0, 255, 255]));
    const pad = await pixels(bytes, 'pad');
    // Box 4×4 at y = −1: one black source row above (output rows 0–1), one below (rows 6–7).
    expectRows(pad, 0, 2, [0, 0, 0], 0);
    expectRows(pad, 6, 8, [0, 0, 0], 0);
    for (let y = 2; y < 6; y++) {
      for (let x = 0; x < S; x++)
        expect(Array.from(pad.subarray((y * S + x) * 3, (y * S + x) * 3 + 3))).toEqual(
          x < 4 ? [255, 0, 0] : [0, 0, 255],
        );
    }
    const crop = await pixels(bytes, 'crop');
    // Box 2×2 at x = 1: source column 1 (red) on the left half, column 2 (blue) on the right.
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++)
        expect(Array.from(crop.subarray((y * S + x) * 3, (y * S + x) * 3 + 3))).toEqual(
          x < 4 ? [255, 0, 0] : [0, 0, 255],
        );
    }
  });

  it('reports a truncated PNG as corrupt with the library message', async () => {
    const full = pngBytes(40, 40, (x, y) => [x * 6, y * 6, (x * y) & 255, 255]);
    const r = await decode(full.subarray(0, full.length >> 1));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.kind).toBe('corrupt');
    expect(r.reason).toMatch(/^could not be decoded \(the file ends before its image data does; pngjs: .+\)$/);
  });
});

describe('NodeDecoder: JPEG', () => {
  it('decodes a solid-colour JPEG to that colour within ±3', async () => {
    expectRows(await pixels(jpegBytes(24, 16, () => [200, 60, 30, 255])), 0, S, [200, 60, 30], 3);
  });

  it('applies EXIF orientation 6: a left/right split becomes a top/bottom split', async () => {
    // 32×16: left half red, right half blue; MCU-aligned halves keep JPEG bleeding to the seam.
    const plain = jpegBytes(32, 16, (x) => (x < 16 ? [255, 0, 0, 255] : [0, 0, 255, 255]));
    const noTag = await pixels(plain);
    // Control, no tag: crop box x = 8, 16 wide → red on the left 4 columns, blue on the right.
    for (let y = 0; y < S; y++) {
      expect(noTag[(y * S + 0) * 3]).toBeGreaterThan(230);
      expect(noTag[(y * S + 7) * 3 + 2]).toBeGreaterThan(230);
    }
    const rotated = withSegment(plain, exifOrientationSegment(6));
    expect(readHeader(rotated)).toMatchObject({ width: 32, height: 16, orientation: 6, type: 'jpg' });
    const px = await pixels(rotated);
    // Turned clockwise (16×32), the stored left half (red) is on top; crop box y = 8 → rows 0–3 red, 4–7 blue.
    expectRows(px, 0, 3, [255, 0, 0], 12);
    expectRows(px, 5, 8, [0, 0, 255], 12);
  });

  it('turns the EXIF-6 fixture as the browser does (e2e/exif.spec.ts): the corner block lands top-right', async () => {
    // Stored 64×48 with a white block top-left; orientation 6 shows it 48×64 with the block top-right.
    const jpeg = new Uint8Array(readFileSync(new URL('../../e2e/fixtures/exif-orientation-6.jpg', import.meta.url)));
    expect(readHeader(jpeg)).toMatchObject({ width: 64, height: 48, orientation: 6, type: 'jpg' });
    const bright = async (bytes: Uint8Array) => {
      const r = await decoder.decode(bytes, readHeader(bytes), 64, 'pad');
      if (!r.ok) throw new Error(r.reason);
      return brightBox(r.rgb, 64);
    };
    // Pad: the 48×64 image centred on a 64×64 square (8 black columns each side), so the block is at x 40–55, y 0–15.
    expect(await bright(jpeg)).toEqual({ x0: 40, x1: 55, y0: 0, y1: 15 });
    // The same pixels without the Exif segment (bytes 2–37): stored as is, 64×48 centred, the block at x 0–15, y 8–23.
    const plain = new Uint8Array([...jpeg.subarray(0, 2), ...jpeg.subarray(2 + 36)]);
    expect(readHeader(plain)?.orientation).toBeUndefined();
    expect(await bright(plain)).toEqual({ x0: 0, x1: 15, y0: 8, y1: 23 });
  });

  it('reports garbage after a JPEG signature as corrupt with the library message', async () => {
    const bytes = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x01, 0x02, 0xff, 0xd9]);
    const r = await decode(bytes);
    expect(r).toMatchObject({ ok: false, kind: 'corrupt' });
    if (!r.ok) expect(r.reason).toMatch(/^could not be decoded \(.+\)$/);
  });
});

describe('NodeDecoder: other formats', () => {
  it('names GIF, WebP and BMP as browser-only, with or without a header', async () => {
    const gif = Uint8Array.from([...Buffer.from('GIF89a', 'latin1'), 4, 0, 2, 0, 0, 0, 0]);
    expect(readHeader(gif)?.type).toBe('gif');
    for (const h of [readHeader(gif), null]) {
      expect(await decoder.decode(gif, h, S, 'crop')).toEqual({
        ok: false,
        kind: 'unsupported',
        reason: 'GIF is decoded in the browser only; the Node runner reads PNG and JPEG',
      });
    }
    const webp = Uint8Array.from([...Buffer.from('RIFF', 'latin1'), 0, 0, 0, 0, ...Buffer.from('WEBPVP8 ', 'latin1')]);
    expect(await decoder.decode(webp, null, S, 'crop')).toEqual({
      ok: false,
      kind: 'unsupported',
      reason: 'WebP is decoded in the browser only; the Node runner reads PNG and JPEG',
    });
    expect(
      await decoder.decode(Uint8Array.from([0x42, 0x4d, 0, 0]), { width: 2, height: 2, type: 'bmp' }, S, 'crop'),
    ).toEqual({
      ok: false,
      kind: 'unsupported',
      reason: 'BMP is decoded in the browser only; the Node runner reads PNG and JPEG',
    });
    expect(await decoder.decode(new Uint8Array(4), { width: 2, height: 2, type: 'tiff' }, S, 'crop')).toMatchObject({
      kind: 'unsupported',
      reason: 'TIFF is not decoded here; the Node runner reads PNG and JPEG',
    });
  });

  it('calls bytes with no known signature corrupt', async () => {
    expect(await decoder.decode(Buffer.from('hello, not an image'), null, S, 'crop')).toEqual({
      ok: false,
      kind: 'corrupt',
      reason: 'could not be decoded (not a PNG or JPEG, and no other image format recognised in its first bytes)',
    });
  });
});

describe('nodeFiles + loadImages on a folder and a zip', () => {
  let dir: string;
  let root: string;
  const colours: Record<string, Rgba> = {
    'a/1.png': [255, 0, 0, 255],
    'a/2.png': [0, 255, 0, 255],
    'a/3.png': [0, 0, 255, 255],
    'b/1.png': [10, 20, 30, 255],
    'b/2.png': [40, 50, 60, 255],
  };
  const tree: Record<string, Uint8Array> = {};

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'clim-node-'));
    root = join(dir, 'root');
    for (const [p, c] of Object.entries(colours)) tree[p] = pngBytes(6, 4, () => c);
    tree['b/dup.png'] = tree['b/1.png'];
    tree['b/anim.gif'] = Uint8Array.from([...Buffer.from('GIF89a', 'latin1'), 4, 0, 2, 0, 0, 0, 0]);
    tree['a/empty.png'] = new Uint8Array(0);
    tree['a/bad.png'] = Buffer.from('these bytes are not a PNG at all');
    const big = new PNG({ width: 2000, height: 1000 });
    big.data = Buffer.alloc(2000 * 1000 * 4);
    tree['a/big.png'] = new Uint8Array(PNG.sync.write(big, { colorType: 0 }));
    tree['notes.txt'] = Buffer.from('read me');
    tree['.DS_Store'] = Buffer.from([0, 0, 0, 1]);
    for (const [p, b] of Object.entries(tree)) {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), b);
    }
    // A link to a/1.png: followed, it would be a duplicate line in the report.
    symlinkSync(join(root, 'a', '1.png'), join(root, 'a', 'link.png'));
    // Links out of the folder, to a file and to a folder of images: followed, they would add a third label's worth of images.
    const outside = join(dir, 'outside');
    mkdirSync(join(outside, 'more'), { recursive: true });
    writeFileSync(
      join(outside, 'secret.png'),
      pngBytes(6, 4, () => [1, 2, 3, 255]),
    );
    writeFileSync(
      join(outside, 'more', 'x.png'),
      pngBytes(6, 4, () => [4, 5, 6, 255]),
    );
    symlinkSync(join(outside, 'secret.png'), join(root, 'b', 'secret.png'));
    symlinkSync(join(outside, 'more'), join(root, 'c'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const opts = { size: S, fit: 'crop' as const, maxPixels: 1e6 };

  const links = ['a/link.png', 'b/secret.png', 'c'];

  it('lists the folder sorted by path, relative, links as links (never followed), and reads sizes from disk', async () => {
    const { name, files } = await nodeFiles(root);
    expect(name).toBe('root');
    const expected = [...Object.keys(tree), ...links].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(files.map((f) => f.path)).toEqual(expected);
    const regular = files.filter((f) => !f.skip);
    expect(regular.map((f) => f.size)).toEqual(regular.map((f) => tree[f.path].length));
    expect(await files[expected.indexOf('a/2.png')].bytes()).toEqual(Buffer.from(tree['a/2.png']));
    expect(files.filter((f) => f.skip).map((f) => [f.path, f.skip?.kind])).toEqual(links.map((l) => [l, 'symlink']));
    expect(files.find((f) => f.path === 'b/secret.png')?.skip?.reason).toBe(
      `a symbolic link to ${join(dir, 'outside', 'secret.png')}; links are not followed, so nothing outside the folder is read`,
    );
    await expect(files.find((f) => f.path === 'b/secret.png')!.bytes()).rejects.toThrow(/links are not followed/);
  });

  it('never opens a file that became a link after the folder was listed (O_NOFOLLOW)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'clim-swap-'));
    try {
      writeFileSync(join(d, 'x.png'), tree['a/1.png']);
      const { files } = await nodeFiles(d);
      rmSync(join(d, 'x.png'));
      symlinkSync(join(dir, 'outside', 'secret.png'), join(d, 'x.png'));
      await expect(files[0].bytes()).rejects.toThrow(/ELOOP|symbolic link/i);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it.skipIf(process.platform === 'win32')(
    'lists a named pipe as not an image, without opening it (a read would block)',
    async () => {
      const d = mkdtempSync(join(tmpdir(), 'clim-fifo-'));
      try {
        execFileSync('mkfifo', [join(d, 'pipe.png')]);
        writeFileSync(join(d, 'ok.png'), tree['a/1.png']);
        const r = await loadImages(...(await withFiles(d)), opts);
        expect(r.report.loaded).toBe(1);
        expect(r.report.skipped.map((s) => [s.path, s.kind, s.reason])).toEqual([
          ['pipe.png', 'not-image', 'a named pipe (FIFO), not a regular file; not read'],
        ]);
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
    },
  );

  it('loads the labelled images and reports every skipped file with its reason', async () => {
    const r = await loadImages(...(await withFiles(root)), opts);
    const rep = r.report;
    expect(rep.files).toBe(15); // hidden file and the three links included
    expect(rep.loaded).toBe(5);
    expect(rep.labelled).toBe(true);
    // No label c and no third image in b: neither link out of the folder was followed.
    expect(rep.perLabel).toEqual([
      { name: 'a', count: 3 },
      { name: 'b', count: 2 },
    ]);
    expect(rep.hiddenCount).toBe(1);
    expect(rep.countsByKind).toEqual({
      'not-image': 1,
      empty: 1,
      duplicate: 1,
      'too-large': 1,
      corrupt: 1,
      unsupported: 1,
      encrypted: 0,
      'unpack-limit': 0,
      symlink: 3,
    });
    const link = (to: string) =>
      `a symbolic link to ${to}; links are not followed, so nothing outside the folder is read`;
    expect(rep.skipped.map((s) => [s.path, s.kind, s.reason])).toEqual([
      [
        'a/bad.png',
        'corrupt',
        'could not be decoded (not a PNG or JPEG, and no other image format recognised in its first bytes)',
      ],
      ['a/big.png', 'too-large', '2000×1000 = 2.0 MP, over the 1.0 MP limit'],
      ['a/empty.png', 'empty', 'the file has 0 bytes'],
      ['a/link.png', 'symlink', link(join(root, 'a', '1.png'))],
      ['b/anim.gif', 'unsupported', 'GIF is decoded in the browser only; the Node runner reads PNG and JPEG'],
      ['b/dup.png', 'duplicate', 'same bytes as b/1.png'],
      ['b/secret.png', 'symlink', link(join(dir, 'outside', 'secret.png'))],
      ['c', 'symlink', link(join(dir, 'outside', 'more'))],
      ['notes.txt', 'not-image', '.txt is not an image type this app reads'],
    ]);
    expect(r.images.length).toBe(5 * S * S * 3);
    expect(Array.from(r.labels!)).toEqual([0, 0, 0, 1, 1]);
    // Solid images in folder order: the first pixel of each is its colour.
    const firsts = [0, 1, 2, 3, 4].map((i) => Array.from(r.images.subarray(i * S * S * 3, i * S * S * 3 + 3)));
    expect(firsts).toEqual(['a/1.png', 'a/2.png', 'a/3.png', 'b/1.png', 'b/2.png'].map((p) => colours[p].slice(0, 3)));
  });

  it('gives the same report for the folder zipped (with its top folder), and names the set after the zip', async () => {
    const entries = Object.fromEntries(Object.entries(tree).map(([p, b]) => [`root/${p}`, b]));
    const zipPath = join(dir, 'photos.zip');
    writeFileSync(zipPath, zipSync(entries));
    const { name, files } = await nodeFiles(zipPath);
    expect(name).toBe('photos');
    const r = await loadImages(files, new NodeDecoder(), opts);
    const folder = await loadImages(...(await withFiles(root)), opts);
    expect(r.report.files).toBe(12);
    expect(r.report.loaded).toBe(5);
    expect(r.report.perLabel).toEqual(folder.report.perLabel);
    // The zip holds no links (the folder's three).
    expect(r.report.countsByKind).toEqual({ ...folder.report.countsByKind, symlink: 0 });
    expect(r.report.hiddenCount).toBe(1);
    expect(r.report.skipped.find((s) => s.kind === 'duplicate')?.reason).toBe('same bytes as root/b/1.png');
    expect(r.images).toEqual(folder.images);
  });

  it('a zip with an encrypted entry and a 96 MiB bomb: each listed under its kind, the rest loads; an all-encrypted zip is refused', async () => {
    // The bomb streamed 1 MiB at a time (fflate.Zip), past the default 64 MiB per-entry cap (bench/zip-bomb.ts has the 1 GiB one).
    const parts: Uint8Array[] = [];
    const z = new Zip((err, chunk) => {
      if (err) throw err;
      parts.push(chunk);
    });
    for (const [p, b] of Object.entries(tree)) {
      const f = new ZipDeflate(p, { level: 0 });
      z.add(f);
      f.push(b, true);
    }
    const bomb = new ZipDeflate('a/zeros.png', { level: 9 });
    z.add(bomb);
    const block = new Uint8Array(2 ** 20);
    for (let i = 0; i < 96; i++) bomb.push(block, i === 95);
    z.end();
    const zip = Buffer.concat(parts);
    expect(zip.length).toBeLessThan(2 * 2 ** 20);
    const zipPath = join(dir, 'bomb.zip');
    writeFileSync(zipPath, encrypt(zip, 'a/3.png'));
    const rss = process.memoryUsage().rss;
    const r = await loadImages((await nodeFiles(zipPath)).files, new NodeDecoder(), opts);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 2 ** 20);
    expect(r.report.loaded).toBe(4);
    expect(
      r.report.skipped
        .filter((s) => s.kind === 'encrypted' || s.kind === 'unpack-limit')
        .map((s) => [s.path, s.kind, s.reason]),
    ).toEqual([
      [
        'a/3.png',
        'encrypted',
        `encrypted in ${zipPath} (password-protected); this app cannot read encrypted zip entries`,
      ],
      [
        'a/zeros.png',
        'unpack-limit',
        `would expand to 96.0 MiB (its header in ${zipPath} says so), past the 64 MiB limit for one file; not unpacked`,
      ],
    ]);

    const locked = join(dir, 'locked.zip');
    writeFileSync(
      locked,
      encrypt(
        encrypt(zipSync({ 'x/1.png': tree['a/1.png'], 'x/2.png': tree['a/2.png'] }, { level: 0 }), 'x/1.png'),
        'x/2.png',
      ),
    );
    await expect(nodeFiles(locked)).rejects.toThrow(
      `${locked}: this zip is encrypted (all 2 files need a password); unzip it with its password and upload the folder`,
    );
  });

  it('throws a message naming the path for a missing path, a file that is not a zip, and a broken zip', async () => {
    await expect(nodeFiles(join(dir, 'nowhere'))).rejects.toThrow(`${join(dir, 'nowhere')}: no such file or folder`);
    await expect(nodeFiles(join(root, 'notes.txt'))).rejects.toThrow(
      `${join(root, 'notes.txt')} is a file but not a .zip archive`,
    );
    const broken = join(dir, 'broken.zip');
    writeFileSync(broken, 'not a zip');
    await expect(nodeFiles(broken)).rejects.toThrow(`${broken} is not a readable .zip archive`);
  });
});

/** Sets general-purpose flag bit 0 (encrypted) on entry `name`: its local and its central header. */
function encrypt(zip: Uint8Array, name: string): Uint8Array {
  const out = Uint8Array.from(zip);
  const v = new DataView(out.buffer);
  const enc = new TextEncoder().encode(name);
  const nameAt = (at: number, len: number) => len === enc.length && enc.every((b, i) => out[at + i] === b);
  for (let p = 0; p + 46 <= out.length; p++) {
    const sig = v.getUint32(p, true);
    if (sig === 0x04034b50 && nameAt(p + 30, v.getUint16(p + 26, true))) out[p + 6] |= 1;
    if (sig === 0x02014b50 && nameAt(p + 46, v.getUint16(p + 28, true))) out[p + 8] |= 1;
  }
  return out;
}

async function withFiles(path: string): Promise<[Awaited<ReturnType<typeof nodeFiles>>['files'], NodeDecoder]> {
  return [(await nodeFiles(path)).files, new NodeDecoder()];
}
