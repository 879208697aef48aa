/**
 * The whole run state as a checkpoint (issue 6) and back: both encoders,
 * optimiser buffers, queues with their image ids and pointers, the bank, the
 * k-means state, both random streams, the epoch order and the step.
 * Restoring it and training on gives exactly the loss sequence of the
 * uninterrupted run on the same backend (train-checkpoint.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { ClimConfig } from '../config';
import { bankDim } from '../config';
import type { Dataset } from '../data/dataset';
import { datasetFingerprint } from '../data/dataset';
import type { Rng } from '../rng';
import type { Encoder } from '../models/encoder';
import type { MemoryBank } from '../clim/bank';
import type { KeyQueue } from '../clim/queue';
import { kmeansStateFrom, type KMeansState } from '../clim/kmeans';
import {
  CHECKPOINT_VERSION,
  CheckpointError,
  type Checkpoint,
  type CheckpointMeta,
  type TensorRecord,
} from '../checkpoint';
import { AdamW, type Optimizer } from '../optim';
import type { EpochSampler } from './sampler';

/** Everything a checkpoint holds, borrowed from the trainer. */
export interface RunState {
  config: Readonly<ClimConfig>;
  data: Dataset;
  query: Encoder;
  key: Encoder;
  optimizer: Optimizer;
  /** N×d (§2.1). */
  bank: MemoryBank;
  /** One K×d queue per resolution (§1.3, §5). */
  queues: KeyQueue[];
  /** The training stream. */
  rng: Rng;
  sampler: EpochSampler;
  clusters: KMeansState | null;
  step: number;
}

/** The run state `s` as a checkpoint; reads every tensor with await data(). */
export async function captureRun(
  s: RunState,
  extra: { app?: unknown; datasetSource?: unknown } = {},
): Promise<Checkpoint> {
  const named: Array<[string, tf.Tensor]> = [
    ...s.query.params.map((p): [string, tf.Tensor] => [`query/${p.name}`, p.variable]),
    ...s.key.params.map((p): [string, tf.Tensor] => [`key/${p.name}`, p.variable]),
    ...s.optimizer.state().map((v, i): [string, tf.Tensor] => [`optimizer/${i}`, v]),
    ['bank', s.bank.tensor],
    ...s.queues.map((q, i): [string, tf.Tensor] => [`queue${i}/keys`, q.keys]),
  ];
  const cl = s.clusters;
  if (cl) {
    named.push(
      ['kmeans/centroids', cl.centroids],
      ['kmeans/assignments', cl.assignments],
      ['kmeans/meanCentreSim', cl.meanCentreSim],
      ['kmeans/order', cl.order],
      ['kmeans/start', cl.start],
      ['kmeans/rank', cl.rank],
    );
  }
  const datas = await Promise.all(named.map(([, t]) => t.data()));
  const tensors: TensorRecord[] = named.map(([name, t], i) => ({
    name,
    dtype: t.dtype === 'int32' ? 'int32' : 'float32',
    shape: [...t.shape],
    data: t.dtype === 'int32' ? Int32Array.from(datas[i]) : Float32Array.from(datas[i]),
  }));
  const sampler = s.sampler.getState();
  tensors.push({ name: 'sampler/order', dtype: 'int32', shape: [sampler.order.length], data: sampler.order });
  s.queues.forEach((q, i) =>
    tensors.push({ name: `queue${i}/ids`, dtype: 'int32', shape: [q.size], data: Int32Array.from(q.ids) }),
  );
  const d = s.data;
  return {
    meta: {
      version: CHECKPOINT_VERSION,
      savedAt: new Date().toISOString(),
      step: s.step,
      config: { ...s.config, resolutions: [...s.config.resolutions] },
      dataset: {
        id: d.id,
        fingerprint: datasetFingerprint(d),
        train: d.train.n,
        test: d.test.n,
        size: d.size,
        source: extra.datasetSource,
      },
      rng: s.rng.getState(),
      samplerRng: sampler.rng,
      samplerPos: sampler.pos,
      samplerEpoch: sampler.epoch,
      queuePointers: s.queues.map((q) => q.pointer),
      clusterSizes: cl ? Array.from(cl.sizes) : null,
      optimizerSteps: s.optimizer instanceof AdamW ? s.optimizer.steps : 0,
      app: extra.app,
    },
    tensors,
  };
}

/**
 * Throws CheckpointError('dataset') unless `data` is the data set the run was
 * trained on: every index in the file was checked against the description's
 * counts, so they must be `data`'s (the fingerprint names them too).
 */
export function assertSameDataset(m: CheckpointMeta, data: Dataset): void {
  const fp = datasetFingerprint(data);
  if (m.dataset.fingerprint !== fp || m.dataset.train !== data.train.n || m.dataset.test !== data.test.n) {
    throw new CheckpointError(
      'dataset',
      `This run was trained on "${m.dataset.id}" (${m.dataset.train} + ${m.dataset.test} images, fingerprint ${m.dataset.fingerprint}); the data set loaded now is "${data.id}" (${data.train.n} + ${data.test.n}, fingerprint ${fp}). Load the run's data set and import again.`,
    );
  }
}

/**
 * Writes checkpoint `ck` (meta `m`, already checked by assertRunFile) into the
 * freshly built run `s` (its clusters and step are not read): variables,
 * queue ids and pointers, the random streams, the epoch order and the
 * optimiser's step. Every record is checked before the first write, so a bad
 * file fails fast with CheckpointError('mismatch'); the caller disposes `s`
 * on a throw. Returns the k-means state (the caller owns it) and the step.
 */
export function loadRun(
  s: RunState,
  ck: Checkpoint,
  m: CheckpointMeta,
): { clusters: KMeansState | null; step: number } {
  const data = s.data;
  const byName = new Map(ck.tensors.map((t) => [t.name, t]));
  const take = (name: string, like: tf.Tensor): TensorRecord => {
    const r = byName.get(name);
    if (!r)
      throw new CheckpointError(
        'mismatch',
        `The run file has no "${name}" (the model it was saved from differs from its settings).`,
      );
    const want = like.dtype === 'int32' ? 'int32' : 'float32';
    if (r.dtype !== want || r.shape.length !== like.shape.length || r.shape.some((v, i) => v !== like.shape[i])) {
      throw new CheckpointError(
        'mismatch',
        `Shape mismatch in the run file: "${name}" is ${r.dtype} [${r.shape.join('×')}], the model needs ${want} [${like.shape.join('×')}].`,
      );
    }
    return r;
  };
  const assign = (name: string, v: tf.Variable) => {
    const r = take(name, v);
    tf.tidy(() => v.assign(tf.tensor(r.data, r.shape, r.dtype)));
  };
  const plan: Array<[string, tf.Variable]> = [
    ...s.query.params.map((p): [string, tf.Variable] => [`query/${p.name}`, p.variable]),
    ...s.key.params.map((p): [string, tf.Variable] => [`key/${p.name}`, p.variable]),
    ...s.optimizer.state().map((v, i): [string, tf.Variable] => [`optimizer/${i}`, v]),
    ['bank', s.bank.embeddings],
    ...s.queues.map((q, i): [string, tf.Variable] => [`queue${i}/keys`, q.keys]),
  ];
  plan.forEach(([name, v]) => take(name, v));
  const order = byName.get('sampler/order');
  if (!order || order.dtype !== 'int32' || order.data.length !== data.train.n)
    throw new CheckpointError('mismatch', `The run file's epoch order does not fit ${data.train.n} training images.`);
  s.queues.forEach((q, i) => {
    const ids = byName.get(`queue${i}/ids`);
    if (!ids || ids.data.length !== q.size)
      throw new CheckpointError('mismatch', `The run file's queue ${i} ids do not fit a queue of ${q.size}.`);
  });
  if (m.queuePointers.length !== s.queues.length)
    throw new CheckpointError(
      'mismatch',
      `The run file has ${m.queuePointers.length} queues, the settings need ${s.queues.length}.`,
    );

  plan.forEach(([name, v]) => assign(name, v));
  s.queues.forEach((q, i) => {
    q.ids.set(byName.get(`queue${i}/ids`)!.data as Int32Array);
    q.pointer = m.queuePointers[i];
  });
  // Before the k-means tensors are made: nothing that can throw comes after them.
  s.rng.setState(m.rng);
  s.sampler.setState({ order: order.data as Int32Array, pos: m.samplerPos, epoch: m.samplerEpoch, rng: m.samplerRng });
  if (s.optimizer instanceof AdamW) s.optimizer.steps = m.optimizerSteps;
  let clusters: KMeansState | null = null;
  if (m.clusterSizes) {
    const C = m.config.clusters;
    const N = data.train.n;
    const D = bankDim(m.config);
    const specs: Array<[string, number[], 'float32' | 'int32']> = [
      ['kmeans/centroids', [C, D], 'float32'],
      ['kmeans/assignments', [N], 'int32'],
      ['kmeans/meanCentreSim', [C], 'float32'],
      ['kmeans/order', [N], 'int32'],
      ['kmeans/start', [C], 'int32'],
      ['kmeans/rank', [N], 'int32'],
    ];
    // Every record checked before the first tensor is made, so a mismatch leaves nothing behind.
    for (const [name, shape, dtype] of specs) {
      const r = byName.get(name);
      if (!r || r.dtype !== dtype || r.shape.join() !== shape.join())
        throw new CheckpointError('mismatch', `The run file's "${name}" does not fit ${C} clusters over ${N} images.`);
    }
    const [centroids, assignments, meanCentreSim, kOrder, start, rank] = specs.map(([n, sh, dt]) =>
      tf.tensor(byName.get(n)!.data, sh, dt),
    );
    clusters = kmeansStateFrom({
      centroids: centroids as tf.Tensor2D,
      assignments: assignments as tf.Tensor1D,
      meanCentreSim: meanCentreSim as tf.Tensor1D,
      order: kOrder as tf.Tensor1D,
      start: start as tf.Tensor1D,
      rank: rank as tf.Tensor1D,
      sizes: Int32Array.from(m.clusterSizes),
    });
  }
  return { clusters, step: m.step };
}
