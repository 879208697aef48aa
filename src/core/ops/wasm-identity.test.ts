import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installSharedWasmIdentity } from './wasm-identity';
import { Rng } from '../rng';

interface RefCounting {
  refCount(dataId: object): number;
}

describe('installSharedWasmIdentity', () => {
  let before = '';
  const copying = tf.getKernel('Identity', 'wasm')!;
  beforeAll(async () => {
    before = tf.getBackend();
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    tf.unregisterKernel('Identity', 'wasm');
    tf.registerKernel(copying);
    if (before) await tf.setBackend(before);
  });

  it('makes clone share the data (one more reference, no new buffer), and a second call changes nothing', async () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const be = tf.backend() as unknown as RefCounting;
    // The stock kernel copies: the clone has its own buffer.
    const copy = tf.clone(x);
    expect(copy.dataId).not.toBe(x.dataId);
    copy.dispose();

    expect(installSharedWasmIdentity()).toBe(true);
    const k = tf.getKernel('Identity', 'wasm')!.kernelFunc;
    expect(installSharedWasmIdentity()).toBe(true);
    expect(tf.getKernel('Identity', 'wasm')!.kernelFunc).toBe(k);

    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    expect(be.refCount(x.dataId)).toBe(2);
    // Disposing either leaves the other whole.
    y.dispose();
    expect(be.refCount(x.dataId)).toBe(1);
    expect(Array.from(await x.data())).toEqual([1, 2, 3, 4, 5, 6]);
    const z = tf.clone(x);
    x.dispose();
    expect(Array.from(await z.data())).toEqual([1, 2, 3, 4, 5, 6]);
    z.dispose();
  });

  it('gives the same gradients as the copying kernel and the cpu backend through saved tensors and a customGrad op', async () => {
    const rng = new Rng(5);
    const xv = Float32Array.from({ length: 6 * 5 }, () => rng.normal());
    const wv = Float32Array.from({ length: 5 * 4 }, () => rng.normal());
    // A custom op whose backward needs a tensor computed inside it (saved with `save`, i.e. cloned).
    // customGrad's typing passes inputs and `save` through one rest parameter (as in models/conv.ts).
    const softplusSq = tf.customGrad(((...args: [tf.Tensor, tf.GradSaveFunc]) => {
      const [x, save] = args;
      const s = tf.softplus(x);
      save([x, s]);
      return {
        value: tf.square(s),
        gradFunc: (dy: tf.Tensor, [xs, ss]: tf.Tensor[]) => tf.mul(dy, tf.mul(tf.mul(ss, 2), tf.sigmoid(xs))),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    const grads = async () => {
      const x = tf.tensor2d(xv, [6, 5]);
      const w = tf.variable(tf.tensor2d(wv, [5, 4]));
      const n0 = tf.memory().numTensors;
      const { value, grads: g } = tf.variableGrads(
        () => tf.sum(softplusSq(tf.relu(tf.matMul(x, w)))) as tf.Scalar,
        [w],
      );
      const out = { loss: (await value.data())[0], dw: Array.from(await g[w.name].data()) };
      tf.dispose([value, g[w.name]]);
      // Every saved tensor is released after the backward pass with either kernel.
      expect(tf.memory().numTensors).toBe(n0);
      tf.dispose([x, w]);
      return out;
    };
    tf.unregisterKernel('Identity', 'wasm');
    tf.registerKernel(copying);
    const viaCopy = await grads();
    installSharedWasmIdentity();
    const viaShare = await grads();
    await tf.setBackend('cpu');
    const onCpu = await grads();
    await tf.setBackend('wasm');
    expect(viaShare.loss).toBe(viaCopy.loss);
    expect(viaShare.dw).toEqual(viaCopy.dw);
    expect(Math.abs(viaShare.loss - onCpu.loss) / Math.abs(onCpu.loss)).toBeLessThan(1e-5);
    viaShare.dw.forEach((v, i) => expect(Math.abs(v - onCpu.dw[i])).toBeLessThan(1e-3 * (1 + Math.abs(onCpu.dw[i]))));
  });
});
