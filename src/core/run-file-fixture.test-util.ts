/**
 * A small, valid run file made by hand (no tfjs): 8 training images, one
 * queue of 32 keys, 3 clusters, a history and two evaluations. The run-file
 * check and its fuzz test start from it; a trained one is checked in
 * run-file-check.test.ts too.
 */
import { CHECKPOINT_VERSION, type Checkpoint, type CheckpointMeta } from './checkpoint';
import { tinyConfig } from './config';

export const FIXTURE_N = 8;

export function smallRunMeta(): CheckpointMeta {
  return {
    version: CHECKPOINT_VERSION,
    savedAt: '2026-12-20T10:00:00.000Z',
    step: 12,
    config: tinyConfig(),
    dataset: {
      id: 'shapes:seed=1:n=8+2:s=16',
      fingerprint: '16:8+2:0badc0de',
      train: FIXTURE_N,
      test: 2,
      size: 16,
      source: { kind: 'builtin', name: 'shapes', seed: 1, nTrain: 8, nTest: 2 },
    },
    rng: [1, 2, 3, 4],
    samplerRng: [5, 6, 7, 4294967295],
    samplerPos: 4,
    samplerEpoch: 1,
    queuePointers: [5],
    clusterSizes: [3, 3, 2],
    optimizerSteps: 0,
    app: {
      history: [
        {
          step: 11,
          loss: 3.25,
          lossAnchor: 3.5,
          lossPositive: 3,
          lr: 0.05,
          ms: 120.5,
          imagesPerSecond: 66.4,
          coverage: 0.875,
          precision: null,
          lambdaMean: 0.6,
          selectionMs: 4.2,
          kmeansMs: 0,
          refreshMs: 0,
        },
        // Older files have no refreshMs; JSON turns an Infinity rate into null.
        {
          step: 12,
          loss: 3.125,
          lossAnchor: 3.4,
          lossPositive: 2.9,
          lr: 0.049,
          ms: 0,
          imagesPerSecond: null,
          coverage: 1,
          precision: 0.5,
          lambdaMean: 1,
          selectionMs: 3.9,
          kmeansMs: 7.5,
        },
      ],
      evals: [
        {
          step: 10,
          knnTop1: 0.5,
          linearTop1: null,
          confusion: null,
          classes: 2,
          alignment: null,
          uniformity: null,
          clusterPurity: null,
          clusterNmi: null,
          clusterAri: null,
          ms: 12,
        },
        {
          step: 12,
          knnTop1: 0.5,
          linearTop1: 1,
          confusion: Int32Array.from([1, 0, 0, 1]),
          classes: 2,
          alignment: 0.75,
          uniformity: -2.5,
          clusterPurity: 0.625,
          clusterNmi: 0.3,
          clusterAri: -0.05,
          ms: 80,
        },
      ],
    },
  };
}

/** Images 0..7 in clusters [0,1,2,0,1,2,0,1]: runs 0,3,6 | 1,4,7 | 2,5. */
export function smallRun(): Checkpoint {
  const ids = new Int32Array(32).fill(-1);
  ids.set([3, 1, 4, 1, 5, 7, 2, 6]);
  return {
    meta: smallRunMeta(),
    tensors: [
      {
        name: 'bank',
        dtype: 'float32',
        shape: [FIXTURE_N, 4],
        data: Float32Array.from({ length: FIXTURE_N * 4 }, (_, i) => Math.sin(i)),
      },
      { name: 'sampler/order', dtype: 'int32', shape: [FIXTURE_N], data: Int32Array.from([5, 2, 7, 0, 3, 6, 1, 4]) },
      { name: 'queue0/ids', dtype: 'int32', shape: [32], data: ids },
      {
        name: 'kmeans/assignments',
        dtype: 'int32',
        shape: [FIXTURE_N],
        data: Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1]),
      },
      { name: 'kmeans/order', dtype: 'int32', shape: [FIXTURE_N], data: Int32Array.from([0, 3, 6, 1, 4, 7, 2, 5]) },
      { name: 'kmeans/start', dtype: 'int32', shape: [3], data: Int32Array.from([0, 3, 6]) },
      { name: 'kmeans/rank', dtype: 'int32', shape: [FIXTURE_N], data: Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2]) },
    ],
  };
}
