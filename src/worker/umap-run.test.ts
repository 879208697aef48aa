import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng';
import { runUmap } from './umap-run';
import { UmapClient, type UmapWorkerLike } from './umap-client';
import type { UmapEvent, UmapRequest } from './umap-protocol';

/** Two well-separated blobs of unit vectors in 8-D (n/2 each): rows 0..n/2−1 are blob A. */
function blobs(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const d = 8;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const centre = i < n / 2 ? 0 : 4;
    for (let j = 0; j < d; j++) out[i * d + j] = (j === centre ? 3 : 0) + 0.2 * rng.normal();
  }
  return out;
}

const params = { seed: 7, nNeighbors: 10, minDist: 0.1, nEpochs: 60 };

describe('runUmap', () => {
  it('is reproducible from the seed and keeps two separated blobs apart', async () => {
    const n = 80;
    const x = blobs(n, 1);
    const a = (await runUmap(x, n, 8, params)) as Float32Array;
    const b = (await runUmap(x, n, 8, params)) as Float32Array;
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(a.length).toBe(2 * n);
    // Every point is nearer its own blob's centroid than the other's.
    const centroid = (lo: number, hi: number) => {
      let cx = 0;
      let cy = 0;
      for (let i = lo; i < hi; i++) {
        cx += a[i * 2] / (hi - lo);
        cy += a[i * 2 + 1] / (hi - lo);
      }
      return [cx, cy];
    };
    const ca = centroid(0, n / 2);
    const cb = centroid(n / 2, n);
    for (let i = 0; i < n; i++) {
      const da = Math.hypot(a[i * 2] - ca[0], a[i * 2 + 1] - ca[1]);
      const db = Math.hypot(a[i * 2] - cb[0], a[i * 2 + 1] - cb[1]);
      if (i < n / 2) expect(da).toBeLessThan(db);
      else expect(db).toBeLessThan(da);
    }
    const c = (await runUmap(x, n, 8, { ...params, seed: 8 })) as Float32Array;
    expect(Array.from(c)).not.toEqual(Array.from(a));
  });

  it('reports the neighbour phase then layout epochs up to the total, and stops when cancelled', async () => {
    const seen: string[] = [];
    let last = 0;
    await runUmap(blobs(40, 2), 40, 8, params, {
      sliceMs: 0,
      onProgress: (phase, epoch, epochs) => {
        seen.push(phase);
        last = epoch;
        expect(phase === 'neighbours' || epochs === 60).toBe(true);
      },
    });
    expect(seen[0]).toBe('neighbours');
    expect(seen.filter((p) => p === 'layout').length).toBeGreaterThan(1);
    expect(last).toBe(60);
    let calls = 0;
    const r = await runUmap(blobs(40, 2), 40, 8, params, { sliceMs: 0, cancelled: () => ++calls > 3 });
    expect(r).toBeNull();
  });

  it('gives zeros for fewer than two points and rejects a wrong vector length', async () => {
    expect(Array.from((await runUmap(new Float32Array(8), 1, 8, params)) as Float32Array)).toEqual([0, 0]);
    await expect(runUmap(new Float32Array(7), 1, 8, params)).rejects.toThrow(/7 numbers/);
  });
});

class FakeUmapWorker implements UmapWorkerLike {
  sent: UmapRequest[] = [];
  transfers: (Transferable[] | undefined)[] = [];
  terminated = false;
  onmessage: ((ev: MessageEvent<UmapEvent>) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  postMessage(m: UmapRequest, t?: Transferable[]) {
    this.sent.push(m);
    this.transfers.push(t);
  }
  terminate() {
    this.terminated = true;
  }
  emit(e: UmapEvent) {
    this.onmessage?.({ data: e } as MessageEvent<UmapEvent>);
  }
}

describe('UmapClient', () => {
  it('transfers the vectors, drops events of other jobs, and cancels by message during the layout, by terminating during the neighbour search', () => {
    const workers: FakeUmapWorker[] = [];
    const got: UmapEvent[] = [];
    const c = new UmapClient(
      (e) => got.push(e),
      () => {
        const w = new FakeUmapWorker();
        workers.push(w);
        return w;
      },
    );
    const v = new Float32Array(16);
    const id = c.run(v, 2, 8, params);
    expect(workers[0].transfers[0]).toEqual([v.buffer]);
    workers[0].emit({ type: 'progress', jobId: id - 1, phase: 'layout', epoch: 1, epochs: 2 });
    workers[0].emit({ type: 'progress', jobId: id, phase: 'layout', epoch: 1, epochs: 2 });
    expect(got).toHaveLength(1);
    c.cancel();
    expect(workers[0].sent[1]).toEqual({ type: 'cancel', jobId: id });
    expect(workers[0].terminated).toBe(false);
    workers[0].emit({ type: 'done', jobId: id, xy: new Float32Array(4), ms: 1 });
    expect(got).toHaveLength(1);
    // A new job in its neighbour phase: cancel terminates that worker, the next run spawns a fresh one.
    c.run(new Float32Array(16), 2, 8, params);
    c.cancel();
    expect(workers[0].terminated).toBe(true);
    const id3 = c.run(new Float32Array(16), 2, 8, params);
    expect(workers).toHaveLength(2);
    workers[1].emit({ type: 'done', jobId: id3, xy: new Float32Array(4), ms: 1 });
    expect(got.map((e) => e.type)).toEqual(['progress', 'done']);
  });
});
