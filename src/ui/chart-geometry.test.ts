import { describe, expect, it } from 'vitest';
import { niceScale } from './chart-geometry';

describe('chart scales', () => {
  it('picks round ticks that cover the data', () => {
    expect(niceScale(4.123, 4.987)).toEqual({ domain: [4, 5], ticks: [4, 4.2, 4.4, 4.6, 4.8, 5] });
    expect(niceScale(1, 37, 5, true)).toEqual({ domain: [0, 40], ticks: [0, 10, 20, 30, 40] });
    // One value: padded so the line has room; integer axes never get fractional ticks.
    const one = niceScale(2, 2);
    expect(one.domain[0]).toBeLessThan(2);
    expect(one.domain[1]).toBeGreaterThan(2);
    expect(niceScale(3, 3, 5, true).ticks.every(Number.isInteger)).toBe(true);
    expect(niceScale(NaN, 1)).toEqual({ domain: [0, 1], ticks: [0, 1] });
  });
});
