import { DATASETS, useClim, type DatasetChoice, type DatasetName } from './store';
import { startBlocker } from './settings-store';

const DATASET_LABELS: Record<DatasetName, string> = {
  'fashion-mnist': 'Fashion-MNIST (28×28 grey, 10 classes)',
  shapes: 'Shapes (32×32 colour, 8 classes)',
};

/** The data set of the run: the built-in sets and, once loaded, the user's upload. */
export function DatasetPicker() {
  const runState = useClim((s) => s.runState);
  const dataset = useClim((s) => s.dataset);
  const setDataset = useClim((s) => s.setDataset);
  const upload = useClim((s) => s.upload);
  return (
    <label className="dataset-choice">
      Data set{' '}
      <select
        value={dataset}
        onChange={(e) => setDataset(e.target.value as DatasetChoice)}
        disabled={runState === 'connecting'}
        title="Changing the data set discards the model and starts a new run"
        data-testid="dataset-select"
      >
        {DATASETS.map((d) => (
          <option key={d} value={d}>
            {DATASET_LABELS[d]}
          </option>
        ))}
        {upload && (
          <option value="upload">
            Your images: {upload.name} ({upload.report.loaded} images
            {upload.report.labelled ? `, ${upload.report.perLabel.length} labels` : ', unlabelled'})
          </option>
        )}
      </select>
    </label>
  );
}

/**
 * Start / Pause / Step / Reset. Native controls: focusable, keyboard
 * operable; the visible text is the accessible name and `title` adds the
 * description.
 */
export function Controls() {
  const runState = useClim((s) => s.runState);
  const start = useClim((s) => s.start);
  const pause = useClim((s) => s.pause);
  const stepOnce = useClim((s) => s.stepOnce);
  const reset = useClim((s) => s.reset);
  // An invalid draft is never trained on: the form explains each problem, this says why Start waits.
  const blocked = useClim(startBlocker);

  const busy = runState === 'connecting' || runState === 'preparing';
  const running = runState === 'running';
  // A finished run steps no further: "Train N more steps" (FinishedCard) extends it.
  const finished = runState === 'finished';
  const finishedTitle = 'The run has finished: train more steps to continue';

  return (
    <div className="controls" role="toolbar" aria-label="Training controls">
      <button
        type="button"
        onClick={start}
        disabled={busy || running || finished || blocked !== null}
        title={finished ? finishedTitle : undefined}
        aria-describedby={blocked ? 'start-blocked' : undefined}
        data-testid="start"
      >
        Start
      </button>
      <button type="button" onClick={pause} disabled={!running} data-testid="pause">
        Pause
      </button>
      <button
        type="button"
        onClick={stepOnce}
        disabled={busy || running || finished || blocked !== null}
        title={finished ? finishedTitle : 'Run one training step'}
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
      {blocked && (
        <span id="start-blocked" className="start-blocked" role="status" data-testid="start-blocked">
          {blocked}
        </span>
      )}
    </div>
  );
}
