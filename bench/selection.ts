/**
 * Cost of CLIM's positive selection alone (issue 3, benchmark item 3), using
 * the engine's own code in src/core/clim/, over synthetic banks of N random
 * L2-normalised d = 128 embeddings drawn as 100 Gaussian blobs on the sphere
 * (so the clusters are non-trivial):
 *
 *  - `select center-wise` / `select knn`: one policy.select(...) for a batch
 *    of 64 anchors, k = 10, threshold 'anchor', called as Trainer.trainStep
 *    calls it, against a k-means state (C = 100) computed beforehand;
 *  - `kmeans cold`: one sphericalKMeans run from k-means++ seeding (the
 *    trainer's first clustering); `kmeans warm`: one run warm-started from
 *    the previous centroids (every later re-clustering), both with
 *    defaultConfig().kmeansIters Lloyd iterations, C = 10 and 100. `amortMs`
 *    = warm ms / defaultConfig().kmeansEvery, the k-means cost per step.
 *
 * Time = wall clock up to the awaited .data() of the outputs the trainer
 * reads, 1 warm-up run excluded, median of --reps runs. tensorDelta =
 * change of tf.memory().numTensors over the whole case (must be 0).
 * --profile also prints each case's five most expensive kernels (one extra
 * untimed run). Writes bench/results/selection-<backend>.json.
 *
 *   npx tsx bench/selection.ts [--backend wasm|cpu] [--reps 5] [--sizes 1000,10000,60000] [--profile]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installFastWasmKernels } from '../src/core/ops/wasm-kernels';
import { defaultConfig } from '../src/core/config';
import { Rng } from '../src/core/rng';
import { sphericalKMeans, type KMeansState } from '../src/core/clim/kmeans';
import { getSelectionPolicy } from '../src/core/clim/selection';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    reps: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '1000,10000,60000' },
    profile: { type: 'boolean', default: false },
    stock: { type: 'boolean', default: false }, // WASM's own kernels, for an A/B
  },
});
const reps = Number(values.reps);
const sizes = values.sizes!.split(',').map(Number);
const cfg = defaultConfig();
const D = 128,
  BLOBS = 100,
  B = 64,
  K = 10,
  SEL_C = 100,
  SIGMA = 0.12; // SIGMA: cos(member, blob centre) ≈ 0.6
const KMEANS_C = [10, 100];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const normRows = (x: tf.Tensor2D) => tf.div(x, tf.norm(x, 'euclidean', 1, true)) as tf.Tensor2D;

/** N×D bank: each row a random blob's centre plus Gaussian noise, normalised. */
function makeBank(n: number, rng: Rng): tf.Tensor2D {
  return tf.tidy(() => {
    const centres = normRows(tf.randomNormal([BLOBS, D], 0, 1, 'float32', 1));
    const blob = tf.tensor1d(
      Int32Array.from({ length: n }, () => rng.int(BLOBS)),
      'int32',
    );
    return normRows(tf.add(tf.gather(centres, blob), tf.randomNormal([n, D], 0, SIGMA, 'float32', 2)));
  });
}

/** Runs `once` 1 + reps times (the first untimed); returns the timing stats and the tensor-count change. */
async function measure(once: () => Promise<void>) {
  const before = tf.memory().numTensors;
  await once();
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await once();
    ms.push(performance.now() - t0);
  }
  return {
    medianMs: median(ms),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    reps,
    tensorDelta: tf.memory().numTensors - before,
  };
}

/** Top-5 kernels by summed kernel time over one run of `once`. */
async function profile(once: () => Promise<void>): Promise<string> {
  const p = await tf.profile(async () => {
    await once();
    return [];
  });
  const byName = new Map<string, number>();
  for (const k of p.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  return [...byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([n, t]) => `${n} ${t.toFixed(1)}`)
    .join(', ');
}

async function main() {
  await tf.setBackend(values.backend!);
  // The kernels Trainer.create installs (ops/wasm-kernels.ts), so these numbers are the training loop's.
  if (values.backend === 'wasm' && !values.stock) installFastWasmKernels();
  await tf.ready();
  const rng = new Rng(7);
  const rows: Record<string, unknown>[] = [];
  const add = async (row: Record<string, unknown>, once: () => Promise<void>) => {
    const full: Record<string, unknown> = { ...row, ...(await measure(once)) };
    if (values.profile) full.topKernelsMs = await profile(once);
    console.log(JSON.stringify(full));
    rows.push(full);
  };

  for (const n of sizes) {
    const bank = makeBank(n, rng);
    // Selection, against a C = 100 state computed beforehand.
    const state: KMeansState = await sphericalKMeans(bank, SEL_C, cfg.kmeansIters, new Rng(3));
    for (const mode of ['center-wise', 'knn'] as const) {
      const policy = getSelectionPolicy(mode);
      let covered = 0,
        drawn = 0;
      await add({ case: `select ${mode}`, n, c: mode === 'knn' ? null : SEL_C, b: B, k: K }, async () => {
        const anchors = new Int32Array(B);
        for (let i = 0; i < B; i++) anchors[i] = rng.int(n);
        const u = rng.floats(B);
        const inputs = { anchorIdx: tf.tensor1d(anchors, 'int32'), u: tf.tensor1d(u) };
        const sel = policy.select({ ...inputs, bank, clusters: state, k: K, threshold: 'anchor' });
        const [, kept] = await Promise.all([sel.positives.data(), sel.keptCount.data()]);
        tf.dispose([inputs.anchorIdx, inputs.u, ...Object.values(sel).filter((t): t is tf.Tensor => t !== null)]);
        kept.forEach((v) => {
          covered += v > 0 ? 1 : 0;
          drawn++;
        });
      });
      rows[rows.length - 1].coverage = covered / drawn; // share of anchors with a non-empty kept set
    }
    state.dispose();

    // Full k-means runs: cold (k-means++ seeding) and warm-started (what each re-clustering pays).
    for (const c of KMEANS_C) {
      const prev = await sphericalKMeans(bank, c, cfg.kmeansIters, new Rng(5));
      for (const start of ['cold', 'warm'] as const) {
        const amort = start === 'warm' ? { kmeansEvery: cfg.kmeansEvery } : {};
        await add({ case: `kmeans ${start}`, n, c, iters: cfg.kmeansIters, ...amort }, async () => {
          const s = await sphericalKMeans(
            bank,
            c,
            cfg.kmeansIters,
            new Rng(5),
            start === 'warm' ? prev.centroids : null,
          );
          await Promise.all([s.centroids.data(), s.assignments.data()]);
          s.dispose();
        });
        const r = rows[rows.length - 1];
        if (start === 'warm') r.amortMsPerStep = (r.medianMs as number) / cfg.kmeansEvery;
      }
      prev.dispose();
    }
    bank.dispose();
  }

  const out = {
    date: new Date().toISOString(),
    backend: tf.getBackend(),
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    wasmSimd: values.backend === 'wasm' ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : null,
    wasmThreads: values.backend === 'wasm' ? await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') : null,
    d: D,
    blobs: BLOBS,
    sigma: SIGMA,
    reps,
    warmup: 1,
    rows,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/selection-${tf.getBackend()}.json`, JSON.stringify(out, null, 1));

  const f = (v: unknown, w: number) => String(v ?? '').padStart(w);
  console.log(`\nbackend ${out.backend}, ${out.cpu} (${out.cpus} cores), node ${out.node}, median of ${reps} (ms)`);
  console.log(
    ['case', 'N', 'C', 'median', 'min', 'max', 'amort/step', 'coverage', 'Δtensors']
      .map((h, i) => f(h, i === 0 ? 20 : 9))
      .join(' '),
  );
  for (const r of rows) {
    const num = (v: unknown, dp = 1) => (typeof v === 'number' ? v.toFixed(dp) : '');
    console.log(
      [
        f(r.case, 20),
        f(r.n, 9),
        f(r.c, 9),
        f(num(r.medianMs), 9),
        f(num(r.minMs), 9),
        f(num(r.maxMs), 9),
        f(num(r.amortMsPerStep, 2), 9),
        f(num(r.coverage, 2), 9),
        f(r.tensorDelta, 9),
      ].join(' '),
    );
    if (r.topKernelsMs) console.log(' '.repeat(21) + r.topKernelsMs);
  }
}
main();
