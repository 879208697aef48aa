import { describe, expect, it } from 'vitest';
import type { StepMetrics } from '../core/api';
import { chartGeometry, nearestIndex, niceScale, thin } from './chart-geometry';

const m = (step: number, loss: number) => ({ step, loss, ms: 1 }) as StepMetrics;

describe('loss chart geometry', () => {
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

  it('maps the first and last step to the plot edges and the line through every finite point', () => {
    const data = [
      { step: 1, loss: 5 },
      { step: 2, loss: NaN },
      { step: 11, loss: 4 },
    ];
    const g = chartGeometry(data, 600, 260);
    expect(g.x(1)).toBe(56);
    expect(g.x(11)).toBe(600 - 16);
    expect(g.path.match(/[ML]/g)).toEqual(['M', 'L']);
    for (const t of g.yTicks) expect(t.y).toBeGreaterThanOrEqual(8 - 1e-9);
    for (const t of g.xTicks) expect(t.v >= 1 && t.v <= 11).toBe(true);
    expect(g.y(5)).toBeLessThan(g.y(4));
  });

  it('finds the nearest plotted step and thins long runs to the newest point', () => {
    const data = [1, 3, 7, 20].map((step) => ({ step, loss: 1 }));
    expect(nearestIndex(data, 0)).toBe(0);
    expect(nearestIndex(data, 4.9)).toBe(1);
    expect(nearestIndex(data, 5.1)).toBe(2);
    expect(nearestIndex(data, 99)).toBe(3);
    const t = thin(Array.from({ length: 1001 }, (_, i) => m(i + 1, 1)), 400);
    expect(t.length).toBeLessThanOrEqual(401);
    expect(t[t.length - 1].step).toBe(1001);
  });
});
