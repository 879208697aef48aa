/**
 * Linear probe (METHOD §6; the standard self-supervised protocol of MoCo /
 * METHOD §6): multinomial logistic regression on frozen backbone features,
 * trained on the labelled training split, reported as top-1 and a
 * confusion matrix on the held-out split. Labels train only this probe,
 * never the encoder.
 *
 * Why by hand in tfjs rather than a library: it runs in the engine worker on
 * whatever backend trains the encoder, on features that are already device
 * tensors. Full-batch gradient descent with heavy-ball momentum on the
 * softmax cross-entropy plus L2, on standardised features: convex, so a few
 * hundred full-batch steps reach a stable answer, and the result is
 * deterministic (zero initialisation, no sampling).
 */
import * as tf from '@tensorflow/tfjs';

export interface ProbeOptions {
  classes: number;
  /** Full-batch gradient steps. */
  steps: number;
  lr: number;
  momentum: number;
  /** L2 on the weights (not the bias), added to the mean loss as (λ/2)·‖W‖². */
  weightDecay: number;
}

/** Starting values for standardised features: the problem is convex and full-batch, so a fixed step count replaces a stopping rule. */
export const DEFAULT_PROBE: Omit<ProbeOptions, 'classes'> = { steps: 300, lr: 0.5, momentum: 0.9, weightDecay: 1e-4 };

export interface ProbeResult {
  top1: number;
  /** K×K, row = true class, column = predicted, row-major counts. */
  confusion: Int32Array;
  /** Training loss (cross-entropy + L2) after the last step. */
  trainLoss: number;
}

/** Mean and standard deviation per feature of `train` (F each); σ floored at 1e-6 so constant features stay finite. */
function standardiser(train: tf.Tensor2D): { mean: tf.Tensor1D; std: tf.Tensor1D } {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(train, 0);
    return { mean: mean as tf.Tensor1D, std: tf.maximum(tf.sqrt(variance), 1e-6) as tf.Tensor1D };
  });
}

/**
 * Loss and gradients of softmax cross-entropy + (λ/2)‖W‖² for X: N×F, Y: N×K
 * one-hot, W: F×K, b: K. Written out (dZ = (softmax(XW + b) − Y)/N) so the
 * step is a handful of kernels, and so the test can mirror it in plain loops.
 */
export function probeGradients(
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  weightDecay: number,
): { loss: tf.Scalar; dw: tf.Tensor2D; db: tf.Tensor1D } {
  return tf.tidy(() => {
    const n = x.shape[0];
    const logits = tf.add(tf.matMul(x, w), b);
    const logp = tf.logSoftmax(logits);
    const ce = tf.neg(tf.div(tf.sum(tf.mul(y, logp)), n));
    const loss = tf.add(ce, tf.mul(0.5 * weightDecay, tf.sum(tf.square(w)))) as tf.Scalar;
    const dz = tf.div(tf.sub(tf.exp(logp), y), n);
    // X^T·dZ via a transposed copy: matMul with a transposed operand is slow on WASM (docs/BENCHMARKS.md).
    const dw = tf.add(tf.matMul(tf.transpose(x), dz), tf.mul(weightDecay, w)) as tf.Tensor2D;
    const db = tf.sum(dz, 0) as tf.Tensor1D;
    return { loss, dw, db };
  });
}

/**
 * train: N×F features, trainLabels: N; test: M×F, testLabels: M. Returns
 * held-out top-1 and confusion. Owns and frees every tensor it makes; the
 * inputs stay the caller's.
 */
export async function linearProbe(
  train: tf.Tensor2D,
  trainLabels: Int32Array,
  test: tf.Tensor2D,
  testLabels: Int32Array,
  opts: ProbeOptions,
): Promise<ProbeResult> {
  const K = opts.classes;
  const F = train.shape[1];
  const norm = standardiser(train);
  const xs = tf.tidy(() => tf.div(tf.sub(train, norm.mean), norm.std) as tf.Tensor2D);
  const xt = tf.tidy(() => tf.div(tf.sub(test, norm.mean), norm.std) as tf.Tensor2D);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(trainLabels, 'int32'), K).toFloat() as tf.Tensor2D);
  let w = tf.zeros([F, K]) as tf.Tensor2D;
  let b = tf.zeros([K]) as tf.Tensor1D;
  let vw: tf.Tensor2D = tf.zerosLike(w);
  let vb: tf.Tensor1D = tf.zerosLike(b);
  let lossT: tf.Scalar | null = null;
  for (let s = 0; s < opts.steps; s++) {
    const next = tf.tidy(() => {
      const g = probeGradients(xs, y, w, b, opts.weightDecay);
      const nvw = tf.add(tf.mul(opts.momentum, vw), g.dw);
      const nvb = tf.add(tf.mul(opts.momentum, vb), g.db);
      return {
        w: tf.sub(w, tf.mul(opts.lr, nvw)) as tf.Tensor2D,
        b: tf.sub(b, tf.mul(opts.lr, nvb)) as tf.Tensor1D,
        vw: nvw as tf.Tensor2D,
        vb: nvb as tf.Tensor1D,
        loss: g.loss,
      };
    });
    tf.dispose([w, b, vw, vb]);
    lossT?.dispose();
    ({ w, b, vw, vb } = next);
    lossT = next.loss;
  }
  const predT = tf.tidy(() => tf.argMax(tf.add(tf.matMul(xt, w), b), 1));
  const [pred, loss] = await Promise.all([
    predT.data(),
    lossT ? lossT.data() : Promise.resolve(new Float32Array([NaN])),
  ]);
  tf.dispose([predT, lossT as tf.Tensor, w, b, vw, vb, xs, xt, y, norm.mean, norm.std]);
  const confusion = new Int32Array(K * K);
  let correct = 0;
  for (let i = 0; i < testLabels.length; i++) {
    confusion[testLabels[i] * K + pred[i]]++;
    if (pred[i] === testLabels[i]) correct++;
  }
  return { top1: testLabels.length ? correct / testLabels.length : 0, confusion, trainLoss: loss[0] };
}
