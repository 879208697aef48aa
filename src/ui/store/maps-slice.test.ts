import { describe, expect, it } from 'vitest';
import { tinyConfig } from '../../core/config';
import { IMAGE_CACHE_MAX, UMAP_MAX_POINTS } from '../store';
import { projection, FakeUmapWorker, storeHarness } from './store.test-util';

const h = storeHarness();
const { st, ready } = h;

describe('store', () => {
  it('keeps the PCA map of the current run; a reset clears it', () => {
    st().connect();
    ready();
    h.worker.emit({ type: 'projection', runId: h.worker.lastRunId, projection: projection() });
    expect(st().projection?.explained).toEqual([0.6, 0.3]);
    st().reset();
    expect(st().projection).toBeNull();
    h.worker.emit({ type: 'projection', runId: h.worker.lastRunId - 1, projection: projection(50) });
    expect(st().projection).toBeNull();
  });

  it('requests only images it lacks, in chunks the engine answers, caches them, and caps the cache', () => {
    st().connect();
    ready();
    const id = h.worker.lastRunId;
    st().requestImages([3, 3, 5, -1]);
    expect(
      h.worker.sent.filter((m) => m.type === 'requestImages').map((m) => (m as { indices: number[] }).indices),
    ).toEqual([[3, 5]]);
    // In flight: asking again sends nothing.
    st().requestImages([5]);
    expect(h.worker.sent.filter((m) => m.type === 'requestImages')).toHaveLength(1);
    h.worker.emit({
      type: 'images',
      runId: id,
      thumbs: { size: 1, index: Int32Array.from([3, 5]), pixels: Uint8Array.from([1, 2, 3, 4, 5, 6]) },
    });
    expect(Array.from(st().images.pixels.get(5) ?? [])).toEqual([4, 5, 6]);
    st().requestImages([3, 5]);
    expect(h.worker.sent.filter((m) => m.type === 'requestImages')).toHaveLength(1);
    // A long list goes in requests of at most 512.
    st().requestImages(Array.from({ length: 1200 }, (_, i) => 100 + i));
    const sizes = h.worker.sent
      .filter((m) => m.type === 'requestImages')
      .map((m) => (m as { indices: number[] }).indices.length);
    expect(sizes).toEqual([2, 512, 512, 176]);
    const many = Int32Array.from({ length: IMAGE_CACHE_MAX + 10 }, (_, i) => 10_000 + i);
    h.worker.emit({
      type: 'images',
      runId: id,
      thumbs: { size: 1, index: many, pixels: new Uint8Array(many.length * 3) },
    });
    expect(st().images.pixels.size).toBe(IMAGE_CACHE_MAX);
    // The oldest went first.
    expect(st().images.pixels.has(3)).toBe(false);
    expect(st().images.pixels.has(10_000 + IMAGE_CACHE_MAX + 9)).toBe(true);
  });

  it('runs UMAP on demand: asks for the bank rows, feeds the UMAP worker, shows progress, and the result becomes the map', () => {
    st().connect({ config: tinyConfig({ seed: 9 }) });
    ready();
    const id = h.worker.lastRunId;
    st().setMapMethod('umap');
    expect(st().mapMethod).toBe('pca'); // nothing to show yet
    st().computeUmap();
    expect(st().umap.status).toBe('fetching');
    expect(h.worker.sent[h.worker.sent.length - 1]).toMatchObject({ type: 'requestEmbeddings', max: UMAP_MAX_POINTS });
    const vectors = Float32Array.from([1, 0, 0, 1, 0.6, 0.8]);
    h.worker.emit({
      type: 'embeddings',
      runId: id,
      dump: {
        step: 30,
        index: Int32Array.from([4, 7, 9]),
        vectors,
        dim: 2,
        cluster: Int32Array.from([0, 1, 1]),
        label: null,
      },
    });
    expect(st().umap).toMatchObject({ status: 'neighbours', points: 3 });
    const run = h.umapWorker.sent[0];
    expect(run).toMatchObject({ type: 'run', n: 3, dim: 2, seed: 9 });
    const job = (run as { jobId: number }).jobId;
    h.umapWorker.emit({ type: 'progress', jobId: job, phase: 'layout', epoch: 10, epochs: 500 });
    expect(st().umap).toMatchObject({ status: 'layout', epoch: 10, epochs: 500 });
    h.umapWorker.emit({ type: 'done', jobId: job, xy: new Float32Array(6), ms: 1234 });
    expect(st().umap).toMatchObject({ status: 'done', ms: 1234 });
    expect(st().mapMethod).toBe('umap');
    expect(st().umapMap).toMatchObject({ method: 'umap', step: 30, explained: null });
    expect(Array.from(st().umapMap!.index)).toEqual([4, 7, 9]);
    st().setMapMethod('pca');
    expect(st().mapMethod).toBe('pca');
  });

  it('cancels UMAP, and drops a UMAP result of a run that was reset', () => {
    st().connect();
    ready();
    const dump = () => ({
      step: 30,
      index: Int32Array.from([0, 1]),
      vectors: new Float32Array(4),
      dim: 2,
      cluster: Int32Array.from([0, 0]),
      label: null,
    });
    st().computeUmap();
    h.worker.emit({ type: 'embeddings', runId: h.worker.lastRunId, dump: dump() });
    st().cancelUmap();
    expect(st().umap.status).toBe('idle');
    // Cancelled in the neighbour phase: the worker is stopped outright.
    expect(h.umapWorker.terminated).toBe(true);
    h.umapWorker = new FakeUmapWorker();
    st().computeUmap();
    h.worker.emit({ type: 'embeddings', runId: h.worker.lastRunId, dump: dump() });
    const job = (h.umapWorker.sent[0] as { jobId: number }).jobId;
    st().reset();
    h.umapWorker.emit({ type: 'done', jobId: job, xy: new Float32Array(4), ms: 1 });
    expect(st().umapMap).toBeNull();
    expect(st().umap.status).toBe('idle');
    // An embeddings event nobody asked for starts nothing.
    h.worker.emit({ type: 'embeddings', runId: h.worker.lastRunId, dump: dump() });
    expect(st().umap.status).toBe('idle');
  });
});
