/**
 * .zip uploads → the same file list a dropped folder gives. Directory entries
 * are dropped; hidden files and `__MACOSX/` stay in the list so the report
 * counts them as ignored, exactly as for a folder.
 *
 * An archive is hostile input: a 1 MB zip can hold 1 GiB of zeros (issue 16:
 * `unzipSync` took the Node runner to 2.3 GB and a tab from 0.85 to 4 GB,
 * before the upload's memory budget, which applies to decoded pixels, had a
 * say). So this module reads the central directory itself and unpacks an
 * entry only when the pipeline asks for its bytes (a few in flight), with
 * fflate's streaming `Inflate` fed in small slices: each slice can expand at
 * most ~1032× (Deflate's ceiling), so the bytes are counted as they come and
 * unpacking stops at a cap before the rest is ever allocated. `inflateSync`
 * would allocate the whole output first, and fflate's `Unzip` stream walks
 * the local headers in file order, trusting sizes the central directory
 * (what every unzip tool lists) may contradict.
 *
 * What is refused, each a skip line of its own kind in the upload report
 * (the load goes on with the other entries):
 * - encrypted entries (general-purpose flag bit 0) → 'encrypted'; when every
 *   file is encrypted the whole archive is refused: "this zip is encrypted";
 * - symbolic links stored in the zip (Unix mode 0120000) → 'symlink';
 * - a declared size over the per-entry cap, or a declared expansion over
 *   `maxRatio` on an entry over `ratioFloorBytes`, or entries whose data
 *   overlap (the non-recursive zip bomb reuses one compressed kernel for
 *   thousands of entries) → 'unpack-limit', without unpacking anything;
 * - while unpacking, more bytes than the header declared (headers can lie),
 *   an actual expansion over `maxRatio`, or the archive's running total past
 *   `maxTotalBytes` → 'unpack-limit', stopped at once;
 * - compression methods other than stored and Deflate → 'unsupported';
 *   damaged entries (cut off, bad CRC-32, bad Deflate data) → 'corrupt'.
 */
import { Inflate } from 'fflate';
import { isHiddenPath } from '../core/data/folder';
import type { SkipKind } from '../core/data/upload';
import type { SourceFile } from './load-images';

export function isZipName(name: string): boolean {
  return /\.zip$/i.test(name);
}

/**
 * Thrown for an archive that cannot be read at all (`kind` null: the message
 * names the file), and by an entry's `bytes()` when that entry is refused
 * (`kind` says which report line it belongs on, `reason` is that line's text).
 */
export class ZipError extends Error {
  constructor(
    message: string,
    readonly kind: SkipKind | null = null,
    readonly reason: string = message,
  ) {
    super(message);
    this.name = 'ZipError';
  }
}

export interface ZipLimits {
  /** Most bytes one entry may unpack to. */
  maxEntryBytes: number;
  /** Most bytes all reads of one archive may unpack to, together. */
  maxTotalBytes: number;
  /** Unpacked : packed ratio above which an entry is taken for a bomb... */
  maxRatio: number;
  /** ...when it unpacks to more than this (small files of zeros or text legitimately compress further). */
  ratioFloorBytes: number;
}

const MiB = 2 ** 20;

/**
 * Caps from the upload's memory budget (the pixels it may keep). Unpacking
 * is lazy, so what is held at once is the files in flight: the decode pool
 * runs up to eight, hence an eighth of the budget per entry (64 MiB at the
 * default 512 MiB, above any phone photo), never below 16 MiB so a budget cut
 * for small decoded images still reads a camera JPEG. The total bounds the
 * work, not the memory: eight budgets' worth of unpacking per archive, far
 * more than images that fit the budget can take up as files.
 */
export function zipLimits(budgetBytes: number): ZipLimits {
  return {
    maxEntryBytes: Math.max(16 * MiB, Math.floor(budgetBytes / 8)),
    maxTotalBytes: 8 * Math.max(budgetBytes, 16 * MiB),
    maxRatio: 1000,
    ratioFloorBytes: 4 * MiB,
  };
}

/** At the upload's default budget (512 MiB, `DEFAULT_BUDGET_MB` in src/ui/upload-store.ts): the Node runner's caps. */
export const DEFAULT_ZIP_LIMITS: Readonly<ZipLimits> = Object.freeze(zipLimits(512 * MiB));

/**
 * Compressed bytes per push into the inflater. Deflate expands at most ~1032×,
 * so one push yields at most ~16.5 MiB (fflate holds up to about twice that
 * while it grows its buffer): the most a bomb gets allocated past a cap.
 */
const PUSH_BYTES = 16 * 1024;

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const U32_MAX = 0xffffffff;

const METHOD_NAMES: Readonly<Record<number, string>> = {
  1: 'Shrink',
  6: 'Implode',
  9: 'Deflate64',
  12: 'bzip2',
  14: 'LZMA',
  93: 'Zstandard',
  95: 'XZ',
  98: 'PPMd',
  99: 'AES encryption',
};

function size(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** A cap as a round figure ("64 MiB"). */
function cap(n: number): string {
  return n >= 2 ** 30 && n % 2 ** 30 === 0 ? `${n / 2 ** 30} GiB` : n % MiB === 0 ? `${n / MiB} MiB` : size(n);
}

let crcTable: Uint32Array | null = null;

function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface CentralEntry {
  name: string;
  flags: number;
  method: number;
  crc: number;
  csize: number;
  usize: number;
  offset: number;
  /** Unix file mode when the entry was made on Unix (host 3) or macOS (19), else null. */
  mode: number | null;
}

/** Little-endian reads that refuse to leave the archive (the fuzz test feeds arbitrary bytes). */
class Reader {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    private readonly fail: (why: string) => never,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(at: number, n: number, what: string): void {
    if (!(at >= 0 && at + n <= this.bytes.length)) this.fail(`${what} lies outside the file`);
  }
  u16(at: number, what: string): number {
    this.need(at, 2, what);
    return this.view.getUint16(at, true);
  }
  u32(at: number, what: string): number {
    this.need(at, 4, what);
    return this.view.getUint32(at, true);
  }
  u64(at: number, what: string): number {
    this.need(at, 8, what);
    return Number(this.view.getBigUint64(at, true));
  }
  slice(at: number, n: number, what: string): Uint8Array {
    this.need(at, n, what);
    return this.bytes.subarray(at, at + n);
  }
}

const utf8 = new TextDecoder('utf-8');

function entryName(raw: Uint8Array, flags: number): string {
  // As fflate and most unzip tools: UTF-8 when the flag says so, else Latin-1.
  if (flags & FLAG_UTF8) return utf8.decode(raw);
  let s = '';
  for (const b of raw) s += String.fromCharCode(b);
  return s;
}

/** The end-of-central-directory record (zip64 when the classic one is saturated): where the directory is and how many entries it lists. */
function findDirectory(r: Reader, fail: (why: string) => never): { count: number; start: number; end: number } {
  const len = r.bytes.length;
  let e = len - 22;
  const lowest = Math.max(0, len - 22 - 0xffff);
  while (e >= lowest && r.u32(e, 'the end record') !== SIG_EOCD) e--;
  if (e < lowest) fail('no end-of-central-directory record: not a zip, or cut off');
  let count = r.u16(e + 10, 'the entry count');
  let cdSize = r.u32(e + 12, 'the directory size');
  let cdStart = r.u32(e + 16, 'the directory offset');
  if (
    (count === 0xffff || cdSize === U32_MAX || cdStart === U32_MAX) &&
    e >= 20 &&
    r.u32(e - 20, 'the zip64 locator') === SIG_ZIP64_LOCATOR
  ) {
    const z = r.u64(e - 12, 'the zip64 end record offset');
    if (r.u32(z, 'the zip64 end record') !== SIG_ZIP64_EOCD) fail('the zip64 end record is missing');
    count = r.u64(z + 32, 'the zip64 entry count');
    cdSize = r.u64(z + 40, 'the zip64 directory size');
    cdStart = r.u64(z + 48, 'the zip64 directory offset');
  }
  if (cdStart + cdSize > len)
    fail(`the central directory (${size(cdSize)} at byte ${cdStart}) runs past the end of the ${size(len)} file`);
  // Each entry takes at least 46 bytes: a count the directory cannot hold is a lie, not a loop bound.
  if (count * 46 > cdSize) fail(`the directory claims ${count} entries, more than its ${cdSize} bytes can hold`);
  return { count, start: cdStart, end: cdStart + cdSize };
}

function readDirectory(r: Reader, fail: (why: string) => never): CentralEntry[] {
  const { count, start, end } = findDirectory(r, fail);
  const out: CentralEntry[] = [];
  let p = start;
  for (let i = 0; i < count; i++) {
    if (p + 46 > end || r.u32(p, 'a directory entry') !== SIG_CENTRAL)
      fail(`directory entry ${i + 1} of ${count} is damaged`);
    const made = r.u16(p + 4, 'version made by') >> 8;
    const flags = r.u16(p + 8, 'flags');
    const method = r.u16(p + 10, 'method');
    const crc = r.u32(p + 16, 'CRC-32');
    let csize = r.u32(p + 20, 'compressed size');
    let usize = r.u32(p + 24, 'size');
    const n = r.u16(p + 28, 'name length');
    const x = r.u16(p + 30, 'extra length');
    const c = r.u16(p + 32, 'comment length');
    const attrs = r.u32(p + 38, 'attributes');
    let offset = r.u32(p + 42, 'local header offset');
    const name = entryName(r.slice(p + 46, n, 'a file name'), flags);
    // Zip64 extra field: the saturated 32-bit fields, in this order.
    for (let q = p + 46 + n; q + 4 <= p + 46 + n + x;) {
      const id = r.u16(q, 'an extra field');
      const len = r.u16(q + 2, 'an extra field');
      if (id === 0x0001) {
        let f = q + 4;
        const take = () => {
          const v = f + 8 <= q + 4 + len ? r.u64(f, 'a zip64 size') : fail(`the zip64 sizes of ${name} are cut short`);
          f += 8;
          return v;
        };
        if (usize === U32_MAX) usize = take();
        if (csize === U32_MAX) csize = take();
        if (offset === U32_MAX) offset = take();
      }
      q += 4 + len;
    }
    out.push({ name, flags, method, crc, csize, usize, offset, mode: made === 3 || made === 19 ? attrs >>> 16 : null });
    p += 46 + n + x + c;
  }
  return out;
}

/** Where an entry's data is, or why it cannot be read; the local header's own flags and sizes are checked too. */
function locate(
  r: Reader,
  e: CentralEntry,
): { start: number; end: number; encrypted: boolean; localSize: number | null } | { corrupt: string } {
  const b = r.bytes;
  if (
    !(e.offset + 30 <= b.length) ||
    new DataView(b.buffer, b.byteOffset + e.offset, 4).getUint32(0, true) !== SIG_LOCAL
  )
    return { corrupt: 'its local header is missing or outside the archive' };
  const v = new DataView(b.buffer, b.byteOffset + e.offset, 30);
  const flags = v.getUint16(6, true);
  const lsize = v.getUint32(22, true);
  const start = e.offset + 30 + v.getUint16(26, true) + v.getUint16(28, true);
  const end = start + e.csize;
  if (end > b.length) return { corrupt: `its data (${size(e.csize)}) runs past the end of the archive` };
  const localSize = flags & FLAG_DATA_DESCRIPTOR || lsize === U32_MAX ? null : lsize;
  return { start, end, encrypted: (flags & FLAG_ENCRYPTED) !== 0, localSize };
}

interface Plan {
  entry: CentralEntry;
  path: string;
  start: number;
  end: number;
  skip?: { kind: SkipKind; reason: string };
}

/**
 * Entries of the archive as source files whose bytes are unpacked on demand.
 * `prefix` ('' or 'name/') is put in front of every path: several zips (or a
 * zip next to loose files) keep their entries apart, while a single zip's own
 * folder layout is used as is. Only the headers are read here; an entry
 * refused from its headers carries `skip` and is never unpacked.
 */
export function zipEntries(
  name: string,
  bytes: Uint8Array,
  prefix = '',
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): SourceFile[] {
  const unreadable = (why: string): never => {
    throw new ZipError(`${name} is not a readable .zip archive (${why})`);
  };
  const r = new Reader(bytes, unreadable);
  const entries = readDirectory(r, unreadable).filter((e) => !e.name.endsWith('/'));
  const where = `in ${name}`;
  const plans: Plan[] = entries.map((e) => {
    const plan: Plan = { entry: e, path: prefix + e.name, start: 0, end: 0 };
    const refuse = (kind: SkipKind, reason: string): Plan => ({ ...plan, skip: { kind, reason } });
    const loc = locate(r, e);
    if ('corrupt' in loc) return refuse('corrupt', `${loc.corrupt} (${name})`);
    const placed = { ...plan, start: loc.start, end: loc.end };
    if (e.flags & FLAG_ENCRYPTED || loc.encrypted)
      return refuse('encrypted', `encrypted ${where} (password-protected); this app cannot read encrypted zip entries`);
    if (e.mode !== null && (e.mode & 0o170000) === 0o120000) {
      const target =
        e.method === 0 && e.csize <= 1024 ? ` to ${entryName(bytes.subarray(loc.start, loc.end), FLAG_UTF8)}` : '';
      return refuse('symlink', `a symbolic link stored ${where}${target}; links are not followed`);
    }
    if (e.method !== 0 && e.method !== 8) {
      const m = METHOD_NAMES[e.method];
      return refuse(
        'unsupported',
        `compressed ${where} with ${m ? `${m} (method ${e.method})` : `method ${e.method}`}, which this app cannot unpack; re-zip it with the usual Deflate compression`,
      );
    }
    const declared = Math.max(e.usize, loc.localSize ?? 0);
    if (declared > limits.maxEntryBytes) {
      return refuse(
        'unpack-limit',
        `would expand to ${size(declared)} (its header ${where} says so), past the ${cap(limits.maxEntryBytes)} limit for one file; not unpacked`,
      );
    }
    if (loc.localSize !== null && loc.localSize !== e.usize) {
      return refuse('corrupt', `its two headers ${where} disagree on its size (${loc.localSize} and ${e.usize} bytes)`);
    }
    if (e.method === 0 && e.csize !== e.usize)
      return refuse(
        'corrupt',
        `stored uncompressed ${where}, yet its header gives two sizes (${e.csize} and ${e.usize} bytes)`,
      );
    if (e.usize > limits.ratioFloorBytes && e.usize > limits.maxRatio * Math.max(e.csize, 1)) {
      return refuse(
        'unpack-limit',
        `would expand ${Math.round(e.usize / Math.max(e.csize, 1)).toLocaleString('en')}:1 (${size(e.csize)} to ${size(e.usize)}) ${where}, past the ${limits.maxRatio.toLocaleString('en')}:1 limit for files over ${cap(limits.ratioFloorBytes)} (a zip bomb); not unpacked`,
      );
    }
    return placed;
  });

  // Two entries over the same bytes: never made by a zip tool, the trick of the non-recursive zip bomb.
  const byStart = plans.filter((p) => !p.skip).sort((a, b) => a.entry.offset - b.entry.offset);
  let reach: Plan | null = null;
  for (const p of byStart) {
    if (reach && p.entry.offset < reach.end) {
      p.skip = {
        kind: 'unpack-limit',
        reason: `shares its compressed bytes with ${reach.entry.name} ${where} (overlapping entries, a zip-bomb trick); not unpacked`,
      };
    } else if (!reach || p.end > reach.end) reach = p;
  }

  const visible = plans.filter((p) => !isHiddenPath(p.entry.name));
  if (visible.length > 0 && visible.every((p) => p.skip?.kind === 'encrypted')) {
    throw new ZipError(
      `${name}: this zip is encrypted (${visible.length === 1 ? 'its one file needs' : `all ${visible.length} files need`} a password); unzip it with its password and upload the folder`,
    );
  }

  const state = { total: 0 };
  return plans.map((p): SourceFile => {
    const fail = (kind: SkipKind, reason: string): never => {
      throw new ZipError(`${name}: entry ${p.entry.name}: ${reason}`, kind, reason);
    };
    const file: SourceFile = {
      path: p.path,
      size: p.entry.usize,
      bytes: async () => unpack(bytes, p, limits, state, where, name, fail),
    };
    if (p.skip) {
      file.skip = p.skip;
      const { kind, reason } = p.skip;
      file.bytes = async () => fail(kind, reason);
    }
    return file;
  });
}

/** One entry's bytes, counted as they are unpacked; see the module comment for the stops. */
function unpack(
  bytes: Uint8Array,
  p: Plan,
  limits: ZipLimits,
  state: { total: number },
  where: string,
  name: string,
  fail: (kind: SkipKind, reason: string) => never,
): Uint8Array {
  const e = p.entry;
  const overTotal = () =>
    fail('unpack-limit', `would take ${name} past ${cap(limits.maxTotalBytes)} unpacked in total; stopped`);
  if (state.total >= limits.maxTotalBytes && e.usize > 0) overTotal();
  const src = bytes.subarray(p.start, p.end);
  let out: Uint8Array;
  if (e.method === 0) {
    if (state.total + src.length > limits.maxTotalBytes) overTotal();
    state.total += src.length;
    out = src;
  } else {
    const whole = new Uint8Array(e.usize);
    let produced = 0;
    // Set inside fflate's callback, acted on after its push returns (throwing through fflate would leave it mid-state).
    const halt: { at: number } = { at: -1 };
    const inflater = new Inflate((chunk) => {
      if (halt.at >= 0 || chunk.length === 0) return;
      if (produced + chunk.length > e.usize) {
        halt.at = produced + chunk.length;
        return;
      }
      whole.set(chunk, produced);
      produced += chunk.length;
      state.total += chunk.length;
    });
    for (let at = 0; ; at += PUSH_BYTES) {
      const to = Math.min(at + PUSH_BYTES, src.length);
      try {
        inflater.push(src.subarray(at, to), to === src.length);
      } catch (err) {
        fail('corrupt', `could not be unpacked from ${name} (${err instanceof Error ? err.message : String(err)})`);
      }
      if (halt.at >= 0)
        fail(
          'unpack-limit',
          `expands past the ${size(e.usize)} its header ${where} declares (a wrong header, or a zip bomb); stopped at ${size(halt.at)}`,
        );
      if (produced > limits.ratioFloorBytes && produced > limits.maxRatio * to) {
        fail(
          'unpack-limit',
          `expands more than ${limits.maxRatio.toLocaleString('en')}:1 ${where} (${size(produced)} from ${size(to)} so far, a zip bomb); stopped`,
        );
      }
      if (state.total > limits.maxTotalBytes) overTotal();
      if (to === src.length) break;
    }
    out = whole;
    if (produced !== e.usize)
      fail('corrupt', `unpacks to ${produced} bytes, though its header ${where} says ${e.usize}`);
  }
  if (crc32(out) !== e.crc) fail('corrupt', `its data fails the CRC-32 check ${where} (damaged)`);
  return out;
}
