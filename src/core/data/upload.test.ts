import { describe, expect, it } from 'vitest';
import {
  budgetCount,
  estimateBytes,
  finishUpload,
  formatReport,
  pixelLimitReason,
  planUpload,
  seededSubset,
  type DecodeOutcome,
} from './upload';

const S = 2;
const px = (v: number) => new Uint8Array(S * S * 3).fill(v);
const ok = (v: number): DecodeOutcome => ({ ok: true, rgb: px(v) });

describe('planUpload: the name and size checks', () => {
  it('sorts a dropped folder into candidates, silent hidden files, and listed skips in folder order', () => {
    const entries = [
      { path: 'pets/cats/1.png', size: 10 },
      { path: 'pets/.DS_Store', size: 6000 },
      { path: 'pets/cats/notes.txt', size: 5 },
      { path: 'pets/dogs/2.JPG', size: 20 },
      { path: 'pets/dogs/empty.png', size: 0 },
      { path: 'pets/__MACOSX/dogs/._2.JPG', size: 100 },
      { path: 'pets/dogs/Thumbs.db', size: 100 },
      { path: 'pets/dogs/README', size: 3 },
    ];
    const p = planUpload(entries);
    expect(p.classNames).toEqual(['cats', 'dogs']);
    expect(p.candidates).toEqual([
      { entry: 0, path: 'pets/cats/1.png', label: 0 },
      { entry: 3, path: 'pets/dogs/2.JPG', label: 1 },
    ]);
    expect(p.hiddenCount).toBe(3);
    expect(p.skipped.map((s) => [s.entry, s.kind])).toEqual([
      [2, 'not-image'],
      [4, 'empty'],
      [7, 'not-image'],
    ]);
    expect(p.skipped[0].reason).toBe('.txt is not an image type this app reads');
    expect(p.skipped[2].reason).toBe('no file extension, so not read as an image');
  });

  it('keeps the mixed-layout remark and reports an upload with no image files as no candidates', () => {
    const mixed = planUpload([
      { path: 'a.png', size: 1 },
      { path: 'x/b.png', size: 1 },
    ]);
    expect(mixed.candidates.map((c) => c.label)).toEqual([-1, -1]);
    expect(mixed.notes[0]).toMatch(/^mixed layout: 1 image at the top level and 1 inside folders/);
    const none = planUpload([{ path: 'notes.txt', size: 4 }]);
    expect(none.candidates).toEqual([]);
    expect(none.skipped.map((s) => s.kind)).toEqual(['not-image']);
    expect(none.notes).toEqual([]);
  });
});

describe('finishUpload', () => {
  const plan = planUpload([
    { path: 'r/a/1.png', size: 1 },
    { path: 'r/a/2.png', size: 1 },
    { path: 'r/b/3.png', size: 1 },
    { path: 'r/c/4.png', size: 1 },
    { path: 'r/c/x.doc', size: 1 },
  ]);

  it('concatenates the decoded images in folder order, lists each skip with its reason, counts per kind', () => {
    const out = finishUpload(
      plan,
      [
        ok(1),
        { ok: false, kind: 'duplicate', reason: 'same bytes as r/a/1.png' },
        ok(3),
        { ok: false, kind: 'corrupt', reason: 'bad' },
      ],
      S,
      5,
    );
    expect(Array.from(out.images)).toEqual([...px(1), ...px(3)]);
    // c lost its only image: ids re-numbered over a and b.
    expect(out.classNames).toEqual(['a', 'b']);
    expect(Array.from(out.labels!)).toEqual([0, 1]);
    expect(out.report.perLabel).toEqual([
      { name: 'a', count: 1 },
      { name: 'b', count: 1 },
    ]);
    expect(out.report.skipped.map((s) => `${s.path}:${s.kind}`)).toEqual([
      'r/a/2.png:duplicate',
      'r/c/4.png:corrupt',
      'r/c/x.doc:not-image',
    ]);
    expect(out.report.countsByKind).toEqual({
      'not-image': 1,
      empty: 0,
      duplicate: 1,
      'too-large': 0,
      corrupt: 1,
      unsupported: 0,
      encrypted: 0,
      'unpack-limit': 0,
      symlink: 0,
    });
    expect(out.report.notes).toEqual(['label c had no loadable image and is left out']);
    expect(out.report).toMatchObject({ files: 5, loaded: 2, labelled: true, evaluation: true });
  });

  it('one label left → unlabelled, evaluation off, and it says so', () => {
    const out = finishUpload(
      plan,
      [ok(1), ok(2), { ok: false, kind: 'corrupt', reason: 'bad' }, { ok: false, kind: 'too-large', reason: 'big' }],
      S,
      5,
    );
    expect(out.labels).toBeNull();
    expect(out.classNames).toEqual([]);
    expect(out.report.evaluation).toBe(false);
    expect(out.report.perLabel).toEqual([{ name: 'all images', count: 2 }]);
    expect(out.report.notes).toEqual([
      'only one label (a) has loadable images: the images train unlabelled and evaluation is off',
    ]);
  });

  it('undefined outcomes (not drawn, or cancelled) are neither loaded nor listed as skipped', () => {
    const out = finishUpload(plan, [ok(1), undefined, ok(3), undefined], S, 5, ['cancelled after 2 of 4 images']);
    expect(out.report.loaded).toBe(2);
    expect(out.report.skipped.map((s) => s.kind)).toEqual(['not-image']);
    expect(out.report.notes.at(-1)).toBe('cancelled after 2 of 4 images');
  });

  it('a folder without class folders trains unlabelled and says evaluation is off', () => {
    const flat = planUpload([
      { path: 'r/1.png', size: 1 },
      { path: 'r/2.png', size: 1 },
    ]);
    const out = finishUpload(flat, [ok(1), ok(2)], S, 2);
    expect(out.labels).toBeNull();
    expect(out.report.notes).toEqual([
      'no class folders (<label>/<image>): the images train unlabelled and evaluation is off',
    ]);
  });

  it('rejects outcomes of the wrong size or count', () => {
    expect(() => finishUpload(plan, [ok(1)], S, 5)).toThrow(/1 outcomes for 4 candidates/);
    expect(() => finishUpload(plan, [{ ok: true, rgb: new Uint8Array(5) }, ok(1), ok(1), ok(1)], S, 5)).toThrow(
      /decoded to 5 bytes, expected 12/,
    );
  });

  it('formatReport lists loaded per label, skips grouped by kind with reasons, hidden count and notes', () => {
    const out = finishUpload(plan, [ok(1), ok(2), ok(3), { ok: false, kind: 'corrupt', reason: 'bad header' }], S, 6);
    const text = formatReport({ ...out.report, hiddenCount: 1 });
    expect(text).toEqual([
      '3 images loaded from 6 files, 2 labels',
      '  a: 2',
      '  b: 1',
      '2 skipped:',
      '  not an image file (1):',
      '    r/c/x.doc: .doc is not an image type this app reads',
      '  corrupt or truncated image (1):',
      '    r/c/4.png: bad header',
      '1 hidden or system file ignored',
      'note: label c had no loadable image and is left out',
    ]);
  });
});

describe('budget, subset and pixel limit', () => {
  it('estimates two copies of S×S×3 bytes per image and inverts that for the count', () => {
    expect(estimateBytes(1000, 32)).toBe(1000 * 32 * 32 * 3 * 2);
    expect(budgetCount(estimateBytes(1000, 32), 32)).toBe(1000);
    expect(budgetCount(estimateBytes(1000, 32) - 1, 32)).toBe(999);
    expect(budgetCount(0, 32)).toBe(0);
  });

  it('seededSubset: m distinct sorted positions, the same for a seed, different for another, all when m ≥ n', () => {
    const a = seededSubset(100, 30, 7);
    expect(a.length).toBe(30);
    expect(new Set(a).size).toBe(30);
    expect(Array.from(a)).toEqual([...a].sort((x, y) => x - y));
    expect(a.every((v) => v >= 0 && v < 100)).toBe(true);
    expect(Array.from(seededSubset(100, 30, 7))).toEqual(Array.from(a));
    expect(Array.from(seededSubset(100, 30, 8))).not.toEqual(Array.from(a));
    expect(Array.from(seededSubset(3, 5, 1))).toEqual([0, 1, 2]);
    expect(Array.from(seededSubset(3, 0, 1))).toEqual([]);
  });

  it('seededSubset draws every position about equally often (Fisher–Yates, not a biased prefix)', () => {
    const hits = new Array(10).fill(0);
    for (let seed = 0; seed < 2000; seed++) for (const i of seededSubset(10, 3, seed)) hits[i]++;
    // Expected 600 each; ±5 standard deviations (≈ 20.5) is a loose but failing-capable bound.
    for (const h of hits) expect(Math.abs(h - 600)).toBeLessThan(103);
  });

  it('names the size and the limit in megapixels', () => {
    expect(pixelLimitReason(6000, 4000, 16_777_216)).toBe('6000×4000 = 24.0 MP, over the 16.8 MP limit');
    expect(pixelLimitReason(4000, 4000, 16_000_000)).toBeNull();
  });
});
