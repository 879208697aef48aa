import { describe, expect, it } from 'vitest';
import type { EvalResult } from '../core/api';
import { lastFull, rowShares } from './eval-view';

const ev = (step: number, full: boolean): EvalResult => ({
  step,
  knnTop1: 0.5,
  linearTop1: full ? 0.6 : null,
  confusion: null,
  classes: 2,
  alignment: full ? 0.4 : null,
  uniformity: full ? -2 : null,
  clusterPurity: null,
  clusterNmi: null,
  clusterAri: null,
  ms: 1,
});

describe('EvaluationCard helpers', () => {
  it('lastFull finds the latest evaluation with the probe, skipping later light ones', () => {
    expect(lastFull([])).toBeNull();
    expect(lastFull([ev(100, false)])).toBeNull();
    expect(lastFull([ev(100, true), ev(200, true), ev(300, false)])?.step).toBe(200);
  });

  it('rowShares turns counts into per-true-class shares; an empty row stays zero', () => {
    // 3 classes: row 0 = [3, 1, 0], row 1 = [0, 0, 0], row 2 = [1, 1, 2].
    const s = rowShares(Int32Array.from([3, 1, 0, 0, 0, 0, 1, 1, 2]), 3);
    expect(Array.from(s)).toEqual([0.75, 0.25, 0, 0, 0, 0, 0.25, 0.25, 0.5]);
  });
});
