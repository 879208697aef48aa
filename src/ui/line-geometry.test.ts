import { describe, expect, it } from 'vitest';
import { LINE_MARGIN as M, lineGeometry, markerIndices, nearestRow, type Row } from './line-geometry';

const rows = (pts: [number, number | null, number | null][]): Row[] => pts.map(([x, a, b]) => ({ x, a, b }) as Row);

describe('lineGeometry', () => {
  it('maps the data onto the plot area and draws one path per series', () => {
    // 200 × 100 px: plot area x 52–188 (136 px), y 8–76 (68 px).
    const g = lineGeometry(
      rows([
        [0, 0, 1],
        [10, 1, 0],
      ]),
      ['a', 'b'],
      200,
      100,
    );
    expect(g.x(0)).toBe(M.left);
    expect(g.x(10)).toBe(200 - M.right);
    // y ticks from 0 to 1: 0 at the bottom, 1 at the top.
    expect(g.y(0)).toBeCloseTo(100 - M.bottom, 9);
    expect(g.y(1)).toBeCloseTo(M.top, 9);
    expect(g.paths).toEqual(['M52.0,76.0L188.0,8.0', 'M52.0,8.0L188.0,76.0']);
  });
  it('breaks a line at a missing value and leaves an all-missing series empty', () => {
    const g = lineGeometry(
      rows([
        [0, 1, null],
        [1, null, null],
        [2, 1, null],
      ]),
      ['a', 'b'],
      200,
      100,
    );
    expect(g.paths[0].match(/M/g)).toHaveLength(2);
    expect(g.paths[0]).not.toContain('L');
    expect(g.paths[1]).toBe('');
  });
  it('keeps a fixed y range (0–100 %) and ticks inside it', () => {
    const g = lineGeometry(
      rows([
        [0, 40, 60],
        [5, 45, 55],
      ]),
      ['a', 'b'],
      300,
      200,
      [0, 100],
    );
    expect(g.y(0)).toBeCloseTo(200 - M.bottom, 9);
    expect(g.y(100)).toBeCloseTo(M.top, 9);
    expect(g.yTicks[0].v).toBe(0);
    expect(g.yTicks[g.yTicks.length - 1].v).toBe(100);
  });
});

describe('markerIndices', () => {
  it('spreads markers evenly and staggers series', () => {
    expect(markerIndices(100, 4)).toEqual([0, 25, 50, 75]);
    expect(markerIndices(100, 4, 0.5)).toEqual([12, 37, 62, 87]);
    expect(markerIndices(3, 8)).toEqual([0, 1, 2]);
    expect(markerIndices(0, 8)).toEqual([]);
  });
});

describe('nearestRow', () => {
  it('finds the row with the nearest x', () => {
    const r = rows([
      [0, 0, 0],
      [10, 0, 0],
      [20, 0, 0],
    ]);
    expect(nearestRow(r, 4)).toBe(0);
    expect(nearestRow(r, 6)).toBe(1);
    expect(nearestRow(r, 99)).toBe(2);
  });
});
