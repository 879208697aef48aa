/**
 * Messages between the page and the UMAP worker (umap.worker.ts), which
 * computes a 2-D UMAP map of bank embeddings on demand (issue 5). Apart from
 * the engine's protocol: UMAP runs for seconds to a minute in plain JS and
 * must not hold up training. Plain data only; `vectors` and `xy` move
 * (transfer) rather than copy.
 */

export interface UmapParams {
  /** Seed of the umap-js `random` function (a project Rng), so a map can be reproduced. */
  seed: number;
  nNeighbors: number;
  minDist: number;
  /** Optimisation epochs; omitted: umap-js' default for the size (500 below 10k points, else 200). */
  nEpochs?: number;
}

export type UmapRequest =
  /** N×dim row-major vectors (L2-normalised bank rows): computes their 2-D UMAP. */
  | ({ type: 'run'; jobId: number; vectors: Float32Array; n: number; dim: number } & UmapParams)
  /** Stops a running job between epochs (it answers `cancelled`). */
  | { type: 'cancel'; jobId: number };

export type UmapPhase = 'neighbours' | 'layout';

export type UmapEvent =
  /** `neighbours`: the k-NN graph is being built (one synchronous call, no epochs yet); `layout`: epoch of epochs done. */
  | { type: 'progress'; jobId: number; phase: UmapPhase; epoch: number; epochs: number }
  /** N×2 row-major coordinates. */
  | { type: 'done'; jobId: number; xy: Float32Array; ms: number }
  | { type: 'cancelled'; jobId: number }
  | { type: 'error'; jobId: number; message: string };
