import { describe, expect, it } from 'vitest';
import type { StepMetrics } from '../core/api';
import { isDeviceFault, lossFault, saferLearningRate } from './faults';

const m = (loss: number, lossAnchor: number, lossPositive: number): StepMetrics => ({
  step: 37,
  loss,
  lossAnchor,
  lossPositive,
  lr: 0.06,
  ms: 1,
  imagesPerSecond: 1,
  coverage: 1,
  precision: null,
  lambdaMean: 1,
  selectionMs: 0,
  kmeansMs: 0,
  refreshMs: 0,
});

describe('faults', () => {
  it('names the term that broke', () => {
    expect(lossFault(m(5, 5, 5))).toBeNull();
    expect(lossFault(m(NaN, 5, NaN))).toEqual({ step: 37, term: 'positive', value: 'NaN', lr: 0.06 });
    expect(lossFault(m(Infinity, Infinity, 5))?.term).toBe('anchor');
    expect(lossFault(m(NaN, NaN, NaN))?.term).toBe('anchor and positive');
    expect(lossFault(m(-Infinity, 1, 2))).toMatchObject({ term: 'total', value: '-Infinity' });
  });

  it('recognises device loss and out-of-memory, not other errors', () => {
    expect(isDeviceFault(new Error('GPU device was lost: destroyed'))).toBe(true);
    expect(isDeviceFault(new Error('Device is lost'))).toBe(true);
    expect(isDeviceFault(Object.assign(new Error('x'), { name: 'GPUOutOfMemoryError' }))).toBe(true);
    expect(isDeviceFault(new Error('WebGL context lost'))).toBe(true);
    expect(isDeviceFault(new Error('Failed to allocate buffer of 400 MB'))).toBe(true);
    expect(isDeviceFault(new Error('Cannot read properties of undefined'))).toBe(false);
    expect(isDeviceFault(new Error('shapes [2,3] and [3,3] do not match'))).toBe(false);
  });

  it('offers half the learning rate, rounded to 3 digits', () => {
    expect(saferLearningRate(0.06)).toBe(0.03);
    expect(saferLearningRate(0.1)).toBe(0.05);
    expect(saferLearningRate(1e-3 / 3)).toBe(0.000167);
  });
});
