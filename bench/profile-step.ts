/** Rough per-part timing of one training step on the current backend (for finding the slow part). */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { defaultConfig } from '../src/core/config';
import { Encoder } from '../src/core/models/encoder';
import { Rng } from '../src/core/rng';
import { applyAugment, drawAugment } from '../src/core/augment/augment';
import { setConvGradMode } from '../src/core/models/conv';

async function time(name: string, f: () => tf.Tensor | tf.Tensor[], reps = 3) {
  const r0 = f();
  await (Array.isArray(r0) ? r0[0] : r0).data();
  tf.dispose(r0);
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const r = f();
    await (Array.isArray(r) ? r[0] : r).data();
    tf.dispose(r);
  }
  console.log(name.padEnd(40), ((performance.now() - t0) / reps).toFixed(1), 'ms');
}

async function main() {
  await tf.setBackend(process.argv[2] ?? 'wasm');
  const cfg = defaultConfig();
  const rng = new Rng(1);
  const enc = Encoder.create(cfg, rng);
  const x64 = tf.randomUniform([64, 32, 32, 3]) as tf.Tensor4D;
  const x128 = tf.randomUniform([128, 32, 32, 3]) as tf.Tensor4D;
  const x64s = tf.randomUniform([64, 24, 24, 3]) as tf.Tensor4D;
  const p = {
    cropScaleMin: 0.3,
    cropScaleMax: 1,
    flipProb: 0.5,
    jitterProb: 0.8,
    brightness: 0.4,
    contrast: 0.4,
    saturation: 0.4,
    hue: 0.1,
    grayscaleProb: 0.2,
  };
  await time('augment 64 → 32', () => tf.tidy(() => applyAugment(x64, 32, drawAugment(64, p, rng))));
  await time('key fwd 128 @32', () => tf.tidy(() => enc.embed(x128)));
  await time('fwd 64 @32', () => tf.tidy(() => enc.embed(x64)));
  for (const mode of ['forward', 'native'] as const) {
    if (mode === 'native' && tf.getBackend() === 'wasm') continue;
    setConvGradMode(mode);
    await time(`fwd+bwd 64 @32 (${mode})`, () =>
      tf.tidy(() =>
        Object.values(tf.variableGrads(() => tf.sum(enc.embed(x64)) as tf.Scalar, enc.trainableVariables()).grads),
      ),
    );
    await time(`fwd+bwd 64 @24 (${mode})`, () =>
      tf.tidy(() =>
        Object.values(tf.variableGrads(() => tf.sum(enc.embed(x64s)) as tf.Scalar, enc.trainableVariables()).grads),
      ),
    );
  }
  // single conv layers
  const xa = tf.randomNormal([64, 32, 32, 16]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 16, 16]) as tf.Tensor4D;
  const dy = tf.randomNormal([64, 32, 32, 16]) as tf.Tensor4D;
  await time('conv 16→16 @32 fwd', () => tf.conv2d(xa, w, 1, 'same'));
  const { convFilterGrad, convInputGrad } = await import('../src/core/models/conv');
  await time('conv filter grad (fwd conv)', () => convFilterGrad(xa, dy, 3, 1));
  await time('conv input grad (fwd conv)', () => convInputGrad(dy, w, [64, 32, 32, 16], 1));
  await time('groupnorm 64x32x32x16', () =>
    tf.tidy(() => tf.moments(tf.reshape(xa, [64, 32, 32, 8, 2]), [1, 2, 4], true).mean),
  );
  const { groupNorm } = await import('../src/core/models/groupnorm');
  const gam = tf.ones([16]);
  const bet = tf.zeros([16]);
  await time('groupnorm fwd (hand-written)', () => groupNorm(xa, gam, bet, 8));
  await time('groupnorm fwd+grad (hand-written)', () =>
    tf.tidy(() =>
      tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(groupNorm(a as tf.Tensor4D, g, b, 8)) as tf.Scalar)(
        [xa, gam, bet],
      ),
    ),
  );
  await time('groupnorm fwd+grad (tape, input only)', () =>
    tf.tidy(() =>
      tf.grad((a: tf.Tensor) => {
        const r = tf.reshape(a, [64, 32, 32, 8, 2]);
        const m = tf.moments(r, [1, 2, 4], true);
        return tf.sum(tf.mul(tf.sub(r, m.mean), tf.rsqrt(tf.add(m.variance, 1e-5))));
      })(xa),
    ),
  );
}
main();
