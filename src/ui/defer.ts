import { startTransition, useEffect, useState } from 'react';

/**
 * A count that starts at 1 and grows by one each animation frame up to
 * `total`: lets a view mount its heavy parts one per frame (one task each)
 * instead of all in the task of the click that showed it. On the 2-core
 * test machine six Positives cards at once, and the Clusters view with its
 * map, went over the 50 ms long-task budget (e2e/responsiveness.spec.ts,
 * docs/BENCHMARKS.md §M12).
 */
export function useMountedCount(total: number): number {
  const [count, setCount] = useState(1);
  useEffect(() => {
    if (count >= total) return;
    // A transition: the part's render yields to input and other work (time-sliced); only its commit is one task.
    const raf = requestAnimationFrame(() => startTransition(() => setCount((c) => c + 1)));
    return () => cancelAnimationFrame(raf);
  }, [count, total]);
  return Math.min(count, total);
}
