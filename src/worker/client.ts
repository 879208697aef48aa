/**
 * The page's handle on the engine worker: typed requests, typed
 * subscriptions, and the run-id bookkeeping that drops stale events.
 */
import type { ClimConfig } from '../core/config';
import type { LivePatch } from '../core/config-fields';
import {
  NEW_RUN_REQUESTS,
  isRunScoped,
  type BackendName,
  type DatasetChoice,
  type EventOf,
  type InitWeightsSource,
  type EventType,
  type TestFaultKind,
  type WorkerEvent,
  type UploadData,
  type WorkerRequest,
  requestTransferables,
} from './protocol';
import { Watchdog, type WatchdogOptions } from './heartbeat';

/** What the client needs of a Worker; tests pass a fake. */
export interface WorkerLike {
  postMessage(message: WorkerRequest, transfer?: Transferable[]): void;
  terminate(): void;
  onmessage: ((ev: MessageEvent<WorkerEvent>) => void) | null;
  onerror: ((ev: ErrorEvent) => void) | null;
  onmessageerror?: ((ev: MessageEvent) => void) | null;
}

export function spawnEngineWorker(): WorkerLike {
  return new Worker(new URL('./engine.worker.ts', import.meta.url), {
    type: 'module',
    name: 'clim-engine',
  }) as unknown as WorkerLike;
}

export interface EngineClientOptions {
  /** The heartbeat watchdog's limits (heartbeat.ts); tests shorten them. */
  watchdog?: WatchdogOptions;
}

type Listener<T extends EventType> = (e: EventOf<T>) => void;
// Distributes over the union so a request is built without its runId.
type WithoutRunId<R> = R extends unknown ? Omit<R, 'runId'> : never;

export class EngineClient {
  private readonly worker: WorkerLike;
  private run = 0;
  private readonly listeners = new Map<EventType, Set<(e: WorkerEvent) => void>>();
  private closed = false;
  private readonly watchdog: Watchdog;

  constructor(worker: WorkerLike = spawnEngineWorker(), opts: EngineClientOptions = {}) {
    this.worker = worker;
    this.watchdog = new Watchdog((_silent, limit) => this.silent(limit), opts.watchdog);
    worker.onmessage = (ev) => this.receive(ev.data);
    // A worker that fails to load or throws at top level never answers; say so.
    worker.onerror = (ev) => {
      ev.preventDefault?.();
      // Already the crash path: the watchdog must not report the same death again.
      this.watchdog.stop();
      this.emit({
        type: 'error',
        runId: this.run,
        message: `Engine worker failed: ${ev.message || 'could not load'}`,
        recoverable: false,
      });
    };
    worker.onmessageerror = () => {
      this.watchdog.heard();
      this.emit({
        type: 'error',
        runId: this.run,
        message: 'A message from the engine could not be read.',
        recoverable: true,
      });
    };
  }

  /** Id of the run whose events are accepted; events of older runs are dropped. */
  get runId(): number {
    return this.run;
  }

  on<T extends EventType>(type: T, fn: Listener<T>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    const f = fn as (e: WorkerEvent) => void;
    set.add(f);
    return () => set.delete(f);
  }

  init(
    backend: BackendName | null = null,
    opts: { wasmThreads?: number; autosaveEvery?: number; testHooks?: boolean } = {},
  ): void {
    this.send({ type: 'init', backend, ...opts });
  }
  configure(config: ClimConfig): void {
    this.send({ type: 'configure', config });
  }
  setDataset(dataset: DatasetChoice, opts: { seed?: number; nTrain?: number; nTest?: number } = {}): void {
    this.send({ type: 'setDataset', dataset, ...opts });
  }
  /** Trains on an uploaded set from now on; its buffers move to the worker and must not be used here afterwards. */
  setUpload(upload: UploadData): void {
    this.send({ type: 'setUpload', upload });
  }
  /** The weights fresh runs start from (a new run at step 0; null: random init); answered by `initWeights` or an error. A file's buffer moves to the worker. */
  setInitWeights(source: InitWeightsSource | null): void {
    this.send({ type: 'setInitWeights', source });
  }
  /** Training images to show as anchors in the Positives view. */
  pinAnchors(indices: number[]): void {
    this.send({ type: 'pinAnchors', indices });
  }
  /** Pixels of training images; the answer is an `images` event (at most MAX_IMAGES_PER_REQUEST of them). */
  requestImages(indices: number[]): void {
    this.send({ type: 'requestImages', indices });
  }
  /** Up to `max` bank rows for UMAP; the answer is an `embeddings` event. */
  requestEmbeddings(max: number): void {
    this.send({ type: 'requestEmbeddings', max });
  }
  start(): void {
    this.send({ type: 'start' });
  }
  pause(): void {
    this.send({ type: 'pause' });
  }
  step(): void {
    this.send({ type: 'step' });
  }
  reset(): void {
    this.send({ type: 'reset' });
  }
  /** "Train N more steps" of a finished run; answered by an `extended` event and 'running'. */
  extendRun(steps: number): void {
    this.send({ type: 'extendRun', steps });
  }
  /** Live-safe fields for the paused run; keeps the run (and its id). */
  setLive(patch: LivePatch): void {
    this.send({ type: 'setLive', patch });
  }

  /** Runs saved in this browser; answered by a `saved` event. */
  listSaved(): void {
    this.send({ type: 'listSaved' });
  }
  discardSaved(key: string): void {
    this.send({ type: 'discardSaved', key });
  }
  saveNow(): void {
    this.send({ type: 'saveNow' });
  }
  /** Checks a saved run or a run file (its buffer moves to the worker) aside from the current run; answered by `restoreReady` or an error. */
  prepareRestore(
    token: number,
    from: { from: 'saved'; key: string } | { from: 'file'; bytes: Uint8Array; fileName: string },
    live?: LivePatch,
  ): void {
    this.send({ type: 'prepareRestore', token, ...from, ...(live ? { live } : {}) });
  }
  /** The ablation report over the current data set and settings; answered by `ablation` events. */
  runAblation(arms: string[], steps: number): void {
    this.send({ type: 'runAblation', arms, steps });
  }
  stopAblation(): void {
    this.send({ type: 'stopAblation' });
  }
  /** Test-only faults (the worker ignores them unless init said testHooks). */
  testFault(kind: TestFaultKind): void {
    this.send({ type: 'testFault', kind });
  }
  /** Switches to the prepared run: a new run, paused at its saved step. */
  commitRestore(token: number): void {
    this.send({ type: 'commitRestore', token });
  }
  /** Model, projector files, CSVs and config as one zip; answered by a `bundle` event. */
  exportBundle(): void {
    this.send({ type: 'exportBundle' });
  }
  /** Evaluates now (full: with the linear probe and representation metrics); answered by an `eval` event. */
  evaluate(full: boolean): void {
    this.send({ type: 'evaluate', full });
  }
  /** The current run as a file; answered by a `runFile` event. */
  exportRun(): void {
    this.send({ type: 'exportRun' });
  }

  dispose(): void {
    if (this.closed) return;
    this.send({ type: 'dispose' });
    this.closed = true;
    this.watchdog.stop();
    this.listeners.clear();
    // The worker closes itself after freeing its tensors; terminate is the backstop.
    setTimeout(() => this.worker.terminate(), 1000);
  }

  /** Ends a worker that crashed at once (no dispose request: it may not answer); nothing more is sent or heard. */
  terminate(): void {
    this.closed = true;
    this.watchdog.stop();
    this.listeners.clear();
    this.worker.onmessage = null;
    this.worker.onerror = null;
    this.worker.terminate();
  }

  private send(req: WithoutRunId<WorkerRequest>): void {
    if (this.closed) return;
    if (NEW_RUN_REQUESTS.has(req.type)) this.run += 1;
    const full = { ...req, runId: this.run } as WorkerRequest;
    const transfer = requestTransferables(full);
    if (transfer.length) this.worker.postMessage(full, transfer);
    else this.worker.postMessage(full);
  }

  private receive(e: WorkerEvent): void {
    this.watchdog.heard(e.type === 'heartbeat' ? e.busy : undefined);
    if (isRunScoped(e) && e.runId < this.run) return;
    this.emit(e);
  }

  /**
   * The worker said nothing for longer than the watchdog allows: the crash
   * path (a fatal error; the page offers a restart and the last save). The
   * worker is ended here, not left to the restart: a stuck thread holds a
   * core and its tensors, and one that wakes late must not speak into a page
   * that has written its run off.
   */
  private silent(limitMs: number): void {
    if (this.closed) return;
    this.emit({
      type: 'error',
      runId: this.run,
      message: `Engine worker stopped responding: no heartbeat for ${Math.round(limitMs / 1000)} s, so it was stopped.`,
      recoverable: false,
    });
    this.terminate();
  }

  private emit(e: WorkerEvent): void {
    const set = this.listeners.get(e.type);
    if (!set) return;
    for (const fn of set) fn(e);
  }
}
