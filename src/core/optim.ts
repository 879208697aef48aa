/**
 * Optimisers over encoder parameters, written with tfjs ops so the update
 * stays on the device and its state (momentum buffers, Adam moments) can be
 * checkpointed. Weight decay applies to conv/dense weights only, not to norm
 * gains, biases (common practice; decaying GroupNorm gains fights the norm).
 */
import * as tf from '@tensorflow/tfjs';
import type { OptimizerKind } from './config';
import type { Param } from './models/encoder';

export interface Optimizer {
  readonly kind: OptimizerKind;
  /** One update with gradients keyed by variable name. */
  apply(grads: Record<string, tf.Tensor>, lr: number): void;
  /**
   * Takes new momentum and weight decay for the following updates (a paused
   * run's live edit); the state buffers carry on. Adam's β are fixed, so it
   * uses the weight decay only.
   */
  setHyperparameters(momentum: number, weightDecay: number): void;
  /** Long-lived state tensors (for checkpoints and leak checks). */
  state(): tf.Variable[];
  dispose(): void;
}

/** SGD with heavy-ball momentum and L2 weight decay, as torch.optim.SGD: v ← μv + (g + λw); w ← w − lr·v. */
export class SgdMomentum implements Optimizer {
  readonly kind = 'sgd' as const;
  private readonly buffers: tf.Variable[];

  constructor(
    private readonly params: Param[],
    private momentum: number,
    private weightDecay: number,
  ) {
    this.buffers = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false)));
  }

  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g0 = grads[p.variable.name];
        if (!g0) return;
        const g = p.kind === 'weight' && this.weightDecay > 0 ? tf.add(g0, tf.mul(p.variable, this.weightDecay)) : g0;
        const v = tf.add(tf.mul(this.buffers[i], this.momentum), g);
        this.buffers[i].assign(v);
        p.variable.assign(tf.sub(p.variable, tf.mul(v, lr)));
      });
    });
  }

  setHyperparameters(momentum: number, weightDecay: number): void {
    this.momentum = momentum;
    this.weightDecay = weightDecay;
  }

  state(): tf.Variable[] {
    return this.buffers;
  }

  dispose(): void {
    tf.dispose(this.buffers);
  }
}

/** Adam (Kingma & Ba 2015) with decoupled weight decay (AdamW, Loshchilov & Hutter 2019). */
export class AdamW implements Optimizer {
  readonly kind = 'adam' as const;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;

  constructor(
    private readonly params: Param[],
    private weightDecay: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    this.m = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false)));
    this.v = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false)));
  }

  get steps(): number {
    return this.t;
  }

  set steps(t: number) {
    this.t = t;
  }

  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    this.t += 1;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = grads[p.variable.name];
        if (!g) return;
        const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        let step = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.eps));
        if (p.kind === 'weight' && this.weightDecay > 0) step = tf.add(step, tf.mul(p.variable, this.weightDecay));
        p.variable.assign(tf.sub(p.variable, tf.mul(step, lr)));
      });
    });
  }

  setHyperparameters(_momentum: number, weightDecay: number): void {
    this.weightDecay = weightDecay;
  }

  state(): tf.Variable[] {
    return [...this.m, ...this.v];
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}

export function createOptimizer(
  kind: OptimizerKind,
  params: Param[],
  momentum: number,
  weightDecay: number,
): Optimizer {
  return kind === 'adam' ? new AdamW(params, weightDecay) : new SgdMomentum(params, momentum, weightDecay);
}
