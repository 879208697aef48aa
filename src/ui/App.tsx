import { FontWarmup } from './FontWarmup';
import { Controls, DatasetPicker } from './Controls';
import { EncoderChoice } from './EncoderChoice';
import { Tabs, type TabDef } from './Tabs';
import { PositivesPane } from './panes/PositivesPane';
import { ClustersPane } from './panes/ClustersPane';
import { AboutPane } from './panes/AboutPane';
import { UploadPanel } from './UploadPanel';
import { SettingsPanel } from './SettingsPanel';
import { StatusBar } from './StatusBar';
import { ResumeOffer, RunsPanel } from './RunsPanel';
import { TrainingPane } from './panes/TrainingPane';
import { FinishedCard } from './FinishedCard';
import { useClim, type PaneId } from './store';
import { faultView } from './fault-view';
import { ErrorBoundary, installRenderFaultHook } from './ErrorBoundary';
import { testHooksRequested } from './params';

// `?testhooks=1`: the end-to-end tests make a pane fail to render (ErrorBoundary.tsx).
if (typeof window !== 'undefined' && testHooksRequested(window.location.search)) installRenderFaultHook(window);

function ErrorBanner() {
  const error = useClim((s) => s.error);
  const dismiss = useClim((s) => s.dismissError);
  const restart = useClim((s) => s.restartEngine);
  if (!error) return null;
  return (
    <div className={error.recoverable ? 'error' : 'error fatal'} role="alert" data-testid="error">
      <span>{error.message}</span>{' '}
      {error.recoverable ? (
        <button type="button" onClick={dismiss} aria-label="Dismiss error">
          Dismiss
        </button>
      ) : (
        // The worker is gone with its run; what was saved in this browser is not.
        <button type="button" onClick={restart} data-testid="restart-engine">
          Restart the engine
        </button>
      )}
    </div>
  );
}

/** A NaN/Inf loss or a lost GPU device: what happened, and the way back. */
function FaultBanner() {
  const fault = useClim((s) => s.fault);
  const recover = useClim((s) => s.recoverFromFault);
  const dismiss = useClim((s) => s.dismissFault);
  if (!fault) return null;
  const v = faultView(fault);
  return (
    <div className="error" role="alert" data-testid="fault" data-kind={fault.kind}>
      <span>{v.message}</span>{' '}
      {v.action && (
        <button type="button" onClick={recover} data-testid="fault-recover">
          {v.action}
        </button>
      )}{' '}
      <button type="button" onClick={dismiss} aria-label="Dismiss the fault report">
        Dismiss
      </button>
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

/** The panes, made once: stable elements, so a hidden pane is not re-rendered when the tabs are. Each fails on its own (ErrorBoundary). */
const TABS: readonly TabDef<PaneId>[] = [
  {
    id: 'training',
    label: 'Training',
    content: (
      <ErrorBoundary name="Training">
        <TrainingPane />
      </ErrorBoundary>
    ),
  },
  {
    id: 'positives',
    label: 'Positives',
    content: (
      <ErrorBoundary name="Positives">
        <PositivesPane />
      </ErrorBoundary>
    ),
  },
  {
    id: 'clusters',
    label: 'Clusters',
    content: (
      <ErrorBoundary name="Clusters">
        <ClustersPane />
      </ErrorBoundary>
    ),
  },
  {
    id: 'about',
    label: 'About',
    content: (
      <ErrorBoundary name="About">
        <AboutPane />
      </ErrorBoundary>
    ),
  },
];

/** The tabbed views, apart from App so that App's own store reads (first losses) do not re-render them. */
function Views() {
  // In the store: the Clusters map switches to Positives when an image is pinned.
  const pane = useClim((s) => s.activeTab);
  const setPane = useClim((s) => s.setActiveTab);
  return <Tabs tabs={TABS} active={pane} onChange={setPane} label="Views" />;
}

/** The page; a render error anywhere outside the panes' own boundaries shows the app-level message instead of a blank page. */
export function App() {
  return (
    <ErrorBoundary name="page" level="app">
      <Layout />
    </ErrorBoundary>
  );
}

function Layout() {
  const firstLosses = useClim((s) => s.firstLosses);
  return (
    <div className="app">
      <header className="app-header">
        <h1>CLIM Playground</h1>
        <p className="lede">
          A self-supervised image encoder (Center-wise Local Image Mixture) training in your browser, in a Web Worker.
        </p>
      </header>
      <aside className="side" aria-label="Data and settings">
        <ErrorBoundary name="Data set">
          <DatasetPicker />
          <EncoderChoice />
        </ErrorBoundary>
        <ErrorBoundary name="Upload">
          <UploadPanel />
        </ErrorBoundary>
        <ErrorBoundary name="Saved runs">
          <RunsPanel />
        </ErrorBoundary>
        <ErrorBoundary name="Settings">
          <SettingsPanel />
        </ErrorBoundary>
      </aside>
      <main className="main">
        <ErrorBoundary name="Controls">
          <Controls />
        </ErrorBoundary>
        <ErrorBoundary name="Messages">
          <ResumeOffer />
          <FaultBanner />
          <ErrorBanner />
          <FinishedCard />
        </ErrorBoundary>
        <Views />
      </main>
      <footer className="statusbar" aria-label="Run status">
        <ErrorBoundary name="Status bar">
          <StatusBar />
        </ErrorBoundary>
      </footer>
      {/* Machine-readable first losses, for the end-to-end backend comparison. */}
      <pre hidden data-testid="losses">
        {JSON.stringify(firstLosses)}
      </pre>
      <SnapshotSummary />
      <FontWarmup />
    </div>
  );
}
