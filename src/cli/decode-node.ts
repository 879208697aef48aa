/**
 * The Node runner's side of the upload pipeline (src/io/load-images.ts): a
 * folder or .zip on disk → the same `SourceFile` list a browser drop gives,
 * and a decoder that turns PNG and JPEG bytes into the same S×S×3 RGB the
 * browser's canvas decoder makes (EXIF orientation applied, transparency
 * over white, box per `squareBoxes`, black padding).
 *
 * Node has no image decoder or canvas of its own; pngjs and jpeg-js are pure
 * JavaScript (no native build to break on install), and PNG and JPEG are what
 * folders of photos and exported data sets are made of. Other formats are
 * reported as 'unsupported', each by name, so a user knows to convert them or
 * use the page.
 */
import { constants } from 'node:fs';
import { lstat, open, readFile, readdir, readlink, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { decode as decodeJpeg } from 'jpeg-js';
import { squareBoxes, toRgb } from '../core/data/folder';
import { orientRgba, resizeBoxRgb } from '../core/data/pixels';
import type { DecodeOutcome, SkipKind } from '../core/data/upload';
import type { Fit, HeaderInfo, ImageDecoder, SourceFile } from '../io/load-images';
import { isZipName, zipEntries } from '../io/zip';

type Format = 'png' | 'jpg';

/** Display names of the formats image-size recognises that this decoder does not read. */
const FORMAT_NAMES: Readonly<Record<string, string>> = {
  gif: 'GIF',
  webp: 'WebP',
  bmp: 'BMP',
  avif: 'AVIF',
  avis: 'AVIF',
  heic: 'HEIC',
  heix: 'HEIC',
  mif1: 'HEIF',
  msf1: 'HEIF',
  tiff: 'TIFF',
  ico: 'ICO',
  cur: 'CUR',
  svg: 'SVG',
  psd: 'PSD',
  jxl: 'JPEG XL',
  'jxl-stream': 'JPEG XL',
  jp2: 'JPEG 2000',
  j2c: 'JPEG 2000',
  tga: 'TGA',
  dds: 'DDS',
  ktx: 'KTX',
  icns: 'ICNS',
  pnm: 'PNM',
};

/** Formats a browser page decodes (createImageBitmap), so the page is the way to use them. */
const BROWSER_FORMATS: ReadonlySet<string> = new Set(['GIF', 'WebP', 'BMP', 'AVIF', 'ICO', 'CUR']);

function startsWith(bytes: Uint8Array, sig: number[], at = 0): boolean {
  return bytes.length >= at + sig.length && sig.every((b, i) => bytes[at + i] === b);
}

/**
 * Which decoder to use. The header's type comes first; the signature is the
 * fallback, because image-size gives no header for a file whose size fields
 * it cannot find (a JPEG cut before its frame header), and such a file should
 * reach the decoder and be reported with the decoder's own words.
 */
function detect(bytes: Uint8Array, header: HeaderInfo | null): { format: Format } | { other: string } | null {
  const t = header?.type;
  if (t === 'png' || t === 'jpg') return { format: t };
  if (t) return { other: FORMAT_NAMES[t] ?? t.toUpperCase() };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { format: 'png' };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { format: 'jpg' };
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return { other: 'GIF' };
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8))
    return { other: 'WebP' };
  if (startsWith(bytes, [0x42, 0x4d])) return { other: 'BMP' };
  if (startsWith(bytes, [0x66, 0x74, 0x79, 0x70], 4)) return { other: 'HEIF/AVIF' };
  return null;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** PNG (pngjs) and JPEG (jpeg-js) in Node; see the module comment. */
export class NodeDecoder implements ImageDecoder {
  async decode(bytes: Uint8Array, header: HeaderInfo | null, size: number, fit: Fit): Promise<DecodeOutcome> {
    const kind = detect(bytes, header);
    if (kind === null)
      return {
        ok: false,
        kind: 'corrupt',
        reason: 'could not be decoded (not a PNG or JPEG, and no other image format recognised in its first bytes)',
      };
    if ('other' in kind) {
      const where = BROWSER_FORMATS.has(kind.other) ? 'is decoded in the browser only' : 'is not decoded here';
      return { ok: false, kind: 'unsupported', reason: `${kind.other} ${where}; the Node runner reads PNG and JPEG` };
    }
    let rgba: Uint8Array;
    let w: number;
    let h: number;
    try {
      if (kind.format === 'png') {
        // pngjs expands grey, palette (with tRNS), RGB and 16-bit input to 8-bit RGBA.
        const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        rgba = png.data;
        w = png.width;
        h = png.height;
      } else {
        // maxMemoryUsageInMB: jpeg-js's 512 MB default refuses large photos that are within the pixel limit.
        const img = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
        // The browser applies EXIF orientation when it decodes; jpeg-js returns the stored pixels.
        const o = orientRgba(img.data, img.width, img.height, header?.orientation ?? 1);
        rgba = o.pixels;
        w = o.width;
        h = o.height;
      }
    } catch (e) {
      // pngjs words a cut-off file as a stream error; say what it means for the file, then the library's words.
      const m = message(e);
      const cut = kind.format === 'png' && /finished stream|unexpected end/i.test(m);
      return {
        ok: false,
        kind: 'corrupt',
        reason: `could not be decoded (${cut ? `the file ends before its image data does; pngjs: ${m}` : m})`,
      };
    }
    if (w < 1 || h < 1 || rgba.length !== w * h * 4)
      return { ok: false, kind: 'corrupt', reason: `decoded to ${w}×${h} pixels` };
    const box = squareBoxes([w], [h], fit)[0];
    return { ok: true, rgb: resizeBoxRgb(toRgb(rgba, 4), w, h, box, size) };
  }
}

/** Thrown when `--dataset` names nothing readable as an image collection; the message names the path. */
export class DatasetPathError extends Error {}

/** What the walk found: a regular file, or something listed as skipped without being opened. */
type Found = { rel: string; full: string; skip?: { kind: SkipKind; reason: string } };

/** Names for what is neither a file, a folder nor a link (a FIFO would block a read forever). */
function specialKind(d: Dirent): string | null {
  if (d.isFIFO()) return 'a named pipe (FIFO)';
  if (d.isSocket()) return 'a socket';
  if (d.isBlockDevice() || d.isCharacterDevice()) return 'a device file';
  return null;
}

/**
 * Everything under `dir`, as paths relative to it joined with '/'. Symbolic
 * links are listed (kind 'symlink') and never followed, neither to a file nor
 * to a folder: following them can loop, or read files from outside the
 * folder the user named. `withFileTypes` reports the link itself (lstat),
 * not what it points to. Pipes, sockets and devices are listed as not images.
 */
async function walk(dir: string, rel: string, out: Found[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(join(dir, rel), { withFileTypes: true });
  } catch (e) {
    throw new DatasetPathError(`cannot list the folder ${join(dir, rel)} (${message(e)})`);
  }
  for (const d of entries) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    const full = join(dir, r);
    if (d.isSymbolicLink()) {
      let target = '';
      try {
        target = ` to ${await readlink(full)}`;
      } catch {
        // The link's text is only for the message.
      }
      out.push({
        rel: r,
        full,
        skip: {
          kind: 'symlink',
          reason: `a symbolic link${target}; links are not followed, so nothing outside the folder is read`,
        },
      });
    } else if (d.isDirectory()) await walk(dir, r, out);
    else if (d.isFile()) out.push({ rel: r, full });
    else {
      const what = specialKind(d);
      if (what)
        out.push({ rel: r, full, skip: { kind: 'not-image', reason: `${what}, not a regular file; not read` } });
    }
  }
}

/**
 * The file's bytes, refusing to open a symbolic link: one put in place of
 * the file after the folder was listed is not followed either (O_NOFOLLOW;
 * where the platform has no such flag, the lstat listing is the guard).
 */
async function readNoFollow(full: string): Promise<Uint8Array> {
  const fh = await open(full, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/**
 * A folder or a .zip on disk as the upload pipeline's file list, plus a short
 * name for the data set (the folder's name, or the zip's without `.zip`).
 *
 * Folder files are sorted by path with plain `<` (UTF-16 code units, as class
 * names are), so the order, and with it which of two equal files is kept and
 * the seeded split, does not depend on the file system's listing order. Bytes
 * are read only when the pipeline asks, a few files at a time.
 */
export async function nodeFiles(path: string): Promise<{ name: string; files: SourceFile[] }> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DatasetPathError(
      code === 'ENOENT' ? `${path}: no such file or folder` : `cannot read ${path} (${message(e)})`,
    );
  }
  if (st.isDirectory()) {
    const found: Found[] = [];
    await walk(path, '', found);
    found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
    const files: SourceFile[] = [];
    for (const f of found) {
      const { size } = await lstat(f.full);
      if (f.skip) {
        const { reason } = f.skip;
        files.push({ path: f.rel, size, skip: f.skip, bytes: () => Promise.reject(new Error(reason)) });
      } else files.push({ path: f.rel, size, bytes: () => readNoFollow(f.full) });
    }
    return { name: basename(resolve(path)) || path, files };
  }
  if (!st.isFile() || !isZipName(path)) {
    throw new DatasetPathError(
      `${path} is ${st.isFile() ? 'a file but not a .zip archive' : 'neither a folder nor a file'}; --dataset takes a folder of images (one subfolder per label) or a .zip of one`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new DatasetPathError(`cannot read ${path} (${message(e)})`);
  }
  let files: SourceFile[];
  try {
    // Entries are unpacked one at a time as they are decoded, within the default budget's caps (src/io/zip.ts).
    files = zipEntries(path, bytes);
  } catch (e) {
    throw new DatasetPathError(message(e));
  }
  return { name: basename(path).replace(/\.zip$/i, ''), files };
}
