/**
 * Over 500 lines: one case per kind of archive issue 16 names (bombs by
 * ratio, count and size, encrypted, linked, damaged and unsupported
 * entries), each built by hand with fflate so the bytes under test are plain.
 */
import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { Deflate, Zip, ZipDeflate, deflateSync, unzipSync, zipSync } from 'fflate';
import { zipEntries, ZipError, zipLimits, type ZipLimits } from './zip';
import type { SourceFile } from './load-images';

const MiB = 2 ** 20;

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

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Raw Deflate of `mib` MiB of zeros, made 1 MiB at a time so the test never holds the unpacked bomb. */
function deflatedZeros(mib: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const d = new Deflate({ level: 9 }, (chunk) => parts.push(chunk));
  const block = new Uint8Array(MiB);
  for (let i = 0; i < mib; i++) d.push(block, i === mib - 1);
  return concat(parts);
}

/** One entry of a hand-built zip: every header field can be set, to make archives no zip tool would. */
interface RawEntry {
  name: string;
  /** The entry's data as stored (already compressed when method is 8). */
  data: Uint8Array;
  method: number;
  crc: number;
  usize: number;
  /** Declared compressed size (default: the data's length). */
  csize?: number;
  flags?: number;
  /** Unix mode, written as made on Unix (host 3). */
  unixMode?: number;
  /** Point this central record at entry `shareWith`'s local header instead of a new one. */
  shareWith?: number;
}

function stored(name: string, plain: Uint8Array): RawEntry {
  return { name, data: plain, method: 0, crc: crc32(plain), usize: plain.length };
}

function deflated(name: string, plain: Uint8Array): RawEntry {
  return { name, data: deflateSync(plain), method: 8, crc: crc32(plain), usize: plain.length };
}

/**
 * Local headers + data, central directory, end record: the classic layout,
 * both headers carrying the same fields. `zip64`: every size, offset and
 * count saturated and given in zip64 extra fields and end records instead,
 * as zip tools write past 4 GiB or 65,535 entries.
 */
function buildZip(entries: RawEntry[], zip64 = false): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const e of entries) {
    if (e.shareWith !== undefined) {
      offsets.push(offsets[e.shareWith]);
      continue;
    }
    const name = enc.encode(e.name);
    const h = new Uint8Array(30 + name.length + (zip64 ? 20 : 0));
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, 20, true);
    v.setUint16(6, (e.flags ?? 0) | 0x0800, true);
    v.setUint16(8, e.method, true);
    v.setUint32(14, e.crc, true);
    v.setUint32(18, zip64 ? 0xffffffff : (e.csize ?? e.data.length), true);
    v.setUint32(22, zip64 ? 0xffffffff : e.usize, true);
    v.setUint16(26, name.length, true);
    h.set(name, 30);
    if (zip64) {
      v.setUint16(28, 20, true);
      v.setUint16(30 + name.length, 0x0001, true);
      v.setUint16(32 + name.length, 16, true);
      v.setBigUint64(34 + name.length, BigInt(e.usize), true);
      v.setBigUint64(42 + name.length, BigInt(e.csize ?? e.data.length), true);
    }
    offsets.push(at);
    parts.push(h, e.data);
    at += h.length + e.data.length;
  }
  const cdStart = at;
  entries.forEach((e, i) => {
    const name = enc.encode(e.name);
    const src = e.shareWith !== undefined ? entries[e.shareWith] : e;
    const h = new Uint8Array(46 + name.length + (zip64 ? 28 : 0));
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x02014b50, true);
    v.setUint16(4, e.unixMode !== undefined ? (3 << 8) | 20 : 20, true);
    v.setUint16(6, 20, true);
    v.setUint16(8, (e.flags ?? 0) | 0x0800, true);
    v.setUint16(10, e.method, true);
    v.setUint32(16, e.crc, true);
    v.setUint32(20, zip64 ? 0xffffffff : (e.csize ?? src.data.length), true);
    v.setUint32(24, zip64 ? 0xffffffff : e.usize, true);
    v.setUint16(28, name.length, true);
    if (e.unixMode !== undefined) v.setUint32(38, (e.unixMode << 16) >>> 0, true);
    v.setUint32(42, zip64 ? 0xffffffff : offsets[i], true);
    h.set(name, 46);
    if (zip64) {
      // Zip64 extra: the saturated fields in the order size, compressed size, offset.
      v.setUint16(30, 28, true);
      v.setUint16(46 + name.length, 0x0001, true);
      v.setUint16(48 + name.length, 24, true);
      v.setBigUint64(50 + name.length, BigInt(e.usize), true);
      v.setBigUint64(58 + name.length, BigInt(e.csize ?? src.data.length), true);
      v.setBigUint64(66 + name.length, BigInt(offsets[i]), true);
    }
    parts.push(h);
    at += h.length;
  });
  if (zip64) {
    const rec = new Uint8Array(56 + 20);
    const z = new DataView(rec.buffer);
    z.setUint32(0, 0x06064b50, true);
    z.setBigUint64(4, 44n, true);
    z.setUint16(12, 45, true);
    z.setUint16(14, 45, true);
    z.setBigUint64(24, BigInt(entries.length), true);
    z.setBigUint64(32, BigInt(entries.length), true);
    z.setBigUint64(40, BigInt(at - cdStart), true);
    z.setBigUint64(48, BigInt(cdStart), true);
    z.setUint32(56, 0x07064b50, true);
    z.setBigUint64(64, BigInt(at), true);
    z.setUint32(72, 1, true);
    parts.push(rec);
  }
  const end = new Uint8Array(22);
  const v = new DataView(end.buffer);
  v.setUint32(0, 0x06054b50, true);
  v.setUint16(8, zip64 ? 0xffff : entries.length, true);
  v.setUint16(10, zip64 ? 0xffff : entries.length, true);
  v.setUint32(12, zip64 ? 0xffffffff : at - cdStart, true);
  v.setUint32(16, zip64 ? 0xffffffff : cdStart, true);
  parts.push(end);
  return concat(parts);
}

/** Small caps so a test bomb is small and fast: 8 MiB per entry, 32 MiB per archive, 1000:1 above 1 MiB. */
const SMALL: ZipLimits = { maxEntryBytes: 8 * MiB, maxTotalBytes: 32 * MiB, maxRatio: 1000, ratioFloorBytes: MiB };

async function rejection(f: SourceFile): Promise<ZipError> {
  const e = await f.bytes().then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof ZipError)) throw new Error(`expected a ZipError from ${f.path}, got ${String(e)}`);
  return e;
}

interface NodeProcess {
  env: Record<string, string | undefined>;
  memoryUsage(): { arrayBuffers: number };
  getBuiltinModule?(id: string): unknown;
}
/** Node's process, typed here: src/io is also type-checked for the browser (tsconfig.app.json), without Node's types. */
const nodeProcess = (globalThis as unknown as { process: NodeProcess }).process;

/** Bytes held in ArrayBuffers after a full collection (V8's own gc, reached without --expose-gc). */
function heldBytes(): number {
  const v8 = nodeProcess.getBuiltinModule?.('node:v8') as { setFlagsFromString(flags: string): void } | undefined;
  const vm = nodeProcess.getBuiltinModule?.('node:vm') as { runInNewContext(code: string): unknown } | undefined;
  if (v8 && vm) {
    v8.setFlagsFromString('--expose-gc');
    (vm.runInNewContext('gc') as () => void)();
  }
  return nodeProcess.memoryUsage().arrayBuffers;
}

describe('zipEntries: ordinary archives', () => {
  it('lists and unpacks what fflate.unzipSync does: stored and deflated, UTF-8 names, folders dropped, central order', async () => {
    const files: Record<string, Uint8Array> = {
      'cats/': new Uint8Array(0),
      'cats/1.png': Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 255),
      'cats/café.png': new Uint8Array([1, 2, 3]),
      'dogs/2.png': new Uint8Array(70_000).fill(9),
      '__MACOSX/._x': new Uint8Array([9]),
      'empty.png': new Uint8Array(0),
    };
    for (const level of [0, 6] as const) {
      const zip = zipSync(files, { level });
      const expected = Object.entries(unzipSync(zip)).filter(([p]) => !p.endsWith('/'));
      const got = zipEntries('pets.zip', zip);
      expect(got.map((f) => [f.path, f.size, f.skip])).toEqual(expected.map(([p, d]) => [p, d.length, undefined]));
      for (const [i, f] of got.entries()) expect(await f.bytes()).toEqual(expected[i][1]);
    }
  });

  it('reads a zip64 archive (sizes, offsets and counts in zip64 fields, as written past 4 GiB or 65,535 entries)', async () => {
    const a = Uint8Array.from({ length: 3000 }, (_, i) => (i * 5) & 255);
    const b = new Uint8Array(800).fill(4);
    const files = zipEntries('big.zip', buildZip([deflated('x/a.png', a), stored('x/b.png', b)], true));
    expect(files.map((f) => [f.path, f.size, f.skip])).toEqual([
      ['x/a.png', 3000, undefined],
      ['x/b.png', 800, undefined],
    ]);
    expect(await files[0].bytes()).toEqual(a);
    expect(await files[1].bytes()).toEqual(b);
    // And a zip64 bomb is caught from its zip64 size field as any other.
    const bomb = zipEntries(
      'big.zip',
      buildZip([{ name: 'z.png', data: deflatedZeros(16), method: 8, crc: 0, usize: 16 * MiB }], true),
      '',
      SMALL,
    );
    expect(bomb[0].skip?.reason).toBe(
      'would expand to 16.0 MiB (its header in big.zip says so), past the 8 MiB limit for one file; not unpacked',
    );
  });

  it('reads a streamed zip (sizes in data descriptors after the data, as zip -, Java and fflate.Zip write)', async () => {
    const parts: Uint8Array[] = [];
    const z = new Zip((err, chunk) => {
      if (err) throw err;
      parts.push(chunk);
    });
    const plain = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) & 255);
    const f = new ZipDeflate('a/img.png', { level: 6 });
    z.add(f);
    f.push(plain.subarray(0, 40_000));
    f.push(plain.subarray(40_000), true);
    z.end();
    const [entry] = zipEntries('s.zip', concat(parts));
    expect(entry.path).toBe('a/img.png');
    expect(await entry.bytes()).toEqual(plain);
  });
});

describe('zipEntries: zip bombs', () => {
  it('refuses a 64 MiB bomb from its honest header without unpacking it, naming archive, entry and cap', async () => {
    const bomb = buildZip([{ name: 'zeros.png', data: deflatedZeros(64), method: 8, crc: 0, usize: 64 * MiB }]);
    expect(bomb.length).toBeLessThan(100 * 1024);
    const before = heldBytes();
    const files = zipEntries('bomb.zip', bomb, '', SMALL);
    const after = heldBytes();
    expect(files[0].skip).toEqual({
      kind: 'unpack-limit',
      reason:
        'would expand to 64.0 MiB (its header in bomb.zip says so), past the 8 MiB limit for one file; not unpacked',
    });
    const e = await rejection(files[0]);
    expect(e.message).toBe(
      'bomb.zip: entry zeros.png: would expand to 64.0 MiB (its header in bomb.zip says so), past the 8 MiB limit for one file; not unpacked',
    );
    expect(e.kind).toBe('unpack-limit');
    // unzipSync held all 64 MiB here.
    expect(after - before).toBeLessThan(4 * MiB);
  });

  it('refuses a declared expansion over 1000:1 above the floor, though within the size cap', () => {
    const files = zipEntries(
      'r.zip',
      buildZip([{ name: 'z.bmp', data: deflatedZeros(4), method: 8, crc: 0, usize: 4 * MiB }]),
      '',
      SMALL,
    );
    expect(files[0].skip?.kind).toBe('unpack-limit');
    expect(files[0].skip?.reason).toMatch(
      /^would expand 1,0\d\d:1 \(4\.0 KiB to 4\.0 MiB\) in r\.zip, past the 1,000:1 limit for files over 1 MiB \(a zip bomb\); not unpacked$/,
    );
  });

  it('stops a bomb whose header lies (declares 1 KiB) right after the declared size, with bounded memory', async () => {
    const bomb = buildZip([{ name: 'x.png', data: deflatedZeros(64), method: 8, crc: 0, usize: 1024 }]);
    const [f] = zipEntries('liar.zip', bomb, '', SMALL);
    expect(f.skip).toBeUndefined();
    const before = heldBytes();
    const e = await rejection(f);
    const after = heldBytes();
    expect(e.kind).toBe('unpack-limit');
    expect(e.message).toMatch(
      /^liar\.zip: entry x\.png: expands past the 1\.0 KiB its header in liar\.zip declares \(a wrong header, or a zip bomb\); stopped at ([\d.]+) MiB$/,
    );
    // One 16 KiB push of zeros inflates to at most ~16.5 MiB: that is where it stopped, not at 64 MiB.
    const stoppedAt = Number(/stopped at ([\d.]+) MiB$/.exec(e.message)![1]);
    expect(stoppedAt).toBeLessThanOrEqual(16.5);
    expect(after - before).toBeLessThan(4 * MiB);
  });

  it('stops an actual expansion over 1000:1 that padding hid from the declared sizes, after one slice', async () => {
    // 32 MiB of zeros (~32 KiB of Deflate) then 32 KiB of padding: declared 32 MiB from 64 KiB is 512:1, the stream itself ~1030:1.
    const data = concat([deflatedZeros(32), new Uint8Array(32 * 1024).fill(0x55)]);
    const limits = { ...SMALL, maxEntryBytes: 64 * MiB, maxTotalBytes: 256 * MiB };
    const [f] = zipEntries(
      'pad.zip',
      buildZip([{ name: 'p.png', data, method: 8, crc: 0, usize: 32 * MiB }]),
      '',
      limits,
    );
    expect(f.skip).toBeUndefined();
    const e = await rejection(f);
    expect(e.kind).toBe('unpack-limit');
    // Stopped after the first 16 KiB slice, not at 32 MiB.
    expect(e.reason).toMatch(
      /^expands more than 1,000:1 in pad\.zip \(1[56]\.\d MiB from 16\.0 KiB so far, a zip bomb\); stopped$/,
    );
  });

  it('stops at the total cap: entries each within the limits, too many of them together', async () => {
    const plain = Uint8Array.from({ length: 3 * MiB }, (_, i) => (i * 2654435761) >>> 24);
    const entry = deflated('a.png', plain);
    const entries = Array.from({ length: 12 }, (_, i) => ({ ...entry, name: `f${String(i).padStart(2, '0')}.png` }));
    const files = zipEntries('many.zip', buildZip(entries), '', SMALL);
    const results: (string | number)[] = [];
    for (const f of files)
      results.push(
        await f.bytes().then(
          (b) => b.length,
          (e: ZipError) => e.reason,
        ),
      );
    // 32 MiB = ten 3 MiB entries and a part: the eleventh and twelfth are refused.
    expect(results.slice(0, 10)).toEqual(Array(10).fill(3 * MiB));
    expect(results.slice(10)).toEqual([
      'would take many.zip past 32 MiB unpacked in total; stopped',
      'would take many.zip past 32 MiB unpacked in total; stopped',
    ]);
  });

  it('refuses entries that share compressed bytes (the overlapping, non-recursive bomb)', async () => {
    const base = { name: 'k.png', data: deflatedZeros(1), method: 8, crc: crc32(new Uint8Array(MiB)), usize: MiB };
    const entries: RawEntry[] = [
      base,
      ...Array.from({ length: 50 }, (_, i) => ({ ...base, name: `k${i}.png`, shareWith: 0 })),
    ];
    const files = zipEntries('overlap.zip', buildZip(entries), '', SMALL);
    expect(files).toHaveLength(51);
    expect((await files[0].bytes()).length).toBe(MiB);
    expect(files.slice(1).every((f) => f.skip?.kind === 'unpack-limit')).toBe(true);
    expect(files[1].skip?.reason).toBe(
      'shares its compressed bytes with k.png in overlap.zip (overlapping entries, a zip-bomb trick); not unpacked',
    );
  });

  it('derives the caps from the memory budget: an eighth per entry (at least 16 MiB), eight budgets in total', () => {
    expect(zipLimits(512 * MiB)).toEqual({
      maxEntryBytes: 64 * MiB,
      maxTotalBytes: 4096 * MiB,
      maxRatio: 1000,
      ratioFloorBytes: 4 * MiB,
    });
    expect(zipLimits(16 * MiB).maxEntryBytes).toBe(16 * MiB);
  });
});

describe('zipEntries: encrypted, linked, unsupported and damaged entries', () => {
  const png = Uint8Array.from({ length: 300 }, (_, i) => i & 255);

  it("lists an encrypted entry (flag bit 0 in both headers) as 'encrypted' and keeps the others", async () => {
    const files = zipEntries(
      'mixed.zip',
      buildZip([{ ...stored('secret.png', png), flags: 1 }, stored('open.png', png)]),
    );
    expect(files[0].skip).toEqual({
      kind: 'encrypted',
      reason: 'encrypted in mixed.zip (password-protected); this app cannot read encrypted zip entries',
    });
    expect((await rejection(files[0])).kind).toBe('encrypted');
    expect(files[1].skip).toBeUndefined();
    expect(await files[1].bytes()).toEqual(png);
  });

  it('an encrypted flag in the local header alone is enough', () => {
    const zip = buildZip([stored('a.png', png), stored('b.png', png)]);
    zip[6] |= 1; // first local header's flags
    expect(zipEntries('l.zip', zip).map((f) => f.skip?.kind)).toEqual(['encrypted', undefined]);
  });

  it('says "this zip is encrypted" when every file in it is (hidden files aside)', () => {
    const zip = buildZip([
      { ...stored('a/1.png', png), flags: 1 },
      { ...stored('a/2.png', png), flags: 1 },
      stored('__MACOSX/._1.png', png),
    ]);
    expect(() => zipEntries('locked.zip', zip)).toThrow(
      new ZipError(
        'locked.zip: this zip is encrypted (all 2 files need a password); unzip it with its password and upload the folder',
      ),
    );
  });

  it("lists a symbolic link stored in the zip (Unix mode 0120000) as 'symlink', with its target, never as a file", () => {
    const link = { ...stored('a/escape.png', new TextEncoder().encode('../../../etc/passwd')), unixMode: 0o120777 };
    const files = zipEntries('links.zip', buildZip([link, { ...stored('a/ok.png', png), unixMode: 0o100644 }]));
    expect(files[0].skip).toEqual({
      kind: 'symlink',
      reason: 'a symbolic link stored in links.zip to ../../../etc/passwd; links are not followed',
    });
    expect(files[1].skip).toBeUndefined();
  });

  it("names a compression method it cannot unpack ('unsupported') instead of failing the whole archive", async () => {
    const files = zipEntries('bz.zip', buildZip([{ ...stored('a.png', png), method: 12 }, deflated('b.png', png)]));
    expect(files[0].skip).toEqual({
      kind: 'unsupported',
      reason:
        'compressed in bz.zip with bzip2 (method 12), which this app cannot unpack; re-zip it with the usual Deflate compression',
    });
    expect(await files[1].bytes()).toEqual(png);
  });

  it("reports damaged entries as 'corrupt': bad CRC-32, bad Deflate data, wrong size, data past the end", async () => {
    const bad = deflated('bad.png', png);
    const files = zipEntries(
      'd.zip',
      buildZip([
        { ...stored('crc.png', png), crc: 1234 },
        // First three bits 1, 11: a final block of type 3, which Deflate does not have.
        { ...bad, data: Uint8Array.from(bad.data, (b, i) => (i === 0 ? 0x07 : b)) },
        { ...deflated('short.png', png), usize: 200 },
        { ...stored('long.png', png), csize: 10_000_000, usize: 10_000_000 },
      ]),
      '',
      SMALL,
    );
    const reasons = await Promise.all(
      files.map((f) =>
        f.skip
          ? Promise.resolve(`${f.skip.kind}: ${f.skip.reason}`)
          : rejection(f).then((e) => `${e.kind}: ${e.reason}`),
      ),
    );
    expect(reasons[0]).toBe('corrupt: its data fails the CRC-32 check in d.zip (damaged)');
    expect(reasons[1]).toBe('corrupt: could not be unpacked from d.zip (invalid block type)');
    expect(reasons[2]).toMatch(/^unpack-limit: expands past the 200 B its header in d\.zip declares/);
    expect(reasons[3]).toBe('corrupt: its data (9.5 MiB) runs past the end of the archive (d.zip)');
  });

  it('names the archive when it cannot be read at all', () => {
    expect(() => zipEntries('broken.zip', new Uint8Array([1, 2, 3, 4]))).toThrow(
      new ZipError(
        'broken.zip is not a readable .zip archive (no end-of-central-directory record: not a zip, or cut off)',
      ),
    );
    const ok = zipSync({ 'a.png': png });
    expect(() => zipEntries('cut.zip', ok.subarray(0, ok.length - 30))).toThrow(
      /^cut\.zip is not a readable \.zip archive \(/,
    );
  });
});

/**
 * Hostile bytes: whatever the archive, zipEntries and every entry's bytes()
 * either work or throw this module's ZipError with a message, and what they
 * hand out stays within the caps. Fixed seed and run count so a test run
 * takes seconds; for a long hunt: FUZZ_RUNS=20000 FUZZ_SEED=$RANDOM npx vitest run src/io/zip.test.ts
 */
describe('zipEntries fuzz', () => {
  const RUNS = Number(nodeProcess.env.FUZZ_RUNS ?? 200);
  const SEED = Number(nodeProcess.env.FUZZ_SEED ?? 1);
  const FUZZ_LIMITS: ZipLimits = {
    maxEntryBytes: 256 * 1024,
    maxTotalBytes: 1024 * 1024,
    maxRatio: 1000,
    ratioFloorBytes: 64 * 1024,
  };

  /** Zips to mutate: ordinary (stored, deflated), a small bomb, an encrypted entry, a zip64 one. */
  const bases: Uint8Array[] = [
    zipSync(
      {
        'a/1.png': Uint8Array.from({ length: 2000 }, (_, i) => (i * 13) & 255),
        'a/2.png': new Uint8Array(40).fill(3),
        'b/': new Uint8Array(0),
      },
      { level: 6 },
    ),
    zipSync(
      { 'x.png': Uint8Array.from({ length: 500 }, (_, i) => i & 255), 'y.txt': new Uint8Array([1, 2]) },
      { level: 0 },
    ),
    buildZip([
      { name: 'z.png', data: deflatedZeros(2), method: 8, crc: 0, usize: 2 * MiB },
      deflated('k.png', new Uint8Array(100_000).fill(7)),
    ]),
    buildZip([{ ...stored('e.png', new Uint8Array(64)), flags: 1 }, deflated('f.png', new Uint8Array(3000).fill(1))]),
    buildZip(
      [
        deflated(
          'g.png',
          Uint8Array.from({ length: 4000 }, (_, i) => (i * 3) & 255),
        ),
        stored('h.png', new Uint8Array(100).fill(2)),
      ],
      true,
    ),
  ];

  async function exercise(bytes: Uint8Array): Promise<void> {
    let files: SourceFile[];
    try {
      files = zipEntries('fuzz.zip', bytes, '', FUZZ_LIMITS);
    } catch (e) {
      expect(e).toBeInstanceOf(ZipError);
      expect((e as ZipError).message).toMatch(/^fuzz\.zip/);
      return;
    }
    let total = 0;
    for (const f of files) {
      try {
        const b = await f.bytes();
        expect(b.length).toBeLessThanOrEqual(FUZZ_LIMITS.maxEntryBytes);
        total += b.length;
      } catch (e) {
        expect(e).toBeInstanceOf(ZipError);
        expect((e as ZipError).kind).not.toBeNull();
        expect((e as ZipError).message).toMatch(/^fuzz\.zip: entry .*: \S/);
      }
    }
    expect(total).toBeLessThanOrEqual(FUZZ_LIMITS.maxTotalBytes);
  }

  it('random bytes, with and without an end record', async () => {
    const eocd = Uint8Array.from([0x50, 0x4b, 0x05, 0x06]);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), async (junk, withEnd) => {
        await exercise(withEnd ? concat([junk, eocd, junk.subarray(0, 18)]) : junk);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('valid zips with flipped bytes, cut short, or with size and offset fields rewritten', async () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
      // A 32-bit field anywhere: sizes, offsets and counts in headers are all 32-bit little-endian words.
      fc.record({
        op: fc.constant('word' as const),
        at: fc.nat(),
        value: fc.oneof(
          fc.constant(0),
          fc.constant(0xffffffff),
          fc.nat({ max: 0x7fffffff }),
          fc.integer({ min: 1, max: 4096 }),
        ),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: bases.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (which, muts) => {
          let b: Uint8Array = bases[which].slice();
          for (const m of muts) {
            if (b.length === 0) break;
            const at = m.at % b.length;
            if (m.op === 'flip') b[at] = m.value;
            else if (m.op === 'cut') b = b.slice(0, at);
            else if (at + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(at, m.value, true);
          }
          await exercise(b);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
