/**
 * The runner's time budget (`--minutes`, `--eval-minutes`): when training
 * stops, when an evaluation is due, and how long the cosine schedule must be
 * for it to end with the budget. Times are training time in ms (the sum of
 * step times), so evaluating more often never shortens training.
 */

/** Steps whose mean time sets the schedule's length: two k-means runs of the fast preset fall inside, so their cost is in the mean. */
export const CALIBRATION_STEPS = 50;

export class TimeBudget {
  private nextEval: number;

  /** minutes: the budget (undefined = none); evalMinutes: the evaluation period (undefined = none). */
  constructor(
    private readonly minutes: number | undefined,
    private readonly evalMinutes: number | undefined,
  ) {
    this.nextEval = evalMinutes !== undefined ? evalMinutes * 60_000 : Infinity;
  }

  /** Whether training time `ms` has used up the budget. */
  spent(ms: number): boolean {
    return this.minutes !== undefined && ms >= this.minutes * 60_000;
  }

  /** Whether an evaluation is due at training time `ms`; each period is reported once, however long a step. */
  evalDue(ms: number): boolean {
    if (ms < this.nextEval || this.evalMinutes === undefined) return false;
    const period = this.evalMinutes * 60_000;
    while (this.nextEval <= ms) this.nextEval += period;
    return true;
  }

  /**
   * The schedule length that ends with the budget: the steps done so far plus
   * the remaining time over the mean step time of `stepMs` (the first step,
   * which pays for kernel compilation, left out when there are others).
   */
  scheduleSteps(stepMs: readonly number[], done: number): number {
    if (this.minutes === undefined) throw new Error('scheduleSteps needs a time budget');
    const sample = stepMs.length > 1 ? stepMs.slice(1) : stepMs;
    const mean = sample.reduce((a, b) => a + b, 0) / Math.max(1, sample.length);
    const used = stepMs.reduce((a, b) => a + b, 0);
    const left = Math.max(0, this.minutes * 60_000 - used);
    return Math.max(done + 1, done + Math.round(left / Math.max(mean, 1e-3)));
  }
}
