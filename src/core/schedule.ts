/** Learning-rate schedules as tiny pure functions of the step (0-based). */

/** Linear warm-up to `base` over `warmup` steps, then cosine decay to 0 at `total` (Loshchilov & Hutter 2017). */
export function warmupCosine(step: number, base: number, warmup: number, total: number): number {
  if (warmup > 0 && step < warmup) return (base * (step + 1)) / warmup;
  const span = Math.max(1, total - warmup);
  const t = Math.min(1, Math.max(0, (step - warmup) / span));
  return 0.5 * base * (1 + Math.cos(Math.PI * t));
}

/**
 * The learning rate of 0-based `step` in a run whose schedule may have been extended (docs/METHOD.md §1.5,
 * config.scheduleStart): one warm-up and cosine segment over [scheduleStart, totalSteps), so "Train N more steps"
 * warms up again from near zero to `base` and decays to 0 at the new end, instead of training on at the rate 0 the
 * old schedule ended with. Steps before the segment (only a fresh run given the field has any) follow a schedule
 * of their own ending at scheduleStart, as the run that was extended once did.
 */
export function segmentLr(step: number, base: number, warmup: number, scheduleStart: number, total: number): number {
  if (step < scheduleStart) return warmupCosine(step, base, warmup, scheduleStart);
  return warmupCosine(step - scheduleStart, base, warmup, total - scheduleStart);
}

/** Whether the memory bank is re-embedded after finished step `done` (1-based): every `every` steps, never for 0 (METHOD §2, config.bankRefreshEvery). */
export function bankRefreshDue(done: number, every: number): boolean {
  return every > 0 && done % every === 0;
}
