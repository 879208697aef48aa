import { describe, expect, it } from 'vitest';
import { TimeBudget } from './time-budget';

describe('TimeBudget', () => {
  it('is spent exactly at the budget, never without one', () => {
    const b = new TimeBudget(2, undefined);
    expect(b.spent(119_999)).toBe(false);
    expect(b.spent(120_000)).toBe(true);
    expect(new TimeBudget(undefined, undefined).spent(1e12)).toBe(false);
  });

  it('reports each evaluation period once, also when one step spans several', () => {
    const b = new TimeBudget(undefined, 0.5); // every 30 s
    const due = [10_000, 29_999, 30_000, 31_000, 59_000, 125_000, 130_000, 150_000].map((ms) => b.evalDue(ms));
    // 30 s due; 60 s and 90 s and 120 s are all passed by the step ending at 125 s: one report; next at 150 s.
    expect(due).toEqual([false, false, true, false, false, true, false, true]);
    expect(new TimeBudget(5, undefined).evalDue(1e9)).toBe(false);
  });

  it('sizes the schedule from the mean step time after the first step', () => {
    const b = new TimeBudget(1, undefined); // 60,000 ms
    // First step 1,000 ms (compilation), then 49 steps of 100 ms: used 5,900 ms; 54,100 ms left at 100 ms a step.
    const ms = [1000, ...Array<number>(49).fill(100)];
    expect(b.scheduleSteps(ms, 50)).toBe(50 + 541);
    // A budget already spent still schedules one more step than done.
    expect(new TimeBudget(0.001, undefined).scheduleSteps(ms, 50)).toBe(51);
    expect(() => new TimeBudget(undefined, 1).scheduleSteps(ms, 50)).toThrow(/time budget/);
  });
});
