import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { contentHash, loadImages, planSources, readHeader, type ImageDecoder, type SourceFile } from './load-images';
import { zipEntries, ZipError } from './zip';
import type { DecodeOutcome } from '../core/data/upload';

const S = 2;

/** A PNG signature + IHDR chunk: enough for a header read (the CRC is not checked by image-size). */
function pngHeader(w: number, h: number, tag = 0): Uint8Array {
  const b = new Uint8Array(33 + 4);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  const v = new DataView(b.buffer);
  v.setUint32(8, 13);
  b.set([0x49, 0x48, 0x44, 0x52], 12); // IHDR
  v.setUint32(16, w);
  v.setUint32(20, h);
  b.set([8, 2, 0, 0, 0], 24);
  b[33] = tag; // makes otherwise equal headers different files
  return b;
}

/** Fake decoder: the pixel value is the file's tag byte; 0xEE means corrupt. Records what it was asked to decode. */
class TagDecoder implements ImageDecoder {
  seen: number[] = [];
  async decode(bytes: Uint8Array): Promise<DecodeOutcome> {
    const tag = bytes[33];
    this.seen.push(tag);
    if (tag === 0xee) return { ok: false, kind: 'corrupt', reason: 'tag says corrupt' };
    return { ok: true, rgb: new Uint8Array(S * S * 3).fill(tag) };
  }
}

function file(path: string, bytes: Uint8Array, delayMs = 0): SourceFile {
  return { path, size: bytes.length, bytes: () => new Promise((r) => setTimeout(() => r(bytes), delayMs)) };
}

const opts = { size: S, fit: 'crop' as const, maxPixels: 1_000_000 };

describe('loadImages (fake decoder)', () => {
  it('keeps the earlier of two equal files in folder order even when the later one is read first', async () => {
    const same = pngHeader(4, 4, 7);
    const files = [
      file('r/a/first.png', same, 30),
      file('r/a/x.png', pngHeader(4, 4, 9)),
      file('r/b/second.png', same, 0),
      file('r/b/y.png', pngHeader(4, 4, 11)),
    ];
    const r = await loadImages(files, new TagDecoder(), { ...opts, concurrency: 4 });
    expect(r.report.skipped).toEqual([
      { entry: 2, path: 'r/b/second.png', kind: 'duplicate', reason: 'same bytes as r/a/first.png' },
    ]);
    expect(Array.from(r.images.filter((_, i) => i % (S * S * 3) === 0))).toEqual([7, 9, 11]);
    expect(Array.from(r.labels!)).toEqual([0, 0, 1]);
  });

  it('skips over-limit images from the header without decoding them, and reports decoder and read failures', async () => {
    const dec = new TagDecoder();
    const broken: SourceFile = {
      path: 'r/a/gone.png',
      size: 10,
      bytes: () => Promise.reject(new Error('NotReadableError')),
    };
    const files = [
      file('r/a/big.png', pngHeader(2000, 1000, 1)),
      file('r/a/ok.png', pngHeader(10, 10, 2)),
      file('r/b/bad.png', pngHeader(10, 10, 0xee)),
      broken,
      file('r/b/ok.png', pngHeader(3, 3, 4)),
    ];
    const r = await loadImages(files, dec, { ...opts, maxPixels: 1_000_000 });
    expect(dec.seen.sort((a, b) => a - b)).toEqual([2, 4, 0xee]);
    expect(r.report.skipped.map((s) => [s.path, s.kind, s.reason])).toEqual([
      ['r/a/big.png', 'too-large', '2000×1000 = 2.0 MP, over the 1.0 MP limit'],
      ['r/b/bad.png', 'corrupt', 'tag says corrupt'],
      ['r/a/gone.png', 'corrupt', 'could not be read (NotReadableError)'],
    ]);
    expect(r.report.loaded).toBe(2);
  });

  it('a decoder that throws is a corrupt file, not a failed load', async () => {
    const thrower: ImageDecoder = { decode: () => Promise.reject(new Error('boom')) };
    const r = await loadImages([file('a.png', pngHeader(2, 2, 1)), file('b.png', pngHeader(2, 2, 2))], thrower, opts);
    expect(r.report.loaded).toBe(0);
    expect(r.report.skipped.map((s) => s.reason)).toEqual([
      'could not be decoded (boom)',
      'could not be decoded (boom)',
    ]);
  });

  it('decodes only the seeded subset when asked, and says so', async () => {
    const files = Array.from({ length: 20 }, (_, i) =>
      file(`r/${i % 2 ? 'odd' : 'even'}/${String(i).padStart(2, '0')}.png`, pngHeader(2, 2, i + 1)),
    );
    const dec = new TagDecoder();
    const r = await loadImages(files, dec, { ...opts, subset: { count: 5, seed: 3 } });
    expect(dec.seen.length).toBe(5);
    expect(r.report.loaded).toBe(5);
    expect(r.report.notes).toContain('a seeded random subset of 5 of the 20 images was loaded (seed 3)');
    const again = await loadImages(files, new TagDecoder(), { ...opts, subset: { count: 5, seed: 3 } });
    expect(Array.from(again.images)).toEqual(Array.from(r.images));
  });

  it('stops when cancelled, reports progress monotonically and ends with a final count', async () => {
    const files = Array.from({ length: 30 }, (_, i) => file(`r/${i}.png`, pngHeader(2, 2, i + 1), 1));
    let asked = 0;
    const seen: number[] = [];
    const r = await loadImages(files, new TagDecoder(), {
      ...opts,
      concurrency: 2,
      isCancelled: () => ++asked > 10,
      progressEveryMs: 0,
      onProgress: (p) => seen.push(p.done),
    });
    expect(r.cancelled).toBe(true);
    expect(r.report.loaded).toBeLessThan(30);
    expect(r.report.loaded).toBeGreaterThan(0);
    expect(r.report.notes.at(-1)).toBe(`cancelled after ${r.report.loaded} of 30 images`);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(r.report.loaded);
  });
});

describe('skips decided while listing or unpacking', () => {
  /** Sets general-purpose flag bit 0 (encrypted) on `name` in a zipSync archive: its local and its central header. */
  function encrypt(zip: Uint8Array, name: string): Uint8Array {
    const out = zip.slice();
    const v = new DataView(out.buffer);
    const enc = new TextEncoder().encode(name);
    const nameAt = (at: number) => enc.every((b, i) => out[at + i] === b);
    for (let p = 0; p + 46 <= out.length; p++) {
      const sig = v.getUint32(p, true);
      if (sig === 0x04034b50 && nameAt(p + 30)) out[p + 6] |= 1;
      if (sig === 0x02014b50 && nameAt(p + 46)) out[p + 8] |= 1;
    }
    return out;
  }

  it('lists symbolic links, encrypted zip entries and entries stopped while unpacking under their own kinds, reading none of them', async () => {
    const zip = encrypt(
      zipSync({ 'r/a/secret.png': pngHeader(4, 4, 5), 'r/a/open.png': pngHeader(4, 4, 6) }, { level: 0 }),
      'r/a/secret.png',
    );
    const read: string[] = [];
    const never = (path: string): SourceFile => ({
      path,
      size: 10,
      skip: {
        kind: 'symlink',
        reason: 'a symbolic link to ../../etc/passwd; links are not followed, so nothing outside the folder is read',
      },
      bytes: () => {
        read.push(path);
        return Promise.reject(new Error('read a link'));
      },
    });
    const bomb: SourceFile = {
      path: 'r/b/bomb.png',
      size: 1024,
      bytes: () =>
        Promise.reject(
          new ZipError(
            'z.zip: entry bomb.png: expands past the 1.0 KiB its header in z.zip declares; stopped at 16.0 MiB',
            'unpack-limit',
            'expands past the 1.0 KiB its header in z.zip declares; stopped at 16.0 MiB',
          ),
        ),
    };
    const files = [
      ...zipEntries('z.zip', zip),
      never('r/b/link.png'),
      never('r/b/link.txt'),
      file('r/b/ok.png', pngHeader(4, 4, 7)),
      bomb,
    ];
    const plan = planSources(files);
    expect(plan.candidates.map((c) => c.path)).toEqual(['r/a/open.png', 'r/b/ok.png', 'r/b/bomb.png']);
    const r = await loadImages(files, new TagDecoder(), opts);
    expect(read).toEqual([]);
    expect(r.report.loaded).toBe(2);
    expect(r.report.skipped.map((s) => [s.path, s.kind])).toEqual([
      ['r/a/secret.png', 'encrypted'],
      ['r/b/link.png', 'symlink'],
      ['r/b/link.txt', 'symlink'],
      ['r/b/bomb.png', 'unpack-limit'],
    ]);
    expect(r.report.skipped[0].reason).toBe(
      'encrypted in z.zip (password-protected); this app cannot read encrypted zip entries',
    );
    expect(r.report.skipped[3].reason).toBe(
      'expands past the 1.0 KiB its header in z.zip declares; stopped at 16.0 MiB',
    );
    expect(r.report.countsByKind).toMatchObject({
      encrypted: 1,
      symlink: 2,
      'unpack-limit': 1,
      'not-image': 0,
      corrupt: 0,
    });
  });
});

describe('readHeader and contentHash', () => {
  it('reads PNG sizes from the header and gives null for bytes it does not know', () => {
    expect(readHeader(pngHeader(640, 480))).toMatchObject({ width: 640, height: 480, type: 'png' });
    expect(readHeader(new TextEncoder().encode('hello, not an image'))).toBeNull();
  });

  it('hashes as SHA-256 (known vector for "abc")', async () => {
    expect(await contentHash(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('zipEntries', () => {
  it('lists files (not folders) with their bytes, under an optional prefix', async () => {
    const zip = zipSync({
      'cats/': new Uint8Array(0),
      'cats/1.png': new Uint8Array([1, 2, 3]),
      'dogs/2.png': new Uint8Array([4]),
      '__MACOSX/._x': new Uint8Array([9]),
    });
    const files = zipEntries('pets.zip', zip, 'pets/');
    expect(files.map((f) => [f.path, f.size])).toEqual([
      ['pets/cats/1.png', 3],
      ['pets/dogs/2.png', 1],
      ['pets/__MACOSX/._x', 1],
    ]);
    expect(Array.from(await files[0].bytes())).toEqual([1, 2, 3]);
  });

  it('names the archive when it cannot be read', () => {
    expect(() => zipEntries('broken.zip', new Uint8Array([1, 2, 3, 4]))).toThrow(ZipError);
    expect(() => zipEntries('broken.zip', new Uint8Array([1, 2, 3, 4]))).toThrow(
      /^broken\.zip is not a readable \.zip archive/,
    );
  });
});
