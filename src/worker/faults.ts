/**
 * Telling faults apart (issue 6, "Faults"): a loss that stopped being a
 * number, and a GPU device (or its memory) lost under the backend. Plain
 * functions, so the worker's reactions are decided by tested code.
 */
import type { StepMetrics } from '../core/api';

export interface LossFault {
  step: number;
  /** Which term went first: the anchor InfoNCE, the positive InfoNCE, or only their mix (total). */
  term: 'anchor' | 'positive' | 'anchor and positive' | 'total';
  /** The bad value as text ("NaN", "Infinity", "-Infinity"). */
  value: string;
  lr: number;
}

/** Null when the step's losses are all finite; else which term broke. */
export function lossFault(m: StepMetrics): LossFault | null {
  const a = Number.isFinite(m.lossAnchor);
  const p = Number.isFinite(m.lossPositive);
  if (Number.isFinite(m.loss) && a && p) return null;
  const term = !a && !p ? 'anchor and positive' : !a ? 'anchor' : !p ? 'positive' : 'total';
  const bad = !a ? m.lossAnchor : !p ? m.lossPositive : m.loss;
  return { step: m.step, term, value: String(bad), lr: m.lr };
}

/**
 * Errors that mean the GPU went away or ran out of memory: WebGPU's
 * device-lost and out-of-memory errors, WebGL's lost context, and tfjs'
 * own wording for failed allocations. Anything else is a bug to report, not
 * a reason to switch backends.
 */
export function isDeviceFault(e: unknown): boolean {
  const msg = e instanceof Error ? `${e.name} ${e.message}` : String(e);
  return /device (was |has been |is )?lost|lost device|GPUDeviceLost|out of memory|OutOfMemory|\bOOM\b|context (was |is )?lost|CONTEXT_LOST|failed to allocate/i.test(
    msg,
  );
}

/** Learning rate offered after a loss fault: half the run's base rate (the worker passes config.lr). */
export function saferLearningRate(lr: number): number {
  return Number((lr / 2).toPrecision(3));
}
