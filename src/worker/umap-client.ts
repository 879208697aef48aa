/**
 * The page's handle on the UMAP worker: one job at a time, events of other
 * jobs dropped. Cancel during the neighbour search terminates the worker:
 * that phase is one synchronous umap-js call a message cannot interrupt, and
 * a fresh worker is cheap; during the layout it asks the worker to stop
 * between epochs.
 */
import type { UmapEvent, UmapParams, UmapPhase, UmapRequest } from './umap-protocol';

export interface UmapWorkerLike {
  postMessage(message: UmapRequest, transfer?: Transferable[]): void;
  terminate(): void;
  onmessage: ((ev: MessageEvent<UmapEvent>) => void) | null;
  onerror: ((ev: ErrorEvent) => void) | null;
}

export function spawnUmapWorker(): UmapWorkerLike {
  return new Worker(new URL('./umap.worker.ts', import.meta.url), {
    type: 'module',
    name: 'clim-umap',
  }) as unknown as UmapWorkerLike;
}

export class UmapClient {
  private worker: UmapWorkerLike | null = null;
  private job = 0;
  private phase: UmapPhase | null = null;

  constructor(
    private readonly onEvent: (e: UmapEvent) => void,
    private readonly spawn: () => UmapWorkerLike = spawnUmapWorker,
  ) {}

  private ensure(): UmapWorkerLike {
    if (this.worker) return this.worker;
    const w = this.spawn();
    w.onmessage = (ev) => {
      const e = ev.data;
      if (e.jobId !== this.job) return;
      this.phase = e.type === 'progress' ? e.phase : null;
      this.onEvent(e);
    };
    w.onerror = (ev) => {
      ev.preventDefault?.();
      this.worker = null;
      w.terminate();
      this.phase = null;
      this.onEvent({
        type: 'error',
        jobId: this.job,
        message: `The UMAP worker failed: ${ev.message || 'could not load'}`,
      });
    };
    this.worker = w;
    return w;
  }

  /** Starts a job (cancelling any earlier one); `vectors` moves to the worker. Returns the job id. */
  run(vectors: Float32Array, n: number, dim: number, params: UmapParams): number {
    if (this.phase) this.cancel();
    const id = ++this.job;
    this.phase = 'neighbours';
    this.ensure().postMessage({ type: 'run', jobId: id, vectors, n, dim, ...params }, [vectors.buffer as ArrayBuffer]);
    return id;
  }

  /** Stops the running job; nothing of it is reported afterwards. */
  cancel(): void {
    const w = this.worker;
    const phase = this.phase;
    const id = this.job;
    this.job++; // drops whatever the cancelled job still sends
    this.phase = null;
    if (!w || !phase) return;
    if (phase === 'neighbours') {
      w.terminate();
      this.worker = null;
    } else {
      w.postMessage({ type: 'cancel', jobId: id });
    }
  }

  dispose(): void {
    this.cancel();
    this.worker?.terminate();
    this.worker = null;
  }
}
