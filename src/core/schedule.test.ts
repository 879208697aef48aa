import { describe, expect, it } from 'vitest';
import { bankRefreshDue, warmupCosine } from './schedule';

describe('warmupCosine', () => {
  it('ramps linearly, peaks at base, halves mid-way and reaches 0 at the end', () => {
    expect(warmupCosine(0, 0.1, 10, 110)).toBeCloseTo(0.01);
    expect(warmupCosine(4, 0.1, 10, 110)).toBeCloseTo(0.05);
    expect(warmupCosine(10, 0.1, 10, 110)).toBeCloseTo(0.1);
    expect(warmupCosine(60, 0.1, 10, 110)).toBeCloseTo(0.05);
    expect(warmupCosine(110, 0.1, 10, 110)).toBeCloseTo(0);
    expect(warmupCosine(500, 0.1, 10, 110)).toBeCloseTo(0);
  });
  it('without warm-up starts at base', () => {
    expect(warmupCosine(0, 0.3, 0, 100)).toBeCloseTo(0.3);
  });
});

describe('bankRefreshDue', () => {
  it('is due every E steps after the step that completes them, never for E = 0', () => {
    const due = (every: number) => Array.from({ length: 200 }, (_, i) => i + 1).filter((s) => bankRefreshDue(s, every));
    expect(due(60)).toEqual([60, 120, 180]);
    expect(due(1)).toHaveLength(200);
    expect(due(0)).toEqual([]);
    expect(due(500)).toEqual([]);
  });
});
