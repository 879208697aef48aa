/** Monotonic clock available in browsers, workers and Node alike. */
export function performanceNow(): number {
  return (globalThis as unknown as { performance: { now(): number } }).performance.now();
}
