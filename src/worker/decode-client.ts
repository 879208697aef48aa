/**
 * The page's handle on the decode worker: one job at a time; events of any
 * other job (a cancelled or replaced one) are dropped here.
 */
import type { DecodeEvent, DecodeRequest, UploadFile } from './decode-protocol';
import type { Fit } from '../io/load-images';

export interface DecodeWorkerLike {
  postMessage(message: DecodeRequest): void;
  terminate(): void;
  onmessage: ((ev: MessageEvent<DecodeEvent>) => void) | null;
  onerror: ((ev: ErrorEvent) => void) | null;
}

export function spawnDecodeWorker(): DecodeWorkerLike {
  return new Worker(new URL('./decode.worker.ts', import.meta.url), { type: 'module', name: 'clim-decode' }) as unknown as DecodeWorkerLike;
}

export class DecodeClient {
  private worker: DecodeWorkerLike | null = null;
  private job = 0;

  constructor(
    private readonly onEvent: (e: DecodeEvent) => void,
    private readonly spawn: () => DecodeWorkerLike = spawnDecodeWorker,
  ) {}

  private ensure(): DecodeWorkerLike {
    if (this.worker) return this.worker;
    const w = this.spawn();
    w.onmessage = (ev) => {
      if (ev.data.jobId === this.job) this.onEvent(ev.data);
    };
    w.onerror = (ev) => {
      ev.preventDefault?.();
      // A crashed decoder is replaced on the next job.
      this.worker = null;
      w.terminate();
      this.onEvent({ type: 'error', jobId: this.job, message: `The decode worker failed: ${ev.message || 'could not load'}` });
    };
    this.worker = w;
    return w;
  }

  /** Starts a new job (any earlier one is cancelled) and returns its id. */
  scan(files: UploadFile[], name: string): number {
    const w = this.ensure();
    if (this.job) w.postMessage({ type: 'cancel', jobId: this.job });
    this.job += 1;
    w.postMessage({ type: 'scan', jobId: this.job, files, name });
    return this.job;
  }

  decode(opts: { size: number; fit: Fit; maxPixels: number; subset?: { count: number; seed: number } }): void {
    this.ensure().postMessage({ type: 'decode', jobId: this.job, ...opts });
  }

  /** Stops the current job; its events stop at once (the worker finishes its file in flight). */
  cancel(): void {
    if (!this.worker) return;
    this.worker.postMessage({ type: 'cancel', jobId: this.job });
    this.job += 1;
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
  }
}
