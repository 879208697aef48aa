/**
 * Cost of the Clusters view's engine work at a Fashion-MNIST-sized bank (10k × 128, C = 10
 * and C = 100): the cluster snapshot as it was (nearest image per centre + assignments),
 * the snapshot with galleries and purity/NMI/ARI, and the PCA map (cold, then warm-started).
 * Also UMAP (umap-js, seeded) on the same rows for N = 2,000 and 10,000.
 * Usage: npx tsx bench/cluster-map.ts [--umap]
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'fflate';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { UMAP } from 'umap-js';
import { defaultConfig } from '../src/core/config';
import { Trainer } from '../src/core/train';
import { parseFashionMnist } from '../src/core/data/fashion-mnist';
import { matMulABt } from '../src/core/ops/matmul';
import type { KMeansState } from '../src/core/clim/kmeans';
import { Rng } from '../src/core/rng';

const now = () => performance.now();
async function time(label: string, reps: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const t0 = now();
  for (let i = 0; i < reps; i++) await fn();
  const ms = (now() - t0) / reps;
  console.log(`${label}: ${ms.toFixed(1)} ms`);
  return ms;
}

async function main() {
  await tf.setBackend('wasm');
  const data = parseFashionMnist(gunzipSync(readFileSync('public/datasets/fashion-mnist.bin')));
  for (const clusters of [10, 100]) {
    const t = await Trainer.create({ ...defaultConfig(), clusters }, data);
    const cl = (t as unknown as { clusters: KMeansState }).clusters;
    console.log(`bank ${data.train.n}×${t.bank.dim}, C = ${clusters}`);
    const old = await time('  old snapshot (nearest + assignments)', 5, async () => {
      const nearestT = tf.tidy(() => tf.argMax(matMulABt(t.bank.tensor, cl.centroids), 0));
      await Promise.all([cl.assignments.data(), nearestT.data()]);
      nearestT.dispose();
    });
    const snap = await time('  new clusterSnapshot (+ galleries, purity/NMI/ARI)', 5, () => t.clusterSnapshot());
    const a = (await t.clusterSnapshot()).assignments;
    (t as unknown as { mapAxes: Float32Array | null }).mapAxes = null;
    const t0 = now();
    await t.projectionSnapshot(a);
    console.log(`  PCA map cold: ${(now() - t0).toFixed(1)} ms`);
    const warm = await time('  PCA map warm', 5, () => t.projectionSnapshot(a));
    console.log(`  added per snapshot: ${(snap - old + warm).toFixed(1)} ms`);
    if (process.argv.includes('--umap') && clusters === 10) {
      const dump = await t.embeddingsDump(20_000);
      for (const n of [2000, 10000]) {
        const rows = Array.from({ length: n }, (_, i) =>
          Array.from(dump.vectors.subarray(i * dump.dim, (i + 1) * dump.dim)),
        );
        const rng = new Rng(1);
        const umap = new UMAP({ nComponents: 2, nNeighbors: 15, minDist: 0.1, random: () => rng.next() });
        const u0 = now();
        const epochs = umap.initializeFit(rows);
        const u1 = now();
        for (let e = 0; e < epochs; e++) umap.step();
        console.log(
          `  UMAP N=${n}: kNN graph ${(u1 - u0).toFixed(0)} ms, ${epochs} epochs ${(now() - u1).toFixed(0)} ms`,
        );
      }
    }
    t.dispose();
  }
}
void main();
