import { useRef } from 'react';
import { climStore, useClim, WEIGHTS_FILE_EXTENSION } from './store';
import { encoderHint, encoderLabel, openedModelNote } from './encoder-view';

/**
 * The weights a fresh run starts from: random init (the default), the small
 * encoder the app ships trained on fashion-mnist (a checkbox, shown with that
 * set), or any weights file (`.climweights`) whose encoder matches the
 * settings. Either choice starts a new run at step 0, built at once so the
 * Positives and Clusters views show the model before any training (the note
 * under the line says so); a file that does not fit is refused by the
 * worker, which says why in the error banner, and the current run stays.
 */
export function EncoderChoice() {
  const dataset = useClim((s) => s.dataset);
  const initWeights = useClim((s) => s.initWeights);
  const pending = useClim((s) => s.initWeightsPending);
  const info = useClim((s) => s.trainedEncoderInfo);
  const runState = useClim((s) => s.runState);
  const step = useClim((s) => s.step);
  const shown = useClim((s) => s.selection !== null);
  const { startFromTrainedEncoder, openModel } = climStore.getState();
  const fileInput = useRef<HTMLInputElement>(null);
  const busy = runState === 'connecting' || pending;
  const note = pending ? null : openedModelNote(initWeights, { runState, step, shown });

  const onOpen = async (files: FileList | null) => {
    const f = files?.[0];
    if (fileInput.current) fileInput.current.value = '';
    if (f) await openModel(f);
  };

  return (
    <section className="encoder-choice" aria-label="Starting weights" data-testid="encoder-choice">
      {dataset === 'fashion-mnist' && (
        <>
          <label className="encoder-trained">
            <input
              type="checkbox"
              checked={initWeights?.source === 'builtin'}
              disabled={busy}
              onChange={(e) => startFromTrainedEncoder(e.target.checked)}
              aria-describedby="encoder-trained-hint"
              title="Changing the starting weights discards the model and starts a new run"
              data-testid="trained-encoder"
            />{' '}
            Start from the trained encoder
          </label>
          <p id="encoder-trained-hint" className="hint">
            {encoderHint(info)}
          </p>
        </>
      )}
      <p className="encoder-line">
        <span data-testid="encoder-label" aria-live="polite">
          {pending ? 'Encoder: loading…' : encoderLabel(initWeights)}
        </span>{' '}
        <button
          type="button"
          onClick={() => fileInput.current?.click()}
          disabled={busy}
          title={`Open a weights file (${WEIGHTS_FILE_EXTENSION}, from this page or the PyTorch trainer) trained with this run's encoder settings: the views show it at once, and Start trains on from it`}
          data-testid="open-model"
        >
          Open model…
        </button>
        <input
          ref={fileInput}
          type="file"
          aria-label="Model file to open"
          accept={`${WEIGHTS_FILE_EXTENSION},application/octet-stream`}
          hidden
          onChange={(e) => void onOpen(e.target.files)}
          data-testid="open-model-input"
        />{' '}
        {initWeights && (
          <button
            type="button"
            onClick={() => startFromTrainedEncoder(false)}
            disabled={busy}
            title="Fresh runs start from random weights again (a new run)"
            data-testid="encoder-random"
          >
            Random init
          </button>
        )}
      </p>
      {note && (
        <p className="hint" data-testid="opened-model-note" aria-live="polite">
          {note}
        </p>
      )}
    </section>
  );
}
