import { useEffect, useRef, useState } from 'react';
import { climStore, useClim } from './store';
import { downloadBlob } from './export';
import { formatBytes } from './upload-store';
import { fixed } from './format';

/** "5 min ago"-style age of an ISO time, for the saved-run list. */
export function ageOf(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return 'at an unknown time';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** The wall clock, re-read every `ms` so ages ("5 min ago") move while the page is open. */
function useNow(ms = 20_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

/**
 * The run's safety net: runs saved in this browser (autosaved every N steps
 * and on Pause) with Resume / Discard, Save now, Export run (one file) and
 * Import run. A bad file is checked by the worker before anything changes,
 * and the error banner says what was wrong.
 */
export function RunsPanel() {
  const saved = useClim((s) => s.savedRuns);
  const lastSave = useClim((s) => s.lastSave);
  const restoring = useClim((s) => s.restoring);
  const runState = useClim((s) => s.runState);
  const step = useClim((s) => s.step);
  const download = useClim((s) => s.download);
  const { resumeSaved, discardSaved, saveNow, exportRun, importRunFile, takeDownload } = climStore.getState();
  const fileInput = useRef<HTMLInputElement>(null);
  const now = useNow();
  const hasRun = step > 0 || runState === 'paused' || runState === 'finished';
  const busy = runState === 'connecting' || runState === 'preparing' || restoring !== null;

  useEffect(() => {
    if (!download) return;
    downloadBlob(download.fileName, new Blob([download.bytes as BlobPart], { type: 'application/octet-stream' }));
    takeDownload();
  }, [download, takeDownload]);

  const onImport = async (files: FileList | null) => {
    const f = files?.[0];
    if (!f) return;
    const bytes = new Uint8Array(await f.arrayBuffer());
    importRunFile(bytes, f.name);
    if (fileInput.current) fileInput.current.value = '';
  };

  return (
    <section className="runs" aria-labelledby="runs-title" data-testid="runs">
      <h2 id="runs-title">Saved runs</h2>
      <p className="hint">
        Saved in this browser every 100 steps and on Pause. Export a run to move it to another machine.
      </p>
      {saved.length === 0 ? (
        <p className="hint" data-testid="no-saved">
          Nothing saved yet.
        </p>
      ) : (
        <ul className="saved-list" data-testid="saved-list">
          {saved.map((r) => (
            <li key={r.key}>
              <span>
                Step {r.step}/{r.totalSteps}
                {r.step >= r.totalSteps && <span data-testid="saved-finished"> · finished</span>} on {r.datasetLabel}
                {r.loss !== null && <>, loss {fixed(r.loss, 3)}</>} · {ageOf(r.savedAt, now)} · {formatBytes(r.bytes)}
              </span>{' '}
              <button
                type="button"
                onClick={() => resumeSaved(r.key)}
                disabled={busy || runState === 'running'}
                data-testid="resume-saved"
              >
                Resume
              </button>{' '}
              <button
                type="button"
                onClick={() => discardSaved(r.key)}
                disabled={busy}
                aria-label={`Discard the run saved at step ${r.step}`}
              >
                Discard
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="run-file-buttons">
        <button type="button" onClick={saveNow} disabled={!hasRun || busy} data-testid="save-now">
          Save now
        </button>{' '}
        <button
          type="button"
          onClick={exportRun}
          disabled={!hasRun || busy}
          title="Download the whole run (model, optimiser, queues, bank, history) as one file"
          data-testid="export-run"
        >
          Export run
        </button>{' '}
        <button
          type="button"
          onClick={() => fileInput.current?.click()}
          disabled={busy || runState === 'running'}
          title="Continue a run exported on this or another machine"
          data-testid="import-run"
        >
          Import run…
        </button>
        <input
          ref={fileInput}
          type="file"
          aria-label="Run file to import"
          accept=".climrun,application/octet-stream"
          hidden
          onChange={(e) => void onImport(e.target.files)}
          data-testid="import-input"
        />
      </div>
      {restoring && (
        <p role="status" data-testid="restoring">
          Checking {restoring.source === 'file' ? `“${restoring.label}”` : `the saved run (${restoring.label})`}…
        </p>
      )}
      {lastSave && (
        <p className={lastSave.ok ? 'hint' : 'hint warn'} role="status" data-testid="last-save">
          {lastSave.ok
            ? `Saved step ${lastSave.step} (${formatBytes(lastSave.bytes)}, ${Math.round(lastSave.ms)} ms, ${lastSave.trigger}).`
            : `Step ${lastSave.step} not saved.`}
        </p>
      )}
    </section>
  );
}

/** On page load: one line offering to resume the latest saved run, until answered or a run starts. */
export function ResumeOffer() {
  const offered = useClim((s) => s.resumeOffered);
  const saved = useClim((s) => s.savedRuns);
  const step = useClim((s) => s.step);
  const runState = useClim((s) => s.runState);
  const resumeSaved = useClim((s) => s.resumeSaved);
  const dismiss = useClim((s) => s.dismissResumeOffer);
  const now = useNow();
  const latest = saved[0];
  if (!offered || !latest || step > 0 || runState === 'running' || runState === 'connecting') return null;
  return (
    <div className="resume-offer" role="region" aria-label="Resume a saved run" data-testid="resume-offer">
      <span>
        A run saved {ageOf(latest.savedAt, now)} was found: step {latest.step} of {latest.totalSteps}
        {latest.step >= latest.totalSteps ? ' (finished)' : ''} on {latest.datasetLabel}.
      </span>{' '}
      <button type="button" onClick={() => resumeSaved(latest.key)} data-testid="resume-offer-button">
        Resume it
      </button>{' '}
      <button type="button" onClick={dismiss}>
        Not now
      </button>
    </div>
  );
}
