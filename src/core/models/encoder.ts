/**
 * The encoder f = backbone + 2-layer MLP projection head, output L2-normalised
 * (METHOD §1, MoCo v2). Parameters are plain tfjs variables held in one object
 * so the key encoder can be a momentum copy, checkpoints can list them, and
 * the optimiser can treat weights and norm/bias terms differently.
 *
 * Backbone: a small ResNet (He et al. 2016) for 28–32 px images:
 *   stem 3×3 conv (width, stride `stemStride`) → `stages` stages of `blocksPerStage` basic blocks,
 *   channels width·2^s, the first block of every stage after the first
 *   downsampling with stride 2 (1×1 stride-2 projection shortcut) →
 *   global average pool → F = width·2^(stages−1) features.
 * Normalisation is GroupNorm (Wu & He 2018): batch-independent, so queries and
 * keys cannot match through batch statistics (the BatchNorm leak of §1).
 */
import * as tf from '@tensorflow/tfjs';
import { featureDim, type ClimConfig } from '../config';
import type { Rng } from '../rng';
import { conv2dSame } from './conv';
import { groupNorm } from './groupnorm';
import { matMulFastGrad } from '../ops/matmul';

export { groupNorm };

export type ParamKind = 'weight' | 'bias' | 'norm';

export interface Param {
  name: string;
  kind: ParamKind;
  variable: tf.Variable;
}

export type EncoderShape = Pick<
  ClimConfig,
  'width' | 'stemStride' | 'stages' | 'blocksPerStage' | 'norm' | 'groups' | 'projHidden' | 'projDim'
>;

export { featureDim };

/** Owns the variables of one encoder. */
export class Encoder {
  readonly params: Param[];
  private readonly byName: Map<string, tf.Variable>;

  private constructor(
    readonly shape: EncoderShape,
    params: Param[],
  ) {
    this.params = params;
    this.byName = new Map(params.map((p) => [p.name, p.variable]));
  }

  /** He-normal weights drawn from `rng` (so the same seed gives the same net on every backend). */
  static create(shape: EncoderShape, rng: Rng, trainable = true): Encoder {
    const params: Param[] = [];
    const add = (name: string, kind: ParamKind, dims: number[], init: (fanIn: number) => Float32Array) => {
      const fanIn = kind === 'weight' ? dims.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
      // In a tidy: tf.variable shares the initial tensor's data but leaves that tensor alive too.
      params.push({
        name,
        kind,
        variable: tf.tidy(() => tf.variable(tf.tensor(init(fanIn), dims), trainable, `${name}_${uid++}`)),
      });
    };
    const he = (dims: number[]) => (fanIn: number) => {
      const n = dims.reduce((a, b) => a * b, 1);
      const std = Math.sqrt(2 / fanIn);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
      return out;
    };
    const fill = (n: number, v: number) => () => new Float32Array(n).fill(v);
    const conv = (name: string, k: number, ci: number, co: number) =>
      add(name, 'weight', [k, k, ci, co], he([k, k, ci, co]));
    const norm = (name: string, c: number) => {
      if (shape.norm === 'none') {
        add(`${name}.beta`, 'bias', [c], fill(c, 0));
        return;
      }
      add(`${name}.gamma`, 'norm', [c], fill(c, 1));
      add(`${name}.beta`, 'norm', [c], fill(c, 0));
    };

    conv('stem.conv', 3, 3, shape.width);
    norm('stem.norm', shape.width);
    let ci = shape.width;
    for (let s = 0; s < shape.stages; s++) {
      const co = shape.width * 2 ** s;
      for (let b = 0; b < shape.blocksPerStage; b++) {
        const p = `s${s}.b${b}`;
        conv(`${p}.conv1`, 3, ci, co);
        norm(`${p}.norm1`, co);
        conv(`${p}.conv2`, 3, co, co);
        norm(`${p}.norm2`, co);
        if (ci !== co || (s > 0 && b === 0)) {
          conv(`${p}.short`, 1, ci, co);
          norm(`${p}.shortnorm`, co);
        }
        ci = co;
      }
    }
    const f = featureDim(shape);
    add('head.fc1.w', 'weight', [f, shape.projHidden], he([f, shape.projHidden]));
    add('head.fc1.b', 'bias', [shape.projHidden], fill(shape.projHidden, 0));
    add('head.fc2.w', 'weight', [shape.projHidden, shape.projDim], he([shape.projHidden, shape.projDim]));
    add('head.fc2.b', 'bias', [shape.projDim], fill(shape.projDim, 0));
    return new Encoder(shape, params);
  }

  /** A non-trainable copy with the same values (the key encoder f_k). */
  copy(trainable = false): Encoder {
    const params = this.params.map((p) => ({
      name: p.name,
      kind: p.kind,
      variable: tf.tidy(() => tf.variable(p.variable.clone(), trainable, `${p.name}_${uid++}`)),
    }));
    return new Encoder(this.shape, params);
  }

  private v(name: string): tf.Variable {
    const v = this.byName.get(name);
    if (!v) throw new Error(`encoder has no parameter ${name}`);
    return v;
  }

  private has(name: string): boolean {
    return this.byName.has(name);
  }

  private normAct(x: tf.Tensor4D, name: string, relu: boolean): tf.Tensor4D {
    const y =
      this.shape.norm === 'none'
        ? tf.add(x, this.v(`${name}.beta`))
        : groupNorm(x, this.v(`${name}.gamma`), this.v(`${name}.beta`), this.shape.groups);
    return (relu ? tf.relu(y) : y) as tf.Tensor4D;
  }

  /** x: B×H×W×3 in [0,1] → backbone features B×F (before the head). */
  features(x: tf.Tensor4D): tf.Tensor2D {
    const s = this.shape;
    // Centre the pixels: keeps early activations O(1) with He init.
    let h = tf.mul(tf.sub(x, 0.5), 4) as tf.Tensor4D;
    // The image needs no gradient: skip the stem's input-gradient conv.
    h = this.normAct(
      conv2dSame(h, this.v('stem.conv') as tf.Tensor4D, s.stemStride, { inputGrad: false }),
      'stem.norm',
      true,
    );
    for (let st = 0; st < s.stages; st++) {
      for (let b = 0; b < s.blocksPerStage; b++) {
        const p = `s${st}.b${b}`;
        const stride = st > 0 && b === 0 ? 2 : 1;
        let y = this.normAct(conv2dSame(h, this.v(`${p}.conv1`) as tf.Tensor4D, stride), `${p}.norm1`, true);
        y = this.normAct(conv2dSame(y, this.v(`${p}.conv2`) as tf.Tensor4D), `${p}.norm2`, false);
        const shortcut = this.has(`${p}.short`)
          ? this.normAct(conv2dSame(h, this.v(`${p}.short`) as tf.Tensor4D, stride), `${p}.shortnorm`, false)
          : h;
        h = tf.relu(tf.add(y, shortcut)) as tf.Tensor4D;
      }
    }
    return tf.mean(h, [1, 2]) as tf.Tensor2D;
  }

  /** Backbone features B×F → projected, L2-normalised embeddings B×d. */
  project(f: tf.Tensor2D): tf.Tensor2D {
    // matMulFastGrad: the tape's matMul gradients use transposed operands, slow on WASM (ops/matmul.ts).
    const h = tf.relu(tf.add(matMulFastGrad(f, this.v('head.fc1.w') as tf.Tensor2D), this.v('head.fc1.b')));
    const z = tf.add(
      matMulFastGrad(h as tf.Tensor2D, this.v('head.fc2.w') as tf.Tensor2D),
      this.v('head.fc2.b'),
    ) as tf.Tensor2D;
    return l2Normalize(z);
  }

  /** x: B×H×W×3 → L2-normalised embeddings B×d. */
  embed(x: tf.Tensor4D): tf.Tensor2D {
    return this.project(this.features(x));
  }

  /** θ_k ← m·θ_k + (1−m)·θ_q for every parameter (MoCo, METHOD §1). `this` is the key encoder. */
  momentumUpdate(query: Encoder, m: number): void {
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        p.variable.assign(tf.add(tf.mul(p.variable, m), tf.mul(query.params[i].variable, 1 - m)));
      });
    });
  }

  /** Copies values from another encoder of the same shape. */
  assignFrom(other: Encoder): void {
    this.params.forEach((p, i) => p.variable.assign(other.params[i].variable));
  }

  trainableVariables(): tf.Variable[] {
    return this.params.map((p) => p.variable);
  }

  dispose(): void {
    for (const p of this.params) p.variable.dispose();
  }
}

let uid = 0;

/** Row-wise L2 normalisation, B×d → B×d; ε keeps zero rows finite. */
export function l2Normalize(z: tf.Tensor2D): tf.Tensor2D {
  return tf.div(z, tf.add(tf.norm(z, 2, 1, true), 1e-12)) as tf.Tensor2D;
}
