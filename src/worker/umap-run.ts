/**
 * One UMAP run (McInnes et al. 2018, via umap-js) over N×dim vectors, with
 * progress and cancellation between epochs. Kept apart from the worker's
 * message wiring so it runs (and is tested) in Node as well.
 */
import { UMAP } from 'umap-js';
import { Rng } from '../core/rng';
import type { UmapParams, UmapPhase } from './umap-protocol';

export interface UmapHooks {
  onProgress?(phase: UmapPhase, epoch: number, epochs: number): void;
  /** Checked between slices of epochs; true stops the run (the result is then null). */
  cancelled?(): boolean;
  /** Work between yields to the event loop, in ms (default 30): lets a cancel message arrive. */
  sliceMs?: number;
}

const yieldToLoop = () => new Promise<void>((r) => setTimeout(r, 0));

/**
 * Returns N×2 coordinates (row-major), or null when cancelled. Seeded: the
 * same vectors, parameters and seed give the same map. N < 2 gives zeros
 * (UMAP needs neighbours); nNeighbors is clamped to N − 1.
 */
export async function runUmap(
  vectors: Float32Array,
  n: number,
  dim: number,
  p: UmapParams,
  hooks: UmapHooks = {},
): Promise<Float32Array | null> {
  if (vectors.length !== n * dim) throw new Error(`UMAP: ${vectors.length} numbers for ${n}×${dim} vectors`);
  if (n < 2) return new Float32Array(n * 2);
  const rng = new Rng(p.seed);
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.max(1, Math.min(p.nNeighbors, n - 1)),
    minDist: p.minDist,
    nEpochs: p.nEpochs,
    random: () => rng.next(),
  });
  const rows = Array.from({ length: n }, (_, i) => Array.from(vectors.subarray(i * dim, (i + 1) * dim)));
  hooks.onProgress?.('neighbours', 0, 0);
  await yieldToLoop();
  if (hooks.cancelled?.()) return null;
  const epochs = umap.initializeFit(rows);
  const slice = hooks.sliceMs ?? 30;
  let epoch = 0;
  while (epoch < epochs) {
    const t0 = performance.now();
    // At least one epoch per slice, however short the slice.
    do {
      umap.step();
      epoch++;
    } while (epoch < epochs && performance.now() - t0 < slice);
    hooks.onProgress?.('layout', epoch, epochs);
    await yieldToLoop();
    if (hooks.cancelled?.()) return null;
  }
  const emb = umap.getEmbedding();
  const xy = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    xy[i * 2] = emb[i][0];
    xy[i * 2 + 1] = emb[i][1];
  }
  return xy;
}
