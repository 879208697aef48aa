/**
 * The update half of a training step (METHOD §1.2–§1.5, §5), after the keys
 * and mixed queries exist: the own-key masks, one optimiser step on f_q, and
 * f_k, the queues and (bankView 'augmented') the bank following it. Pure
 * functions of the state passed in, so trainStep reads as named calls.
 */
import * as tf from '@tensorflow/tfjs';
import type { Encoder } from '../models/encoder';
import type { KeyQueue } from '../clim/queue';
import type { MemoryBank } from '../clim/bank';
import type { Optimizer } from '../optim';
import { multiResolutionLoss, type KeyPair } from '../losses/multires';
import { ownKeyMask } from '../losses/own-key-mask';
import type { MixedQueries } from './step';

/** Per queue s (§1.4, config.maskOwnKeys), the B×K_s mask of the anchors' and positives' own older keys; nulls when off. */
export function ownKeyMasks(
  queues: readonly KeyQueue[],
  n: number,
  on: boolean,
  anchorIdx: tf.Tensor1D,
  positives: tf.Tensor1D,
): Array<tf.Tensor2D | null> {
  return queues.map((q) => (on ? ownKeyMask(q, n, anchorIdx, positives) : null));
}

/**
 * One optimiser step (§1.5) on f_q down the multi-resolution loss (§5) of
 * the mixed queries against keys (R pairs B×d) and queues. Returns the
 * loss (scalar) and its unweighted [anchor, positive] parts (2), both
 * kept past the gradient scope for the caller's tidy.
 */
export function optimiseStep(
  query: Encoder,
  optimizer: Optimizer,
  queues: readonly KeyQueue[],
  temperature: number,
  q: MixedQueries,
  keys: KeyPair[],
  masks: Array<tf.Tensor2D | null>,
  lr: number,
): { loss: tf.Scalar; parts: tf.Tensor1D } {
  let parts: tf.Tensor1D | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const queries = q.views.map((x) => query.embed(x));
    const keyQueues = queues.map((s) => s.keys as unknown as tf.Tensor2D);
    const l = multiResolutionLoss(queries, q.lambdas, keys, keyQueues, temperature, masks);
    parts = tf.keep(tf.stack([l.anchor, l.positive]) as tf.Tensor1D);
    return l.total;
  }, query.trainableVariables());
  optimizer.apply(grads, lr);
  return { loss: value, parts: parts as unknown as tf.Tensor1D };
}

/**
 * After the optimiser step: f_k follows f_q by momentum (§1.2), queue s
 * takes the anchors' keys at resolution s (§1.3), and with bankView
 * 'augmented' the anchors' bank rows become `bankRows` (B×bankDim, §2.2).
 */
export function followQuery(
  key: Encoder,
  query: Encoder,
  momentum: number,
  queues: readonly KeyQueue[],
  bank: MemoryBank,
  keys: KeyPair[],
  bankRows: tf.Tensor2D | null,
  anchorIdx: tf.Tensor1D,
  anchors: Int32Array,
): void {
  key.momentumUpdate(query, momentum);
  keys.forEach((k, s) => queues[s].enqueue(k.anchor, anchors));
  if (bankRows) bank.update(anchorIdx, bankRows);
}
