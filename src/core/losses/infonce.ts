/**
 * Contrastive losses (METHOD §1 and §4). Pure functions of tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { matMulABt } from '../ops/matmul';

/**
 * Per-sample InfoNCE (van den Oord et al. 2018; MoCo, He et al. 2020):
 *   logits_b = [q_b·k_b, q_b·queue_1, …, q_b·queue_K] / T
 *   ℓ_b = −log softmax(logits_b)[0] = logsumexp(logits_b) − logits_b[0]
 * q: B×d, k: B×d (positive keys, no gradient wanted: callers pass key-encoder outputs),
 * queue: K×d negatives (K may be 0: then ℓ_b = 0, there is nothing to contrast with).
 * Returns ℓ: B.
 */
export function infoNCE(q: tf.Tensor2D, k: tf.Tensor2D, queue: tf.Tensor2D, temperature: number): tf.Tensor1D {
  return tf.tidy(() => tf.reshape(infoNCEShared(q, [k], queue, temperature), [-1]) as tf.Tensor1D);
}

/**
 * InfoNCE of one query batch against J positive-key batches that share the
 * same negatives (the λ-mixed loss of §4 has J = 2: anchor and positive keys):
 * q: B×d, keys: J tensors B×d, queue: K×d → J×B per-sample losses, row j
 * equal to infoNCE(q, keys[j], queue, T).
 *
 * With s_j = q·k_j/T, n = q·queueᵀ/T (B×K), a row max m and E = Σ_i e^(n_i − m):
 *   ℓ_j = log(e^(s_j − m) + E) + m − s_j,
 * so q·queueᵀ and its exponentials are computed once for all J keys.
 *
 * Hand-written gradient, for speed on WASM: the tape's gradient of a
 * log-sum-exp goes through max's broadcast Equal mask (slow on WASM,
 * docs/BENCHMARKS.md §M7) and that of q·queueᵀ through transposed-operand matMuls
 * (ops/matmul.ts). With Z_j = e^(s_j − m) + E and upstream dy (J×B):
 *   dq = Σ_j dy_j/T · (e^(s_j − m)/Z_j − 1)·k_j + [e^(n − m) ⊙ Σ_j dy_j/(T·Z_j)]·queue.
 * Keys and queue get no gradient: they come from the key encoder (MoCo).
 * negMask (B×K, optional, constant): added to the negatives' logits; a large
 * negative entry removes that negative for that row.
 */
export function infoNCEShared(
  q: tf.Tensor2D,
  keys: tf.Tensor2D[],
  queue: tf.Tensor2D,
  temperature: number,
  negMask: tf.Tensor2D | null = null,
): tf.Tensor2D {
  const K = queue.shape[0];
  const J = keys.length;
  const op = tf.customGrad(((...args: [tf.Tensor2D, tf.GradSaveFunc]) => {
    const [qi, save] = args;
    const pos = tf.div(tf.stack(keys.map((k) => tf.sum(tf.mul(qi, k), 1))), temperature); // J×B
    const posMax = tf.max(pos, 0); // B
    let m: tf.Tensor = posMax;
    let en: tf.Tensor | null = null;
    let E: tf.Tensor = tf.zerosLike(posMax);
    if (K > 0) {
      let neg: tf.Tensor = tf.div(matMulABt(qi, queue), temperature); // B×K
      if (negMask) neg = tf.add(neg, negMask);
      m = tf.maximum(posMax, tf.max(neg, 1));
      en = tf.exp(tf.sub(neg, tf.reshape(m, [-1, 1])));
      E = tf.sum(en, 1);
    }
    const ep = tf.exp(tf.sub(pos, m)); // J×B
    const Z = tf.add(ep, E);
    const loss = tf.sub(tf.add(tf.log(Z), m), pos);
    // Keys and queue are saved too, so that they outlive the scope that made them.
    save([ep, Z, queue, ...keys, ...(en ? [en] : [])]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [epS, zS, queueS] = saved;
        const keysS = saved.slice(3, 3 + J);
        const enS = saved[3 + J];
        const w = tf.div(dy, temperature); // J×B
        const coefK = tf.mul(w, tf.sub(tf.div(epS, zS), 1)); // J×B
        let dq: tf.Tensor = tf.zerosLike(qi);
        for (let j = 0; j < J; j++)
          dq = tf.add(dq, tf.mul(tf.reshape(tf.slice(coefK, [j, 0], [1, -1]), [-1, 1]), keysS[j]));
        if (enS) {
          const r = tf.sum(tf.div(w, zS), 0); // B
          dq = tf.add(dq, tf.matMul(tf.mul(enS, tf.reshape(r, [-1, 1])), queueS));
        }
        return [dq];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(q) as tf.Tensor2D;
}

export interface MixedLoss {
  /** Scalar: mean_b [λ_b·ℓ(q, k_i)_b + (1−λ_b)·ℓ(q, k_p)_b]. */
  total: tf.Scalar;
  /** Scalar: mean_b ℓ(q, k_i)_b, unweighted. */
  anchor: tf.Scalar;
  /** Scalar: mean_b ℓ(q, k_p)_b, unweighted. */
  positive: tf.Scalar;
}

/**
 * The CLIM mixed loss (§4): the mixed query q (B×d) is pulled to the anchor's
 * key k_i (B×d) with weight λ and to the positive's key k_p (B×d) with 1−λ,
 * negatives from the queue (K×d). lambda: B (1 where no mixing happened).
 */
export function mixedInfoNCE(
  q: tf.Tensor2D,
  kAnchor: tf.Tensor2D,
  kPositive: tf.Tensor2D,
  queue: tf.Tensor2D,
  lambda: tf.Tensor1D,
  temperature: number,
  negMask: tf.Tensor2D | null = null,
): MixedLoss {
  const both = infoNCEShared(q, [kAnchor, kPositive], queue, temperature, negMask); // 2×B
  const la = tf.reshape(tf.slice(both, [0, 0], [1, -1]), [-1]);
  const lp = tf.reshape(tf.slice(both, [1, 0], [1, -1]), [-1]);
  const total = tf.mean(tf.add(tf.mul(lambda, la), tf.mul(tf.sub(1, lambda), lp))) as tf.Scalar;
  return { total, anchor: tf.mean(la) as tf.Scalar, positive: tf.mean(lp) as tf.Scalar };
}
