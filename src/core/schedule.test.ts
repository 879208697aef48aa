import { describe, expect, it } from 'vitest';
import { warmupCosine } from './schedule';

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
