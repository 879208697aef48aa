/**
 * GroupNorm forward + backward on WASM at the encoder's three activation
 * sizes (batch 64): median ms of 8 after 2 warm-up runs.
 *   npx tsx bench/groupnorm.ts
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { groupNorm } from '../src/core/models/groupnorm';
(async () => {
  await tf.setBackend('wasm');
  for (const [hw, c, g] of [
    [1024, 32, 8],
    [256, 64, 8],
    [64, 128, 8],
  ] as const) {
    const b = 64;
    const x = tf.randomNormal([b, 32, hw / 32, c]) as tf.Tensor4D;
    const gamma = tf.variable(tf.randomNormal([c]));
    const beta = tf.variable(tf.randomNormal([c]));
    const dy = tf.randomNormal(x.shape);
    const f = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(groupNorm(x, gamma, beta, g), dy)) as tf.Scalar);
        return tf.addN([value.reshape([1]), grads[gamma.name].sum().reshape([1])]);
      });
    const gx = () =>
      tf.tidy(() =>
        tf
          .grad((xx: tf.Tensor) => tf.sum(tf.mul(groupNorm(xx as tf.Tensor4D, gamma, beta, g), dy)))(x)
          .sum(),
      );
    for (const [name, fn] of [
      ['fwd+bwd(params)', f],
      ['dx', gx],
    ] as const) {
      for (let i = 0; i < 2; i++) await fn().data();
      const ts: number[] = [];
      for (let i = 0; i < 8; i++) {
        const t0 = performance.now();
        const r = fn();
        await r.data();
        r.dispose();
        ts.push(performance.now() - t0);
      }
      ts.sort((a, b) => a - b);
      console.log(hw, c, name, ts[4].toFixed(1));
    }
  }
})();
