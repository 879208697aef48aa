/**
 * The page's state. The store owns the engine client: components read state
 * and call actions here, and never touch tfjs or the worker themselves.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { defaultConfig, validateConfig, type ClimConfig } from '../core/config';
import { getPreset, pageDefaultPreset, presetConfig } from '../core/presets';
import { initialSettings, pendingRestart, settingsActions, type SettingsState } from './settings-store';
import type { ClusterSnapshot, EmbeddingsDump, EvalResult, ProjectionSnapshot, SelectionSnapshot, StepMetrics } from '../core/api';
import type { RuleComparison } from './rule-names';
import { UmapClient } from '../worker/umap-client';
import type { UmapEvent } from '../worker/umap-protocol';
import { EngineClient } from '../worker/client';
import { DATASETS, DEFAULT_DATASET, MAX_IMAGES_PER_REQUEST, WEIGHTS_FILE_EXTENSION, type InitWeightsInfo, type FaultReport, type TestFaultKind, type SavedRunInfo, type BackendAttempt, type BackendName, type DatasetChoice, type DatasetName, type RunState, type Thumbnails, type UploadData } from '../worker/protocol';
import type { UploadReport } from '../core/data/upload';
import type { TensorMemory } from '../worker/protocol';
import { ablationCsv } from '../core/ablation-table';
import type { EventOf } from '../worker/protocol';
import { IDLE_CLOCK, clockOnProgress, clockOnState, isSleepGap, restoredClock, type RunClock } from './status';

export { DATASETS, DEFAULT_DATASET, WEIGHTS_FILE_EXTENSION, type DatasetName, type DatasetChoice, type Thumbnails };

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

/** UMAP runs on at most this many bank rows (a seeded subset): 10k took ~45 s in plain JS on 2 cores, 2k about 11 s. */
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

type DatasetSizes = Omit<NonNullable<ConnectOptions['dataset']>, 'name'>;

/** Wall-clock window over which steps per second is measured. */
const RATE_WINDOW_MS = 10_000;
/** History cap: ~100k numbers, far more than a chart can show. */
export const MAX_HISTORY = 10_000;
/** Rule-comparison history cap (one entry per selection snapshot, every 25 steps). */
export const MAX_RULE_HISTORY = 400;

interface RateSample {
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
  trigger: 'autosave' | 'pause' | 'manual';
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
  configure(config: ClimConfig): void;
  /** Switches to a built-in data set (a new run); sizes from the page options carry over. */
  setDataset(name: DatasetChoice): void;
  /** Trains on a decoded upload from now on (a new run); its buffers move to the worker. */
  useUpload(data: UploadData, report: UploadReport): void;
  dismissError(): void;
  /** Shows image `index` as an anchor in the Positives view (at most 12 pinned; the oldest goes first). */
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

const idleUmap = (): UmapState => ({ status: 'idle', epoch: 0, epochs: 0, points: 0, ms: null, message: null });

const runFields = () => ({
  step: 0,
  metrics: [] as StepMetrics[],
  firstLosses: [] as number[],
  stepsPerSecond: null,
  clock: IDLE_CLOCK,
  selection: null,
  ruleHistory: [] as RuleComparison[],
  thumbs: null,
  clusters: null,
  projection: null as ProjectionSnapshot | null,
  umapMap: null as ProjectionSnapshot | null,
  umap: idleUmap(),
  mapMethod: 'pca' as MapMethod,
  images: { size: 0, pixels: new Map<number, Uint8Array>() } as ImageCache,
  evals: [] as EvalResult[],
  rawBaseline: null as { knnTop1: number; k: number; tau: number } | null,
  rateSamples: [] as RateSample[],
  fault: null as FaultReport | null,
});

function initialState() {
  return {
    runState: 'connecting' as UiRunState,
    backend: null,
    adapter: '',
    isFallbackAdapter: false,
    failedBackends: [] as BackendAttempt[],
    config: defaultConfig(),
    dataset: DEFAULT_DATASET as DatasetChoice,
    upload: null as ClimState['upload'],
    classNames: [] as string[],
    pinned: [] as number[],
    datasetId: null,
    trainSize: null as number | null,
    testSize: null as number | null,
    workerMemory: null as TensorMemory | null,
    error: null,
    savedRuns: [] as SavedRunInfo[],
    lastSave: null as LastSave | null,
    resumeOffered: true,
    restoring: null as ClimState['restoring'],
    exporting: false,
    evaluating: false,
    download: null as ClimState['download'],
    ablation: null as AblationState | null,
    initWeights: null as InitWeightsState | null,
    initWeightsPending: false,
    trainedEncoderInfo: null as InitWeightsInfo | null,
    activeTab: 'training' as PaneId,
    ...initialSettings(defaultConfig()),
    ...runFields(),
  };
}

/** Keeps every other point of the older half, so long runs stay chartable. */
function appendCapped<T>(history: T[], more: T[], max = MAX_HISTORY): T[] {
  let out = history.concat(more);
  while (out.length > max) {
    const half = out.length >> 1;
    out = out.slice(0, half).filter((_, i) => i % 2 === 0).concat(out.slice(half));
  }
  return out;
}

export function stepsPerSecond(samples: RateSample[], last: StepMetrics | undefined): number | null {
  if (samples.length >= 2) {
    const a = samples[0];
    const b = samples[samples.length - 1];
    if (b.t > a.t && b.step > a.step) return ((b.step - a.step) * 1000) / (b.t - a.t);
  }
  // One batch so far (or steps slower than the window): the step's own time.
  return last && last.ms > 0 ? 1000 / last.ms : null;
}

export function createClimStore(deps: StoreDeps = {}): StoreApi<ClimState> {
  const makeClient = deps.makeClient ?? (() => new EngineClient());
  const now = deps.now ?? (() => performance.now());
  let client: EngineClient | null = null;
  let unsubscribe: Array<() => void> = [];
  let sizes: DatasetSizes = {};
  const makeUmap = deps.makeUmapClient ?? ((onEvent: (e: UmapEvent) => void) => new UmapClient(onEvent));
  let umapClient: UmapClient | null = null;
  /** The rows of the UMAP job in flight, and the engine run they belong to. */
  let umapJob: { dump: EmbeddingsDump; run: number } | null = null;
  /** Image indices asked for and not yet answered (no second request while one is in flight). */
  const pendingImages = new Set<number>();
  /** Tokens of restore requests; only the latest one's answer is acted on. */
  let restoreToken = 0;
  /** What connect was given, for restartEngine. */
  let connected: ConnectOptions = {};

  return createStore<ClimState>()((set, get) => {
    /**
     * The first `ready` of a page whose link chose no run: a CPU-only backend
     * gets the CPU-sized CLIM, whose default run passes the raw pixels there
     * (the paper preset's 1,000 steps did not; docs/BENCHMARKS.md). Only while
     * nothing has run and the settings are still the page's.
     */
    const applyPageDefaultPreset = (backend: BackendName, isFallbackAdapter: boolean) => {
      if (!connected.autoPreset) return;
      connected = { ...connected, autoPreset: false };
      const s = get();
      const id = pageDefaultPreset(backend, isFallbackAdapter);
      if (id === s.preset || s.step > 0 || s.restoring || s.preset !== 'clim-paper' || JSON.stringify(s.config) !== JSON.stringify(presetConfig('clim-paper'))) return;
      s.configure(presetConfig(id));
      set({
        preset: id,
        presetNote: `Chosen for this machine: training runs on the CPU here (${backend === 'webgpu' ? 'a software GPU adapter' : backend.toUpperCase()}), so the page starts with the same method at one 24-px resolution, about four times faster per step than “${getPreset('clim-paper').label}”, which stays one choice away.`,
      });
    };
    const onUmap = (e: UmapEvent) => {
      const job = umapJob;
      // A job of an earlier run (Reset, new data) is dropped with its result.
      if (!job || !client || job.run !== client.runId) return;
      if (e.type === 'progress') set({ umap: { ...get().umap, status: e.phase, epoch: e.epoch, epochs: e.epochs } });
      else if (e.type === 'done') {
        umapJob = null;
        const d = job.dump;
        set({
          umapMap: { step: d.step, method: 'umap', index: d.index, xy: e.xy, cluster: d.cluster, label: d.label, explained: null },
          mapMethod: 'umap',
          umap: { ...get().umap, status: 'done', epoch: get().umap.epochs, ms: e.ms },
        });
      } else if (e.type === 'cancelled') {
        umapJob = null;
        set({ umap: idleUmap() });
      } else {
        umapJob = null;
        set({ umap: { ...idleUmap(), status: 'error', message: e.message } });
      }
    };
    const stopUmap = () => {
      umapJob = null;
      umapClient?.cancel();
    };
    /**
     * A new run id without clearing the run: the worker keeps it (paused) if
     * it refuses the weights, and says 'idle' at step 0 (which clears it
     * here) if it takes them. What the old id still had in flight is dropped,
     * so nothing may wait for it: image requests and a UMAP job.
     */
    const sendInitWeights = (c: EngineClient, source: Parameters<EngineClient['setInitWeights']>[0]) => {
      pendingImages.clear();
      const u = get().umap.status;
      if (umapJob || u === 'fetching') {
        stopUmap();
        set({ umap: idleUmap() });
      }
      set({ initWeightsPending: true, error: null });
      c.setInitWeights(source);
    };
    const wire = (c: EngineClient) => [
      c.on('ready', (e) => {
        set({ backend: e.backend, adapter: e.adapter, isFallbackAdapter: e.isFallbackAdapter, failedBackends: e.failed });
        applyPageDefaultPreset(e.backend, e.isFallbackAdapter);
        // What this browser has saved: the page offers to resume the latest.
        c.listSaved();
      }),
      c.on('saved', (e) => set({ savedRuns: e.entries })),
      c.on('checkpoint', (e) => {
        const { type: _t, runId: _r, ...save } = e;
        set({ lastSave: save });
        // A failed save is worth an interruption: the user may be about to close the tab.
        if (!e.ok && e.message) set({ error: { message: e.message, recoverable: true } });
      }),
      c.on('restoreReady', (e) => {
        const r = get().restoring;
        if (!r || r.token !== e.token) return;
        stopUmap();
        pendingImages.clear();
        c.commitRestore(e.token);
      }),
      c.on('restored', (e) => {
        const firstLosses = e.history.slice(0, 20).map((m) => m.loss);
        set({
          ...runFields(),
          config: e.config,
          draft: e.config,
          draftIssues: [],
          preset: null,
          dataset: e.dataset,
          pinned: [],
          metrics: e.history.slice(-MAX_HISTORY),
          firstLosses,
          evals: e.evals,
          step: e.step,
          clock: restoredClock(e.history, e.step),
          restoring: null,
          resumeOffered: false,
          error: null,
        });
      }),
      c.on('runFile', (e) => set({ download: { bytes: e.bytes, fileName: e.fileName } })),
      c.on('bundle', (e) => set({ download: { bytes: e.bytes, fileName: e.fileName }, exporting: false })),
      c.on('fault', (e) => set({ fault: e.fault })),
      c.on('ablation', (e) => {
        const { type: _t, runId: _r, ...ablation } = e;
        set({ ablation });
      }),
      c.on('state', (e) => {
        const patch: Partial<ClimState> = { runState: e.state, step: e.step, datasetId: e.datasetId, trainSize: e.trainSize ?? null, testSize: e.testSize ?? null };
        if (e.memory) patch.workerMemory = e.memory;
        patch.clock = clockOnState(get().clock, e.state, e.step, now());
        // Pauses must not count as slow steps in the rate.
        if (e.state !== 'running') patch.rateSamples = [];
        if (e.state === 'idle' && e.step === 0) {
          Object.assign(patch, runFields());
          stopUmap();
          pendingImages.clear();
        }
        set(patch);
      }),
      c.on('progress', (e) => {
        if (!e.metrics.length) return;
        const s = get();
        const last = e.metrics[e.metrics.length - 1];
        const t = now();
        const stepMs = e.metrics.reduce((a, m) => a + m.ms, 0);
        const prev = s.rateSamples[s.rateSamples.length - 1];
        // After a sleep the old samples would average the gap into the rate (and the time left).
        const samples = [...(prev && isSleepGap(t - prev.t, stepMs) ? [] : s.rateSamples), { t, step: last.step }];
        while (samples.length > 2 && t - samples[0].t > RATE_WINDOW_MS) samples.shift();
        const firstLosses =
          s.firstLosses.length >= 20 ? s.firstLosses : s.firstLosses.concat(e.metrics.map((m) => m.loss)).slice(0, 20);
        set({
          metrics: appendCapped(s.metrics, e.metrics),
          firstLosses,
          step: Math.max(s.step, last.step),
          rateSamples: samples,
          stepsPerSecond: stepsPerSecond(samples, last),
          clock: clockOnProgress(s.clock, t, stepMs),
          ...(e.memory ? { workerMemory: e.memory } : {}),
        });
      }),
      c.on('selection', (e) => {
        const rules = e.snapshot.rules;
        const history = get().ruleHistory;
        const last = history[history.length - 1];
        const ruleHistory = rules && (!last || rules.step > last.step) ? appendCapped(history, [rules], MAX_RULE_HISTORY) : history;
        set({ selection: e.snapshot, ruleHistory, thumbs: e.thumbs, classNames: e.classNames });
      }),
      c.on('clusters', (e) => set({ clusters: e.snapshot })),
      c.on('projection', (e) => set({ projection: e.projection })),
      c.on('images', (e) => {
        const { size, index, pixels } = e.thumbs;
        const per = size * size * 3;
        const old = get().images;
        const next = new Map(old.size === size ? old.pixels : []);
        index.forEach((i, k) => {
          pendingImages.delete(i);
          next.delete(i); // re-inserted as the newest
          next.set(i, pixels.slice(k * per, (k + 1) * per));
        });
        for (const key of next.keys()) {
          if (next.size <= IMAGE_CACHE_MAX) break;
          next.delete(key);
        }
        set({ images: { size, pixels: next } });
      }),
      c.on('embeddings', (e) => {
        const st = get().umap;
        if (st.status !== 'fetching' || !client) return;
        const d = e.dump;
        const n = d.index.length;
        umapClient ??= makeUmap(onUmap);
        // The vectors move to the UMAP worker; the rest of the dump stays for the result.
        umapJob = { dump: { ...d, vectors: new Float32Array(0) }, run: client.runId };
        set({ umap: { ...idleUmap(), status: 'neighbours', points: n } });
        umapClient.run(d.vectors, n, d.dim, { seed: get().config.seed, nNeighbors: 15, minDist: 0.1 });
      }),
      c.on('eval', (e) => set({ evals: [...get().evals, e.result], evaluating: false })),
      c.on('baseline', (e) => set({ rawBaseline: { knnTop1: e.knnTop1, k: e.k, tau: e.tau } })),
      c.on('initWeights', (e) => {
        const initWeights = e.source && e.name !== null ? { source: e.source, name: e.name, ...(e.info ?? {}) } : null;
        set({ initWeights, initWeightsPending: false, ...(e.source === 'builtin' && e.info ? { trainedEncoderInfo: e.info } : {}) });
      }),
      // A failed restore check ends the restore (the worker says why; the current run is untouched); a refused weights file likewise.
      c.on('error', (e) => set({ error: { message: e.message, recoverable: e.recoverable }, restoring: null, exporting: false, evaluating: false, initWeightsPending: false })),
    ];

    return {
      ...initialState(),

      connect(opts = {}) {
        // Idempotent: StrictMode and hot reload may call it twice.
        if (client) return;
        connected = opts;
        client = makeClient();
        unsubscribe = wire(client);
        const initOpts: { wasmThreads?: number; autosaveEvery?: number; testHooks?: boolean } = {};
        if (opts.wasmThreads !== undefined) initOpts.wasmThreads = opts.wasmThreads;
        if (opts.autosaveEvery !== undefined) initOpts.autosaveEvery = opts.autosaveEvery;
        if (opts.testHooks) initOpts.testHooks = true;
        client.init(opts.backend ?? null, initOpts);
        if (opts.preset !== undefined) set({ preset: opts.preset });
        if (opts.notices?.length) set({ notices: opts.notices });
        if (opts.config) {
          // An invalid config from the URL waits in the form, explained, instead of reaching the worker.
          const draftIssues = validateConfig(opts.config);
          if (draftIssues.length) set({ draft: opts.config, draftIssues });
          else {
            set({ config: opts.config, draft: opts.config, draftIssues: [] });
            client.configure(opts.config);
          }
        }
        if (opts.dataset) {
          const { name, ...rest } = opts.dataset;
          sizes = rest;
          const dataset = name ?? DEFAULT_DATASET;
          set({ dataset });
          client.setDataset(dataset, rest);
        }
      },
      start() {
        set({ error: null, rateSamples: [], resumeOffered: false });
        client?.start();
      },
      pause() {
        client?.pause();
      },
      stepOnce() {
        set({ error: null });
        client?.step();
      },
      reset() {
        const s = get();
        // Reset starts a new run, which is what settings waiting for one were waiting for.
        if (s.draftIssues.length === 0 && pendingRestart(s).length > 0) {
          s.configure(s.draft);
          return;
        }
        // Cleared at once: the client drops whatever the old run still sends.
        stopUmap();
        pendingImages.clear();
        set({ ...runFields(), error: null });
        client?.reset();
      },
      configure(config) {
        const draftIssues = validateConfig(config);
        if (draftIssues.length) {
          set({ draft: config, draftIssues });
          return;
        }
        stopUmap();
        pendingImages.clear();
        set({ config, draft: config, draftIssues: [], ...runFields(), error: null });
        client?.configure(config);
      },
      ...settingsActions(set, get, () => client),
      setDataset(name) {
        if (name === get().dataset) return;
        set({ dataset: name, datasetId: null, ...runFields(), error: null, pinned: [], classNames: [] });
        client?.setDataset(name, sizes);
      },
      useUpload(data, report) {
        set({ dataset: 'upload', upload: { name: data.name, size: data.size, report }, datasetId: null, ...runFields(), error: null, pinned: [], classNames: [] });
        client?.setUpload(data);
      },
      dismissError() {
        set({ error: null });
      },
      pinAnchor(index) {
        const pinned = [index, ...get().pinned.filter((i) => i !== index)].slice(0, 12);
        set({ pinned });
        client?.pinAnchors(pinned);
      },
      unpinAnchor(index) {
        const pinned = get().pinned.filter((i) => i !== index);
        set({ pinned });
        client?.pinAnchors(pinned);
      },
      setActiveTab(id) {
        set({ activeTab: id });
      },
      requestImages(indices) {
        const have = get().images.pixels;
        const want = [...new Set(indices)].filter((i) => Number.isInteger(i) && i >= 0 && !have.has(i) && !pendingImages.has(i));
        if (!want.length || !client) return;
        for (const i of want) pendingImages.add(i);
        // The engine answers at most MAX_IMAGES_PER_REQUEST per request.
        for (let k = 0; k < want.length; k += MAX_IMAGES_PER_REQUEST) client.requestImages(want.slice(k, k + MAX_IMAGES_PER_REQUEST));
      },
      computeUmap() {
        const s = get().umap.status;
        if (!client || s === 'fetching' || s === 'neighbours' || s === 'layout') return;
        set({ umap: { ...idleUmap(), status: 'fetching' } });
        client.requestEmbeddings(UMAP_MAX_POINTS);
      },
      cancelUmap() {
        stopUmap();
        set({ umap: idleUmap() });
      },
      setMapMethod(m) {
        set({ mapMethod: m === 'umap' && !get().umapMap ? 'pca' : m });
      },
      resumeSaved(key) {
        if (!client) return;
        const info = get().savedRuns.find((r) => r.key === key);
        const token = ++restoreToken;
        set({ restoring: { token, source: 'saved', label: info ? `step ${info.step} on ${info.datasetLabel}` : 'saved run' }, resumeOffered: false, error: null });
        client.prepareRestore(token, { from: 'saved', key });
      },
      discardSaved(key) {
        client?.discardSaved(key);
      },
      dismissResumeOffer() {
        set({ resumeOffered: false });
      },
      saveNow() {
        client?.saveNow();
      },
      importRunFile(bytes, fileName) {
        if (!client) return;
        const token = ++restoreToken;
        set({ restoring: { token, source: 'file', label: fileName }, resumeOffered: false, error: null });
        client.prepareRestore(token, { from: 'file', bytes, fileName });
      },
      exportRun() {
        client?.exportRun();
      },
      exportBundle() {
        if (!client) return;
        set({ exporting: true });
        client.exportBundle();
      },
      evaluateNow(full) {
        if (!client) return;
        set({ evaluating: true });
        client.evaluate(full);
      },
      takeDownload() {
        set({ download: null });
      },
      recoverFromFault() {
        const f = get().fault;
        if (!f || f.kind !== 'loss' || !client) return;
        if (f.checkpoint) {
          const token = ++restoreToken;
          set({ fault: null, error: null, restoring: { token, source: 'saved', label: `step ${f.checkpoint.step}, learning rate ${f.saferLr}` } });
          client.prepareRestore(token, { from: 'saved', key: f.checkpoint.key }, { lr: f.saferLr });
        } else {
          // Nothing saved before the fault: the same run again from step 0, with the lower rate.
          get().configure({ ...get().config, lr: f.saferLr });
        }
      },
      dismissFault() {
        set({ fault: null });
      },
      restartEngine() {
        const s = get();
        for (const u of unsubscribe) u();
        unsubscribe = [];
        client?.terminate();
        client = null;
        stopUmap();
        pendingImages.clear();
        // The same page options with the run's current settings; an upload lived in the dead worker and must be loaded again.
        const upload = s.dataset === 'upload';
        const name: DatasetName = s.dataset === 'upload' ? DEFAULT_DATASET : s.dataset;
        const opts: ConnectOptions = {
          ...connected,
          config: s.config,
          preset: s.preset,
          notices: upload ? ['The engine restarted: load your folder or zip again to train on it; the built-in data set is in use meanwhile.'] : [],
          dataset: { ...sizes, name },
        };
        // The trained encoder the app ships is asked for again; a weights file lived in the dead worker.
        const builtin = s.initWeights?.source === 'builtin';
        if (s.initWeights && !builtin) opts.notices = [...(opts.notices ?? []), `The engine restarted: open the model file “${s.initWeights.name}” again to start from it; runs start from random weights meanwhile.`];
        set({ ...runFields(), runState: 'connecting', backend: null, error: null, restoring: null, exporting: false, evaluating: false, resumeOffered: true, savedRuns: [], upload: upload ? null : s.upload, initWeights: null, initWeightsPending: false });
        get().connect(opts);
        if (builtin) get().startFromTrainedEncoder(true);
      },
      runAblation(arms, steps) {
        if (!client || get().ablation?.status === 'running') return;
        // Shown at once; the worker's first report replaces it.
        set({ ablation: { status: 'running', arms: [], steps, rows: [], baseline: null, current: null, message: null }, error: null });
        client.runAblation(arms, steps);
      },
      stopAblation() {
        client?.stopAblation();
      },
      downloadAblationCsv() {
        const a = get().ablation;
        if (!a || a.rows.length === 0) return;
        set({ download: { bytes: new TextEncoder().encode(ablationCsv(a.rows)), fileName: `clim-ablation-${a.steps}steps.csv` } });
      },
      startFromTrainedEncoder(on) {
        if (!client) return;
        sendInitWeights(client, on ? { kind: 'builtin', name: 'fashion-mnist' } : null);
      },
      async openModel(file) {
        const bytes = new Uint8Array(await file.arrayBuffer());
        if (!client) return;
        sendInitWeights(client, { kind: 'file', bytes, fileName: file.name });
      },
      injectTestFault(kind) {
        client?.testFault(kind);
      },
      disconnect() {
        for (const u of unsubscribe) u();
        unsubscribe = [];
        client?.dispose();
        client = null;
        stopUmap();
        umapClient?.dispose();
        umapClient = null;
        pendingImages.clear();
        sizes = {};
        set(initialState());
      },
    };
  });
}

/** The app's one store; the worker starts on connect(), not on import. */
export const climStore = createClimStore();

export function useClim<T>(selector: (s: ClimState) => T): T {
  return useStore(climStore, selector);
}
