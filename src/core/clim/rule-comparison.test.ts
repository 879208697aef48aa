import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { COMPARED_RULES, compareRules, compareRulesOnBank, type RuleStats } from './rule-comparison';
import { sphericalKMeans } from './kmeans';
import { getSelectionPolicy } from './selection';
import { type Mat, blobs, dot, f32, minGap, naiveCentreWise, naiveClusterTables, rows } from './naive.test-util';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const byRule = (stats: RuleStats[]) => Object.fromEntries(stats.map((s) => [s.rule, s]));

/**
 * The rules as sets, written from METHOD §3 for one anchor at a time: kept
 * lists from naiveCentreWise (the paper's and the author code's thresholds),
 * kNN ∩ cluster and the whole cluster by filtering, precision as the mean
 * over covered anchors of the kept set's same-label share.
 */
function naiveRules(
  bank: Mat,
  assign: number[],
  centroids: Mat,
  labels: number[],
  anchors: number[],
  k: number,
): Record<string, { precision: number | null; kept: number; coverage: number }> {
  const tables = naiveClusterTables(bank, assign, centroids);
  const sets: Record<string, number[][]> = Object.fromEntries(COMPARED_RULES.map((r) => [r, []]));
  for (const i of anchors) {
    const anchorRule = naiveCentreWise(bank, assign, centroids, tables.meanCentreSim, i, k, 'anchor', 0);
    const meanRule = naiveCentreWise(bank, assign, centroids, tables.meanCentreSim, i, k, 'cluster-mean', 0);
    sets.knn.push(anchorRule.neighbours);
    sets['knn-cluster'].push(anchorRule.neighbours.filter((j) => assign[j] === assign[i]));
    sets['center-wise'].push(anchorRule.kept);
    sets['center-wise-mean'].push(meanRule.kept);
    sets.cluster.push(assign.map((c, j) => (c === assign[i] && j !== i ? j : -1)).filter((j) => j >= 0));
  }
  return Object.fromEntries(
    COMPARED_RULES.map((r) => {
      const kept = sets[r];
      const covered = kept.map((s, a) => ({ s, a })).filter(({ s }) => s.length > 0);
      const shares = covered.map(({ s, a }) => s.filter((j) => labels[j] === labels[anchors[a]]).length / s.length);
      return [
        r,
        {
          precision: shares.length ? shares.reduce((x, y) => x + y, 0) / shares.length : null,
          kept: kept.reduce((x, s) => x + s.length, 0) / anchors.length,
          coverage: covered.length / anchors.length,
        },
      ];
    }),
  );
}

describe('compareRules (host arithmetic)', () => {
  it('a hand-worked example: two anchors, k = 3, two clusters', () => {
    // Anchor 0 (label 0, cluster 0, cos to centre 0.5): neighbours 1 (c0, 0.9, label 0),
    // 2 (c0, 0.4, label 1), 3 (c1, label 0). Anchor 4 (label 1, cluster 1, 0.8):
    // neighbours 3 (c1, 0.7, label 0), 5 (c1, 0.95, label 1), 0 (c0, label 0).
    // Cluster 0 = {0, 1, 2}, cluster 1 = {3, 4, 5}; mean centre similarity 0.6 and 0.8.
    const stats = byRule(
      compareRules({
        k: 3,
        anchors: [0, 4],
        neighbours: [1, 2, 3, 3, 5, 0],
        neighbourCluster: [0, 0, 1, 1, 1, 0],
        neighbourCentre: [0.9, 0.4, 0.1, 0.7, 0.95, 0.2],
        anchorCentre: [0.5, 0.8],
        meanCentreSim: [0.6, 0.8],
        assignments: [0, 0, 0, 1, 1, 1],
        clusters: 2,
        labels: [0, 0, 1, 0, 1, 1],
      }),
    );
    // knn: anchor 0 keeps {1,2,3}: 2 of 3 right; anchor 4 keeps {3,5,0}: 1 of 3 → (2/3 + 1/3) / 2.
    expect(stats.knn.precision).toBeCloseTo(0.5, 12);
    expect(stats.knn.keptPerAnchor).toBe(3);
    // knn-cluster: {1,2} → 1/2; {3,5} → 1/2.
    expect(stats['knn-cluster'].precision).toBeCloseTo(0.5, 12);
    expect(stats['knn-cluster'].keptPerAnchor).toBe(2);
    // center-wise (strictly closer than the anchor): {1} → 1; {5} → 1.
    expect(stats['center-wise'].precision).toBe(1);
    expect(stats['center-wise'].keptPerAnchor).toBe(1);
    // cluster-mean (≥ the cluster's mean): {1} (0.9 ≥ 0.6) → 1; {5} (0.95 ≥ 0.8; 0.7 is below) → 1.
    expect(stats['center-wise-mean'].precision).toBe(1);
    // cluster: anchor 0's others {1, 2} → 1/2; anchor 4's others {3, 5} → 1/2.
    expect(stats.cluster.precision).toBeCloseTo(0.5, 12);
    expect(stats.cluster.keptPerAnchor).toBe(2);
    for (const s of Object.values(stats)) expect(s.coverage).toBe(1);
  });

  it('empty kept sets lower coverage and keptPerAnchor but not precision; no labels → null precision', () => {
    const input = {
      k: 2,
      anchors: [0, 1],
      neighbours: [1, 2, 0, 2],
      neighbourCluster: [1, 1, 0, 1],
      neighbourCentre: [0.1, 0.1, 0.9, 0.1],
      anchorCentre: [0.5, 0.5],
      meanCentreSim: [0.5, 0.5],
      assignments: [0, 0, 1],
      clusters: 2,
      labels: [0, 1, 1],
    };
    const s = byRule(compareRules(input));
    // Anchor 0 keeps nothing in its cluster (both neighbours are in cluster 1); anchor 1 keeps 0 (0.9 > 0.5), of another label.
    expect(s['center-wise'].coverage).toBe(0.5);
    expect(s['center-wise'].keptPerAnchor).toBe(0.5);
    expect(s['center-wise'].precision).toBe(0);
    const u = byRule(compareRules({ ...input, labels: null }));
    for (const r of COMPARED_RULES) {
      expect(u[r].precision).toBeNull();
      expect(u[r].keptPerAnchor).toBe(s[r].keptPerAnchor);
    }
    // A cluster of one: nothing to keep.
    const alone = byRule(
      compareRules({
        ...input,
        anchors: [2],
        neighbours: [0, 1],
        neighbourCluster: [0, 0],
        neighbourCentre: [0, 0],
        anchorCentre: [1],
      }),
    );
    expect(alone.cluster.keptPerAnchor).toBe(0);
    expect(alone.cluster.precision).toBeNull();
  });
});

describe('compareRulesOnBank (device pass + host arithmetic)', () => {
  it('equals the rules written as sets from the paper, on k-means of labelled blobs', async () => {
    const rng = new Rng(5);
    const { x, group } = blobs(rng, 4, 12, 6, 0.8);
    const labels = group.map((g, i) => (i % 5 === 0 ? (g + 1) % 4 : g)); // some label noise
    const bank = tf.tensor2d(x);
    const km = await sphericalKMeans(bank, 5, 8, new Rng(2));
    const assign = Array.from(await km.assignments.data());
    const centroids = rows(await km.centroids.data(), 6);
    const k = 6;
    // Near-ties would make the neighbour order backend-dependent; this seed has none.
    const anchors = Array.from({ length: x.length }, (_, i) => i).filter((i) => i % 3 === 0);
    for (const i of anchors) expect(minGap(x, x[i], i, k)).toBeGreaterThan(1e-5);
    const got = byRule(await compareRulesOnBank(bank, km, Int32Array.from(anchors), k, labels));
    const want = naiveRules(f32(x), assign, centroids, labels, anchors, k);
    for (const r of COMPARED_RULES) {
      expect(got[r].keptPerAnchor).toBeCloseTo(want[r].kept, 9);
      expect(got[r].coverage).toBeCloseTo(want[r].coverage, 9);
      if (want[r].precision === null) expect(got[r].precision).toBeNull();
      else expect(got[r].precision).toBeCloseTo(want[r].precision as number, 9);
    }
    km.dispose();
    bank.dispose();
  });

  it("'center-wise' keeps exactly what the trainer's policy keeps on the same bank", async () => {
    const rng = new Rng(9);
    const { x } = blobs(rng, 3, 20, 5, 1.0);
    const bank = tf.tensor2d(x);
    const km = await sphericalKMeans(bank, 4, 6, new Rng(1));
    const anchors = Int32Array.from({ length: 20 }, (_, i) => 3 * i);
    for (const threshold of ['anchor', 'cluster-mean'] as const) {
      const sel = getSelectionPolicy('center-wise').select({
        anchorIdx: tf.tensor1d(anchors, 'int32'),
        bank,
        clusters: km,
        k: 7,
        threshold,
        u: tf.zeros([anchors.length]),
      });
      const kept = Array.from(await sel.keptCount.data());
      tf.dispose([
        sel.positives,
        sel.keptCount,
        ...[sel.neighbours, sel.similarities, sel.reason].filter((t): t is tf.Tensor2D => t !== null),
      ]);
      const stats = byRule(await compareRulesOnBank(bank, km, anchors, 7, null));
      const rule = threshold === 'anchor' ? 'center-wise' : 'center-wise-mean';
      expect(stats[rule].keptPerAnchor).toBeCloseTo(kept.reduce((a, b) => a + b, 0) / kept.length, 12);
      expect(stats[rule].coverage).toBeCloseTo(kept.filter((c) => c > 0).length / kept.length, 12);
    }
    km.dispose();
    bank.dispose();
  });

  it('leaves no tensor behind', async () => {
    const { x } = blobs(new Rng(3), 2, 8, 4, 0.5);
    const bank = tf.tensor2d(x);
    const km = await sphericalKMeans(bank, 2, 3, new Rng(1));
    const before = tf.memory().numTensors;
    await compareRulesOnBank(bank, km, Int32Array.from([0, 5, 9]), 3, null);
    expect(tf.memory().numTensors).toBe(before);
    expect(dot(x[0], x[0])).toBeCloseTo(1, 5);
    km.dispose();
    bank.dispose();
  });
});
