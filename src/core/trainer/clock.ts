/** Monotonic clock available in browsers, workers and Node alike. */
export function performanceNow(): number {
  return (globalThis as unknown as { performance: { now(): number } }).performance.now();
}

/** Milliseconds `f` took, awaited. */
export async function timed(f: () => unknown): Promise<number> {
  const t = performanceNow();
  await f();
  return performanceNow() - t;
}
