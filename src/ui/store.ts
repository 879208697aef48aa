/**
 * The page's state. The store owns the engine client: components read state
 * and call actions here, and never touch tfjs or the worker themselves.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { defaultConfig, type ClimConfig } from '../core/config';
import type { ClusterSnapshot, EvalResult, SelectionSnapshot, StepMetrics } from '../core/api';
import { EngineClient } from '../worker/client';
import { DATASETS, DEFAULT_DATASET, type BackendAttempt, type BackendName, type DatasetChoice, type DatasetName, type RunState, type Thumbnails, type UploadData } from '../worker/protocol';
import type { UploadReport } from '../core/data/upload';

export { DATASETS, DEFAULT_DATASET, type DatasetName, type DatasetChoice, type Thumbnails };

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
  config?: ClimConfig;
  /** Data set and sizes; without it the worker's default (DEFAULT_DATASET, full size). */
  dataset?: { name?: DatasetName; seed?: number; nTrain?: number; nTest?: number };
}

type DatasetSizes = Omit<NonNullable<ConnectOptions['dataset']>, 'name'>;

/** Wall-clock window over which steps per second is measured. */
const RATE_WINDOW_MS = 10_000;
/** History cap: ~100k numbers, far more than a chart can show. */
export const MAX_HISTORY = 10_000;

interface RateSample {
  t: number;
  step: number;
}

export interface ClimState {
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
  selection: SelectionSnapshot | null;
  /** Pixels of the images the selection snapshot names. */
  thumbs: Thumbnails | null;
  /** Class names of the data set in use (empty when unlabelled). */
  classNames: string[];
  /** Training images the user pinned as anchors in the Positives view. */
  pinned: number[];
  clusters: ClusterSnapshot | null;
  evals: EvalResult[];
  error: EngineError | null;
  rateSamples: RateSample[];

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
  disconnect(): void;
}

export interface StoreDeps {
  makeClient?: () => EngineClient;
  now?: () => number;
}

const runFields = () => ({
  step: 0,
  metrics: [] as StepMetrics[],
  firstLosses: [] as number[],
  stepsPerSecond: null,
  selection: null,
  thumbs: null,
  clusters: null,
  evals: [] as EvalResult[],
  rateSamples: [] as RateSample[],
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
    error: null,
    ...runFields(),
  };
}

/** Keeps every other point of the older half, so long runs stay chartable. */
function appendCapped(history: StepMetrics[], more: StepMetrics[]): StepMetrics[] {
  let out = history.concat(more);
  while (out.length > MAX_HISTORY) {
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

  return createStore<ClimState>()((set, get) => {
    const wire = (c: EngineClient) => [
      c.on('ready', (e) =>
        set({ backend: e.backend, adapter: e.adapter, isFallbackAdapter: e.isFallbackAdapter, failedBackends: e.failed }),
      ),
      c.on('state', (e) => {
        const patch: Partial<ClimState> = { runState: e.state, step: e.step, datasetId: e.datasetId };
        // Pauses must not count as slow steps in the rate.
        if (e.state !== 'running') patch.rateSamples = [];
        if (e.state === 'idle' && e.step === 0) Object.assign(patch, runFields());
        set(patch);
      }),
      c.on('progress', (e) => {
        if (!e.metrics.length) return;
        const s = get();
        const last = e.metrics[e.metrics.length - 1];
        const t = now();
        const samples = [...s.rateSamples, { t, step: last.step }];
        while (samples.length > 2 && t - samples[0].t > RATE_WINDOW_MS) samples.shift();
        const firstLosses =
          s.firstLosses.length >= 20 ? s.firstLosses : s.firstLosses.concat(e.metrics.map((m) => m.loss)).slice(0, 20);
        set({
          metrics: appendCapped(s.metrics, e.metrics),
          firstLosses,
          step: Math.max(s.step, last.step),
          rateSamples: samples,
          stepsPerSecond: stepsPerSecond(samples, last),
        });
      }),
      c.on('selection', (e) => set({ selection: e.snapshot, thumbs: e.thumbs, classNames: e.classNames })),
      c.on('clusters', (e) => set({ clusters: e.snapshot })),
      c.on('eval', (e) => set({ evals: [...get().evals, e.result] })),
      c.on('error', (e) => set({ error: { message: e.message, recoverable: e.recoverable } })),
    ];

    return {
      ...initialState(),

      connect(opts = {}) {
        // Idempotent: StrictMode and hot reload may call it twice.
        if (client) return;
        client = makeClient();
        unsubscribe = wire(client);
        client.init(opts.backend ?? null, opts.wasmThreads === undefined ? {} : { wasmThreads: opts.wasmThreads });
        if (opts.config) {
          set({ config: opts.config });
          client.configure(opts.config);
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
        set({ error: null, rateSamples: [] });
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
        // Cleared at once: the client drops whatever the old run still sends.
        set({ ...runFields(), error: null });
        client?.reset();
      },
      configure(config) {
        set({ config, ...runFields(), error: null });
        client?.configure(config);
      },
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
      disconnect() {
        for (const u of unsubscribe) u();
        unsubscribe = [];
        client?.dispose();
        client = null;
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
