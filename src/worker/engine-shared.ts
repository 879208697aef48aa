/** Small pieces the engine and its modules (persistence, ablation, recovery) share. */

/** Progress is batched: the page needs ~4 updates a second, not one per step. */
export const PROGRESS_EVERY_MS = 250;

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
