import { useState } from 'react';
import { Controls, DatasetPicker } from './Controls';
import { Tabs, type TabDef } from './Tabs';
import { PositivesPane } from './panes/PositivesPane';
import { ClustersPane } from './panes/ClustersPane';
import { AboutPane } from './panes/AboutPane';
import { UploadPanel } from './UploadPanel';
import { TrainingPane } from './panes/TrainingPane';
import { useClim } from './store';

const fmt = (v: number | null | undefined, digits: number) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

function Status() {
  const backend = useClim((s) => s.backend);
  const adapter = useClim((s) => s.adapter);
  const fallback = useClim((s) => s.isFallbackAdapter);
  const runState = useClim((s) => s.runState);
  const step = useClim((s) => s.step);
  const lastLoss = useClim((s) => (s.metrics.length ? s.metrics[s.metrics.length - 1].loss : null));
  const sps = useClim((s) => s.stepsPerSecond);
  const datasetId = useClim((s) => s.datasetId);
  const lastEval = useClim((s) => (s.evals.length ? s.evals[s.evals.length - 1] : null));

  return (
    <dl className="status">
      <div>
        <dt>Backend</dt>
        <dd>
          <span data-testid="backend">{backend ?? 'starting…'}</span>
          {adapter && (
            <span className="adapter" data-testid="adapter">
              {' '}
              ({adapter}
              {fallback ? ', software' : ''})
            </span>
          )}
        </dd>
      </div>
      <div>
        <dt>State</dt>
        <dd data-testid="run-state">{runState}</dd>
      </div>
      <div>
        <dt>Step</dt>
        <dd data-testid="step">{step}</dd>
      </div>
      <div>
        <dt>Loss</dt>
        <dd data-testid="last-loss">{fmt(lastLoss, 4)}</dd>
      </div>
      <div>
        <dt>Steps/s</dt>
        <dd data-testid="steps-per-second">{fmt(sps, sps !== null && sps < 1 ? 3 : 1)}</dd>
      </div>
      {lastEval && lastEval.knnTop1 !== null && (
        <div>
          <dt>kNN top-1</dt>
          <dd data-testid="knn" title={`Weighted kNN accuracy on held-out images at step ${lastEval.step}`}>
            {(lastEval.knnTop1 * 100).toFixed(1)}% <span className="adapter">@ {lastEval.step}</span>
          </dd>
        </div>
      )}
      {datasetId && (
        <div>
          <dt>Data</dt>
          <dd data-testid="dataset">{datasetId}</dd>
        </div>
      )}
    </dl>
  );
}

function ErrorBanner() {
  const error = useClim((s) => s.error);
  const dismiss = useClim((s) => s.dismissError);
  if (!error) return null;
  return (
    <div className={error.recoverable ? 'error' : 'error fatal'} role="alert" data-testid="error">
      <span>{error.message}</span>
      {error.recoverable && (
        <button type="button" onClick={dismiss} aria-label="Dismiss error">
          Dismiss
        </button>
      )}
    </div>
  );
}

/** Summary of the latest snapshots, for end-to-end checks of the worker's reports. */
function SnapshotSummary() {
  const selection = useClim((s) => s.selection);
  const clusters = useClim((s) => s.clusters);
  const evals = useClim((s) => s.evals);
  const summary = {
    selection: selection && { step: selection.step, mode: selection.mode, anchors: selection.anchors.length },
    clusters: clusters && {
      step: clusters.step,
      images: clusters.assignments.length,
      clusters: clusters.sizes.length,
      sizeSum: clusters.sizes.reduce((a, b) => a + b, 0),
    },
    evals,
  };
  return (
    <pre hidden data-testid="snapshots">
      {JSON.stringify(summary)}
    </pre>
  );
}

type PaneId = 'training' | 'positives' | 'clusters' | 'about';

export function App() {
  const firstLosses = useClim((s) => s.firstLosses);
  const [pane, setPane] = useState<PaneId>('training');
  const tabs: TabDef<PaneId>[] = [
    { id: 'training', label: 'Training', render: () => <TrainingPane /> },
    { id: 'positives', label: 'Positives', render: () => <PositivesPane /> },
    { id: 'clusters', label: 'Clusters', render: () => <ClustersPane /> },
    { id: 'about', label: 'About', render: () => <AboutPane /> },
  ];
  return (
    <div className="app">
      <header className="app-header">
        <h1>CLIM Playground</h1>
        <p className="lede">
          A self-supervised image encoder (Center-wise Local Image Mixture) training in your browser, in a Web Worker.
        </p>
      </header>
      <aside className="side" aria-label="Data and settings">
        <DatasetPicker />
        <UploadPanel />
      </aside>
      <main className="main">
        <Controls />
        <ErrorBanner />
        <Tabs tabs={tabs} active={pane} onChange={setPane} label="Views" />
      </main>
      <footer className="statusbar" aria-label="Run status" aria-live="polite">
        <Status />
      </footer>
      {/* Machine-readable first losses, for the end-to-end backend comparison. */}
      <pre hidden data-testid="losses">
        {JSON.stringify(firstLosses)}
      </pre>
      <SnapshotSummary />
    </div>
  );
}
