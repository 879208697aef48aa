/**
 * The selection rules side by side (issue 15; METHOD §3.5): for the
 * same anchors, on the same bank and the same k-means clusters, what each
 * rule would keep and how often its positive would share the anchor's label.
 * The paper's central claim is that center-wise selection is purer than plain
 * kNN at equal k; this lets the data say whether it holds for a run.
 *
 * compareRules is host arithmetic on what one device pass reads back
 * (neighbours and centre similarities, A×k each); compareRulesOnBank is that
 * pass.
 */
import * as tf from '@tensorflow/tfjs';
import type { KMeansState } from './kmeans';
import { knn } from './knn';
import { centreSimilarities } from './selection';
import { COMPARED_RULES, type ComparedRule, type RuleStats } from '../rules';

export { COMPARED_RULES, RULE_LABELS, type ComparedRule, type RuleComparison, type RuleStats } from '../rules';

export interface RuleComparisonInput {
  /** Neighbours per anchor (columns of the A×k arrays). */
  k: number;
  /** A bank indices. */
  anchors: ArrayLike<number>;
  /** A×k bank indices N_k(i), anchor excluded, row-major. */
  neighbours: ArrayLike<number>;
  /** A×k cluster c(j) of each neighbour. */
  neighbourCluster: ArrayLike<number>;
  /** A×k cos(z_j, μ_c(i)): each neighbour's similarity to its anchor's centre. */
  neighbourCentre: ArrayLike<number>;
  /** A cos(z_i, μ_c(i)). */
  anchorCentre: ArrayLike<number>;
  /** C mean cos(z, μ_c) over each cluster's members (the 'cluster-mean' threshold). */
  meanCentreSim: ArrayLike<number>;
  /** N cluster c(i) of every bank row (the `cluster` rule keeps a whole cluster). */
  assignments: ArrayLike<number>;
  /** Number of clusters C. */
  clusters: number;
  /** N labels, used only to measure; null for an unlabelled set. */
  labels: ArrayLike<number> | null;
}

/** Per-anchor tallies of one rule, reduced to RuleStats. */
class Tally {
  private kept = 0;
  private covered = 0;
  private shareSum = 0;
  private anchors = 0;

  add(kept: number, sameLabel: number): void {
    this.anchors++;
    this.kept += kept;
    if (kept > 0) {
      this.covered++;
      this.shareSum += sameLabel / kept;
    }
  }

  stats(rule: ComparedRule, labelled: boolean): RuleStats {
    return {
      rule,
      precision: labelled && this.covered > 0 ? this.shareSum / this.covered : null,
      keptPerAnchor: this.anchors > 0 ? this.kept / this.anchors : 0,
      coverage: this.anchors > 0 ? this.covered / this.anchors : 0,
    };
  }
}

/**
 * Each rule's precision, kept-set size and coverage over the same anchors.
 * The rules, for anchor i in cluster c with neighbours N_k(i):
 * - `knn`: all of N_k(i);
 * - `knn-cluster`: j ∈ N_k(i) with c(j) = c;
 * - `center-wise`: those with cos(z_j, μ_c) > cos(z_i, μ_c) as well (the paper);
 * - `center-wise-mean`: those with cos(z_j, μ_c) ≥ the cluster's mean (author code);
 * - `cluster`: every other member of c, near or not (from a C×L label table,
 *   so the whole cluster counts, not only N_k(i)).
 * The comparisons are those of selection.ts, so `center-wise` here keeps
 * exactly what the trainer's policy keeps on the same bank.
 */
export function compareRules(input: RuleComparisonInput): RuleStats[] {
  const {
    k,
    anchors,
    neighbours,
    neighbourCluster,
    neighbourCentre,
    anchorCentre,
    meanCentreSim,
    assignments,
    clusters,
    labels,
  } = input;
  const A = anchors.length;
  const tallies = new Map<ComparedRule, Tally>(COMPARED_RULES.map((r) => [r, new Tally()]));
  const t = (r: ComparedRule) => tallies.get(r) as Tally;

  // C×L label counts and cluster sizes for the `cluster` rule.
  let classes = 0;
  if (labels) for (let i = 0; i < labels.length; i++) classes = Math.max(classes, labels[i] + 1);
  const sizes = new Int32Array(clusters);
  const table = new Int32Array(clusters * Math.max(1, classes));
  for (let i = 0; i < assignments.length; i++) {
    const c = assignments[i];
    if (c < 0 || c >= clusters) continue;
    sizes[c]++;
    if (labels) table[c * classes + labels[i]]++;
  }

  for (let a = 0; a < A; a++) {
    const i = anchors[a];
    const c = assignments[i];
    const li = labels ? labels[i] : -1;
    const counts = { knn: [0, 0], same: [0, 0], centre: [0, 0], mean: [0, 0] };
    for (let j = 0; j < k; j++) {
      const o = a * k + j;
      const right = labels !== null && labels[neighbours[o]] === li ? 1 : 0;
      counts.knn[0]++;
      counts.knn[1] += right;
      if (neighbourCluster[o] !== c) continue;
      counts.same[0]++;
      counts.same[1] += right;
      if (neighbourCentre[o] > anchorCentre[a]) {
        counts.centre[0]++;
        counts.centre[1] += right;
      }
      if (neighbourCentre[o] >= meanCentreSim[c]) {
        counts.mean[0]++;
        counts.mean[1] += right;
      }
    }
    t('knn').add(counts.knn[0], counts.knn[1]);
    t('knn-cluster').add(counts.same[0], counts.same[1]);
    t('center-wise').add(counts.centre[0], counts.centre[1]);
    t('center-wise-mean').add(counts.mean[0], counts.mean[1]);
    const others = c >= 0 && c < clusters ? sizes[c] - 1 : 0;
    t('cluster').add(Math.max(0, others), labels && others > 0 ? table[c * classes + li] - 1 : 0);
  }
  return COMPARED_RULES.map((r) => t(r).stats(r, labels !== null));
}

/**
 * The device half: N_k(i) of each probe anchor on the bank, the clusters of
 * the neighbours and both centre similarities, read back once (A×k each) and
 * handed to compareRules. bank N×d (rows L2-normalised), probe A int32.
 */
export async function compareRulesOnBank(
  bank: tf.Tensor2D,
  clusters: KMeansState,
  probe: Int32Array,
  k: number,
  labels: ArrayLike<number> | null,
): Promise<RuleStats[]> {
  const t = tf.tidy(() => {
    const idx = tf.tensor1d(probe, 'int32');
    const nn = knn(tf.gather(bank, idx), bank, k, idx);
    const cs = centreSimilarities(bank, clusters, idx, nn.indices);
    return [nn.indices, tf.gather(clusters.assignments, tf.reshape(nn.indices, [-1])), cs.neighbours, cs.anchor];
  });
  const [neighbours, neighbourCluster, neighbourCentre, anchorCentre, meanCentreSim, assignments] = await Promise.all([
    ...t.map((x) => x.data()),
    clusters.meanCentreSim.data(),
    clusters.assignments.data(),
  ]);
  const kk = t[0].shape[1] ?? 0;
  tf.dispose(t);
  return compareRules({
    k: kk,
    anchors: probe,
    neighbours,
    neighbourCluster,
    neighbourCentre,
    anchorCentre,
    meanCentreSim,
    assignments,
    clusters: clusters.sizes.length,
    labels,
  });
}
