import { useRef, useState, type DragEvent } from 'react';
import { SKIP_KINDS, SKIP_TITLES } from '../core/data/upload';
import { entriesOf, filesFromInput, uploadName, walkEntries } from './drop-walk';
import { formatBytes, useUploadStore, type UploadReport } from './upload-store';
import { uploads } from './uploads';

/** Folder picker, file/zip picker and drop zone; progress with Cancel; the load summary. */
export function UploadPanel() {
  const phase = useUploadStore(uploads, (s) => s.phase);
  const name = useUploadStore(uploads, (s) => s.name);
  const progress = useUploadStore(uploads, (s) => s.progress);
  const summary = useUploadStore(uploads, (s) => s.summary);
  const estimate = useUploadStore(uploads, (s) => s.estimateBytes);
  const budgetImages = useUploadStore(uploads, (s) => s.budgetImages);
  const report = useUploadStore(uploads, (s) => s.report);
  const rate = useUploadStore(uploads, (s) => s.rate);
  const error = useUploadStore(uploads, (s) => s.error);
  const settings = useUploadStore(uploads, (s) => s.settings);
  const { pick, cancel, loadSubset, setSettings, dismiss } = uploads.getState();
  const folderInput = useRef<HTMLInputElement>(null);
  const filesInput = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const busy = phase === 'scanning' || phase === 'decoding' || phase === 'confirm';

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const { entries, files } = entriesOf(e.dataTransfer);
    void walkEntries(entries, files).then((list) => pick(list, uploadName(list)));
  };

  return (
    <section className="upload" aria-label="Your images" data-testid="upload">
      <h2>Your images</h2>
      <div
        className={over ? 'dropzone over' : 'dropzone'}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        data-testid="dropzone"
      >
        <p>
          Drop a folder or a .zip here, or{' '}
          <button type="button" onClick={() => folderInput.current?.click()} disabled={busy}>
            choose a folder…
          </button>{' '}
          <button type="button" onClick={() => filesInput.current?.click()} disabled={busy}>
            choose images or a .zip…
          </button>
        </p>
        <p className="hint">
          Put each class in its own sub-folder (<code>cats/…</code>, <code>dogs/…</code>) to measure accuracy; labels
          are never used to train.
        </p>
        <input
          ref={folderInput}
          type="file"
          hidden
          multiple
          // Non-standard but supported by Chromium, Firefox and Safari: pick a whole folder.
          webkitdirectory=""
          aria-label="Folder of images to train on"
          data-testid="folder-input"
          onChange={(e) => {
            const list = filesFromInput(e.target.files ?? []);
            e.target.value = '';
            pick(list, uploadName(list));
          }}
        />
        <input
          ref={filesInput}
          type="file"
          hidden
          multiple
          accept="image/*,.zip,application/zip"
          aria-label="Images or a .zip to train on"
          data-testid="files-input"
          onChange={(e) => {
            const list = filesFromInput(e.target.files ?? []);
            e.target.value = '';
            pick(list, uploadName(list));
          }}
        />
      </div>
      <fieldset className="upload-settings" disabled={busy}>
        <legend>Upload settings</legend>
        <label title="Crop: the centred square. Pad: the whole image on a black square.">
          Fit{' '}
          <select
            value={settings.fit}
            onChange={(e) => setSettings({ fit: e.target.value as 'crop' | 'pad' })}
            data-testid="fit-select"
          >
            <option value="crop">centre crop</option>
            <option value="pad">pad to square</option>
          </select>
        </label>
        <label title="Share of each label's images kept out of training to measure kNN accuracy (labelled folders only).">
          Held out{' '}
          <input
            type="number"
            min={0}
            max={90}
            step={5}
            value={Math.round(settings.holdOut * 100)}
            onChange={(e) => setSettings({ holdOut: Math.min(0.9, Math.max(0, Number(e.target.value) / 100)) })}
            data-testid="holdout-input"
          />
          %
        </label>
        <label title="Uploads above this need a random subset (the pixels are kept twice: host and device).">
          Memory budget{' '}
          <input
            type="number"
            min={16}
            max={8192}
            step={16}
            value={settings.budgetMB}
            onChange={(e) => setSettings({ budgetMB: Math.max(16, Number(e.target.value) || 16) })}
            data-testid="budget-input"
          />{' '}
          MiB
        </label>
      </fieldset>

      {phase === 'scanning' && <p data-testid="upload-status">Listing {name}…</p>}
      {phase === 'confirm' && summary && (
        <div
          className="confirm"
          role="alertdialog"
          aria-label="Upload over the memory budget"
          data-testid="upload-confirm"
        >
          <p>
            {name} has {summary.candidates.toLocaleString('en')} images: about {formatBytes(estimate)} in memory, over
            the {settings.budgetMB} MiB budget. Load a random {budgetImages.toLocaleString('en')} of them (seeded, so
            the same subset every time)?
          </p>
          <button type="button" onClick={loadSubset} data-testid="load-subset">
            Load {budgetImages.toLocaleString('en')} images
          </button>{' '}
          <button type="button" onClick={cancel}>
            Cancel
          </button>
        </div>
      )}
      {phase === 'decoding' && progress && (
        <div className="decoding" data-testid="upload-progress">
          <label>
            Decoding {name}: {progress.done.toLocaleString('en')} / {progress.total.toLocaleString('en')}
            {progress.skipped ? ` (${progress.skipped} skipped)` : ''}{' '}
            <progress max={progress.total || 1} value={progress.done} />
          </label>{' '}
          <button type="button" onClick={cancel} data-testid="upload-cancel">
            Cancel
          </button>
        </div>
      )}
      {error && (
        <div className="error" role="alert" data-testid="upload-error">
          <span>{error}</span>
          <button type="button" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      )}
      {report && (phase === 'done' || phase === 'error' || phase === 'idle') && (
        <Report report={report} rate={phase === 'done' ? rate : null} />
      )}
    </section>
  );
}

function Report({ report, rate }: { report: UploadReport; rate: number | null }) {
  return (
    <div className="upload-report" data-testid="upload-report">
      <p data-testid="upload-loaded">
        {report.loaded.toLocaleString('en')} image{report.loaded === 1 ? '' : 's'} loaded from{' '}
        {report.files.toLocaleString('en')} file
        {report.files === 1 ? '' : 's'}
        {report.labelled ? `, ${report.perLabel.length} labels` : ', unlabelled (evaluation off)'}
        {rate !== null ? ` · ${rate.toFixed(0)} images/s` : ''}
      </p>
      <table className="per-label">
        <tbody>
          {report.perLabel.map((l) => (
            <tr key={l.name} data-testid="upload-label-row">
              <th scope="row">{l.name}</th>
              <td>{l.count.toLocaleString('en')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {report.skipped.length > 0 && (
        <details open={report.skipped.length <= 20}>
          <summary data-testid="upload-skipped-count">{report.skipped.length} skipped</summary>
          {SKIP_KINDS.filter((k) => report.countsByKind[k] > 0).map((k) => (
            <div key={k} data-testid={`skip-${k}`}>
              <h3>
                {SKIP_TITLES[k]} ({report.countsByKind[k]})
              </h3>
              <ul>
                {report.skipped
                  .filter((s) => s.kind === k)
                  .slice(0, 200)
                  .map((s) => (
                    <li key={s.entry}>
                      <code>{s.path}</code>: {s.reason}
                    </li>
                  ))}
              </ul>
            </div>
          ))}
        </details>
      )}
      {report.hiddenCount > 0 && <p className="hint">{report.hiddenCount} hidden or system file(s) ignored.</p>}
      {report.notes.map((n) => (
        <p key={n} className="hint" data-testid="upload-note">
          {n}
        </p>
      ))}
    </div>
  );
}
