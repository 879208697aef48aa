/** The Evaluation card's arithmetic, tested without a DOM. */
import type { EvalResult } from '../core/api';

/** The latest evaluation that ran the linear probe (a full one), or null. */
export function lastFull(evals: readonly EvalResult[]): EvalResult | null {
  for (let i = evals.length - 1; i >= 0; i--)
    if (evals[i].linearTop1 !== null || evals[i].alignment !== null) return evals[i];
  return null;
}

/** K×K counts → per-row shares (each true class sums to 1; an empty row stays 0). */
export function rowShares(confusion: Int32Array, k: number): Float64Array {
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += confusion[i * k + j];
    if (sum > 0) for (let j = 0; j < k; j++) out[i * k + j] = confusion[i * k + j] / sum;
  }
  return out;
}
