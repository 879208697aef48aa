/// <reference lib="webworker" />
/**
 * The engine worker: owns the tfjs backend and the Trainer, runs the training
 * loop and reports through the typed protocol. Every async operation runs on
 * one serial queue, so a Reset can never dispose a model mid-step; the loop
 * enqueues one step at a time behind a macrotask, so Pause/Step/Reset are
 * seen within one step.
 */
import { Trainer } from '../core/train';
import { defaultConfig, truncateText, validateConfig, type ClimConfig } from '../core/config';
import { escapeControl } from '../core/text';
import { SHAPES_DEFAULTS } from '../core/data/shapes';
import { isLiveKey, type LivePatch } from '../core/config-fields';
import type { Dataset } from '../core/data/dataset';
import { assembleDataset } from '../core/data/folder';
import type { EvalResult, SelectionSnapshot, StepMetrics } from '../core/api';
import { RUN_FILE_EXTENSION, encodeCheckpoint, CheckpointError, type Checkpoint } from '../core/checkpoint';
import { chartsFromApp, readRunFile } from '../core/run-file-check';
import { datasetFingerprint } from '../core/data/dataset';
import { RunStore, type SavedRunInfo } from './run-store';
import { runExportFiles, SPRITE_PATH } from '../core/export/bundle';
import type { Sprite } from '../core/export/projector';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { fill as tfFill, memory as tfMemory } from '@tensorflow/tfjs';
import { setUpBackend } from './backend';
import { isDeviceFault, lossFault, saferLearningRate } from './faults';
import { ABLATION_MAX_STEPS, AblationAbortedError, ablationConfigs, rawPixelKnn, runAblationArm, type AblationBaseline, type AblationRow } from '../core/ablation';
import { loadDataset, preloadFashionMnist } from './datasets';
import { builtinWeights } from './models';
import { ARCHITECTURE_FIELDS, WeightsFileError, decodeWeights, weightsMismatch, type WeightsFile } from '../core/weights-file';
import {
  AUTOSAVE_EVERY,
  DEFAULT_DATASET,
  HEARTBEAT_EVERY_MS,
  builtinModelLabel,
  MAX_IMAGES_PER_REQUEST,
  transferablesOf,
  type BackendName,
  type DatasetChoice,
  type DatasetName,
  type RequestOf,
  type RunState,
  type TensorMemory,
  type Thumbnails,
  type WorkerEvent,
  type WorkerRequest,
} from './protocol';

const scope = globalThis as unknown as DedicatedWorkerGlobalScope;

/** Progress is batched: the page needs ~4 updates a second, not one per step. */
const PROGRESS_EVERY_MS = 250;
const SNAPSHOT_EVERY = 25;
const SNAPSHOT_ANCHORS = 6;
const EVAL_EVERY = 100;

let runId = 0;
let config: ClimConfig = defaultConfig();
let datasetName: DatasetChoice = DEFAULT_DATASET;
/** The last upload, split and ready (kept across Resets and config changes until replaced). */
let uploaded: Dataset | null = null;
/** The latest data set asked for, on receipt (datasetName changes inside the queue). */
let requestedDataset: DatasetName = DEFAULT_DATASET;
let datasetOpts: { seed?: number; nTrain?: number; nTest?: number } = {};
let dataset: Dataset | null = null;
let trainer: Trainer | null = null;
let backendReady = false;
let running = false;
/** Bumped by every Start, so a step chain left over from before a quick Pause/Start dies out. */
let loop = 0;
let state: RunState = 'idle';
let pending: StepMetrics[] = [];
let lastFlush = 0;
let queue: Promise<void> = Promise.resolve();

/** The current run's reports, kept for its checkpoints (the page's charts come back with a restored run). */
let history: StepMetrics[] = [];
let evals: EvalResult[] = [];
/** History cap, as the page's (store.ts MAX_HISTORY): older halves are thinned. */
const MAX_HISTORY = 10_000;
let autosaveEvery = AUTOSAVE_EVERY;
/** IndexedDB key of the current run's checkpoints (null until its trainer exists); the step of its last good save. */
let runKey: string | null = null;
let savedStep: number | null = null;
let store: RunStore | null = null;
let storeFailed: string | null = null;
/** A restore checked and built aside (prepareRestore), waiting for commitRestore. */
let prepared: { token: number; trainer: Trainer; data: Dataset; ck: Checkpoint; source: 'saved' | 'file'; key: string | null; live?: LivePatch } | null = null;

/** The backend in use, how it was set up, and those that failed in this page (a lost device is not tried again). */
let backendName: BackendName | null = null;
let initOpts: { backend: BackendName | null; wasmThreads?: number } = { backend: null };
const failedBackends: BackendName[] = [];
/** Step whose loss was not a number: the weights are ruined from there, so nothing after it is saved or exported. */
let faultedAt: number | null = null;
/** The ablation in progress: set `aborted` to stop it between steps. */
let ablationSignal: { aborted: boolean } | null = null;
/** `?testhooks=1`: testFault requests are honoured. */
let testHooks = false;
/** Test hook: the next step throws as a lost device does. */
let loseDeviceAtNextStep = false;
/**
 * The weights every fresh run's encoders start from (setInitWeights), or
 * null for random init. Kept across Resets, data sets and config changes
 * that leave the encoder's architecture alone; a restored run carries its
 * own weights and clears them.
 */
let initWeights: { file: WeightsFile; source: 'builtin' | 'file'; name: string } | null = null;

function post(e: WorkerEvent): void {
  scope.postMessage(e, transferablesOf(e));
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// --- Heartbeat (issue 16): the page's watchdog (heartbeat.ts) takes a long silence for a crash. ---
/** Calls in progress that may hold the thread past the page's short limit. */
let longCalls = 0;
function heartbeat(): void {
  post({ type: 'heartbeat', runId, busy: longCalls > 0 });
}
// From a timer, not from the loop: it fires only when the thread is free, which is what the page needs to know.
setInterval(heartbeat, HEARTBEAT_EVERY_MS);
/**
 * A call that may hold the thread without a turn of the event loop for
 * seconds (a trainer's synchronous first bank pass, WebGL linking the
 * shaders of a first step on a slow machine): the page allows its longer
 * silence until the call returns. Said before the call blocks, since a
 * message posted now is delivered even while this thread is stuck.
 */
async function longCall<T>(fn: () => Promise<T>): Promise<T> {
  longCalls += 1;
  heartbeat();
  try {
    return await fn();
  } finally {
    longCalls -= 1;
    heartbeat();
  }
}
const steppedTrainers = new WeakSet<Trainer>();
/** A trainer's first step compiles its kernels: a long call; later steps are not. */
function watchedStep(t: Trainer): Promise<StepMetrics> {
  if (steppedTrainers.has(t)) return t.trainStep();
  steppedTrainers.add(t);
  return longCall(() => t.trainStep());
}
// --- end of heartbeat ---

/** Tells the page which weights fresh runs start from (never dropped by the client: see isRunScoped). */
function postInitWeights(): void {
  const w = initWeights;
  const info = w ? { steps: w.file.info.steps, knnTop1: w.file.info.knnTop1, trainedOn: w.file.info.trainedOn } : null;
  post({ type: 'initWeights', runId, source: w?.source ?? null, name: w?.name ?? null, info });
}

/** The stored weights as a sentence's subject. */
function initWeightsLabel(w: NonNullable<typeof initWeights>): string {
  return w.source === 'builtin' ? `trained encoder (${w.name})` : `model file “${w.name}”`;
}

/**
 * After the config changed: the stored weights are dropped, and the page
 * told which fields parted them, when they no longer fit its encoder.
 * Inside the queue.
 */
function dropInitWeightsIfUnfit(): void {
  const w = initWeights;
  if (!w) return;
  const diff = ARCHITECTURE_FIELDS.filter((k) => w.file.architecture[k] !== config[k]);
  if (!diff.length) return;
  initWeights = null;
  postInitWeights();
  const fields = diff.map((k) => `${k} ${String(w.file.architecture[k])} → ${String(config[k])}`).join(', ');
  post({ type: 'error', runId, message: `The ${initWeightsLabel(w)} was dropped because the encoder settings changed (${fields}): its weights fit only the encoder they were trained with. The run starts from random weights.`, recoverable: true });
}

/** Raw-pixel kNN top-1 per data set, k and τ (seconds to compute on a 10k set, so once). */
const rawBaselines = new Map<string, number | null>();
/** The run the raw-pixel level was last posted for. */
let baselinePostedFor = -1;

/**
 * Posts the raw-pixel kNN top-1 of the run's data set once per run, after
 * its first evaluation (computed the first time a data set, k and τ are
 * seen: 5–6 s for Fashion-MNIST 10k + 2k on WASM, then cached).
 */
async function postBaselineOnce(id: number, ds: Dataset): Promise<void> {
  const key = `${ds.id}|${config.evalK}|${config.evalTemperature}`;
  if (baselinePostedFor === id && rawBaselines.has(key)) return;
  if (!rawBaselines.has(key)) rawBaselines.set(key, await rawPixelKnn(ds, config.evalK, config.evalTemperature));
  const v = rawBaselines.get(key);
  if (id !== runId || v === null || v === undefined) return;
  baselinePostedFor = id;
  post({ type: 'baseline', runId: id, knnTop1: v, k: config.evalK, tau: config.evalTemperature });
}

function setState(s: RunState, id = runId): void {
  state = s;
  const sizes = dataset ? { trainSize: dataset.train.n, testSize: dataset.test.n } : {};
  post({ type: 'state', runId: id, state: s, step: trainer?.step ?? 0, datasetId: dataset?.id ?? null, ...sizes, memory: memoryNow() });
}

/**
 * Runs `op` after every earlier op; a failure is reported, never swallowed.
 * A lost GPU device (or its memory) is not reported as a plain error: the
 * next op moves the run to another backend (recoverFromDevice).
 */
function enqueue(op: () => Promise<void> | void, recoverable = true): Promise<void> {
  queue = queue.then(op).catch((e: unknown) => {
    const wasRunning = running;
    running = false;
    console.error(e);
    if (recoverable && backendReady && isDeviceFault(e)) {
      void enqueue(() => longCall(() => recoverFromDevice(e, wasRunning)));
      return;
    }
    post({ type: 'error', runId, message: message(e), recoverable });
    if (recoverable && state !== 'idle') setState(trainer ? 'paused' : 'idle');
  });
  return queue;
}

/** Live tensors' bytes and count: engine bookkeeping, no device read-back, so cheap enough for every report (before a backend exists, nothing). */
function memoryNow(): TensorMemory | undefined {
  if (!backendReady) return undefined;
  const m = tfMemory();
  return { numBytes: m.numBytes, numTensors: m.numTensors };
}

function flush(id: number): void {
  if (pending.length) post({ type: 'progress', runId: id, metrics: pending, memory: memoryNow() });
  pending = [];
  lastFlush = performance.now();
}

/** On receipt: stop scheduling steps and forget unsent metrics of the old run. */
function stopNow(): void {
  running = false;
  pending = [];
  // A new run, data set or config makes a running ablation's base stale.
  if (ablationSignal) ablationSignal.aborted = true;
}

/** Only ever from inside the queue, so no step is using the model. */
function disposeTrainer(): void {
  trainer?.dispose();
  trainer = null;
  history = [];
  evals = [];
  runKey = null;
  savedStep = null;
  faultedAt = null;
}

function recordMetrics(m: StepMetrics): void {
  history.push(m);
  if (history.length > MAX_HISTORY) {
    const half = history.length >> 1;
    history = history.slice(0, half).filter((_, i) => i % 2 === 0).concat(history.slice(half));
  }
}

/** IndexedDB, opened once; where it is unavailable (private mode, old browsers) saving says so once and training goes on. */
async function runStore(): Promise<RunStore | null> {
  if (store || storeFailed) return store;
  try {
    store = await RunStore.open();
  } catch (e) {
    storeFailed = message(e);
  }
  return store;
}

/** How the current data set is found again on resume or on another machine. */
type DatasetSource = { kind: 'builtin'; name: DatasetName; seed: number; nTrain?: number; nTest?: number } | { kind: 'upload'; name: string };

function currentSource(): DatasetSource {
  if (datasetName === 'upload') return { kind: 'upload', name: uploaded?.name ?? 'upload' };
  return { kind: 'builtin', name: datasetName, seed: datasetOpts.seed ?? config.seed, nTrain: datasetOpts.nTrain, nTest: datasetOpts.nTest };
}

function sourceLabel(src: unknown, fallback: string): string {
  const s = src as DatasetSource | undefined;
  if (s?.kind === 'builtin') return s.name;
  if (s?.kind === 'upload') return `upload “${s.name}”`;
  return fallback;
}

/**
 * The chart history and evaluations a checkpoint carries (encodeRun's `app`);
 * empty when absent. Entries that do not hold up are dropped, not passed on:
 * the page formats every field of them (readRunFile has refused such files
 * already; this keeps the page safe whatever the caller).
 */
function chartsOf(ck: Checkpoint): { history: StepMetrics[]; evals: EvalResult[] } {
  return chartsFromApp(ck.meta.app);
}

async function encodeRun(t: Trainer): Promise<Uint8Array> {
  const ck = await t.checkpoint({ app: { history, evals }, datasetSource: currentSource() });
  return encodeCheckpoint(ck);
}

/** Checkpoints the current run to IndexedDB; reports the outcome (a failure keeps the previous save and says so). Inside the queue. */
async function saveRun(t: Trainer, id: number, trigger: 'autosave' | 'pause' | 'manual'): Promise<void> {
  if (faultedAt !== null) {
    const kept = savedStep === null ? 'There is no earlier save.' : `The save of step ${savedStep} is kept.`;
    post({ type: 'checkpoint', runId: id, step: t.step, ok: false, bytes: 0, ms: 0, message: `Not saved: the loss stopped being a number at step ${faultedAt}, so the weights since are not worth keeping. ${kept}`, trigger });
    return;
  }
  const db = await runStore();
  if (!db) {
    post({ type: 'checkpoint', runId: id, step: t.step, ok: false, bytes: 0, ms: 0, message: `Not saved: this browser gives the page no IndexedDB (${storeFailed}). Export the run to a file to keep it.`, trigger });
    return;
  }
  const t0 = performance.now();
  const bytes = await encodeRun(t);
  runKey ??= `run-${Date.now()}`;
  const last = history[history.length - 1];
  const info: SavedRunInfo = {
    key: runKey,
    step: t.step,
    totalSteps: t.config.totalSteps,
    savedAt: new Date().toISOString(),
    datasetId: t.data.id,
    datasetLabel: sourceLabel(currentSource(), t.data.id),
    bytes: bytes.length,
    loss: last ? last.loss : null,
  };
  const r = await db.save(bytes, info, savedStep);
  if (r.ok) savedStep = t.step;
  if (id !== runId) return;
  post({ type: 'checkpoint', runId: id, step: t.step, ok: r.ok, bytes: bytes.length, ms: performance.now() - t0, message: r.ok ? null : r.message, trigger });
  post({ type: 'saved', runId: id, entries: await db.list() });
}

/** The projector sprite as PNG bytes, encoded by the browser (OffscreenCanvas). */
async function spritePng(s: Sprite): Promise<Uint8Array> {
  const canvas = new OffscreenCanvas(s.width, s.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('This browser gives workers no 2-D canvas to draw the projector sprite.');
  ctx.putImageData(new ImageData(new Uint8ClampedArray(s.rgba), s.width, s.height), 0, 0);
  return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
}

/** The data set a checkpoint names, loaded without touching the current run's (a built-in by its recipe, an upload only if it is the one loaded). */
async function datasetFor(ck: Checkpoint): Promise<Dataset> {
  const src = ck.meta.dataset.source as DatasetSource | undefined;
  const { train, test } = ck.meta.dataset;
  if (src?.kind === 'builtin' && src.name === 'shapes') {
    // Generated to the recipe's sizes: ones that disagree with the run's own could only make a set of the wrong (or a huge) size.
    const [n, nt] = [src.nTrain ?? SHAPES_DEFAULTS.nTrain, src.nTest ?? SHAPES_DEFAULTS.nTest];
    if (n !== train || nt !== test) throw new CheckpointError('invalid', `The run file's data set recipe asks for ${n} + ${nt} shapes images, but the run was trained on ${train} + ${test}.`);
  }
  if (src?.kind === 'builtin' && (src.name === 'fashion-mnist' || src.name === 'shapes')) {
    return loadDataset(src.name, { seed: src.seed, nTrain: src.nTrain, nTest: src.nTest });
  }
  if (src?.kind === 'builtin') throw new CheckpointError('dataset', `This run was trained on a built-in data set this version of the app does not have (“${truncateText(escapeControl(String(src.name)), 40)}”).`);
  if (uploaded && datasetFingerprint(uploaded) === ck.meta.dataset.fingerprint) return uploaded;
  const what = src?.kind === 'upload' ? `the folder or zip “${truncateText(escapeControl(src.name), 80)}”` : `the data set “${truncateText(escapeControl(ck.meta.dataset.id), 80)}”`;
  throw new CheckpointError('dataset', `This run was trained on ${what} (${ck.meta.dataset.train} training + ${ck.meta.dataset.test} held-out images). Load it with the upload panel, then resume or import the run again.`);
}

/** A checkpoint decoded, its data set found and a trainer rebuilt from it; nothing of the current run is touched. */
async function restoreFrom(bytes: Uint8Array): Promise<{ ck: Checkpoint; data: Dataset; trainer: Trainer }> {
  // Checked whole before the data set it names is loaded: its sizes and seed come from the file.
  const ck = readRunFile(bytes);
  const data = await datasetFor(ck);
  return { ck, data, trainer: await Trainer.restore(ck, data) };
}

/** A run saved in this browser's storage under `key`, as restoreFrom; null when it is not stored (or there is no storage). */
async function loadSaved(key: string): Promise<{ ck: Checkpoint; data: Dataset; trainer: Trainer } | null> {
  const db = await runStore();
  const bytes = db ? await db.load(key) : null;
  return bytes ? restoreFrom(bytes) : null;
}

/** Builds or fetches the current data set once per setDataset / seed change. */
async function currentDataset(): Promise<Dataset> {
  if (dataset) return dataset;
  if (datasetName === 'upload') {
    if (!uploaded) throw new Error('No uploaded data set is loaded: drop a folder or a .zip first.');
    dataset = uploaded;
    return uploaded;
  }
  const d = await loadDataset(datasetName, { seed: datasetOpts.seed ?? config.seed, nTrain: datasetOpts.nTrain, nTest: datasetOpts.nTest });
  dataset = d;
  return d;
}

/** Fetching fashion-mnist can start before Start is pressed; failures surface when it is needed. */
function preload(name: DatasetName): void {
  if (name === 'fashion-mnist') preloadFashionMnist().catch(() => {});
}

async function ensureTrainer(id: number): Promise<Trainer | null> {
  if (!backendReady) throw new Error('The engine has no backend yet: send init first.');
  if (trainer) return trainer;
  setState('preparing', id);
  const data = await currentDataset();
  if (id !== runId) return null;
  const t = await createFresh(data);
  if (id !== runId) {
    // A Reset or new config arrived while building: this model is stale.
    t.dispose();
    return null;
  }
  trainer = t;
  return t;
}

/**
 * A run at step 0: the model built, from the stored weights when there are
 * some. Weights that do not fit after all (Trainer.create checks every
 * parameter) are dropped and the page told why; the throw ends the Start.
 */
async function createFresh(data: Dataset): Promise<Trainer> {
  const w = initWeights;
  try {
    return await longCall(() => Trainer.create(config, data, w ? { init: w.file } : {}));
  } catch (e) {
    if (!(e instanceof WeightsFileError) || !w || initWeights !== w) throw e;
    initWeights = null;
    postInitWeights();
    throw new Error(`The ${initWeightsLabel(w)} was dropped: ${e.message} Press Start again to train from random weights.`, { cause: e });
  }
}

/**
 * The training images a selection snapshot refers to (anchors, neighbours,
 * positives, the images nearest the anchors' cluster centres), copied out of
 * the data set's bytes: the page holds no copy of the data set.
 */
function thumbnailsFor(d: Dataset, snap: SelectionSnapshot, nearest: Int32Array | null): Thumbnails {
  const want = new Set<number>();
  for (const a of snap.anchors) {
    want.add(a.anchor);
    if (a.positive !== null) want.add(a.positive);
    for (const nb of a.neighbours) want.add(nb.index);
  }
  // Every cluster's centre image: the Positives view shows the anchors' ones, the Clusters view all.
  if (nearest) for (const c of nearest) if (c >= 0) want.add(c);
  const index = Int32Array.from([...want].filter((i) => i >= 0 && i < d.train.n).sort((x, y) => x - y));
  const per = d.size * d.size * 3;
  const pixels = new Uint8Array(index.length * per);
  index.forEach((i, j) => pixels.set(d.train.images.subarray(i * per, (i + 1) * per), j * per));
  return { size: d.size, index, pixels };
}

/** Pixels of the given training images (valid, distinct, ascending, at most MAX_IMAGES_PER_REQUEST): map hover and galleries. */
function imagesOf(d: Dataset, indices: number[]): Thumbnails {
  const valid = indices.filter((i) => Number.isInteger(i) && i >= 0 && i < d.train.n);
  const index = Int32Array.from([...new Set(valid)].slice(0, MAX_IMAGES_PER_REQUEST).sort((x, y) => x - y));
  const per = d.size * d.size * 3;
  const pixels = new Uint8Array(index.length * per);
  index.forEach((i, j) => pixels.set(d.train.images.subarray(i * per, (i + 1) * per), j * per));
  return { size: d.size, index, pixels };
}

/** Training images pinned as anchors by the user (Positives view). */
let pinned: number[] = [];

/** Selection and cluster snapshots, cluster first so the selection can name each centre's image. */
async function sendSnapshots(t: Trainer, id: number): Promise<void> {
  const cl = await t.clusterSnapshot();
  if (id !== runId) return;
  const sel = await t.selectionSnapshot(SNAPSHOT_ANCHORS, pinned);
  if (id !== runId) return;
  const ds = dataset;
  if (ds) post({ type: 'selection', runId: id, snapshot: sel, thumbs: thumbnailsFor(ds, sel, cl.nearest), classNames: ds.classNames });
  // The snapshot's arrays are fresh copies (Trainer.clusterSnapshot), safe to transfer.
  // The map reads c(i) from the snapshot first: posting transfers (empties) its buffers.
  const proj = await t.projectionSnapshot(cl.assignments);
  if (id !== runId) return;
  post({ type: 'clusters', runId: id, snapshot: cl });
  post({ type: 'projection', runId: id, projection: proj });
}

/** A macrotask turn, so requests posted meanwhile (Pause) are received before the code after it runs. */
const yieldToMessages = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Before reports that take a while (snapshots: cluster + selection + PCA;
 * evaluation: encoding the held-out set), let a Pause that came during the
 * step be received and, if it came, say 'paused' now: no further step will
 * run, so the step count is final, and Pause answers within one step rather
 * than one step plus its reports. The reports still follow, so the paused
 * views show this step. On WASM a step runs without yielding, so without
 * this turn the Pause would only be seen after the reports.
 */
async function announcePauseBeforeReports(id: number, loopStep: boolean): Promise<boolean> {
  flush(id);
  if (!loopStep) return id === runId;
  await yieldToMessages();
  if (id !== runId) return false;
  if (!running && state === 'running') setState('paused', id);
  return true;
}

/** One step plus whatever reports fall due after it; `loopStep`: run by the Start loop (not a single Step). */
async function stepOnce(t: Trainer, id: number, loopStep = false): Promise<void> {
  // The step that will report keeps its mixed views for the Positives view.
  if ((t.step + 1) % SNAPSHOT_EVERY === 0) t.captureNextViews();
  if (loseDeviceAtNextStep) {
    loseDeviceAtNextStep = false;
    throw new Error('GPU device was lost (test hook)');
  }
  const m = await watchedStep(t);
  if (id !== runId) return;
  const fault = lossFault(m);
  if (fault) {
    // Stop before the metrics reach the charts or a save: the weights are ruined from this step.
    running = false;
    faultedAt = m.step;
    flush(id);
    const checkpoint = runKey !== null && savedStep !== null ? { key: runKey, step: savedStep } : null;
    // Half the base rate the user set (the step's own rate is that one through warm-up and cosine).
    post({ type: 'fault', runId: id, fault: { kind: 'loss', ...fault, saferLr: saferLearningRate(t.config.lr), checkpoint } });
    setState('paused', id);
    return;
  }
  pending.push(m);
  recordMetrics(m);
  if (performance.now() - lastFlush >= PROGRESS_EVERY_MS) flush(id);
  if (m.step % SNAPSHOT_EVERY === 0) {
    if (!(await announcePauseBeforeReports(id, loopStep))) return;
    await sendSnapshots(t, id);
  }
  const ds = dataset;
  if (m.step % EVAL_EVERY === 0 && ds && ds.test.n > 0 && ds.test.labels) {
    if (!(await announcePauseBeforeReports(id, loopStep))) return;
    const r = await longCall(() => t.evaluate());
    if (id !== runId) return;
    evals.push(r);
    post({ type: 'eval', runId: id, result: r });
    await postBaselineOnce(id, ds);
  }
  if (autosaveEvery > 0 && m.step % autosaveEvery === 0) {
    if (!(await announcePauseBeforeReports(id, loopStep))) return;
    await saveRun(t, id, 'autosave');
  }
}

/**
 * After a lost GPU device or an out-of-memory error: leave that backend for
 * the next one that works (it is not tried again in this page), rebuild the
 * run from its last checkpoint (or from scratch when it has none), tell the
 * page what happened, and go on training if it was training. Inside the queue.
 */
async function recoverFromDevice(e: unknown, wasRunning: boolean): Promise<void> {
  const id = runId;
  const from = backendName ?? 'cpu';
  if (!failedBackends.includes(from)) failedBackends.push(from);
  const old = trainer;
  const key = runKey;
  trainer = null;
  try {
    old?.dispose();
  } catch {
    // The device is gone; its buffers went with it.
  }
  const choice = await setUpBackend(initOpts.backend === from ? null : initOpts.backend, { wasmThreads: initOpts.wasmThreads, exclude: failedBackends });
  backendName = choice.backend;
  post({ type: 'ready', runId, ...choice });
  const saved = key ? await loadSaved(key) : null;
  let resumedFrom: number | null = null;
  if (saved) {
    const { ck, data } = saved;
    trainer = saved.trainer;
    dataset = data;
    ({ history, evals } = chartsOf(ck));
    runKey = key;
    savedStep = ck.meta.step;
    resumedFrom = ck.meta.step;
    post({ type: 'restored', runId: id, step: trainer.step, config, dataset: datasetName, history, evals, source: 'saved' });
  } else {
    // Nothing saved yet: the same run from step 0 (what was trained is lost with the device).
    history = [];
    evals = [];
    trainer = await createFresh(await currentDataset());
    post({ type: 'restored', runId: id, step: 0, config, dataset: datasetName, history: [], evals: [], source: 'saved' });
  }
  post({ type: 'fault', runId: id, fault: { kind: 'device', message: message(e), from, to: choice.backend, resumedFrom, continued: wasRunning } });
  if (wasRunning && id === runId) {
    running = true;
    const token = ++loop;
    lastFlush = performance.now();
    setState('running', id);
    scheduleNext(id, token);
  } else {
    setState('paused', id);
  }
}

/**
 * The ablation report (src/core/ablation.ts) in the worker: the current data
 * set and settings as the base, each chosen arm trained from scratch for
 * `steps` steps and evaluated in full, one after another, with the raw-pixel
 * kNN baseline first. The current run is paused and kept; the arms' trainers
 * are their own and disposed after each arm. Inside the queue, so nothing
 * else uses the backend meanwhile; `between` yields so Stop is heard.
 */
async function runAblationJob(r: RequestOf<'runAblation'>, signal: { aborted: boolean }): Promise<void> {
  const id = runId;
  if (state === 'running') {
    flush(id);
    setState(trainer ? 'paused' : 'idle', id);
  }
  const rows: AblationRow[] = [];
  let baseline: AblationBaseline | null = null;
  let armsInfo: Array<{ id: string; label: string }> = [];
  const steps = r.steps;
  const report = (status: 'running' | 'done' | 'stopped' | 'failed', current: { index: number; id: string; step: number } | null, msg: string | null = null) =>
    post({ type: 'ablation', runId: id, status, arms: armsInfo, steps, rows: [...rows], baseline, current, message: msg });
  if (!Number.isInteger(steps) || steps < 1 || steps > ABLATION_MAX_STEPS) {
    report('failed', null, `Steps per arm must be a whole number from 1 to ${ABLATION_MAX_STEPS} (got ${steps}).`);
    return;
  }
  let arms: ReturnType<typeof ablationConfigs>;
  try {
    // The cosine schedule ends with each arm's budget, as in the runner.
    arms = ablationConfigs({ ...config, resolutions: [...config.resolutions], totalSteps: steps }, r.arms);
  } catch (e) {
    report('failed', null, message(e));
    return;
  }
  armsInfo = arms.map((a) => ({ id: a.id, label: a.label }));
  const data = await currentDataset();
  report('running', null);
  baseline = { knnTop1: await rawPixelKnn(data, config.evalK, config.evalTemperature), k: config.evalK, tau: config.evalTemperature };
  report('running', null);
  for (const [index, arm] of arms.entries()) {
    let last = 0;
    try {
      const row = await runAblationArm(arm, data, steps, {
        signal,
        between: yieldToMessages,
        onStep: (m) => {
          const now = performance.now();
          if (now - last < PROGRESS_EVERY_MS && m.step !== 1) return;
          last = now;
          report('running', { index, id: arm.id, step: m.step });
        },
      });
      rows.push(row);
      report('running', null);
    } catch (e) {
      if (e instanceof AblationAbortedError) {
        report('stopped', null, `Stopped in arm “${arm.id}” at step ${e.step}; ${rows.length} of ${arms.length} arms finished.`);
        return;
      }
      report('failed', null, `Arm “${arm.id}” failed: ${message(e)}. ${rows.length} of ${arms.length} arms finished.`);
      return;
    }
  }
  report('done', null);
}

/** Yields to the message queue (a macrotask) and then enqueues the next step. */
function scheduleNext(id: number, token: number): void {
  const live = () => running && id === runId && token === loop;
  setTimeout(() => {
    if (!live()) return;
    void enqueue(async () => {
      if (!live() || !trainer) return;
      await stepOnce(trainer, id, true);
      if (live()) scheduleNext(id, token);
    });
  }, 0);
}

const handlers: { [K in WorkerRequest['type']]: (r: RequestOf<K>) => void } = {
  init(r) {
    void enqueue(async () => {
      if (r.autosaveEvery !== undefined && Number.isInteger(r.autosaveEvery) && r.autosaveEvery >= 0) autosaveEvery = r.autosaveEvery;
      testHooks = r.testHooks === true;
      initOpts = { backend: r.backend ?? null, wasmThreads: r.wasmThreads };
      const choice = await setUpBackend(r.backend ?? null, { wasmThreads: r.wasmThreads });
      backendName = choice.backend;
      backendReady = true;
      if (r.backend && choice.backend !== r.backend) {
        const why = choice.failed.find((f) => f.backend === r.backend)?.error ?? 'unavailable';
        post({ type: 'error', runId, message: `Backend ${r.backend} failed (${why}); using ${choice.backend}.`, recoverable: true });
      }
      post({ type: 'ready', runId, ...choice });
      setState('idle');
      // After set-up, by when a setDataset sent with init has been received.
      preload(requestedDataset);
    }, false);
  },
  configure(r) {
    const issues = validateConfig(r.config);
    if (issues.length) {
      post({ type: 'error', runId, message: `Invalid config: ${issues.map((i) => i.message).join(' ')}`, recoverable: true });
      return;
    }
    stopNow();
    void enqueue(() => {
      disposeTrainer();
      const seedChanged = r.config.seed !== config.seed && datasetOpts.seed === undefined;
      config = structuredClone(r.config);
      if (seedChanged) dataset = null;
      dropInitWeightsIfUnfit();
      setState('idle');
    });
  },
  setDataset(r) {
    stopNow();
    if (r.dataset !== 'upload') {
      requestedDataset = r.dataset;
      if (backendReady) preload(r.dataset);
    }
    void enqueue(() => {
      disposeTrainer();
      datasetName = r.dataset;
      datasetOpts = { seed: r.seed, nTrain: r.nTrain, nTest: r.nTest };
      dataset = null;
      pinned = [];
      setState('idle');
    });
  },
  setUpload(r) {
    stopNow();
    void enqueue(() => {
      disposeTrainer();
      const u = r.upload;
      uploaded = assembleDataset({ name: u.name, size: u.size, images: u.images, labels: u.labels, classNames: u.classNames, fraction: u.labels ? u.fraction : 0, seed: u.seed });
      datasetName = 'upload';
      dataset = null;
      pinned = [];
      setState('idle');
    });
  },
  setInitWeights(r) {
    stopNow();
    const id = runId;
    void enqueue(async () => {
      const src = r.source;
      let next: typeof initWeights = null;
      if (src) {
        try {
          if (src.kind === 'file' && src.bytes.length === 0) throw new WeightsFileError('not-a-weights-file', 'The file is empty (0 bytes), so it is not a weights file.');
          const file = src.kind === 'builtin' ? await builtinWeights(src.name) : decodeWeights(src.bytes);
          // Against the architecture fields (and finiteness) before anything is discarded; Trainer.create checks each parameter.
          const why = weightsMismatch(file, config, file.params);
          if (why) throw new WeightsFileError('mismatch', why);
          next = { file, source: src.kind, name: src.kind === 'builtin' ? builtinModelLabel(src.name) : src.fileName };
        } catch (e) {
          // Reported with what it was; the run and the weights choice stay (paused: the new run id ended its loop).
          const what = src.kind === 'file' ? `Model file “${src.fileName}” not loaded` : 'The trained encoder could not be loaded';
          const why = e instanceof WeightsFileError ? e.message : `it could not be read (${message(e)}).`;
          const kept = state === 'running' ? 'The current run is kept, paused at its step.' : 'The current run is unchanged.';
          post({ type: 'error', runId, message: `${what}: ${why} ${kept}`, recoverable: true });
          if (id === runId) setState(trainer ? 'paused' : 'idle', id);
          return;
        }
      }
      disposeTrainer();
      initWeights = next;
      postInitWeights();
      setState('idle', id);
    });
  },
  pinAnchors(r) {
    pinned = r.indices.slice(0, 12);
    const id = runId;
    // While paused (or before the first step) show the pinned anchors now; a running loop shows them at its next report.
    if (!running)
      void enqueue(async () => {
        if (trainer && id === runId) await sendSnapshots(trainer, id);
      });
  },
  requestImages(r) {
    const id = runId;
    // Off the queue: the pixels are the data set's bytes, no model needed, so hover stays quick while a step runs.
    const d = dataset;
    if (d) post({ type: 'images', runId: id, thumbs: imagesOf(d, r.indices) });
  },
  requestEmbeddings(r) {
    const id = runId;
    void enqueue(async () => {
      if (!trainer || id !== runId) return;
      const dump = await trainer.embeddingsDump(r.max);
      if (id === runId) post({ type: 'embeddings', runId: id, dump });
    });
  },
  start() {
    if (running) return;
    running = true;
    const id = runId;
    const token = ++loop;
    void enqueue(async () => {
      const t = await ensureTrainer(id);
      if (!t || id !== runId || token !== loop) return;
      if (!running) {
        setState('paused', id);
        return;
      }
      lastFlush = performance.now();
      setState('running', id);
      scheduleNext(id, token);
    });
  },
  pause() {
    if (!running) return;
    running = false;
    const id = runId;
    // Behind the in-flight step, so the reported step count is final
    // (stepOnce may have said 'paused' already, before that step's reports).
    void enqueue(async () => {
      if (id !== runId) return;
      flush(id);
      if (state !== 'paused') setState(trainer ? 'paused' : 'idle', id);
      // A paused tab may be closed next: keep what was trained (unless the last save is this step).
      if (trainer && savedStep !== trainer.step) await saveRun(trainer, id, 'pause');
    });
  },
  listSaved() {
    const id = runId;
    void enqueue(async () => {
      const db = await runStore();
      post({ type: 'saved', runId: id, entries: db ? await db.list() : [] });
    });
  },
  discardSaved(r) {
    const id = runId;
    void enqueue(async () => {
      const db = await runStore();
      if (!db) return;
      await db.remove(r.key);
      if (r.key === runKey) {
        runKey = null;
        savedStep = null;
      }
      post({ type: 'saved', runId: id, entries: await db.list() });
    });
  },
  saveNow() {
    const id = runId;
    void enqueue(async () => {
      if (trainer && id === runId) await saveRun(trainer, id, 'manual');
    });
  },
  prepareRestore(r) {
    const id = runId;
    void enqueue(async () => {
      prepared?.trainer.dispose();
      prepared = null;
      if (!backendReady) throw new Error('The engine has no backend yet.');
      const key = r.from === 'saved' ? r.key : null;
      try {
        let got: Awaited<ReturnType<typeof restoreFrom>>;
        if (r.from === 'saved') {
          const saved = await loadSaved(r.key);
          if (!saved) throw new CheckpointError('not-a-run-file', 'That saved run is no longer in this browser’s storage.');
          got = saved;
        } else {
          if (r.bytes.length === 0) throw new CheckpointError('not-a-run-file', 'The file is empty (0 bytes), so it is not a run file.');
          got = await restoreFrom(r.bytes);
        }
        const { ck, data, trainer: t } = got;
        prepared = { token: r.token, trainer: t, data, ck, source: r.from, key, live: r.live };
        post({ type: 'restoreReady', runId: id, token: r.token, step: ck.meta.step, datasetId: ck.meta.dataset.id, source: r.from });
      } catch (e) {
        // Reported with what it was, and nothing of the current run touched.
        const what = r.from === 'file' ? `Run file “${truncateText(escapeControl(String(r.fileName)), 80)}” not imported` : 'Saved run not resumed';
        const why = e instanceof CheckpointError ? e.message : `it could not be read (${message(e)})`;
        post({ type: 'error', runId: id, message: `${what}: ${why} The current run is unchanged.`, recoverable: true });
      }
    });
  },
  commitRestore(r) {
    stopNow();
    const id = runId;
    void enqueue(async () => {
      const p = prepared;
      if (!p || p.token !== r.token) {
        post({ type: 'error', runId: id, message: 'Nothing to resume: the prepared run was replaced or discarded.', recoverable: true });
        return;
      }
      prepared = null;
      disposeTrainer();
      // A restored run carries its own weights; a later fresh run starts from random ones unless asked again.
      initWeights = null;
      postInitWeights();
      const src = p.ck.meta.dataset.source as DatasetSource | undefined;
      config = structuredClone(p.ck.meta.config);
      // A restore after a loss fault comes with a safer learning rate (live-safe fields only).
      const live = p.live && Object.keys(p.live).every(isLiveKey) && validateConfig({ ...config, ...p.live }).length === 0 ? p.live : null;
      if (live) {
        config = { ...config, ...live };
        p.trainer.updateLive(live);
      }
      if (src?.kind === 'builtin') {
        datasetName = src.name;
        requestedDataset = src.name;
        datasetOpts = { seed: src.seed === config.seed ? undefined : src.seed, nTrain: src.nTrain, nTest: src.nTest };
      } else {
        datasetName = 'upload';
      }
      dataset = p.data;
      pinned = [];
      trainer = p.trainer;
      ({ history, evals } = chartsOf(p.ck));
      // Resuming a saved run keeps saving under its key; an imported file starts its own.
      runKey = p.key;
      savedStep = p.key ? p.ck.meta.step : null;
      post({ type: 'restored', runId: id, step: trainer.step, config, dataset: datasetName, history, evals, source: p.source });
      setState('paused', id);
      await sendSnapshots(trainer, id);
    });
  },
  exportBundle() {
    const id = runId;
    void enqueue(async () => {
      if (!trainer || !dataset) throw new Error('There is no trained encoder to export yet: start or step the run first.');
      if (faultedAt !== null) throw new Error(`Not exported: the loss stopped being a number at step ${faultedAt}, so the encoder's weights are not numbers either. Restore the last checkpoint first.`);
      const t0 = performance.now();
      const { files, sprite } = await runExportFiles({ trainer, data: dataset, history, evals });
      // Weights and PNG barely compress: stored as they are; the text is deflated.
      const zipped: Zippable = {};
      for (const f of files) zipped[f.path] = typeof f.content === 'string' ? strToU8(f.content) : [f.content, { level: 0 }];
      zipped[SPRITE_PATH] = [await spritePng(sprite), { level: 0 }];
      const bytes = zipSync(zipped, { level: 6 });
      const name = `clim-${trainer.data.name}-step${trainer.step}-export.zip`;
      if (id === runId) post({ type: 'bundle', runId: id, bytes, fileName: name, files: Object.keys(zipped), ms: performance.now() - t0 });
    });
  },
  evaluate(r) {
    const id = runId;
    void enqueue(async () => {
      if (!trainer || id !== runId) throw new Error('There is no encoder to evaluate yet: start or step the run first.');
      const t = trainer;
      const res = await longCall(() => t.evaluate({ full: r.full }));
      if (id !== runId) return;
      evals.push(res);
      post({ type: 'eval', runId: id, result: res });
      if (res.knnTop1 !== null) await postBaselineOnce(id, trainer.data);
    });
  },
  exportRun() {
    const id = runId;
    void enqueue(async () => {
      if (!trainer) throw new Error('There is no run to export yet: start or step it first.');
      if (faultedAt !== null) throw new Error(`Not exported: the loss stopped being a number at step ${faultedAt}. Restore the last checkpoint first.`);
      const bytes = await encodeRun(trainer);
      const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
      post({ type: 'runFile', runId: id, bytes, fileName: `clim-${trainer.data.name}-step${trainer.step}-${stamp}${RUN_FILE_EXTENSION}` });
    });
  },
  step() {
    if (running) return;
    const id = runId;
    void enqueue(async () => {
      const t = await ensureTrainer(id);
      if (!t || id !== runId) return;
      await stepOnce(t, id);
      flush(id);
      setState('paused', id);
    });
  },
  reset() {
    stopNow();
    void enqueue(() => {
      disposeTrainer();
      setState('idle');
    });
  },
  setLive(r) {
    // In the queue, after any configure received earlier has replaced `config`.
    void enqueue(() => {
      const fixed = Object.keys(r.patch).filter((k) => !isLiveKey(k));
      const next = { ...config, ...r.patch };
      const problems = fixed.length
        ? [`${fixed.join(', ')} cannot change during a run: start a new run.`]
        : validateConfig(next).map((i) => i.message);
      // Reported, not thrown: a throw would also stop a running loop.
      if (problems.length) {
        post({ type: 'error', runId, message: `Setting not applied: ${problems.join(' ')}`, recoverable: true });
        return;
      }
      config = next;
      trainer?.updateLive(r.patch);
    });
  },
  runAblation(r) {
    if (ablationSignal) {
      post({ type: 'error', runId, message: 'An ablation is already running: stop it first.', recoverable: true });
      return;
    }
    // Training and the ablation share the one backend: the run pauses (and is kept).
    running = false;
    const signal = { aborted: false };
    ablationSignal = signal;
    void enqueue(async () => {
      try {
        await longCall(() => runAblationJob(r, signal));
      } finally {
        if (ablationSignal === signal) ablationSignal = null;
      }
    });
  },
  stopAblation() {
    // On receipt: the arm checks the flag before its next step.
    if (ablationSignal) ablationSignal.aborted = true;
  },
  testFault(r) {
    if (!testHooks) {
      post({ type: 'error', runId, message: 'Test hooks are off (open the page with ?testhooks=1).', recoverable: true });
      return;
    }
    if (r.kind === 'hang') {
      // Stuck with no error, as an endless loop is: only the page's watchdog can tell. Atomics.wait sleeps
      // without a busy core where the page is cross-origin isolated; elsewhere this spins until the page ends the worker.
      if (typeof SharedArrayBuffer === 'function' && scope.crossOriginIsolated) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      const end = performance.now() + 600_000;
      while (performance.now() < end) {
        // spinning
      }
      return;
    }
    if (r.kind === 'crash') {
      // Outside the queue and every handler: the page sees the worker's error event, as for a real crash.
      setTimeout(() => {
        throw new Error('the engine crashed (test hook)');
      }, 0);
      return;
    }
    if (r.kind === 'device-lost') {
      loseDeviceAtNextStep = true;
      return;
    }
    void enqueue(() => {
      const t = trainer;
      if (!t) throw new Error('No run to inject a NaN into: start or step it first.');
      const stem = t.query.params[0].variable;
      const nan = tfFill(stem.shape, NaN);
      stem.assign(nan);
      nan.dispose();
    });
  },
  dispose() {
    stopNow();
    void enqueue(() => {
      disposeTrainer();
      prepared?.trainer.dispose();
      store?.close();
      scope.close();
    });
  },
};

scope.onmessage = (ev: MessageEvent<WorkerRequest>) => {
  const r = ev.data;
  // Adopt the client's run id on receipt, not when the op runs: anything the
  // in-flight step reports afterwards is then tagged with the old id.
  if (r.runId > runId) runId = r.runId;
  const handler = handlers[r.type] as ((r: WorkerRequest) => void) | undefined;
  if (!handler) {
    post({ type: 'error', runId, message: `Unknown request ${String((r as { type?: unknown }).type)}`, recoverable: true });
    return;
  }
  handler(r);
};

// Errors thrown outside the queue (e.g. inside tfjs callbacks) still reach the page.
scope.addEventListener('unhandledrejection', (ev) => {
  post({ type: 'error', runId, message: message(ev.reason), recoverable: true });
});
