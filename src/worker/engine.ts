/**
 * The engine: owns the Trainer, runs the training loop and reports through
 * the typed protocol. Every async operation runs on one serial queue, so a
 * Reset can never dispose a model mid-step; the loop enqueues one step at a
 * time behind a macrotask, so Pause/Step/Reset are seen within one step.
 * What it needs of the worker's globals (posting, timers, the backend, the
 * IndexedDB run store) comes through the constructor (EngineDeps), so unit
 * tests drive it in Node; engine.worker.ts wires it to the real ones.
 * Requests are dispatched by engine-handlers.ts; set-up, persistence,
 * ablation and fault recovery live in engine-setup/-persistence/-ablation/
 * -recovery.ts, which read and set the engine's fields.
 */
import { Trainer } from '../core/train';
import { defaultConfig, type ClimConfig } from '../core/config';
import type { LivePatch } from '../core/config-fields';
import type { Dataset } from '../core/data/dataset';
import type { EvalResult, StepMetrics } from '../core/api';
import type { Checkpoint } from '../core/checkpoint';
import type { RunStore } from './run-store';
import { memory as tfMemory } from '@tensorflow/tfjs';
import type { BackendChoice } from './backend';
import { PROGRESS_EVERY_MS, message } from './engine-shared';
import { saveRun } from './engine-persistence';
import { handlersFor, type Handlers } from './engine-handlers';
import { finishRun } from './engine-finish';
import { initWeightsLabel, postInitWeights } from './engine-setup';
import { thumbnailsFor } from './thumbnails';
import { recoverFromDevice, stopOnLossFault, takeTestDeviceLoss } from './engine-recovery';
import { isDeviceFault } from './faults';
import { rawPixelKnn } from '../core/ablation';
import { loadDataset, preloadFashionMnist } from './datasets';
import { WeightsFileError, type WeightsFile } from '../core/weights-file';
import {
  AUTOSAVE_EVERY,
  DEFAULT_DATASET,
  HEARTBEAT_EVERY_MS,
  thinHistory,
  type BackendName,
  type DatasetChoice,
  type DatasetName,
  type RunState,
  type TensorMemory,
  type WorkerEvent,
  type WorkerRequest,
} from './protocol';

const SNAPSHOT_EVERY = 25;
const SNAPSHOT_ANCHORS = 6;
const EVAL_EVERY = 100;

/** A checkpoint decoded, its data set found and a trainer rebuilt from it. */
export interface Restored {
  ck: Checkpoint;
  data: Dataset;
  trainer: Trainer;
}

/** Weights fresh runs start from (setInitWeights). */
export interface InitWeights {
  file: WeightsFile;
  source: 'builtin' | 'file';
  name: string;
}

/** What the engine needs of the worker's globals; the worker passes the real ones, tests fakes. */
export interface EngineDeps {
  /** Posts an event to the page (the worker adds the transferables). */
  post(e: WorkerEvent): void;
  setUpBackend(
    forced: BackendName | null,
    opts: { wasmThreads?: number; exclude?: readonly BackendName[] },
  ): Promise<BackendChoice>;
  /** The IndexedDB run store; a rejection means saving is unavailable (said once, training goes on). */
  openStore(): Promise<RunStore>;
  setTimeout(fn: () => void, ms: number): unknown;
  setInterval(fn: () => void, ms: number): unknown;
  /** Ends the worker (dispose). */
  close(): void;
  /** Whether Atomics.wait may block this thread (the hang test hook). */
  crossOriginIsolated: boolean;
}

/**
 * One engine per worker: its fields are the worker's state (read and set by
 * the persistence, ablation and recovery modules too); `handle` takes each
 * request on receipt.
 */
export class Engine {
  runId = 0;
  config: ClimConfig = defaultConfig();
  datasetName: DatasetChoice = DEFAULT_DATASET;

  /** The last upload, split and ready (kept across Resets and config changes until replaced). */
  uploaded: Dataset | null = null;

  /** The latest data set asked for, on receipt (datasetName changes inside the queue). */
  requestedDataset: DatasetName = DEFAULT_DATASET;
  datasetOpts: { seed?: number; nTrain?: number; nTest?: number } = {};
  dataset: Dataset | null = null;
  trainer: Trainer | null = null;
  backendReady = false;
  running = false;

  /** Bumped by every Start, so a step chain left over from before a quick Pause/Start dies out. */
  loop = 0;
  state: RunState = 'idle';
  pending: StepMetrics[] = [];
  lastFlush = 0;
  queue: Promise<void> = Promise.resolve();

  /** The current run's reports, kept for its checkpoints (the page's charts come back with a restored run). */
  history: StepMetrics[] = [];
  evals: EvalResult[] = [];
  autosaveEvery = AUTOSAVE_EVERY;

  /** IndexedDB key of the current run's checkpoints (null until its trainer exists); the step of its last good save. */
  runKey: string | null = null;
  savedStep: number | null = null;
  store: RunStore | null = null;
  storeFailed: string | null = null;

  /** A restore checked and built aside (prepareRestore), waiting for commitRestore. */
  prepared: {
    token: number;
    trainer: Trainer;
    data: Dataset;
    ck: Checkpoint;
    source: 'saved' | 'file';
    key: string | null;
    live?: LivePatch;
  } | null = null;

  /** The backend in use, how it was set up, and those that failed in this page (a lost device is not tried again). */
  backendName: BackendName | null = null;
  initOpts: { backend: BackendName | null; wasmThreads?: number } = { backend: null };
  readonly failedBackends: BackendName[] = [];

  /** Step whose loss was not a number: the weights are ruined from there, so nothing after it is saved or exported. */
  faultedAt: number | null = null;

  /** The ablation in progress: set `aborted` to stop it between steps. */
  ablationSignal: { aborted: boolean } | null = null;

  /** `?testhooks=1`: testFault requests are honoured. */
  testHooks = false;

  /** Test hook: the next step throws as a lost device does. */
  loseDeviceAtNextStep = false;

  /**
   * The weights every fresh run's encoders start from (setInitWeights), or
   * null for random init. Kept across Resets, data sets and config changes
   * that leave the encoder's architecture alone; a restored run carries its
   * own weights and clears them.
   */
  initWeights: InitWeights | null = null;

  constructor(readonly deps: EngineDeps) {
    // From a timer, not from the loop: it fires only when the thread is free, which is what the page needs to know.
    deps.setInterval(() => this.heartbeat(), HEARTBEAT_EVERY_MS);
  }

  post(e: WorkerEvent): void {
    this.deps.post(e);
  }

  /**
   * One request, on receipt. Adopts the client's run id now, not when the op
   * runs: anything the in-flight step reports afterwards is then tagged with
   * the old id.
   */
  handle(r: WorkerRequest): void {
    if (r.runId > this.runId) this.runId = r.runId;
    const handler = this.handlers[r.type] as ((r: WorkerRequest) => void) | undefined;
    if (!handler) {
      this.post({
        type: 'error',
        runId: this.runId,
        message: `Unknown request ${String((r as { type?: unknown }).type)}`,
        recoverable: true,
      });
      return;
    }
    handler(r);
  }

  /** Errors thrown outside the queue (e.g. inside tfjs callbacks) still reach the page. */
  reportUnhandled(reason: unknown): void {
    this.post({ type: 'error', runId: this.runId, message: message(reason), recoverable: true });
  }

  // --- Heartbeat (issue 16): the page's watchdog (heartbeat.ts) takes a long silence for a crash. ---
  /** Calls in progress that may hold the thread past the page's short limit. */
  longCalls = 0;

  heartbeat(): void {
    this.post({ type: 'heartbeat', runId: this.runId, busy: this.longCalls > 0 });
  }

  /**
   * A call that may hold the thread without a turn of the event loop for
   * seconds (a trainer's synchronous first bank pass, WebGL linking the
   * shaders of a first step on a slow machine): the page allows its longer
   * silence until the call returns. Said before the call blocks, since a
   * message posted now is delivered even while this thread is stuck.
   */
  async longCall<T>(fn: () => Promise<T>): Promise<T> {
    this.longCalls += 1;
    this.heartbeat();
    try {
      return await fn();
    } finally {
      this.longCalls -= 1;
      this.heartbeat();
    }
  }

  readonly steppedTrainers = new WeakSet<Trainer>();

  /** A trainer's first step compiles its kernels: a long call; later steps are not. */
  watchedStep(t: Trainer): Promise<StepMetrics> {
    if (this.steppedTrainers.has(t)) return t.trainStep();
    this.steppedTrainers.add(t);
    return this.longCall(() => t.trainStep());
  }

  // --- end of heartbeat ---

  /** Raw-pixel kNN top-1 per data set, k and τ (seconds to compute on a 10k set, so once). */
  readonly rawBaselines = new Map<string, number | null>();

  /** The run the raw-pixel level was last posted for. */
  baselinePostedFor = -1;

  /**
   * Posts the raw-pixel kNN top-1 of the run's data set once per run, after
   * its first evaluation (computed the first time a data set, k and τ are
   * seen, seconds on WASM for Fashion-MNIST, then cached; docs/BENCHMARKS.md §M10).
   */
  async postBaselineOnce(id: number, ds: Dataset): Promise<void> {
    const key = `${ds.id}|${this.config.evalK}|${this.config.evalTemperature}`;
    if (this.baselinePostedFor === id && this.rawBaselines.has(key)) return;
    if (!this.rawBaselines.has(key))
      this.rawBaselines.set(key, await rawPixelKnn(ds, this.config.evalK, this.config.evalTemperature));
    const v = this.rawBaselines.get(key);
    if (id !== this.runId || v === null || v === undefined) return;
    this.baselinePostedFor = id;
    this.post({ type: 'baseline', runId: id, knnTop1: v, k: this.config.evalK, tau: this.config.evalTemperature });
  }

  setState(s: RunState, id = this.runId): void {
    this.state = s;
    const sizes = this.dataset ? { trainSize: this.dataset.train.n, testSize: this.dataset.test.n } : {};
    this.post({
      type: 'state',
      runId: id,
      state: s,
      step: this.trainer?.step ?? 0,
      datasetId: this.dataset?.id ?? null,
      ...sizes,
      memory: this.memoryNow(),
    });
  }

  /**
   * Runs `op` after every earlier op; a failure is reported, never swallowed.
   * A lost GPU device (or its memory) is not reported as a plain error: the
   * next op moves the run to another backend (recoverFromDevice).
   */
  enqueue(op: () => Promise<void> | void, recoverable = true): Promise<void> {
    this.queue = this.queue.then(op).catch((e: unknown) => {
      const wasRunning = this.running;
      this.running = false;
      console.error(e);
      if (recoverable && this.backendReady && isDeviceFault(e)) {
        void this.enqueue(() => this.longCall(() => recoverFromDevice(this, e, wasRunning)));
        return;
      }
      this.post({ type: 'error', runId: this.runId, message: message(e), recoverable });
      if (recoverable && this.state !== 'idle') this.setState(this.restingState());
    });
    return this.queue;
  }

  /** Live tensors' bytes and count: engine bookkeeping, no device read-back, so cheap enough for every report (before a backend exists, nothing). */
  memoryNow(): TensorMemory | undefined {
    if (!this.backendReady) return undefined;
    const m = tfMemory();
    return { numBytes: m.numBytes, numTensors: m.numTensors };
  }

  flush(id: number): void {
    if (this.pending.length)
      this.post({ type: 'progress', runId: id, metrics: this.pending, memory: this.memoryNow() });
    this.pending = [];
    this.lastFlush = performance.now();
  }

  /** On receipt: stop scheduling steps and forget unsent metrics of the old run. */
  stopNow(): void {
    this.running = false;
    this.pending = [];
    // A new run, data set or config makes a running ablation's base stale.
    if (this.ablationSignal) this.ablationSignal.aborted = true;
  }

  /** Only ever from inside the queue, so no step is using the model. */
  disposeTrainer(): void {
    this.trainer?.dispose();
    this.trainer = null;
    this.history = [];
    this.evals = [];
    this.runKey = null;
    this.savedStep = null;
    this.faultedAt = null;
  }

  recordMetrics(m: StepMetrics): void {
    this.history.push(m);
    this.history = thinHistory(this.history);
  }

  /** Builds or fetches the current data set once per setDataset / seed change. */
  async currentDataset(): Promise<Dataset> {
    if (this.dataset) return this.dataset;
    if (this.datasetName === 'upload') {
      if (!this.uploaded) throw new Error('No uploaded data set is loaded: drop a folder or a .zip first.');
      this.dataset = this.uploaded;
      return this.uploaded;
    }
    const d = await loadDataset(this.datasetName, {
      seed: this.datasetOpts.seed ?? this.config.seed,
      nTrain: this.datasetOpts.nTrain,
      nTest: this.datasetOpts.nTest,
    });
    this.dataset = d;
    return d;
  }

  /** Fetching fashion-mnist can start before Start is pressed; failures surface when it is needed. */
  preload(name: DatasetName): void {
    if (name === 'fashion-mnist') preloadFashionMnist().catch(() => {});
  }

  async ensureTrainer(id: number): Promise<Trainer | null> {
    if (!this.backendReady) throw new Error('The engine has no backend yet: send init first.');
    if (this.trainer) return this.trainer;
    this.setState('preparing', id);
    const data = await this.currentDataset();
    if (id !== this.runId) return null;
    const t = await this.createFresh(data);
    if (id !== this.runId) {
      // A Reset or new config arrived while building: this model is stale.
      t.dispose();
      return null;
    }
    this.trainer = t;
    return t;
  }

  /**
   * A run at step 0: the model built, from the stored weights when there are
   * some. Weights that do not fit after all (Trainer.create checks every
   * parameter) are dropped and the page told why; the throw ends the Start.
   */
  async createFresh(data: Dataset): Promise<Trainer> {
    const w = this.initWeights;
    try {
      return await this.longCall(() => Trainer.create(this.config, data, w ? { init: w.file } : {}));
    } catch (e) {
      if (!(e instanceof WeightsFileError) || !w || this.initWeights !== w) throw e;
      this.initWeights = null;
      postInitWeights(this);
      throw new Error(
        `The ${initWeightsLabel(w)} was dropped: ${e.message} Press Start again to train from random weights.`,
        { cause: e },
      );
    }
  }

  /** Training images pinned as anchors by the user (Positives view). */
  pinned: number[] = [];

  /** Selection and cluster snapshots, cluster first so the selection can name each centre's image. */
  async sendSnapshots(t: Trainer, id: number): Promise<void> {
    const cl = await t.clusterSnapshot();
    if (id !== this.runId) return;
    const sel = await t.selectionSnapshot(SNAPSHOT_ANCHORS, this.pinned);
    if (id !== this.runId) return;
    const ds = this.dataset;
    if (ds)
      this.post({
        type: 'selection',
        runId: id,
        snapshot: sel,
        thumbs: thumbnailsFor(ds, sel, cl.nearest),
        classNames: ds.classNames,
      });
    // The snapshot's arrays are fresh copies (Trainer.clusterSnapshot), safe to transfer.
    // The map reads c(i) from the snapshot first: posting transfers (empties) its buffers.
    const proj = await t.projectionSnapshot(cl.assignments);
    if (id !== this.runId) return;
    this.post({ type: 'clusters', runId: id, snapshot: cl });
    this.post({ type: 'projection', runId: id, projection: proj });
  }

  /** A macrotask turn, so requests posted meanwhile (Pause) are received before the code after it runs. */
  readonly yieldToMessages = (): Promise<void> => new Promise<void>((resolve) => this.deps.setTimeout(resolve, 0));

  /**
   * Before reports that take a while (snapshots: cluster + selection + PCA;
   * evaluation: encoding the held-out set), let a Pause that came during the
   * step be received and, if it came, say 'paused' now: no further step will
   * run, so the step count is final, and Pause answers within one step rather
   * than one step plus its reports. The reports still follow, so the paused
   * views show this step. On WASM a step runs without yielding, so without
   * this turn the Pause would only be seen after the reports.
   */
  async announcePauseBeforeReports(id: number, loopStep: boolean): Promise<boolean> {
    this.flush(id);
    if (!loopStep) return id === this.runId;
    await this.yieldToMessages();
    if (id !== this.runId) return false;
    if (!this.running && this.state === 'running') this.setState('paused', id);
    return true;
  }

  /** Whether the run has reached the end of its schedule (config.totalSteps): it steps no further until extended. */
  isFinished(t: Trainer | null = this.trainer): boolean {
    return t !== null && t.step >= t.config.totalSteps;
  }

  /** The state of a run that is not stepping: finished at its last step, paused before it, idle without a model. */
  restingState(): RunState {
    if (!this.trainer) return 'idle';
    return this.isFinished() ? 'finished' : 'paused';
  }

  /** The run reached config.totalSteps: evaluated in full, saved, 'finished' (engine-finish.ts). Inside the queue. */
  finish(t: Trainer, id: number, snapshotsSent: boolean): Promise<void> {
    return finishRun(this, t, id, snapshotsSent);
  }

  /**
   * Evaluates `t` on the held-out split of `ds`, keeps the result for the
   * run's checkpoints and posts it, then the raw-pixel level once per run
   * (when there is a kNN top-1 to compare it with). Inside the queue.
   */
  async evaluateAndPost(t: Trainer, id: number, full: boolean, ds: Dataset): Promise<void> {
    const r = await this.longCall(() => t.evaluate({ full }));
    if (id !== this.runId) return;
    this.evals.push(r);
    this.post({ type: 'eval', runId: id, result: r });
    if (r.knnTop1 !== null) await this.postBaselineOnce(id, ds);
  }

  /** One step plus whatever reports fall due after it; `loopStep`: run by the Start loop (not a single Step). */
  async stepOnce(t: Trainer, id: number, loopStep = false): Promise<void> {
    // The step that will report keeps its mixed views for the Positives view.
    if ((t.step + 1) % SNAPSHOT_EVERY === 0) t.captureNextViews();
    takeTestDeviceLoss(this);
    const m = await this.watchedStep(t);
    if (id !== this.runId) return;
    if (stopOnLossFault(this, t, id, m)) return;
    this.pending.push(m);
    this.recordMetrics(m);
    if (performance.now() - this.lastFlush >= PROGRESS_EVERY_MS) this.flush(id);
    // The last step of the schedule: its full evaluation and save replace the periodic ones.
    if (this.isFinished(t)) {
      const snap = m.step % SNAPSHOT_EVERY === 0;
      if (snap) await this.sendSnapshots(t, id);
      if (id === this.runId) await this.finish(t, id, snap);
      return;
    }
    if (m.step % SNAPSHOT_EVERY === 0) {
      if (!(await this.announcePauseBeforeReports(id, loopStep))) return;
      await this.sendSnapshots(t, id);
    }
    const ds = this.dataset;
    if (m.step % EVAL_EVERY === 0 && ds && ds.test.n > 0 && ds.test.labels) {
      if (!(await this.announcePauseBeforeReports(id, loopStep))) return;
      await this.evaluateAndPost(t, id, false, ds);
    }
    if (this.autosaveEvery > 0 && m.step % this.autosaveEvery === 0) {
      if (!(await this.announcePauseBeforeReports(id, loopStep))) return;
      await saveRun(this, t, id, 'autosave');
    }
  }

  /** Yields to the message queue (a macrotask) and then enqueues the next step. */
  scheduleNext(id: number, token: number): void {
    const live = () => this.running && id === this.runId && token === this.loop;
    this.deps.setTimeout(() => {
      if (!live()) return;
      void this.enqueue(async () => {
        if (!live() || !this.trainer) return;
        await this.stepOnce(this.trainer, id, true);
        if (live()) this.scheduleNext(id, token);
      });
    }, 0);
  }

  /** One handler per request type (engine-handlers.ts), looked up by `handle`. */
  readonly handlers: Handlers = handlersFor(this);
}
