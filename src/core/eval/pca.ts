/**
 * 2-D PCA of bank embeddings for the Clusters map (METHOD §2 bank, §6 what to
 * measure; issue 5: "PCA updated live").
 *
 * tfjs has no eigensolver, so it is written by hand. The O(N·D²) and O(N·D)
 * work runs on the active backend (WebGPU/WebGL/WASM) inside the engine
 * worker; the D×D eigenproblem runs on the host in float64:
 *   1. on the device: Gram matrix S = XᵀX (D×D, one matmul) and mean m (1×D);
 *      read back (D² + D numbers: 66 KB for D = 128).
 *   2. covariance Σ = S/N − mmᵀ. Centring X first would cost an N×D
 *      broadcast subtract (more than the matmul on WASM, docs/BENCHMARKS.md §M10).
 *   3. top-2 eigenvectors by orthogonal (subspace) iteration: Q ← orth(Σ·Q),
 *      Q D×2, Gram–Schmidt of the two columns; the error falls like
 *      (λ3/λ2)^t, and it stops early once Q stops moving. A warm start (the
 *      previous snapshot's axes) makes a few iterations enough while the
 *      bank drifts slowly. On the host because each iteration is ~10 tiny
 *      ops: as tfjs ops on WASM the per-op overhead dominates, and float64
 *      iterations in JS are far cheaper (docs/BENCHMARKS.md §M10).
 *   4. Rayleigh–Ritz: the 2×2 matrix QᵀΣQ is diagonalised exactly, which
 *      turns any basis of the converged plane into the eigenvectors, λ1 ≥ λ2.
 *   5. fixed signs: each axis is flipped so that its largest-magnitude
 *      component (lowest index on ties) is positive, so the map does not
 *      mirror from one snapshot to the next.
 *   6. on the device: Y = X·V (N×2), read back; the host subtracts m·V.
 * Reads use `await data()` (never dataSync: WebGPU workers return zeros, §8).
 */
import * as tf from '@tensorflow/tfjs';
import { matMulAtB } from '../ops/matmul';
import { Rng } from '../rng';

export interface Pca2 {
  /** N×2 coordinates, row-major. */
  xy: Float32Array;
  /** D×2 axes (unit, orthogonal), row-major: axes[d*2 + k]; usable as `init` next time. */
  axes: Float32Array;
  /** Eigenvalues λ1 ≥ λ2 of the covariance along the two axes. */
  variance: [number, number];
  /** λk / trace(Σ): the share of the total variance each axis explains (0 when all rows are equal). */
  explained: [number, number];
}

export interface PcaOptions {
  /** Most orthogonal-iteration steps (default 100 cold, 30 with `init`; it stops early once converged). */
  iters?: number;
  /** D×2 starting axes (row-major), e.g. the previous call's `axes`. */
  init?: Float32Array | null;
}

const COLD_ITERS = 100;
const WARM_ITERS = 30;
/** Stop iterating once no component of Q moves by more than this (float64). */
const TOL = 1e-10;
/** Column norms below this mean Σ·q vanished (rank < 2 or all rows equal); avoids 0/0. */
const NORM_EPS = 1e-30;

/** Seeded D×2 start: a fixed pseudo-random pair is almost surely not orthogonal to the top plane. */
function coldStart(d: number): Float64Array {
  const rng = new Rng(0x9ca2);
  return Float64Array.from({ length: d * 2 }, () => rng.normal());
}

/** In place: q1 = a/|a|, q2 = (b − (q1·b)q1)/|…| for the columns of a D×2 row-major matrix (Gram–Schmidt, applied twice for float safety). */
function orth2(q: Float64Array, d: number): void {
  let na = 0;
  for (let i = 0; i < d; i++) na += q[i * 2] ** 2;
  na = Math.sqrt(na);
  for (let i = 0; i < d; i++) q[i * 2] /= Math.max(na, NORM_EPS);
  for (let pass = 0; pass < 2; pass++) {
    let dot = 0;
    for (let i = 0; i < d; i++) dot += q[i * 2] * q[i * 2 + 1];
    for (let i = 0; i < d; i++) q[i * 2 + 1] -= dot * q[i * 2];
  }
  let nb = 0;
  for (let i = 0; i < d; i++) nb += q[i * 2 + 1] ** 2;
  nb = Math.sqrt(nb);
  for (let i = 0; i < d; i++) q[i * 2 + 1] /= Math.max(nb, NORM_EPS);
}

/** out = Σ·q for Σ D×D (row-major) and q D×2. */
function mulSym(cov: Float64Array, q: Float64Array, d: number, out: Float64Array): void {
  for (let i = 0; i < d; i++) {
    let s0 = 0;
    let s1 = 0;
    const row = i * d;
    for (let j = 0; j < d; j++) {
      s0 += cov[row + j] * q[j * 2];
      s1 += cov[row + j] * q[j * 2 + 1];
    }
    out[i * 2] = s0;
    out[i * 2 + 1] = s1;
  }
}

/** Eigen-decomposition of the symmetric 2×2 [[a, b], [b, c]]: values descending, vectors as columns. */
export function eigSym2(
  a: number,
  b: number,
  c: number,
): { values: [number, number]; vectors: [[number, number], [number, number]] } {
  const mean = (a + c) / 2;
  const r = Math.hypot((a - c) / 2, b);
  const l1 = mean + r;
  const l2 = mean - r;
  // Rotation angle of the first eigenvector: tan 2θ = 2b / (a − c).
  const theta = 0.5 * Math.atan2(2 * b, a - c);
  const cs = Math.cos(theta);
  const sn = Math.sin(theta);
  return {
    values: [l1, l2],
    vectors: [
      [cs, -sn],
      [sn, cs],
    ],
  };
}

/** Flips each column of a D×2 row-major matrix so its largest-|·| entry (first on ties) is positive. */
export function fixSigns(axes: Float32Array, d: number): Float32Array {
  for (let k = 0; k < 2; k++) {
    let best = 0;
    for (let i = 1; i < d; i++) if (Math.abs(axes[i * 2 + k]) > Math.abs(axes[best * 2 + k])) best = i;
    if (axes[best * 2 + k] < 0) for (let i = 0; i < d; i++) axes[i * 2 + k] = -axes[i * 2 + k];
  }
  return axes;
}

/**
 * 2-D PCA of x (N×D, N ≥ 1, D ≥ 1). The caller keeps x; every tensor made
 * here is disposed. Rows that are all equal (or N = 1) give a zero map and
 * zero explained variance. D = 1 gives a second axis of zeros.
 */
export async function pca2(x: tf.Tensor2D, opts: PcaOptions = {}): Promise<Pca2> {
  const [n, d] = x.shape;
  if (n < 1 || d < 1) throw new Error(`pca2: needs at least one row and column (got ${n}×${d})`);
  const init = opts.init && opts.init.length === d * 2 ? opts.init : null;
  const iters = Math.max(1, opts.iters ?? (init ? WARM_ITERS : COLD_ITERS));

  const dev = tf.tidy(() => ({ gram: matMulAtB(x, x), mean: tf.mean(x, 0) }));
  const [gv, mv] = await Promise.all([dev.gram.data(), dev.mean.data()]);
  tf.dispose([dev.gram, dev.mean]);

  // Σ = XᵀX/N − mmᵀ (float64); trace Σ is the total variance.
  const cov = new Float64Array(d * d);
  let total = 0;
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      cov[i * d + j] = gv[i * d + j] / n - mv[i] * mv[j];
      if (i === j) total += cov[i * d + j];
    }
  const q = init ? Float64Array.from(init) : coldStart(d);
  orth2(q, d);
  const next = new Float64Array(d * 2);
  for (let t = 0; t < iters; t++) {
    mulSym(cov, q, d, next);
    orth2(next, d);
    let moved = 0;
    for (let i = 0; i < d * 2; i++) moved = Math.max(moved, Math.abs(next[i] - q[i]));
    q.set(next);
    if (moved < TOL) break;
  }
  // Rayleigh–Ritz: B = QᵀΣQ (2×2).
  mulSym(cov, q, d, next);
  let b00 = 0;
  let b01 = 0;
  let b11 = 0;
  for (let i = 0; i < d; i++) {
    b00 += q[i * 2] * next[i * 2];
    b01 += q[i * 2] * next[i * 2 + 1];
    b11 += q[i * 2 + 1] * next[i * 2 + 1];
  }
  const { values, vectors } = eigSym2(b00, b01, b11);
  // V = Q·R: rotate the converged plane's basis onto the eigenvectors.
  const axes = new Float32Array(d * 2);
  for (let i = 0; i < d; i++) {
    axes[i * 2] = q[i * 2] * vectors[0][0] + q[i * 2 + 1] * vectors[1][0];
    axes[i * 2 + 1] = q[i * 2] * vectors[0][1] + q[i * 2 + 1] * vectors[1][1];
  }
  fixSigns(axes, d);
  const variance: [number, number] = [Math.max(0, values[0]), Math.max(0, values[1])];
  // S/N − mmᵀ in float32 leaves rounding of ~1e-7·|m|² even when every row is equal: below 1e-6·|m|² there is no spread to show.
  let mm = 0;
  for (let i = 0; i < d; i++) mm += mv[i] * mv[i];
  const flat = !(total > 1e-6 * Math.max(1e-6, mm));
  if (flat) return { xy: new Float32Array(n * 2), axes, variance: [0, 0], explained: [0, 0] };

  const y = tf.tidy(() => tf.matMul(x, tf.tensor2d(axes, [d, 2])));
  const yv = await y.data();
  y.dispose();
  let m0 = 0;
  let m1 = 0;
  for (let i = 0; i < d; i++) {
    m0 += mv[i] * axes[i * 2];
    m1 += mv[i] * axes[i * 2 + 1];
  }
  const xy = new Float32Array(n * 2);
  for (let r = 0; r < n; r++) {
    xy[r * 2] = yv[r * 2] - m0;
    xy[r * 2 + 1] = yv[r * 2 + 1] - m1;
  }
  return { xy, axes, variance, explained: [Math.min(1, variance[0] / total), Math.min(1, variance[1] / total)] };
}
