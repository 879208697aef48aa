import { describe, expect, it } from 'vitest';
import { downsample, toCsv } from './series';

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
    expect(downsample(Array.from({ length: 10_000 }, (_, i) => i), 400)).toHaveLength(400);
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
