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
  return new Worker(new URL('./decode.worker.ts', import.meta.url), {
    type: 'module',
    name: 'clim-decode',
  }) as unknown as DecodeWorkerLike;
}

export class DecodeClient {
  private worker: DecodeWorkerLike | null = null;
  private job = 0;

  constructor(
    private readonly onEvent: (e: DecodeEvent) => void,
    private readonly spawn: () => DecodeWorkerLike = spawnDecodeWorker,
    private readonly slicing: Partial<SliceOptions> = {},
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
      this.onEvent({
        type: 'error',
        jobId: this.job,
        message: `The decode worker failed: ${ev.message || 'could not load'}`,
      });
    };
    this.worker = w;
    return w;
  }

  /**
   * Starts a new job (any earlier one is cancelled) and returns its id. The
   * list goes over in time-boxed slices with a yield between them, so a
   * 5,000-file folder does not hold the main thread (see DecodeRequest).
   * `budgetBytes` (the upload's memory budget) sets the zip unpack caps.
   */
  scan(files: UploadFile[], name: string, budgetBytes?: number): number {
    const w = this.ensure();
    if (this.job) w.postMessage({ type: 'cancel', jobId: this.job });
    this.job += 1;
    const id = this.job;
    void sendInSlices(files, (slice) => w.postMessage({ type: 'files', jobId: id, files: slice }), {
      stillWanted: () => this.job === id && this.worker === w,
      ...this.slicing,
    }).then((complete) => {
      if (complete) w.postMessage({ type: 'scan', jobId: id, name, ...(budgetBytes ? { budgetBytes } : {}) });
    });
    return id;
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

export interface SliceOptions {
  /** Items per postMessage. */
  chunk: number;
  /** Main-thread time spent posting before yielding to the page (well under the 50 ms long-task line). */
  budgetMs: number;
  now: () => number;
  /** Lets the page run (rendering, input) before the next slice. */
  yieldToPage: () => Promise<void>;
}

const yieldByMessage = (): Promise<void> =>
  new Promise((resolve) => {
    // A MessageChannel task rather than setTimeout(0): no 4 ms clamp after nesting, still behind rendering and input.
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });

/**
 * Posts `items` in chunks, yielding whenever `budgetMs` has been spent since
 * the last yield. Resolves true when every item was posted, false when
 * `stillWanted` turned false (a newer job or a cancel) part way.
 */
export async function sendInSlices<T>(
  items: readonly T[],
  post: (slice: T[]) => void,
  opts: Partial<SliceOptions> & { stillWanted?: () => boolean } = {},
): Promise<boolean> {
  const chunk = Math.max(1, opts.chunk ?? 25);
  const budget = opts.budgetMs ?? 16;
  const now = opts.now ?? (() => performance.now());
  const pause = opts.yieldToPage ?? yieldByMessage;
  const wanted = opts.stillWanted ?? (() => true);
  let since = now();
  for (let i = 0; i < items.length; i += chunk) {
    if (!wanted()) return false;
    post(items.slice(i, i + chunk));
    if (now() - since >= budget && i + chunk < items.length) {
      await pause();
      since = now();
    }
  }
  return wanted();
}
