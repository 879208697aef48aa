/**
 * The page store's shared state type and its constants. Every slice (and
 * settings-store.ts) imports its types from here, never from store.ts, so the
 * store's modules form no import cycle: this module imports no slice.
 */
import type { StoreApi } from 'zustand/vanilla';
import type { ClimConfig, ConfigIssue } from '../../core/config';
import type { ClusterSnapshot, EvalResult, ProjectionSnapshot, SelectionSnapshot, StepMetrics } from '../../core/api';
import type { UploadReport } from '../../core/data/upload';
import type { RuleComparison } from '../rule-names';
import type { RunClock } from '../status';
import type { UmapClient } from '../../worker/umap-client';
import type { UmapEvent } from '../../worker/umap-protocol';
import type { EngineClient } from '../../worker/client';
import type {
  InitWeightsInfo,
  FaultReport,
  TestFaultKind,
  SavedRunInfo,
  BackendAttempt,
  BackendName,
  DatasetChoice,
  DatasetName,
  EventOf,
  RunState,
  SaveTrigger,
  TensorMemory,
  Thumbnails,
  UploadData,
} from '../../worker/protocol';

/** The settings form's part of the state; settings-store.ts holds its actions. */
export interface SettingsState {
  /** What the settings form shows; may be invalid, and is never sent while it is. */
  draft: ClimConfig;
  /** validateConfig(draft), so the form and the Start button agree on what is wrong. */
  draftIssues: ConfigIssue[];
  /** Preset the applied config started from (the URL lists only fields that differ from it); null: the defaults. */
  preset: string | null;
  /** Sentences about a link that could not be read in full, shown until dismissed. */
  notices: string[];
  /** Why the page picked the preset itself (pageDefaultPreset), shown under it until another is chosen. */
  presetNote: string | null;

  /** Edits the draft; applies it as far as the run state allows (see the file comment). */
  editDraft(patch: Partial<ClimConfig>): void;
  /** A new run with the draft, when it is valid. */
  applyDraft(): void;
  /** Back to the applied config. */
  discardDraft(): void;
  /** A new run from the preset's config, keeping the seed. */
  choosePreset(id: string): void;
  /** A run described by a link (a pasted URL hash): a new run unless it is the run already shown. */
  applyLink(link: { config: ClimConfig; preset: string | null; dataset: DatasetName | null; notices: string[] }): void;
  dismissNotices(): void;
}

export type SettingsFields = Pick<SettingsState, 'draft' | 'draftIssues' | 'preset' | 'notices' | 'presetNote'>;

/** The views (tabs) of the page. */
export type PaneId = 'training' | 'positives' | 'clusters' | 'about';

/** Which 2-D map the Clusters view shows. */
export type MapMethod = 'pca' | 'umap';

/** UMAP on demand: fetching the bank rows, building the neighbour graph, laying out (epoch of epochs), done. */
export interface UmapState {
  status: 'idle' | 'fetching' | 'neighbours' | 'layout' | 'done' | 'error';
  epoch: number;
  epochs: number;
  /** Points in the job (0 before the rows arrive). */
  points: number;
  /** Wall time of the finished job. */
  ms: number | null;
  message: string | null;
}

/** Pixels of training images fetched so far (map hover, galleries), by training index; S×S×3 RGB each. */
export interface ImageCache {
  size: number;
  pixels: ReadonlyMap<number, Uint8Array>;
}

/**
 * UMAP runs on at most this many bank rows (a seeded subset): in plain JS on 2 cores 10k rows took most of a minute
 * (docs/BENCHMARKS.md §M13).
 */
export const UMAP_MAX_POINTS = 5000;
/** Images kept in the cache; the oldest go first. */
export const IMAGE_CACHE_MAX = 4096;

/** 'connecting' until the worker has a backend. */
export type UiRunState = RunState | 'connecting';

export interface EngineError {
  message: string;
  recoverable: boolean;
}

export interface ConnectOptions {
  backend?: BackendName | null;
  /** More than 1: the threaded WASM build with this many threads (default: single-threaded SIMD). */
  wasmThreads?: number;
  /** Steps between IndexedDB checkpoints (0: only on Pause and Save now); the worker's AUTOSAVE_EVERY otherwise. */
  autosaveEvery?: number;
  /** `?testhooks=1`: the worker honours injected faults (end-to-end tests only). */
  testHooks?: boolean;
  config?: ClimConfig;
  /** Data set and sizes; without it the worker's default (DEFAULT_DATASET, full size). */
  dataset?: { name?: DatasetName; seed?: number; nTrain?: number; nTest?: number };
  /** The preset `config` came from (the settings form shows it, the URL diffs against it). */
  preset?: string | null;
  /** Problems with the page's link, shown to the user (url-sync.ts). */
  notices?: string[];
  /** Nothing in the link chose the run: once the backend is known, start from the preset that suits it (pageDefaultPreset). */
  autoPreset?: boolean;
}

export type DatasetSizes = Omit<NonNullable<ConnectOptions['dataset']>, 'name'>;

/** Wall-clock window over which steps per second is measured. */
export const RATE_WINDOW_MS = 10_000;
/** History cap, the worker's too (worker/protocol.ts). */
export { MAX_HISTORY } from '../../worker/protocol';
/** Rule-comparison history cap (one entry per selection snapshot, every 25 steps). */
export const MAX_RULE_HISTORY = 400;

export interface RateSample {
  t: number;
  step: number;
}

/** The outcome of the current run's last checkpoint attempt. */
export interface LastSave {
  step: number;
  ok: boolean;
  bytes: number;
  ms: number;
  message: string | null;
  trigger: SaveTrigger;
}

/**
 * The weights fresh runs start from, as the worker last reported them
 * (protocol `initWeights`): the built-in trained encoder or a weights file,
 * by name, with what the file says of its training; null: random init.
 */
export type InitWeightsState = { source: 'builtin' | 'file'; name: string } & InitWeightsInfo;

/** The ablation report in the app, as the worker last reported it (protocol `ablation` event). */
export type AblationState = Omit<EventOf<'ablation'>, 'type' | 'runId'>;

export interface ClimState extends SettingsState {
  runState: UiRunState;
  backend: BackendName | null;
  adapter: string;
  isFallbackAdapter: boolean;
  failedBackends: BackendAttempt[];
  config: ClimConfig;
  /** The data set chosen on the page ('upload': the last loaded folder or zip). */
  dataset: DatasetChoice;
  /** The loaded upload's name and report, or null before any upload. */
  upload: { name: string; size: number; report: UploadReport } | null;
  datasetId: string | null;
  step: number;
  /** Every reported step of the current run, oldest first (capped at MAX_HISTORY, thinned evenly). */
  metrics: StepMetrics[];
  /** Losses of the first 20 steps, kept even after the history is thinned. */
  firstLosses: number[];
  stepsPerSecond: number | null;
  /** Training time of the run (pauses excluded), from wall-clock deltas between the worker's events (status.ts). */
  clock: RunClock;
  /** Images in the run's data set, from the worker; null until it is loaded. */
  trainSize: number | null;
  testSize: number | null;
  /** The worker's live tensors (tf.memory()) at its last report. */
  workerMemory: TensorMemory | null;
  selection: SelectionSnapshot | null;
  /** The selection rules compared at each snapshot of the current run, oldest first (capped at MAX_RULE_HISTORY, thinned evenly). */
  ruleHistory: RuleComparison[];
  /** Pixels of the images the selection snapshot names. */
  thumbs: Thumbnails | null;
  /** Class names of the data set in use (empty when unlabelled). */
  classNames: string[];
  /** Training images the user pinned as anchors in the Positives view. */
  pinned: number[];
  clusters: ClusterSnapshot | null;
  /** The latest PCA map of the bank (one per cluster snapshot). */
  projection: ProjectionSnapshot | null;
  /** The last UMAP map computed on demand, or null. */
  umapMap: ProjectionSnapshot | null;
  umap: UmapState;
  mapMethod: MapMethod;
  images: ImageCache;
  activeTab: PaneId;
  evals: EvalResult[];
  /** The raw-pixel kNN top-1 on the run's split (the worker's `baseline` event): the held-out chart's reference line. */
  rawBaseline: { knnTop1: number; k: number; tau: number } | null;
  error: EngineError | null;
  rateSamples: RateSample[];
  /** Runs saved in this browser (IndexedDB), most recent first. */
  savedRuns: SavedRunInfo[];
  lastSave: LastSave | null;
  /** The page-load offer to resume the latest saved run; false once answered or once a run has started. */
  resumeOffered: boolean;
  /** A resume or import being checked by the worker (its token), or null. */
  restoring: { token: number; source: 'saved' | 'file'; label: string } | null;
  /** The export zip is being built in the worker. */
  exporting: boolean;
  /** An evaluation asked for is running. */
  evaluating: boolean;
  /** A file the page should save (a run file or the export zip), taken by the component that offers it. */
  download: { bytes: Uint8Array; fileName: string } | null;
  /** The last fault the worker caught (NaN/Inf loss, lost device) and what it did; null once answered. */
  fault: FaultReport | null;
  /** The ablation in progress or last finished, or null. */
  ablation: AblationState | null;
  /** The weights fresh runs start from (null: random init); kept across new runs until the worker says otherwise. */
  initWeights: InitWeightsState | null;
  /** A weights choice sent and not yet answered (an `initWeights` event or an error). */
  initWeightsPending: boolean;
  /** What the built-in trained encoder's file says of its training, once it has been loaded (kept after going back to random init, for the hint). */
  trainedEncoderInfo: InitWeightsInfo | null;

  connect(opts?: ConnectOptions): void;
  start(): void;
  pause(): void;
  /** One training step while paused (named apart from the `step` count). */
  stepOnce(): void;
  reset(): void;
  /**
   * "Train N more steps" of a finished run: a new warm-up and cosine segment of the learning rate over the N steps,
   * from the base rate (docs/METHOD.md §1.5); the run trains on and finishes again at its new totalSteps.
   */
  extendRun(steps: number): void;
  configure(config: ClimConfig): void;
  /** Switches to a built-in data set (a new run); sizes from the page options carry over. */
  setDataset(name: DatasetChoice): void;
  /** Trains on a decoded upload from now on (a new run); its buffers move to the worker. */
  loadUpload(data: UploadData, report: UploadReport): void;
  dismissError(): void;
  /** Shows image `index` as an anchor in the Positives view (at most MAX_PINNED, 12; the oldest goes first). */
  pinAnchor(index: number): void;
  unpinAnchor(index: number): void;
  setActiveTab(id: PaneId): void;
  /** Fetches the pixels of training images not yet cached (answered into `images`). */
  requestImages(indices: number[]): void;
  /** Starts a UMAP of up to UMAP_MAX_POINTS bank rows in its own worker; the result becomes the map. */
  computeUmap(): void;
  cancelUmap(): void;
  setMapMethod(m: MapMethod): void;
  /** Resumes a saved run: checked aside first; on success it replaces the current run, paused at its step. */
  resumeSaved(key: string): void;
  discardSaved(key: string): void;
  dismissResumeOffer(): void;
  saveNow(): void;
  /** Imports a run file: checked aside first; a bad file leaves the current run untouched and says why. */
  importRunFile(bytes: Uint8Array, fileName: string): void;
  exportRun(): void;
  /** Model, projector files, CSVs and config as one zip download. */
  exportBundle(): void;
  /** Evaluate now; `full` adds the linear probe, alignment/uniformity and cluster agreement. */
  evaluateNow(full: boolean): void;
  /** The page has handed the run file to the browser. */
  takeDownload(): void;
  /**
   * After a NaN/Inf loss: restore the last checkpoint with the safer learning
   * rate the fault offered, or, with no checkpoint yet, start the run over with it.
   */
  recoverFromFault(): void;
  dismissFault(): void;
  /** After the worker died: a fresh worker with the same page options; the resume offer then shows the last save. */
  restartEngine(): void;
  /** Trains each chosen arm (ABLATION_IDS) for `steps` steps on the current data set and settings; pauses the run. */
  runAblation(arms: string[], steps: number): void;
  stopAblation(): void;
  /** The ablation table as CSV, through `download`. */
  downloadAblationCsv(): void;
  /** Fresh runs start from the trained fashion-mnist encoder the app ships (true) or from random weights (false); a new run at step 0. */
  startFromTrainedEncoder(on: boolean): void;
  /** Fresh runs start from a weights file (`.climweights`); a file that does not fit leaves the run and the choice as they are and says why. */
  openModel(file: File): Promise<void>;
  /** Test-only (`?testhooks=1`): asks the worker to fake a fault. */
  injectTestFault(kind: TestFaultKind): void;
  disconnect(): void;
}

export interface StoreDeps {
  makeClient?: () => EngineClient;
  makeUmapClient?: (onEvent: (e: UmapEvent) => void) => UmapClient;
  now?: () => number;
}

export type SetState = StoreApi<ClimState>['setState'];
export type GetState = StoreApi<ClimState>['getState'];
