/**
 * Over 500 lines: every selection mode against its naive loop from METHOD §3
 * (hand-worked circle, clustered blobs, edge sizes) and on two backends.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../rng';
import { SELECTION_MODES, type CentreThreshold, type SelectionMode } from '../config';
import { type KMeansState, sphericalKMeans } from './kmeans';
import { REASON, REASON_NAMES, SELECTION_POLICIES, drawFromKept, getSelectionPolicy } from './selection';
import {
  type Mat,
  blobs,
  dot,
  drawIndex,
  f32,
  minGap,
  naiveCentreWise,
  naiveClusterPick,
  naiveClusterTables,
  naiveKnn,
  onCircle,
  rows,
} from './naive.test-util';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A KMeansState from plain arrays, its tables counted naively (hand-built clusters for the tests). */
function stateFrom(bank: Mat, assign: number[], centroids: Mat): KMeansState {
  const t = naiveClusterTables(bank, assign, centroids);
  return {
    centroids: tf.tensor2d(centroids),
    assignments: tf.tensor1d(assign, 'int32'),
    sizes: Int32Array.from(t.sizes),
    meanCentreSim: tf.tensor1d(t.meanCentreSim),
    order: tf.tensor1d(t.order, 'int32'),
    start: tf.tensor1d(t.start, 'int32'),
    rank: tf.tensor1d(t.rank, 'int32'),
    dispose() {
      tf.dispose([this.centroids, this.assignments, this.meanCentreSim, this.order, this.start, this.rank]);
    },
  };
}

interface Picked {
  positives: number[];
  keptCount: number[];
  neighbours: number[][] | null;
  similarities: number[][] | null;
  reason: number[][] | null;
  kShape: number[] | null;
}

async function select(
  mode: SelectionMode,
  bank: Mat,
  clusters: KMeansState | null,
  anchors: number[],
  k: number,
  threshold: CentreThreshold,
  u: number[],
): Promise<Picked> {
  const b = tf.tensor2d(bank);
  const a = tf.tensor1d(anchors, 'int32');
  const ut = tf.tensor1d(u);
  const out = getSelectionPolicy(mode).select({ anchorIdx: a, bank: b, clusters, k, threshold, u: ut });
  const mat = async (t: tf.Tensor2D | null) =>
    t ? (t.shape[1] ? rows(await t.data(), t.shape[1]) : anchors.map(() => [] as number[])) : null;
  const res: Picked = {
    positives: Array.from(await out.positives.data()),
    keptCount: Array.from(await out.keptCount.data()),
    neighbours: await mat(out.neighbours),
    similarities: await mat(out.similarities),
    reason: await mat(out.reason),
    kShape: out.neighbours ? out.neighbours.shape : null,
  };
  expect(out.positives.dtype).toBe('int32');
  expect(out.keptCount.dtype).toBe('int32');
  if (out.neighbours) expect(out.neighbours.dtype).toBe('int32');
  if (out.reason) expect(out.reason.dtype).toBe('int32');
  tf.dispose([b, a, ut, out.positives, out.keptCount]);
  tf.dispose([out.neighbours, out.similarities, out.reason].filter((t): t is tf.Tensor2D => t !== null));
  return res;
}

/**
 * Hand-worked example (§3), points on the unit circle, angles in degrees:
 *
 *   index  0    1    2    3    4    5    6    7    8
 *   angle  0°  12°  20° −17°  38°  62°  80°  91° 104°
 *   cluster A    A    A    A    A    B    B    B    B      μ_A at 5°, μ_B at 85°
 *
 * cos to own centre: 0: cos5°=.9962  1: cos7°=.9925  2: cos15°=.9659  3: cos22°=.9272
 *   4: cos33°=.8387 | 5: cos23°=.9205  6: cos5°=.9962  7: cos6°=.9945  8: cos19°=.9455
 * cluster means of those: A .9441, B .9642.
 *
 * k = 3, anchors [2, 1, 8, 4, 0]; N_3 by angular distance:
 *   2 (20°):  1 (8°), 4 (18°), 0 (20°)
 *   1 (12°):  2 (8°), 0 (12°), 4 (26°)
 *   8 (104°): 7 (13°), 6 (24°), 5 (42°)
 *   4 (38°):  2 (18°), 5 (24°), 1 (26°)
 *   0 (0°):   1 (12°), 3 (17°), 2 (20°)
 *
 * threshold 'anchor' (keep same cluster with cos(z_j, μ) > cos(z_i, μ)):
 *   2 (.9659): 1 .9925 kept, 4 .8387 farther, 0 .9962 kept   → [0,2,0], kept {1, 0}
 *   1 (.9925): 2 .9659 farther, 0 .9962 kept, 4 farther       → [2,0,2], kept {0}
 *   8 (.9455): 7 .9945 kept, 6 .9962 kept, 5 .9205 farther    → [0,0,2], kept {7, 6}
 *   4 (.8387): 2 kept, 5 other cluster, 1 kept                → [0,1,0], kept {2, 1}
 *   0 (.9962, closest of all to μ_A): 1, 3, 2 all farther     → [2,2,2], kept {} → positive 0
 * threshold 'cluster-mean' (cos(z_j, μ) ≥ mean: A .9441, B .9642):
 *   2: [0,2,0] {1, 0};  1: 2 .9659 ≥ .9441 now kept → [0,0,2] {2, 0};  8: [0,0,2] {7, 6};
 *   4: [0,1,0] {2, 1};  0: 1 kept, 3 .9272 farther, 2 kept → [0,2,0] {1, 2}
 *
 * u = [0.75, 0.2, 0.5, 0.1, 0.9] picks kept[floor(u·count)]:
 *   'anchor':       floor(1.5)=1 → 0; 0 → 0; floor(1.0)=1 → 6; 0 → 2; empty → 0      = [0, 0, 6, 2, 0]
 *   'cluster-mean': 1 → 0; floor(0.4)=0 → 2; 1 → 6; 0 → 2; floor(1.8)=1 → 2          = [0, 2, 6, 2, 2]
 */
const CIRCLE_ANGLES = [0, 12, 20, -17, 38, 62, 80, 91, 104];
const circleBank = () => f32(CIRCLE_ANGLES.map(onCircle));
const CIRCLE_ASSIGN = [0, 0, 0, 0, 0, 1, 1, 1, 1];
const circleCentres = () => f32([onCircle(5), onCircle(85)]);
const HAND_ANCHORS = [2, 1, 8, 4, 0];
const HAND_U = [0.75, 0.2, 0.5, 0.1, 0.9];

describe('center-wise selection (§3) on the hand-worked circle', () => {
  it("threshold 'anchor': neighbours, reasons, kept counts and positives exactly as worked by hand", async () => {
    const bank = circleBank();
    const state = stateFrom(bank, CIRCLE_ASSIGN, circleCentres());
    const r = await select('center-wise', bank, state, HAND_ANCHORS, 3, 'anchor', HAND_U);
    expect(r.neighbours).toEqual([
      [1, 4, 0],
      [2, 0, 4],
      [7, 6, 5],
      [2, 5, 1],
      [1, 3, 2],
    ]);
    expect(r.reason).toEqual([
      [0, 2, 0],
      [2, 0, 2],
      [0, 0, 2],
      [0, 1, 0],
      [2, 2, 2],
    ]);
    expect(r.keptCount).toEqual([2, 1, 2, 2, 0]);
    expect(r.positives).toEqual([0, 0, 6, 2, 0]);
    const deg = Math.PI / 180;
    expect(r.similarities?.[0][0]).toBeCloseTo(Math.cos(8 * deg), 5);
    expect(r.similarities?.[0][2]).toBeCloseTo(Math.cos(20 * deg), 5);
    state.dispose();
  });

  it("threshold 'cluster-mean': the anchor-1 and anchor-0 rows change exactly as worked by hand", async () => {
    const bank = circleBank();
    const state = stateFrom(bank, CIRCLE_ASSIGN, circleCentres());
    const mean = Array.from(await state.meanCentreSim.data());
    expect(mean[0]).toBeCloseTo(0.9441, 4);
    expect(mean[1]).toBeCloseTo(0.9642, 4);
    const r = await select('center-wise', bank, state, HAND_ANCHORS, 3, 'cluster-mean', HAND_U);
    expect(r.reason).toEqual([
      [0, 2, 0],
      [0, 0, 2],
      [0, 0, 2],
      [0, 1, 0],
      [0, 2, 0],
    ]);
    expect(r.keptCount).toEqual([2, 2, 2, 2, 2]);
    expect(r.positives).toEqual([0, 2, 6, 2, 2]);
    state.dispose();
  });

  it('the naive reference agrees with the hand-worked numbers (both thresholds)', () => {
    const bank = circleBank();
    const centres = circleCentres();
    const mean = naiveClusterTables(bank, CIRCLE_ASSIGN, centres).meanCentreSim;
    const byHand: Record<CentreThreshold, number[]> = { anchor: [0, 0, 6, 2, 0], 'cluster-mean': [0, 2, 6, 2, 2] };
    for (const th of ['anchor', 'cluster-mean'] as const) {
      const pos = HAND_ANCHORS.map(
        (a, b) => naiveCentreWise(bank, CIRCLE_ASSIGN, centres, mean, a, 3, th, HAND_U[b]).positive,
      );
      expect(pos).toEqual(byHand[th]);
    }
  });

  it('B = 1: one anchor gives the same row as in the batch', async () => {
    const bank = circleBank();
    const state = stateFrom(bank, CIRCLE_ASSIGN, circleCentres());
    const r = await select('center-wise', bank, state, [8], 3, 'anchor', [0.5]);
    expect(r.neighbours).toEqual([[7, 6, 5]]);
    expect(r.reason).toEqual([[0, 0, 2]]);
    expect(r.positives).toEqual([6]);
    expect(r.keptCount).toEqual([2]);
    state.dispose();
  });
});

describe('positive sampling', () => {
  it('drawFromKept picks the floor(u·count)-th kept entry exactly (naive loop), anchor when empty, u ≈ 1 clamped', async () => {
    const mask = [
      [1, 0, 1, 1],
      [0, 0, 0, 0],
      [0, 1, 0, 0],
      [1, 1, 1, 1],
    ];
    const nb = [
      [10, 11, 12, 13],
      [20, 21, 22, 23],
      [30, 31, 32, 33],
      [40, 41, 42, 43],
    ];
    const anchors = [100, 101, 102, 103];
    const us = [0, 0.25, 0.3, 0.34, 0.5, 0.66, 0.67, 0.74, 0.75, 0.999, 0.99999999];
    const m = tf.tensor2d(mask);
    const n = tf.tensor2d(nb, undefined, 'int32');
    const a = tf.tensor1d(anchors, 'int32');
    for (const u of us) {
      const ut = tf.fill([4], u) as tf.Tensor1D;
      const out = drawFromKept(m, n, a, ut);
      const expected = mask.map((row, b) => {
        const kept = nb[b].filter((_, t) => row[t] === 1);
        return kept.length ? kept[drawIndex(u, kept.length)] : anchors[b];
      });
      expect(Array.from(await out.positives.data())).toEqual(expected);
      expect(Array.from(await out.keptCount.data())).toEqual([3, 0, 1, 4]);
      tf.dispose([ut, out.positives, out.keptCount]);
    }
    // Hand-checked: u = 0.5 on row 0 (kept 10, 12, 13) → floor(1.5) = 1 → 12; u ≈ 1 on row 3 → last (43).
    expect(drawIndex(0.5, 3)).toBe(1);
    expect(drawIndex(0.99999999, 4)).toBe(3);
    tf.dispose([m, n, a]);
  });

  it('center-wise on clustered data matches the naive §3 loop for fixed u (neighbours, reasons, positives)', async () => {
    const { x: bank } = blobs(new Rng(31), 4, 20, 5, 0.6);
    const xt = tf.tensor2d(bank);
    const state = await sphericalKMeans(xt, 4, 6, new Rng(2));
    xt.dispose();
    const assign = Array.from(await state.assignments.data());
    const centres = rows(await state.centroids.data(), 5);
    const mean = Array.from(await state.meanCentreSim.data());
    const anchors = bank.map((_, i) => i);
    const k = 8;
    const rng = new Rng(77);
    let keptSomewhere = 0;
    let rejectedBoth = 0;
    for (const th of ['anchor', 'cluster-mean'] as const) {
      for (let rep = 0; rep < 3; rep++) {
        const u = Array.from(rng.floats(anchors.length));
        const ref = anchors.map((a, b) => naiveCentreWise(bank, assign, centres, mean, a, k, th, u[b]));
        // No decision sits within 1e-5 of its threshold, and the neighbour order has no near-ties.
        ref.forEach((r) => expect(Math.min(...r.margins)).toBeGreaterThan(1e-5));
        anchors.forEach((a) => expect(minGap(bank, bank[a], a, k)).toBeGreaterThan(1e-6));
        const got = await select('center-wise', bank, state, anchors, k, th, u);
        expect(got.neighbours).toEqual(ref.map((r) => r.neighbours));
        expect(got.reason).toEqual(ref.map((r) => r.reasons));
        expect(got.keptCount).toEqual(ref.map((r) => r.kept.length));
        expect(got.positives).toEqual(ref.map((r) => r.positive));
        keptSomewhere += ref.filter((r) => r.kept.length > 0).length;
        rejectedBoth += ref.filter((r) => r.reasons.includes(1) && r.reasons.includes(2)).length;
      }
    }
    // The data exercises every branch: kept, other cluster, farther, and empty sets.
    expect(keptSomewhere).toBeGreaterThan(0);
    expect(rejectedBoth).toBeGreaterThan(0);
    state.dispose();
  });
});

describe('the other modes', () => {
  it("'none' is plain MoCo: positive = anchor, nothing kept, no neighbours", async () => {
    const bank = circleBank();
    const r = await select('none', bank, null, [3, 0, 8], 3, 'anchor', [0.1, 0.5, 0.9]);
    expect(r.positives).toEqual([3, 0, 8]);
    expect(r.keptCount).toEqual([0, 0, 0]);
    expect(r.neighbours).toBeNull();
    expect(r.similarities).toBeNull();
    expect(r.reason).toBeNull();
  });

  it("'knn' with k = 1 returns the nearest neighbour (NNCLR); with k = 4 the floor(u·4)-th", async () => {
    const { x: bank } = blobs(new Rng(8), 3, 10, 4, 0.5);
    const anchors = [0, 5, 12, 29];
    const ref1 = naiveKnn(
      anchors.map((a) => bank[a]),
      bank,
      1,
      anchors,
    ).indices;
    const r1 = await select('knn', bank, null, anchors, 1, 'anchor', [0.3, 0.6, 0.9, 0.99999999]);
    expect(r1.positives).toEqual(ref1.map((r) => r[0]));
    expect(r1.keptCount).toEqual([1, 1, 1, 1]);
    expect(r1.reason).toEqual([[0], [0], [0], [0]]);
    const u = [0, 0.3, 0.6, 0.99];
    const ref4 = naiveKnn(
      anchors.map((a) => bank[a]),
      bank,
      4,
      anchors,
    ).indices;
    const r4 = await select('knn', bank, null, anchors, 4, 'anchor', u);
    expect(r4.neighbours).toEqual(ref4);
    expect(r4.positives).toEqual(ref4.map((r, b) => r[drawIndex(u[b], 4)]));
    expect(r4.keptCount).toEqual([4, 4, 4, 4]);
  });

  it("'cluster' draws another member of the anchor's cluster, exactly as the naive loop; alone → anchor", async () => {
    // Hand-built: clusters {0, 1, 3}, {2} (alone), {4, 5}.
    const bank = f32([
      [1, 0],
      [0.8, 0.6],
      [0, 1],
      [0.6, 0.8],
      [-1, 0],
      [-0.8, -0.6],
    ]);
    const assign = [0, 0, 1, 0, 2, 2];
    const state = stateFrom(
      bank,
      assign,
      f32([
        [0.9, 0.4],
        [0, 1],
        [-0.9, -0.3],
      ]),
    );
    const anchors = [0, 0, 1, 1, 3, 2, 4, 5];
    const u = [0, 0.6, 0.4, 0.5, 0.6, 0.7, 0.99999999, 0];
    const r = await select('cluster', bank, state, anchors, 3, 'anchor', u);
    // By hand: 0's others [1,3]: u 0 → 1, u .6 → 3; 1's others [0,3]: .4 → 0, .5 → 3;
    // 3's others [0,1]: .6 → 1; 2 alone → 2; 4's others [5] → 5; 5's others [4] → 4.
    expect(r.positives).toEqual([1, 3, 0, 3, 1, 2, 5, 4]);
    expect(r.keptCount).toEqual([2, 2, 2, 2, 2, 0, 1, 1]);
    expect(r.positives).toEqual(anchors.map((a, b) => naiveClusterPick(assign, a, u[b]).positive));
    expect(r.neighbours).toBeNull();
    state.dispose();
  });

  it("'cluster' on k-means clusters: never the anchor when the cluster has ≥ 2 members, always the same cluster", async () => {
    const { x: bank } = blobs(new Rng(19), 5, 12, 6, 0.7);
    const xt = tf.tensor2d(bank);
    const state = await sphericalKMeans(xt, 7, 5, new Rng(4));
    xt.dispose();
    const assign = Array.from(await state.assignments.data());
    const anchors = bank.map((_, i) => i);
    const rng = new Rng(3);
    for (const u of [
      new Array(anchors.length).fill(0),
      new Array(anchors.length).fill(0.99999999),
      ...[0, 1, 2].map(() => Array.from(rng.floats(anchors.length))),
    ]) {
      const r = await select('cluster', bank, state, anchors, 5, 'anchor', u);
      r.positives.forEach((p, i) => {
        const size = state.sizes[assign[i]];
        expect(assign[p]).toBe(assign[i]);
        if (size >= 2) expect(p).not.toBe(i);
        expect(r.keptCount[i]).toBe(size - 1);
        expect(p).toBe(naiveClusterPick(assign, i, u[i]).positive);
        // The snapshot's verdict on a neighbour (judgeUnlisted) says 'kept' for every image the rule can draw.
        expect(getSelectionPolicy('cluster').judgeUnlisted(assign[p] === assign[i])).toBe('kept');
      });
    }
    // And 'different-cluster' for one it never draws: any image of another cluster.
    const other = assign.findIndex((a) => a !== assign[0]);
    expect(getSelectionPolicy('cluster').judgeUnlisted(assign[other] === assign[0])).toBe('different-cluster');
    state.dispose();
  });

  it('before the first k-means: cluster modes fall back to the anchor; center-wise still reports neighbours (reason 3)', async () => {
    const bank = circleBank();
    const c = await select('cluster', bank, null, [0, 5], 3, 'anchor', [0.5, 0.5]);
    expect(c.positives).toEqual([0, 5]);
    expect(c.keptCount).toEqual([0, 0]);
    const cw = await select('center-wise', bank, null, [2, 8], 3, 'anchor', [0.5, 0.5]);
    expect(cw.positives).toEqual([2, 8]);
    expect(cw.keptCount).toEqual([0, 0]);
    expect(cw.neighbours).toEqual([
      [1, 4, 0],
      [7, 6, 5],
    ]);
    expect(cw.reason).toEqual([
      [3, 3, 3],
      [3, 3, 3],
    ]);
    expect(REASON_NAMES[REASON.notSelectedByMode]).toBe('not-selected-by-mode');
  });

  it('a bank of one image: every mode returns the anchor with nothing kept', async () => {
    const bank = [[0.6, 0.8]];
    const state = stateFrom(bank, [0], [[0.6, 0.8]]);
    for (const mode of SELECTION_MODES) {
      const r = await select(mode, bank, state, [0], 5, 'anchor', [0.7]);
      expect(r.positives).toEqual([0]);
      expect(r.keptCount).toEqual([0]);
      if (r.kShape) expect(r.kShape).toEqual([1, 0]);
    }
    state.dispose();
  });

  it('k ≥ bank size: center-wise considers every other image', async () => {
    const bank = circleBank();
    const state = stateFrom(bank, CIRCLE_ASSIGN, circleCentres());
    const r = await select('center-wise', bank, state, [2], 50, 'anchor', [0]);
    expect(r.kShape).toEqual([1, 8]);
    // Kept: A members closer to 5° than 20° is (15°): 0 (5°) and 1 (7°), in neighbour order 1 then 0.
    const ref = naiveCentreWise(bank, CIRCLE_ASSIGN, circleCentres(), [0, 0], 2, 50, 'anchor', 0);
    expect(ref.kept).toEqual([1, 0]);
    expect(r.reason).toEqual([ref.reasons]);
    expect(r.positives).toEqual([1]);
    expect(r.keptCount).toEqual([2]);
    state.dispose();
  });
});

describe('policy registry and ownership', () => {
  it('has one policy per SelectionMode with the right needs', () => {
    expect(Object.keys(SELECTION_POLICIES).sort()).toEqual([...SELECTION_MODES].sort());
    for (const mode of SELECTION_MODES) {
      const p = getSelectionPolicy(mode);
      expect(p.name).toBe(mode);
      expect(p.description.length).toBeGreaterThan(20);
    }
    expect([getSelectionPolicy('none').usesKnn, getSelectionPolicy('none').usesClusters]).toEqual([false, false]);
    expect([getSelectionPolicy('knn').usesKnn, getSelectionPolicy('knn').usesClusters]).toEqual([true, false]);
    expect([getSelectionPolicy('cluster').usesKnn, getSelectionPolicy('cluster').usesClusters]).toEqual([false, true]);
    expect([getSelectionPolicy('center-wise').usesKnn, getSelectionPolicy('center-wise').usesClusters]).toEqual([
      true,
      true,
    ]);
    expect(() => getSelectionPolicy('nope' as SelectionMode)).toThrow(/Unknown selection mode/);
  });

  it('select leaves only its outputs alive (and nothing once they are disposed)', () => {
    const bank = tf.tensor2d(circleBank());
    const state = stateFrom(circleBank(), CIRCLE_ASSIGN, circleCentres());
    const a = tf.tensor1d(HAND_ANCHORS, 'int32');
    const u = tf.tensor1d(HAND_U);
    for (const mode of SELECTION_MODES) {
      const before = tf.memory().numTensors;
      const out = getSelectionPolicy(mode).select({
        anchorIdx: a,
        bank,
        clusters: state,
        k: 3,
        threshold: 'anchor',
        u,
      });
      const outs = [out.positives, out.keptCount, out.neighbours, out.similarities, out.reason].filter(
        (t) => t !== null,
      );
      expect(tf.memory().numTensors).toBe(before + outs.length);
      expect(out.positives).not.toBe(a); // a fresh tensor: disposing it must not dispose the caller's anchors
      tf.dispose(outs);
      expect(tf.memory().numTensors).toBe(before);
    }
    tf.dispose([bank, a, u]);
    state.dispose();
  });
});

describe('wasm backend', () => {
  it('center-wise and cluster selections equal the cpu ones', async () => {
    const { x: bank } = blobs(new Rng(31), 4, 20, 5, 0.6);
    const xt = tf.tensor2d(bank);
    const cpuState = await sphericalKMeans(xt, 4, 6, new Rng(2));
    xt.dispose();
    const assign = Array.from(await cpuState.assignments.data());
    const centres = rows(await cpuState.centroids.data(), 5);
    cpuState.dispose();
    const anchors = bank.map((_, i) => i);
    const u = Array.from(new Rng(5).floats(anchors.length));
    const runAll = async () => {
      const state = stateFrom(bank, assign, centres);
      const res = [
        await select('center-wise', bank, state, anchors, 8, 'anchor', u),
        await select('center-wise', bank, state, anchors, 8, 'cluster-mean', u),
        await select('cluster', bank, state, anchors, 8, 'anchor', u),
        await select('knn', bank, state, anchors, 8, 'anchor', u),
      ];
      state.dispose();
      return res;
    };
    const cpu = await runAll();
    await tf.setBackend('wasm');
    try {
      expect(tf.getBackend()).toBe('wasm');
      const wasm = await runAll();
      wasm.forEach((w, m) => {
        expect(w.positives).toEqual(cpu[m].positives);
        expect(w.keptCount).toEqual(cpu[m].keptCount);
        expect(w.neighbours).toEqual(cpu[m].neighbours);
        expect(w.reason).toEqual(cpu[m].reason);
      });
      // And the positives are real: same-cluster members closer to the centre for center-wise.
      wasm[0].positives.forEach((p, i) => {
        if (p === i) return;
        expect(assign[p]).toBe(assign[i]);
        expect(dot(bank[p], centres[assign[i]])).toBeGreaterThan(dot(bank[i], centres[assign[i]]));
      });
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
