/** Learning-rate schedules as tiny pure functions of the step (0-based). */

/** Linear warm-up to `base` over `warmup` steps, then cosine decay to 0 at `total` (Loshchilov & Hutter 2017). */
export function warmupCosine(step: number, base: number, warmup: number, total: number): number {
  if (warmup > 0 && step < warmup) return (base * (step + 1)) / warmup;
  const span = Math.max(1, total - warmup);
  const t = Math.min(1, Math.max(0, (step - warmup) / span));
  return 0.5 * base * (1 + Math.cos(Math.PI * t));
}

/** Whether the memory bank is re-embedded after finished step `done` (1-based): every `every` steps, never for 0 (METHOD §2, config.bankRefreshEvery). */
export function bankRefreshDue(done: number, every: number): boolean {
  return every > 0 && done % every === 0;
}
