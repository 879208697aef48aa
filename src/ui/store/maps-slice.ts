/**
 * The maps slice: the PCA projection and cluster snapshots the worker sends,
 * UMAP on demand in its own worker, and the image cache behind map hover and
 * the galleries. It owns the run caches (the UMAP job and the image requests
 * in flight) that a new run clears.
 */
import type { EmbeddingsDump } from '../../core/api';
import type { EngineClient } from '../../worker/client';
import { MAX_IMAGES_PER_REQUEST } from '../../worker/protocol';
import type { UmapClient } from '../../worker/umap-client';
import type { UmapEvent } from '../../worker/umap-protocol';
import { idleUmap, type RunCaches, type Slice, type StoreCtx } from './shared';
import { IMAGE_CACHE_MAX, UMAP_MAX_POINTS, type GetState, type SetState } from './state';

export type MapsActions = 'requestImages' | 'computeUmap' | 'cancelUmap' | 'setMapMethod';

export function mapsSlice(
  set: SetState,
  get: GetState,
  ctx: Pick<StoreCtx, 'client'>,
  makeUmap: (onEvent: (e: UmapEvent) => void) => UmapClient,
): Slice<MapsActions> & { caches: RunCaches } {
  let umapClient: UmapClient | null = null;
  /** The rows of the UMAP job in flight, and the engine run they belong to. */
  let umapJob: { dump: EmbeddingsDump; run: number } | null = null;
  /** Image indices asked for and not yet answered (no second request while one is in flight). */
  const pendingImages = new Set<number>();

  const onUmap = (e: UmapEvent) => {
    const job = umapJob;
    // A job of an earlier run (Reset, new data) is dropped with its result.
    if (!job || !ctx.client || job.run !== ctx.client.runId) return;
    if (e.type === 'progress') set({ umap: { ...get().umap, status: e.phase, epoch: e.epoch, epochs: e.epochs } });
    else if (e.type === 'done') {
      umapJob = null;
      const d = job.dump;
      set({
        umapMap: {
          step: d.step,
          method: 'umap',
          index: d.index,
          xy: e.xy,
          cluster: d.cluster,
          label: d.label,
          explained: null,
        },
        mapMethod: 'umap',
        umap: { ...get().umap, status: 'done', epoch: get().umap.epochs, ms: e.ms },
      });
    } else if (e.type === 'cancelled') {
      umapJob = null;
      set({ umap: idleUmap() });
    } else {
      umapJob = null;
      set({ umap: { ...idleUmap(), status: 'error', message: e.message } });
    }
  };
  const stopUmap = () => {
    umapJob = null;
    umapClient?.cancel();
  };
  const caches: RunCaches = {
    stopUmap,
    clearRunCaches() {
      stopUmap();
      pendingImages.clear();
    },
    dropInFlight() {
      pendingImages.clear();
      const u = get().umap.status;
      if (umapJob || u === 'fetching') {
        stopUmap();
        set({ umap: idleUmap() });
      }
    },
    disposeUmap() {
      umapClient?.dispose();
      umapClient = null;
    },
  };

  const wire = (c: EngineClient) => [
    c.on('clusters', (e) => set({ clusters: e.snapshot })),
    c.on('projection', (e) => set({ projection: e.projection })),
    c.on('images', (e) => {
      const { size, index, pixels } = e.thumbs;
      const per = size * size * 3;
      const old = get().images;
      const next = new Map(old.size === size ? old.pixels : []);
      index.forEach((i, k) => {
        pendingImages.delete(i);
        next.delete(i); // re-inserted as the newest
        next.set(i, pixels.slice(k * per, (k + 1) * per));
      });
      for (const key of next.keys()) {
        if (next.size <= IMAGE_CACHE_MAX) break;
        next.delete(key);
      }
      set({ images: { size, pixels: next } });
    }),
    c.on('embeddings', (e) => {
      const st = get().umap;
      if (st.status !== 'fetching' || !ctx.client) return;
      const d = e.dump;
      const n = d.index.length;
      umapClient ??= makeUmap(onUmap);
      // The vectors move to the UMAP worker; the rest of the dump stays for the result.
      umapJob = { dump: { ...d, vectors: new Float32Array(0) }, run: ctx.client.runId };
      set({ umap: { ...idleUmap(), status: 'neighbours', points: n } });
      umapClient.run(d.vectors, n, d.dim, { seed: get().config.seed, nNeighbors: 15, minDist: 0.1 });
    }),
  ];

  const actions: Slice<MapsActions>['actions'] = {
    requestImages(indices) {
      const have = get().images.pixels;
      const want = [...new Set(indices)].filter(
        (i) => Number.isInteger(i) && i >= 0 && !have.has(i) && !pendingImages.has(i),
      );
      const client = ctx.client;
      if (!want.length || !client) return;
      for (const i of want) pendingImages.add(i);
      // The engine answers at most MAX_IMAGES_PER_REQUEST per request.
      for (let k = 0; k < want.length; k += MAX_IMAGES_PER_REQUEST)
        client.requestImages(want.slice(k, k + MAX_IMAGES_PER_REQUEST));
    },
    computeUmap() {
      const s = get().umap.status;
      const client = ctx.client;
      if (!client || s === 'fetching' || s === 'neighbours' || s === 'layout') return;
      set({ umap: { ...idleUmap(), status: 'fetching' } });
      client.requestEmbeddings(UMAP_MAX_POINTS);
    },
    cancelUmap() {
      stopUmap();
      set({ umap: idleUmap() });
    },
    setMapMethod(m) {
      set({ mapMethod: m === 'umap' && !get().umapMap ? 'pca' : m });
    },
  };

  return { actions, wire, caches };
}
