import { describe, expect, it } from 'vitest';
import { bankRefreshDue, segmentLr, warmupCosine } from './schedule';

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

describe('segmentLr', () => {
  it('with scheduleStart 0 is warmupCosine over the whole run', () => {
    for (const step of [0, 3, 10, 55, 109, 200])
      expect(segmentLr(step, 0.1, 10, 0, 110)).toBe(warmupCosine(step, 0.1, 10, 110));
  });
  it('an extension of 20 steps at step 30 (warm-up 10) warms up again and ends at 0, by hand', () => {
    // Step 30 is the segment's step 0: 0.1·1/10. Step 39: 0.1·10/10. Then cosine over 20 − 10 = 10 steps:
    // step 45 is half-way (t = 0.5) → 0.05; step 42: t = 0.2 → 0.05·(1 + cos 0.2π) = 0.05·1.809017 = 0.0904508.
    expect(segmentLr(30, 0.1, 10, 30, 50)).toBeCloseTo(0.01, 12);
    expect(segmentLr(39, 0.1, 10, 30, 50)).toBeCloseTo(0.1, 12);
    expect(segmentLr(40, 0.1, 10, 30, 50)).toBeCloseTo(0.1, 12);
    expect(segmentLr(42, 0.1, 10, 30, 50)).toBeCloseTo(0.0904508, 6);
    expect(segmentLr(45, 0.1, 10, 30, 50)).toBeCloseTo(0.05, 12);
    expect(segmentLr(50, 0.1, 10, 30, 50)).toBeCloseTo(0, 12);
  });
  it('steps before the segment follow a schedule that ends at scheduleStart', () => {
    expect(segmentLr(29, 0.1, 10, 30, 50)).toBe(warmupCosine(29, 0.1, 10, 30));
    expect(segmentLr(20, 0.1, 10, 30, 50)).toBeCloseTo(0.05, 12);
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
