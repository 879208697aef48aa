/**
 * GroupNorm (Wu & He 2018) over B×H×W×C with G groups, with a hand-derived
 * backward pass.
 *
 * Why not tfjs autodiff: on WASM the encoder's step is dominated by
 * element-wise work over the activations (METHOD §8, docs/BENCHMARKS.md §M6:
 * the tape of moments → sub → mul → rsqrt → mul → add runs some 25 full-size
 * kernels per GroupNorm gradient). Written out per group
 * g of sample b, with n = H·W·C/G values, x_c = x − μ, rstd = 1/√(σ² + ε):
 *
 *   forward   y = x_c·a + β,  a = rstd·γ (per b, c)
 *   backward  S₁ = Σ_hw dy,  S₂ = Σ_hw dy·x_c              (per b, c)
 *             m₁ = Σ_c γ·S₁ / n,  m₂ = rstd·Σ_c γ·S₂ / n     (per b, g)
 *             dx = a·dy − (rstd²·m₂)·x_c − rstd·m₁
 *             dγ = Σ_b rstd·S₂,  dβ = Σ_b S₁
 * which is the usual dx = rstd·(dŷ − mean(dŷ) − x̂·mean(dŷ·x̂)), dŷ = γ·dy,
 * regrouped so that five full-size element-wise kernels and two reductions
 * touch the activations; everything else is per (b, g, c). Working on the
 * centred x_c (not x with a shift folded in) keeps float32 exact when a
 * group's mean is large against its spread (after a ReLU and a conv it is).
 */
import * as tf from '@tensorflow/tfjs';
import { isHostBackend } from '../ops/host-backend';

/** The group count actually used: `groups` clipped to C and lowered to a divisor of C. */
export function effectiveGroups(groups: number, channels: number): number {
  let g = Math.max(1, Math.min(groups, channels));
  while (channels % g !== 0) g--;
  return g;
}

const EPS = 1e-5;

/**
 * Mean over H and W per (sample, channel): B×H×W×C → B×C.
 *
 * Why avgPool on WASM/cpu: tfjs-wasm reduces a non-inner axis by transposing
 * the whole tensor first, while a global average pool is one XNNPACK pass
 * (several times faster, and GroupNorm's four such reductions were a visible
 * share of a default step: docs/BENCHMARKS.md §M6). GPU backends keep their mean.
 */
function channelMeans(x: tf.Tensor4D): tf.Tensor2D {
  const [b, h, w, c] = x.shape;
  if (isHostBackend()) {
    // The kernel itself: tf.avgPool adds a float32 → float32 Cast and an op scope (~108 extra kernels per step).
    const pooled = tf
      .engine()
      .runKernel('AvgPool', { x }, { filterSize: [h, w], strides: [1, 1], pad: 'valid' }) as tf.Tensor;
    return tf.reshape(pooled, [b, c]);
  }
  return tf.mean(x, [1, 2]);
}

/**
 * C×C matrix whose product with per-channel values averages them over each
 * group's C/G channels and spreads the result back onto those channels.
 * Why a matMul: it does a group mean and its broadcast in one small kernel,
 * where reshapes, a sum, a division and a multiply took five (per-op cost
 * dominates on these B×C tensors: ~3,200 kernels per default step).
 */
function groupAverager(c: number, g: number): tf.Tensor2D {
  const cg = c / g;
  const m = new Float32Array(c * c);
  for (let i = 0; i < c; i++)
    for (let j = 0; j < c; j++) if (Math.floor(i / cg) === Math.floor(j / cg)) m[i * c + j] = 1 / cg;
  return tf.tensor2d(m, [c, c]);
}

/**
 * x: B×H×W×C, gamma and beta: C → B×H×W×C. Statistics over (H, W, C/G) per
 * sample and group, biased variance, ε = 1e-5 (as torch.nn.GroupNorm).
 * Per-(b, c) values are B×C (spread over each group's channels), broadcast
 * over H×W as B×1×1×C: an inner axis of C keeps tfjs-wasm's binary kernels
 * on their fast path (a B×1×G×1 operand took longer, docs/BENCHMARKS.md §M6).
 */
export function groupNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const g = effectiveGroups(groups, c);
  const hw = h * w;
  const spread = (t: tf.Tensor) => tf.reshape(t, [b, 1, 1, c]);
  // customGrad's typing passes inputs and `save` through one rest parameter.
  const gnFn = tf.customGrad(((...args: [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc]) => {
    const [xIn, gammaIn, betaIn, save] = args;
    const avg = groupAverager(c, g);
    const xc = tf.sub(xIn, spread(tf.matMul(channelMeans(xIn as tf.Tensor4D), avg))) as tf.Tensor4D;
    const rstd = tf.rsqrt(tf.add(tf.matMul(channelMeans(tf.square(xc)), avg), EPS)); // B×C
    const a = tf.mul(rstd, gammaIn); // B×C
    const y = tf.add(tf.mul(xc, spread(a)), betaIn);
    save([xc, rstd, gammaIn, a, avg]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, r, gm, sc, av] = saved as [tf.Tensor4D, tf.Tensor2D, tf.Tensor, tf.Tensor2D, tf.Tensor2D];
        const a1 = channelMeans(dy as tf.Tensor4D); // S₁/HW, B×C
        const a2 = channelMeans(tf.mul(dy, xs) as tf.Tensor4D); // S₂/HW
        const m1 = tf.matMul(tf.mul(a1, gm) as tf.Tensor2D, av); // Σ_c γ·S₁ / n, spread
        const m2 = tf.mul(r, tf.matMul(tf.mul(a2, gm) as tf.Tensor2D, av));
        const k2 = tf.mul(tf.square(r), m2);
        const k3 = tf.mul(r, m1);
        const dx = tf.sub(tf.mul(dy, spread(sc)), tf.add(tf.mul(xs, spread(k2)), spread(k3)));
        const dGamma = tf.mul(tf.sum(tf.mul(r, a2), 0), hw);
        const dBeta = tf.mul(tf.sum(a1, 0), hw);
        return [dx, tf.reshape(dGamma, gammaIn.shape), tf.reshape(dBeta, betaIn.shape)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return gnFn(x, gamma, beta) as tf.Tensor4D;
}
