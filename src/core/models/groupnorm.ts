/**
 * GroupNorm (Wu & He 2018) over B×H×W×C with G groups, with a hand-derived
 * backward pass.
 *
 * Why not tfjs autodiff: on WASM the encoder's step is dominated by
 * element-wise work over the activations (spec §8, docs/BENCHMARKS.md: one
 * GroupNorm gradient over 64×32×32×16 took 192 ms, ~25 full-size kernels from
 * the tape of moments → sub → mul → rsqrt → mul → add). Written out per group
 * g of sample b, with n = H·W·C/G values, x_c = x − μ, rstd = 1/√(σ² + ε):
 *
 *   forward   y = x_c·a + β,  a = rstd·γ (per b, c)
 *   backward  S₁ = Σ_hw dy,  S₂ = Σ_hw dy·x_c              (B×1×G×C/G each)
 *             m₁ = Σ_c γ·S₁ / n,  m₂ = rstd·Σ_c γ·S₂ / n     (B×1×G×1)
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
 * Σ over H and W per (sample, channel): B×H×W×C → B×1×G×C/G.
 *
 * Why avgPool on WASM/cpu: tfjs-wasm reduces a non-inner axis by transposing
 * the whole tensor first, while a global average pool is one XNNPACK pass
 * (64×16×16×16: Sum over H, W 0.75 ms, avgPool 0.15 ms; GroupNorm's four
 * such sums were ~9% of a default step). GPU backends keep their reduction.
 */
function sumHW(x: tf.Tensor4D, g: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (isHostBackend()) return tf.reshape(tf.mul(tf.avgPool(x, [h, w], 1, 'valid'), h * w), [b, 1, g, c / g]);
  return tf.sum(tf.reshape(x, [b, h * w, g, c / g]), 1, true);
}

/**
 * x: B×H×W×C, gamma and beta: C → B×H×W×C. Statistics over (H, W, C/G) per
 * sample and group, biased variance, ε = 1e-5 (as torch.nn.GroupNorm).
 */
export function groupNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const g = effectiveGroups(groups, c);
  const cg = c / g;
  const hw = h * w;
  const n = hw * cg;
  // customGrad's typing passes inputs and `save` through one rest parameter.
  const gnFn = tf.customGrad(((...args: [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc]) => {
    const [xIn, gammaIn, betaIn, save] = args;
    const xg = tf.reshape(xIn, [b, hw, g, cg]);
    // Full-size ops broadcast only per-(b, c) operands (B×1×G×C/G): a B×1×G×1
    // operand sends tfjs-wasm's binary kernels down their generic broadcast
    // path, 2–3× slower (64×32×32×32: Sub 17.6 ms vs 9.6, Mul 15.9 vs 5.9).
    const perC = tf.ones([1, 1, 1, cg]);
    const mu = tf.mul(tf.div(tf.sum(sumHW(xIn as tf.Tensor4D, g), 3, true), n), perC); // B×1×G×C/G
    const xc = tf.sub(xg, mu);
    const sq = tf.reshape(tf.square(xc), [b, h, w, c]) as tf.Tensor4D;
    const rstd = tf.rsqrt(tf.add(tf.div(tf.sum(sumHW(sq, g), 3, true), n), EPS)); // B×1×G×1
    const gam = tf.reshape(gammaIn, [1, 1, g, cg]);
    const a = tf.mul(rstd, gam); // B×1×G×C/G
    const y = tf.reshape(tf.add(tf.mul(xc, a), tf.reshape(betaIn, [1, 1, g, cg])), [b, h, w, c]);
    save([xc, rstd, gam, a, perC]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, r, gm, sc, pc] = saved;
        const dyg = tf.reshape(dy, [b, hw, g, cg]);
        const s1 = sumHW(dy as tf.Tensor4D, g); // B×1×G×C/G
        const s2 = sumHW(tf.reshape(tf.mul(dyg, xs), [b, h, w, c]) as tf.Tensor4D, g);
        const m1 = tf.div(tf.sum(tf.mul(gm, s1), 3, true), n); // B×1×G×1
        const m2 = tf.div(tf.mul(r, tf.sum(tf.mul(gm, s2), 3, true)), n);
        // Per-group factors spread over C/G first, for the fast broadcast path (see forward).
        const k2 = tf.mul(tf.mul(tf.square(r), m2), pc); // B×1×G×C/G
        const k3 = tf.mul(tf.mul(r, m1), pc);
        const dx = tf.sub(tf.mul(dyg, sc), tf.add(tf.mul(xs, k2), k3));
        const dGamma = tf.sum(tf.mul(r, s2), [0, 1]);
        const dBeta = tf.sum(s1, [0, 1]);
        return [tf.reshape(dx, [b, h, w, c]), tf.reshape(dGamma, gammaIn.shape), tf.reshape(dBeta, betaIn.shape)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return gnFn(x, gamma, beta) as tf.Tensor4D;
}
