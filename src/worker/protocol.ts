/**
 * Messages between the page and the engine worker. Plain data only, so both
 * sides agree on shapes at compile time and nothing tfjs crosses the boundary.
 *
 * Run ids: the client owns a counter and bumps it for every request that
 * starts a new run (the types in NEW_RUN_REQUESTS below, the one list of
 * them); every request carries the client's current id and every event carries the id of the run that
 * produced it. The client drops run-scoped events older than its current id,
 * so a step that was in flight when the user pressed Reset cannot leak into
 * the fresh run's chart. A new-run request the worker refuses (a commitRestore
 * whose run is gone, a weights file that does not fit) stops the run in
 * progress but keeps it, paused, under the new id.
 */
import type { BackendName } from '../core/backend-order';
import type { ClimConfig } from '../core/config';
import type { LivePatch } from '../core/config-fields';
import type {
  ClusterSnapshot,
  EmbeddingsDump,
  EvalResult,
  ProjectionSnapshot,
  SelectionSnapshot,
  StepMetrics,
} from '../core/api';
import type { SavedRunInfo } from './run-store';
import type { AblationBaseline, AblationRow } from '../core/ablation-table';
import type { WeightsInfo } from '../core/weights-file';

export type { SavedRunInfo };

export type { BackendName } from '../core/backend-order';
export { BACKEND_NAMES, isBackendName } from '../core/backend-order';
export { WEIGHTS_FILE_EXTENSION } from '../core/weights-file';

export const REQUEST_TYPES = [
  'init',
  'configure',
  'setDataset',
  'setUpload',
  'setInitWeights',
  'start',
  'pause',
  'step',
  'reset',
  'extendRun',
  'setLive',
  'pinAnchors',
  'requestImages',
  'requestEmbeddings',
  'listSaved',
  'discardSaved',
  'saveNow',
  'prepareRestore',
  'commitRestore',
  'exportRun',
  'exportBundle',
  'evaluate',
  'runAblation',
  'stopAblation',
  'testFault',
  'dispose',
] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

/** The built-in data sets, the page's default first (the runner, src/cli/train.ts, lists its own default first). */
export const DATASETS = ['fashion-mnist', 'shapes'] as const;
export type DatasetName = (typeof DATASETS)[number];
/** The data set a fresh worker (and the page, without `?dataset=`) uses. */
export const DEFAULT_DATASET: DatasetName = 'fashion-mnist';

export function isDatasetName(v: unknown): v is DatasetName {
  return typeof v === 'string' && (DATASETS as readonly string[]).includes(v);
}

/** History cap of the worker and of the page's store: ~100k numbers, far more than a chart can show. */
export const MAX_HISTORY = 10_000;

/**
 * Thins `history` (in place of a cap) until it holds at most `max` entries by
 * keeping every other point of the older half, so long runs stay chartable.
 * Returns `history` itself when it is short enough.
 */
export function thinHistory<T>(history: T[], max = MAX_HISTORY): T[] {
  let out = history;
  while (out.length > max) {
    const half = out.length >> 1;
    out = out
      .slice(0, half)
      .filter((_, i) => i % 2 === 0)
      .concat(out.slice(half));
  }
  return out;
}

/** Most anchors pinned in the Positives view at once (the store's pinAnchor, the worker's pinAnchors). */
export const MAX_PINNED = 12;

/** An uploaded image set, decoded by the decode worker (decode-protocol.ts). */
export interface UploadData {
  name: string;
  /** Side S of the stored images. */
  size: number;
  /** N×S×S×3 RGB (transferred, not copied). */
  images: Uint8Array;
  labels: Int32Array | null;
  classNames: string[];
  /** Held-out fraction per label (labelled sets only), 0–0.9. */
  fraction: number;
  /** Seed of the held-out split. */
  seed: number;
}

/** The data set of a run: a built-in one, or the last upload. */
export type DatasetChoice = DatasetName | 'upload';

/** Trained encoders the app ships (`public/models/<file>`), by the data set they were trained on. */
export const BUILTIN_MODELS = { 'fashion-mnist': 'fashion-mnist-encoder.climweights' } as const;
export type BuiltinModelName = keyof typeof BUILTIN_MODELS;
/** A built-in model's name as the page shows it: its file name without the extension. */
export function builtinModelLabel(name: BuiltinModelName): string {
  return BUILTIN_MODELS[name].replace(/\.climweights$/, '');
}

/** Where a fresh run's encoder weights come from (null: random init). */
export type InitWeightsSource =
  { kind: 'builtin'; name: BuiltinModelName } | { kind: 'file'; bytes: Uint8Array; fileName: string };

/** What the page shows of the weights a fresh run starts from (from the file's `info`). */
export type InitWeightsInfo = Pick<WeightsInfo, 'steps' | 'knnTop1' | 'trainedOn'>;

interface Req<T extends RequestType> {
  type: T;
  runId: number;
}

export type WorkerRequest =
  /** wasmThreads > 1: the threaded WASM build with that many XNNPACK threads (page option `?wasmthreads=N`). */
  /** autosaveEvery: checkpoint to IndexedDB every N steps (0: only on Pause and Save; default AUTOSAVE_EVERY; page option `?autosave=N`). */
  /** testHooks: honour `testFault` (page option `?testhooks=1`, for the end-to-end fault tests only). */
  | (Req<'init'> & { backend?: BackendName | null; wasmThreads?: number; autosaveEvery?: number; testHooks?: boolean })
  | (Req<'configure'> & { config: ClimConfig })
  /** 'upload' switches back to the upload the worker already holds (setUpload). */
  | (Req<'setDataset'> & { dataset: DatasetChoice; seed?: number; nTrain?: number; nTest?: number })
  /** Makes the upload the run's data set (a new run), replacing any earlier upload. */
  | (Req<'setUpload'> & { upload: UploadData })
  /**
   * The weights every fresh run's encoders start from (a new run at step 0):
   * a trained encoder the app ships, a weights file (bytes, transferred), or
   * null for random init again. Answered by `initWeights`; a file that cannot
   * be read or does not fit the config's encoder is answered by a recoverable
   * error and changes nothing but pausing the run.
   */
  | (Req<'setInitWeights'> & { source: InitWeightsSource | null })
  | Req<'start'>
  | Req<'pause'>
  | Req<'step'>
  | Req<'reset'>
  /**
   * "Train N more steps" of a finished run (docs/METHOD.md §1.5): the schedule gets a new warm-up and cosine segment
   * from the step the run finished at (config.scheduleStart) to that step + `steps` (config.totalSteps), announced by
   * an `extended` event, and the run trains on to the new end, where it finishes again. Refused (a recoverable
   * error, nothing changed) unless the run is finished and 1 ≤ steps ≤ MAX_EXTEND_STEPS.
   */
  | (Req<'extendRun'> & { steps: number })
  /**
   * Live-safe fields (CONFIG_FIELDS' liveSafe) for the run in progress: not a
   * new run. The worker rejects other keys, and a merged config that
   * validateConfig rejects, with a recoverable error and changes nothing.
   */
  | (Req<'setLive'> & { patch: LivePatch })
  /** Training images to show as anchors in the Positives view (first in every selection snapshot); sends a snapshot at once when paused. */
  | (Req<'pinAnchors'> & { indices: number[] })
  /** Pixels of training images (map hover, cluster galleries): answered by an `images` event, at most MAX_IMAGES_PER_REQUEST. */
  | (Req<'requestImages'> & { indices: number[] })
  /** Up to `max` bank rows for UMAP: answered by an `embeddings` event (nothing before the first step's model exists). */
  | (Req<'requestEmbeddings'> & { max: number })
  /** The runs saved in IndexedDB: answered by a `saved` event. */
  | Req<'listSaved'>
  | (Req<'discardSaved'> & { key: string })
  /** Checkpoint the current run now (also done every `autosaveEvery` steps and on Pause). */
  | Req<'saveNow'>
  /**
   * Checks a saved run (by key) or a run file (bytes, transferred) and builds
   * its trainer aside, without touching the current run: answered by
   * `restoreReady` (then `commitRestore` switches to it) or by an error that
   * says what is wrong and changes nothing.
   */
  | (Req<'prepareRestore'> & { token: number; live?: LivePatch } & (
        { from: 'saved'; key: string } | { from: 'file'; bytes: Uint8Array; fileName: string }
      ))
  /** Makes the prepared run (same token) the current one: a new run, paused at its saved step. */
  | (Req<'commitRestore'> & { token: number })
  /** The current run as one file: answered by a `runFile` event. */
  | Req<'exportRun'>
  /** The trained encoder (LayersModel), Embedding Projector files, CSVs and config as one zip: answered by a `bundle` event. */
  | Req<'exportBundle'>
  /** Evaluates now; `full` adds the linear probe, alignment/uniformity and cluster agreement (seconds, not a step). */
  | (Req<'evaluate'> & { full: boolean })
  /**
   * The ablation report in the app (src/core/ablation.ts): the current run's
   * data set and settings as the base, the chosen arms (ABLATION_IDS) trained
   * one after another for `steps` steps each, every arm evaluated in full.
   * Pauses the current run (which is kept); answered by `ablation` events.
   */
  | (Req<'runAblation'> & { arms: string[]; steps: number })
  /** Stops the ablation after the step in flight; the finished arms' rows stay. */
  | Req<'stopAblation'>
  /**
   * Test-only (ignored unless init said testHooks): `nan` turns the query
   * encoder's weights into NaN so the next step's loss is NaN; `device-lost`
   * makes the next step throw as a lost GPU device does; `crash` throws
   * outside any handler, as a worker that dies does; `hang` blocks the
   * worker's thread with no error, as an endless loop does, so only the
   * heartbeat watchdog can notice it.
   */
  | (Req<'testFault'> & { kind: TestFaultKind })
  | Req<'dispose'>;

export const TEST_FAULT_KINDS = ['nan', 'device-lost', 'crash', 'hang'] as const;
export type TestFaultKind = (typeof TEST_FAULT_KINDS)[number];

/**
 * A fault the worker caught and what it did about it (issue 6, "Faults").
 * `loss`: the step's loss was NaN or ±Infinity; training paused, nothing
 * saved after it; `checkpoint` is the last good save to restore (null: none
 * yet, start over). `device`: the GPU device was lost or out of memory; the
 * engine moved to backend `to`, restored the run from its last checkpoint
 * (`resumedFrom`, null when there was none and the run starts over) and,
 * if it was training, goes on.
 */
export type FaultReport =
  | {
      kind: 'loss';
      step: number;
      term: 'anchor' | 'positive' | 'anchor and positive' | 'total';
      value: string;
      lr: number;
      saferLr: number;
      checkpoint: { key: string; step: number } | null;
    }
  | {
      kind: 'device';
      message: string;
      from: BackendName;
      to: BackendName;
      resumedFrom: number | null;
      continued: boolean;
    };

/**
 * Steps between autosaves when the page does not say: about a minute of default training on a CPU, a few seconds on
 * a GPU (docs/BENCHMARKS.md §M11).
 */
export const AUTOSAVE_EVERY = 100;

/** Requests after which earlier events belong to a dead run. */
export const NEW_RUN_REQUESTS: ReadonlySet<RequestType> = new Set<RequestType>([
  'init',
  'configure',
  'setDataset',
  'setUpload',
  'setInitWeights',
  'reset',
  'commitRestore',
]);

/** Most steps one "Train N more steps" may add (the largest totalSteps validateConfig takes is 10,000,000). */
export const MAX_EXTEND_STEPS = 1_000_000;

/** Buffers of a request to move rather than copy (an upload's pixels can be tens of MB). */
export function requestTransferables(r: WorkerRequest): Transferable[] {
  if (r.type === 'prepareRestore') return r.from === 'file' ? [r.bytes.buffer as ArrayBuffer] : [];
  if (r.type === 'setInitWeights') return r.source?.kind === 'file' ? [r.source.bytes.buffer as ArrayBuffer] : [];
  if (r.type !== 'setUpload') return [];
  const { images, labels } = r.upload;
  return [images.buffer, ...(labels ? [labels.buffer] : [])] as ArrayBuffer[];
}

/** Cap on the images of one `requestImages` (the rest of the list is ignored): 512 images of 32×32×3 are 1.5 MB. */
export const MAX_IMAGES_PER_REQUEST = 512;

export const EVENT_TYPES = [
  'ready',
  'progress',
  'selection',
  'clusters',
  'projection',
  'images',
  'embeddings',
  'eval',
  'state',
  'saved',
  'checkpoint',
  'restoreReady',
  'restored',
  'extended',
  'runFile',
  'bundle',
  'fault',
  'ablation',
  'initWeights',
  'baseline',
  'heartbeat',
  'error',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * 'preparing' covers Trainer.create (model build, first bank pass, k-means). 'finished': the run reached
 * config.totalSteps, was evaluated in full and saved; it steps no further until extendRun gives it more steps.
 */
export const RUN_STATES = ['idle', 'preparing', 'running', 'paused', 'finished'] as const;
export type RunState = (typeof RUN_STATES)[number];

interface Ev<T extends EventType> {
  type: T;
  runId: number;
}

export interface BackendAttempt {
  backend: BackendName;
  error: string;
}

export type ReadyEvent = Ev<'ready'> & {
  backend: BackendName;
  /** Human description of the device, e.g. "google swiftshader" or "WASM SIMD, 2 threads". */
  adapter: string;
  isFallbackAdapter: boolean;
  /** Backends tried before the one in use, and why each failed. */
  failed: BackendAttempt[];
};

/** Small images for the UI: `pixels` holds S×S×3 RGB bytes for each training index in `index`, in that order. */
export interface Thumbnails {
  size: number;
  index: Int32Array;
  pixels: Uint8Array;
}

/** The worker's tf.memory(): bytes held by live tensors and their count (status bar). */
export interface TensorMemory {
  numBytes: number;
  numTensors: number;
}

export type WorkerEvent =
  | ReadyEvent
  | (Ev<'progress'> & { metrics: StepMetrics[]; memory?: TensorMemory })
  | (Ev<'selection'> & { snapshot: SelectionSnapshot; thumbs: Thumbnails; classNames: string[] })
  | (Ev<'clusters'> & { snapshot: ClusterSnapshot })
  /** The PCA map of the bank, sent with every cluster snapshot. */
  | (Ev<'projection'> & { projection: ProjectionSnapshot })
  | (Ev<'images'> & { thumbs: Thumbnails })
  | (Ev<'embeddings'> & { dump: EmbeddingsDump })
  | (Ev<'eval'> & { result: EvalResult })
  /**
   * The raw-pixel kNN top-1 of the run's data set (the kNN monitor's vote on
   * flattened pixels, same split, k and τ), after the run's first
   * evaluation: the level a trained encoder has to pass (held-out chart).
   */
  | (Ev<'baseline'> & { knnTop1: number; k: number; tau: number })
  /** trainSize / testSize: images in the run's data set (absent until it is loaded); memory: the worker's tensors now. */
  | (Ev<'state'> & {
      state: RunState;
      step: number;
      datasetId: string | null;
      trainSize?: number;
      testSize?: number;
      memory?: TensorMemory;
    })
  /** Runs saved in IndexedDB, most recent first (after listSaved, and after each save or discard). */
  | (Ev<'saved'> & { entries: SavedRunInfo[] })
  /** A checkpoint attempt of the current run: saved (bytes, ms) or not, with the reason (quota: the previous one is kept). */
  | (Ev<'checkpoint'> & {
      step: number;
      ok: boolean;
      bytes: number;
      ms: number;
      message: string | null;
      trigger: SaveTrigger;
    })
  /** A prepared restore passed every check; its token, step and data set. */
  | (Ev<'restoreReady'> & { token: number; step: number; datasetId: string; source: 'saved' | 'file' })
  /** The current run is now a restored one: its settings, data set and history, paused at `step`. */
  | (Ev<'restored'> & {
      step: number;
      config: ClimConfig;
      dataset: DatasetChoice;
      history: StepMetrics[];
      evals: EvalResult[];
      source: 'saved' | 'file';
    })
  /** extendRun was taken: the run's config now (scheduleStart and totalSteps moved), from the finished step to `to`. */
  | (Ev<'extended'> & { config: ClimConfig; from: number; to: number })
  /** The current run as a file (transferred). */
  | (Ev<'runFile'> & { bytes: Uint8Array; fileName: string })
  /** The export zip (transferred); `files`: the paths inside it. */
  | (Ev<'bundle'> & { bytes: Uint8Array; fileName: string; files: string[]; ms: number })
  | (Ev<'fault'> & { fault: FaultReport })
  /**
   * The weights fresh runs now start from: after setInitWeights is accepted,
   * and when the worker drops them (a restored run carries its own weights;
   * a config whose encoder they no longer fit). `name`: the built-in model's
   * or the file's name; null with `source` null (random init).
   */
  | (Ev<'initWeights'> & { source: 'builtin' | 'file' | null; name: string | null; info: InitWeightsInfo | null })
  /**
   * Ablation progress: the arms, the rows finished so far, the raw-pixel
   * baseline once computed, the arm and step in progress (null when not
   * training an arm), and the status ('done' / 'stopped' / 'failed' end it).
   */
  | (Ev<'ablation'> & {
      status: 'running' | 'done' | 'stopped' | 'failed';
      arms: Array<{ id: string; label: string }>;
      steps: number;
      rows: AblationRow[];
      baseline: AblationBaseline | null;
      current: { index: number; id: string; step: number } | null;
      message: string | null;
    })
  /**
   * The worker's sign of life, every HEARTBEAT_EVERY_MS from a timer (a timer
   * only fires when the worker's thread is free, so it also proves the thread
   * is not stuck). `busy`: the worker is inside a call that may hold its
   * thread for long (building a trainer, a trainer's first step, an
   * evaluation), so the page allows a longer silence until a heartbeat says
   * otherwise (src/worker/heartbeat.ts).
   */
  | (Ev<'heartbeat'> & { busy: boolean })
  | (Ev<'error'> & { message: string; recoverable: boolean });

/** What made a checkpoint: the autosave interval, a Pause, Save now, or the run reaching totalSteps. */
export type SaveTrigger = 'autosave' | 'pause' | 'manual' | 'finished';

/** How often the engine worker posts a heartbeat. */
export const HEARTBEAT_EVERY_MS = 1000;

export type EventOf<T extends EventType> = Extract<WorkerEvent, { type: T }>;
export type RequestOf<T extends RequestType> = Extract<WorkerRequest, { type: T }>;

/**
 * Events that describe the worker rather than one run. They are never
 * dropped: the backend is set up once, and a fatal error ends every run.
 */
export function isRunScoped(e: WorkerEvent): boolean {
  if (e.type === 'ready') return false;
  // The worker's, not a run's: the watchdog must hear it whatever run the page is on.
  if (e.type === 'heartbeat') return false;
  // An ablation outlives the run it started from: its end (stopped by a Reset) must still arrive.
  if (e.type === 'ablation') return false;
  // The worker's weights choice, not a run's: the latest report must arrive even when a newer run was asked for.
  if (e.type === 'initWeights') return false;
  if (e.type === 'error' && !e.recoverable) return false;
  return true;
}

/** Buffers to move rather than copy; the arrays must not be used after posting. */
export function transferablesOf(e: WorkerEvent): Transferable[] {
  if (e.type === 'selection') return [...new Set([e.thumbs.index.buffer, e.thumbs.pixels.buffer])] as ArrayBuffer[];
  if (e.type === 'images') return [...new Set([e.thumbs.index.buffer, e.thumbs.pixels.buffer])] as ArrayBuffer[];
  if (e.type === 'projection') {
    const p = e.projection;
    return [
      ...new Set([p.index.buffer, p.xy.buffer, p.cluster.buffer, ...(p.label ? [p.label.buffer] : [])]),
    ] as ArrayBuffer[];
  }
  if (e.type === 'embeddings') {
    const d = e.dump;
    return [
      ...new Set([d.index.buffer, d.vectors.buffer, d.cluster.buffer, ...(d.label ? [d.label.buffer] : [])]),
    ] as ArrayBuffer[];
  }
  if (e.type === 'runFile' || e.type === 'bundle') return [e.bytes.buffer as ArrayBuffer];
  if (e.type !== 'clusters') return [];
  const { assignments, sizes, nearest, galleryNear, galleryFar } = e.snapshot;
  // A buffer may appear at most once in a transfer list.
  return [
    ...new Set([assignments.buffer, sizes.buffer, nearest.buffer, galleryNear.buffer, galleryFar.buffer]),
  ] as ArrayBuffer[];
}
