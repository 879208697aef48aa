import { useClim } from './store';

/**
 * Start / Pause / Step / Reset. Native buttons: focusable, Enter/Space
 * operable; the visible text is the accessible name and `title` adds the
 * description.
 */
export function Controls() {
  const runState = useClim((s) => s.runState);
  const start = useClim((s) => s.start);
  const pause = useClim((s) => s.pause);
  const stepOnce = useClim((s) => s.stepOnce);
  const reset = useClim((s) => s.reset);

  const busy = runState === 'connecting' || runState === 'preparing';
  const running = runState === 'running';

  return (
    <div className="controls" role="toolbar" aria-label="Training controls">
      <button type="button" onClick={start} disabled={busy || running} data-testid="start">
        Start
      </button>
      <button type="button" onClick={pause} disabled={!running} data-testid="pause">
        Pause
      </button>
      <button
        type="button"
        onClick={stepOnce}
        disabled={busy || running}
        title="Run one training step"
        data-testid="step-once"
      >
        Step
      </button>
      <button
        type="button"
        onClick={reset}
        disabled={runState === 'connecting'}
        title="Discard the model and start over from the same seed"
        data-testid="reset"
      >
        Reset
      </button>
    </div>
  );
}
