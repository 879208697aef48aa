import { useState } from 'react';
import { climStore, useClim } from './store';
import { percent } from './format';
import { MAX_EXTEND_STEPS } from '../worker/protocol';
import type { EvalResult } from '../core/api';

/** The finishing evaluation: the latest full one (it has the linear probe), else the latest. */
export function finalEval(evals: readonly EvalResult[]): EvalResult | null {
  for (let i = evals.length - 1; i >= 0; i--) if (evals[i].linearTop1 !== null) return evals[i];
  return evals.at(-1) ?? null;
}

/** `text` as the step count of "Train N more steps", or null when it is not a whole number from 1 to MAX_EXTEND_STEPS. */
export function extendSteps(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n >= 1 && n <= MAX_EXTEND_STEPS ? n : null;
}

/**
 * Shown once the run has reached its totalSteps (issue 19): the worker has
 * stopped stepping, evaluated the encoder in full and saved the run. The
 * final kNN and linear top-1, and what to do next: export the run or the
 * model, compare the rules in the ablation, or train N more steps on a new
 * warm-up and cosine segment of the learning rate (docs/METHOD.md §1.5).
 */
export function FinishedCard() {
  const runState = useClim((s) => s.runState);
  const step = useClim((s) => s.step);
  const evals = useClim((s) => s.evals);
  const segment = useClim((s) => s.config.totalSteps - s.config.scheduleStart);
  const exporting = useClim((s) => s.exporting);
  const [text, setText] = useState<string | null>(null);
  if (runState !== 'finished') return null;
  const { extendRun, exportRun, exportBundle } = climStore.getState();
  // The run's own last segment is the length offered first.
  const shown = text ?? String(Math.min(MAX_EXTEND_STEPS, Math.max(1, segment)));
  const n = extendSteps(shown);
  const last = finalEval(evals);
  const toAblation = () =>
    document.querySelector('[data-testid="ablation-card"]')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  return (
    <section className="resume-offer" role="region" aria-label="Run finished" data-testid="finished-card">
      <p>
        <strong>Run finished</strong> at step {step}: the learning-rate schedule has ended, so training stopped, and the
        run was evaluated in full and saved.{' '}
        {last ? (
          <>
            Held-out top-1 at step {last.step}: kNN <span data-testid="final-knn">{percent(last.knnTop1)}</span>, linear
            probe <span data-testid="final-linear">{percent(last.linearTop1)}</span>.
          </>
        ) : (
          'This data set has no held-out labels, so there is no accuracy to report.'
        )}
      </p>
      <p>
        Next:{' '}
        <button type="button" onClick={exportRun} data-testid="finished-export-run">
          Export run
        </button>{' '}
        <button type="button" onClick={exportBundle} disabled={exporting} data-testid="finished-export-model">
          Export model & embeddings
        </button>{' '}
        <button type="button" onClick={toAblation} title="The ablation card of the Training view">
          Compare rules (ablation)
        </button>
      </p>
      <p>
        <label>
          Steps{' '}
          <input
            type="text"
            inputMode="numeric"
            size={7}
            value={shown}
            onChange={(e) => setText(e.target.value)}
            aria-invalid={n === null}
            data-testid="extend-steps"
          />
        </label>{' '}
        <button type="button" onClick={() => n !== null && extendRun(n)} disabled={n === null} data-testid="extend-run">
          {n === null ? 'Train more steps' : `Train ${n} more steps`}
        </button>{' '}
        <span className="hint">
          {n === null
            ? `A whole number from 1 to ${MAX_EXTEND_STEPS.toLocaleString('en')}.`
            : `The learning rate gets a new warm-up and cosine segment over the ${n} steps, from the base rate, so training moves again; the run finishes at step ${step + n}.`}
        </span>
      </p>
    </section>
  );
}
