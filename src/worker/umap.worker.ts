/// <reference lib="webworker" />
/**
 * The UMAP worker: runs one job at a time (runUmap), reports progress each
 * slice of epochs, stops between epochs on `cancel`. A new `run` cancels
 * the one before.
 */
import { runUmap } from './umap-run';
import type { UmapEvent, UmapRequest } from './umap-protocol';

const scope = globalThis as unknown as DedicatedWorkerGlobalScope;
/** The job that may still run; anything else is cancelled. */
let current = -1;

function post(e: UmapEvent): void {
  scope.postMessage(e, e.type === 'done' ? [e.xy.buffer as ArrayBuffer] : []);
}

scope.onmessage = (ev: MessageEvent<UmapRequest>) => {
  const r = ev.data;
  if (r.type === 'cancel') {
    if (r.jobId === current) current = -1;
    return;
  }
  current = r.jobId;
  const id = r.jobId;
  const t0 = performance.now();
  runUmap(r.vectors, r.n, r.dim, r, {
    onProgress: (phase, epoch, epochs) => {
      if (current === id) post({ type: 'progress', jobId: id, phase, epoch, epochs });
    },
    cancelled: () => current !== id,
  })
    .then((xy) =>
      post(xy ? { type: 'done', jobId: id, xy, ms: performance.now() - t0 } : { type: 'cancelled', jobId: id }),
    )
    .catch((e: unknown) => post({ type: 'error', jobId: id, message: e instanceof Error ? e.message : String(e) }));
};
