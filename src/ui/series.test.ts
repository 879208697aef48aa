import { describe, expect, it } from 'vitest';
import { downsample, heldOutSeries, toCsv } from './series';
import type { EvalResult } from '../core/api';

describe('downsample', () => {
  it('keeps short histories whole (a copy)', () => {
    const rows = [1, 2, 3];
    const out = downsample(rows, 5);
    expect(out).toEqual([1, 2, 3]);
    expect(out).not.toBe(rows);
  });

  it('takes evenly spaced rows, first and newest included', () => {
    const rows = Array.from({ length: 101 }, (_, i) => i);
    expect(downsample(rows, 5)).toEqual([0, 25, 50, 75, 100]);
    const odd = Array.from({ length: 10 }, (_, i) => i);
    // stride 9/3 = 3: rows 0, 3, 6 and the newest, 9.
    expect(downsample(odd, 4)).toEqual([0, 3, 6, 9]);
    expect(
      downsample(
        Array.from({ length: 10_000 }, (_, i) => i),
        400,
      ),
    ).toHaveLength(400);
  });
});

describe('toCsv', () => {
  it('writes a header, quotes what needs quoting, leaves non-finite and null cells empty', () => {
    const rows = [
      { step: 1, loss: 6.5, note: 'a,b' },
      { step: 2, loss: NaN, note: 'say "hi"' },
      { step: 3, loss: null, note: 'line\nbreak' },
    ];
    const csv = toCsv(rows, [
      { header: 'step', value: (r) => r.step },
      { header: 'loss', value: (r) => r.loss },
      { header: 'note', value: (r) => r.note },
    ]);
    expect(csv).toBe('step,loss,note\r\n1,6.5,"a,b"\r\n2,,"say ""hi"""\r\n3,,"line\nbreak"\r\n');
  });
});

describe('heldOutSeries', () => {
  const e = (knn: number | null, linear: number | null) =>
    ({ step: 100, knnTop1: knn, linearTop1: linear }) as EvalResult;
  it('kNN and linear top-1 in percent; the raw-pixel level as a flat third line once measured', () => {
    const plain = heldOutSeries(null);
    expect(plain.map((s) => s.key)).toEqual(['knn', 'linear']);
    expect(plain.map((s) => s.value(e(0.75, null)))).toEqual([75, null]);
    const withRaw = heldOutSeries({ knnTop1: 0.806 });
    expect(withRaw.map((s) => s.key)).toEqual(['knn', 'linear', 'raw']);
    expect(withRaw[2].name).toBe('raw pixels, kNN (80.6%)');
    // The same level at every evaluation, whatever the encoder measured.
    for (const r of [e(0.5, 0.6), e(0.9, null)]) expect(withRaw[2].value(r)).toBeCloseTo(80.6, 10);
  });
});
