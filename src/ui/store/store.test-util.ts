/** Fixtures of the store's tests (store/*-slice.test.ts, store.test.ts). */
import { beforeEach } from 'vitest';
import type { ClusterSnapshot, EvalResult, ProjectionSnapshot, StepMetrics } from '../../core/api';
import type { UmapWorkerLike } from '../../worker/umap-client';
import type { UmapEvent, UmapRequest } from '../../worker/umap-protocol';
import type { StoreApi } from 'zustand/vanilla';
import { UmapClient } from '../../worker/umap-client';
import { EngineClient } from '../../worker/client';
import { FakeWorker } from '../fake-worker.test-util';
import { createClimStore, type ClimState } from '../store';

export const metric = (step: number, loss = 5 - step * 0.01, ms = 100): StepMetrics => ({
  step,
  loss,
  lossAnchor: loss,
  lossPositive: loss,
  lr: 0.06,
  ms,
  imagesPerSecond: 640,
  coverage: 1,
  precision: null,
  lambdaMean: 1,
  selectionMs: 0,
  kmeansMs: 0,
  refreshMs: 0,
});

/** A cluster snapshot of 3 images in 2 clusters, galleries of 2. */
/** A kNN-only evaluation (what the worker sends between full ones) at `step`. */
export const knnEval = (step: number, knnTop1: number): EvalResult => ({
  step,
  knnTop1,
  linearTop1: null,
  confusion: null,
  classes: 2,
  alignment: null,
  uniformity: null,
  clusterPurity: null,
  clusterNmi: null,
  clusterAri: null,
  ms: 12,
});

export const clusterSnap = (): ClusterSnapshot => ({
  step: 25,
  assignments: new Int32Array([0, 1, 1]),
  sizes: new Int32Array([1, 2]),
  nearest: new Int32Array([0, 2]),
  galleryNear: new Int32Array([0, -1, 2, 1]),
  galleryFar: new Int32Array([0, -1, 1, 2]),
  gallerySize: 2,
  purity: 1,
  nmi: 1,
  ari: 1,
});

export const projection = (step = 25): ProjectionSnapshot => ({
  step,
  method: 'pca',
  index: Int32Array.from([0, 1, 2]),
  xy: Float32Array.from([0, 0, 1, 1, 2, 0]),
  cluster: Int32Array.from([0, 1, 1]),
  label: Int32Array.from([0, 1, 1]),
  explained: [0.6, 0.3],
});

/** Stands in for the UMAP worker. */
export class FakeUmapWorker implements UmapWorkerLike {
  sent: UmapRequest[] = [];
  terminated = false;
  onmessage: ((ev: MessageEvent<UmapEvent>) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  postMessage(m: UmapRequest) {
    this.sent.push(m);
  }
  terminate() {
    this.terminated = true;
  }
  emit(e: UmapEvent) {
    this.onmessage?.({ data: e } as MessageEvent<UmapEvent>);
  }
}

/**
 * A fresh fake engine worker, fake UMAP worker and store that reads its clock
 * through `now`: one per test, so nothing leaks. `umap` replaces the UMAP
 * worker the store starts, read each time it starts one (a test may swap it).
 */
export function makeStore(
  now: () => number,
  umap?: () => FakeUmapWorker,
): { worker: FakeWorker; umapWorker: FakeUmapWorker; store: StoreApi<ClimState> } {
  const worker = new FakeWorker();
  const umapWorker = new FakeUmapWorker();
  const store = createClimStore({
    makeClient: () => new EngineClient(worker),
    makeUmapClient: (on) => new UmapClient(on, umap ?? (() => umapWorker)),
    now,
  });
  return { worker, umapWorker, store };
}

/** The engine's `ready` (WASM) and first idle state for run `runId` (default: the latest request's). */
export function emitReady(worker: FakeWorker, runId = worker.lastRunId): void {
  worker.emit({
    type: 'ready',
    runId,
    backend: 'wasm',
    adapter: 'WebAssembly SIMD, 2 threads',
    isFallbackAdapter: false,
    failed: [],
  });
  worker.emit({ type: 'state', runId, state: 'idle', step: 0, datasetId: 'shapes:seed=1' });
}

/**
 * A fresh store for every test of the file that calls it (registers a
 * beforeEach): `h.worker` and `h.umapWorker` are its fake workers (replace
 * `h.umapWorker` to have the next UMAP run use another), `h.clock` the
 * store's time in ms, `h.st()` its state, `h.ready()` the engine's `ready`.
 */
export function storeHarness() {
  const h = {
    clock: 0,
    worker: undefined as unknown as FakeWorker,
    umapWorker: undefined as unknown as FakeUmapWorker,
    store: undefined as unknown as StoreApi<ClimState>,
    st: (): ClimState => h.store.getState(),
    ready: (runId?: number): void => emitReady(h.worker, runId),
  };
  beforeEach(() => {
    h.clock = 0;
    h.umapWorker = new FakeUmapWorker();
    ({ worker: h.worker, store: h.store } = makeStore(
      () => h.clock,
      () => h.umapWorker,
    ));
  });
  return h;
}
