/**
 * Agreement of a clustering with reference labels (METHOD §6, "Cluster
 * quality: NMI and purity of c(i) against labels"), plus the adjusted Rand
 * index, which unlike purity and NMI does not reward many small clusters.
 *
 * Pure functions over two equal-length Int32Arrays of non-negative ids
 * (cluster c(i) and label y(i) of each image). Any number of clusters and
 * labels; ids need not be contiguous, so empty clusters (ids with no member)
 * simply never appear. Work is O(N) through a sparse contingency table
 * (at most N non-zero cells), so 60k images with 1000 clusters stay cheap.
 * Labels are for measuring only, never for training (§6).
 */

/** Non-zero cells of the C×L contingency table n_{c,l} and its margins. */
export interface Contingency {
  n: number;
  /** Member count of each non-empty cluster (a_c). */
  clusterSizes: number[];
  /** Count of each label that occurs (b_l). */
  labelSizes: number[];
  /** Non-zero cells n_{c,l}, with the dense cluster and label slot of each. */
  cells: number[];
  cellCluster: number[];
  cellLabel: number[];
}

function check(clusters: Int32Array, labels: Int32Array): void {
  if (clusters.length !== labels.length)
    throw new Error(`cluster metrics: ${clusters.length} assignments but ${labels.length} labels`);
  for (let i = 0; i < clusters.length; i++) {
    if (clusters[i] < 0 || labels[i] < 0)
      throw new Error(`cluster metrics: negative id at ${i} (cluster ${clusters[i]}, label ${labels[i]})`);
  }
}

/** Dense C×L tables up to this many cells (16 MB of Int32); larger id ranges use the sparse map. */
const DENSE_CELLS = 1 << 22;

/**
 * Builds the contingency table, keeping only non-zero cells. Small id ranges
 * (the usual C ≤ 1000 clusters × L ≤ 100 labels) count into a dense table:
 * a Map per image cost far more than the dense pass (docs/BENCHMARKS.md §M10).
 * Larger or sparse id ranges are remapped to dense slots in order of first
 * appearance and counted in a Map.
 */
export function contingency(clusters: Int32Array, labels: Int32Array): Contingency {
  check(clusters, labels);
  let maxC = -1;
  let maxL = -1;
  for (let i = 0; i < clusters.length; i++) {
    if (clusters[i] > maxC) maxC = clusters[i];
    if (labels[i] > maxL) maxL = labels[i];
  }
  if ((maxC + 1) * (maxL + 1) <= DENSE_CELLS) return denseContingency(clusters, labels, maxC + 1, maxL + 1);
  return sparseContingency(clusters, labels);
}

function denseContingency(clusters: Int32Array, labels: Int32Array, C: number, L: number): Contingency {
  const table = new Int32Array(C * L);
  const cs = new Int32Array(C);
  const ls = new Int32Array(L);
  for (let i = 0; i < clusters.length; i++) {
    table[clusters[i] * L + labels[i]]++;
    cs[clusters[i]]++;
    ls[labels[i]]++;
  }
  // Dense slots for the ids that occur, so margins hold no zeros (empty clusters drop out).
  const cSlot = new Int32Array(C).fill(-1);
  const lSlot = new Int32Array(L).fill(-1);
  const clusterSizes: number[] = [];
  const labelSizes: number[] = [];
  cs.forEach((v, c) => {
    if (v > 0) cSlot[c] = clusterSizes.push(v) - 1;
  });
  ls.forEach((v, l) => {
    if (v > 0) lSlot[l] = labelSizes.push(v) - 1;
  });
  const cells: number[] = [];
  const cellCluster: number[] = [];
  const cellLabel: number[] = [];
  for (let c = 0; c < C; c++) {
    if (cs[c] === 0) continue;
    for (let l = 0; l < L; l++) {
      const v = table[c * L + l];
      if (v === 0) continue;
      cells.push(v);
      cellCluster.push(cSlot[c]);
      cellLabel.push(lSlot[l]);
    }
  }
  return { n: clusters.length, clusterSizes, labelSizes, cells, cellCluster, cellLabel };
}

function sparseContingency(clusters: Int32Array, labels: Int32Array): Contingency {
  const cSlot = new Map<number, number>();
  const lSlot = new Map<number, number>();
  const clusterSizes: number[] = [];
  const labelSizes: number[] = [];
  const cellOf = new Map<number, number>();
  const cells: number[] = [];
  const cellCluster: number[] = [];
  const cellLabel: number[] = [];
  for (let i = 0; i < clusters.length; i++) {
    let c = cSlot.get(clusters[i]);
    if (c === undefined) {
      c = clusterSizes.length;
      cSlot.set(clusters[i], c);
      clusterSizes.push(0);
    }
    let l = lSlot.get(labels[i]);
    if (l === undefined) {
      l = labelSizes.length;
      lSlot.set(labels[i], l);
      labelSizes.push(0);
    }
    clusterSizes[c]++;
    labelSizes[l]++;
    // Dense slots are < N ≤ 2^31, so c·N + l is exact in a double.
    const key = c * clusters.length + l;
    let k = cellOf.get(key);
    if (k === undefined) {
      k = cells.length;
      cellOf.set(key, k);
      cells.push(0);
      cellCluster.push(c);
      cellLabel.push(l);
    }
    cells[k]++;
  }
  return { n: clusters.length, clusterSizes, labelSizes, cells, cellCluster, cellLabel };
}

/**
 * Purity = (1/N) Σ_c max_l n_{c,l}: the share of images whose cluster's
 * majority label is their own. 1 for a perfect clustering; it also reaches 1
 * with one cluster per image, so read it with NMI/ARI. N = 0 → 1 (vacuous).
 */
export function purity(clusters: Int32Array, labels: Int32Array): number {
  return purityOf(contingency(clusters, labels));
}

function purityOf(t: Contingency): number {
  if (t.n === 0) return 1;
  const best = new Array<number>(t.clusterSizes.length).fill(0);
  t.cells.forEach((v, k) => {
    if (v > best[t.cellCluster[k]]) best[t.cellCluster[k]] = v;
  });
  return best.reduce((a, b) => a + b, 0) / t.n;
}

/** Shannon entropy (nats) of counts summing to n. */
function entropy(counts: number[], n: number): number {
  let h = 0;
  for (const v of counts) if (v > 0) h -= (v / n) * Math.log(v / n);
  return h;
}

/**
 * Normalised mutual information with the arithmetic-mean normalisation
 * (scikit-learn's default, average_method='arithmetic'):
 *   NMI = I(C; L) / ((H(C) + H(L)) / 2),
 *   I = Σ_{c,l} (n_cl/N) log(N n_cl / (a_c b_l)).
 * In [0, 1]; invariant to renaming clusters or labels. As in scikit-learn,
 * two single-valued partitions (H(C) = H(L) = 0) agree perfectly: 1; if only
 * one is single-valued, I = 0 and so NMI = 0. N = 0 → 1.
 */
export function nmi(clusters: Int32Array, labels: Int32Array): number {
  return nmiOf(contingency(clusters, labels));
}

function nmiOf(t: Contingency): number {
  const n = t.n;
  if (n === 0) return 1;
  const hc = entropy(t.clusterSizes, n);
  const hl = entropy(t.labelSizes, n);
  if (hc === 0 && hl === 0) return 1;
  let mi = 0;
  t.cells.forEach((v, k) => {
    mi += (v / n) * Math.log((n * v) / (t.clusterSizes[t.cellCluster[k]] * t.labelSizes[t.cellLabel[k]]));
  });
  const denom = (hc + hl) / 2;
  // Rounding can push I a hair above the mean entropy or below 0.
  return denom > 0 ? Math.min(1, Math.max(0, mi / denom)) : 0;
}

/** x choose 2. */
const pairs = (x: number) => (x * (x - 1)) / 2;

/**
 * Adjusted Rand index (Hubert & Arabie 1985), the pair-counting agreement
 * corrected for chance:
 *   ARI = (Σ C(n_cl,2) − E) / (½[Σ C(a_c,2) + Σ C(b_l,2)] − E),
 *   E = Σ C(a_c,2) · Σ C(b_l,2) / C(N,2).
 * 1 for identical partitions (up to renaming), ≈ 0 for independent ones, can
 * be negative. The denominator is 0 only when both partitions are trivial
 * and equal (all in one group, or all singletons, or N < 2): 1, as in
 * scikit-learn.
 */
export function ari(clusters: Int32Array, labels: Int32Array): number {
  return ariOf(contingency(clusters, labels));
}

function ariOf(t: Contingency): number {
  const sumCells = t.cells.reduce((s, v) => s + pairs(v), 0);
  const sumA = t.clusterSizes.reduce((s, v) => s + pairs(v), 0);
  const sumB = t.labelSizes.reduce((s, v) => s + pairs(v), 0);
  const total = pairs(t.n);
  if (total === 0) return 1;
  const expected = (sumA * sumB) / total;
  const denom = (sumA + sumB) / 2 - expected;
  if (denom === 0) return 1;
  return (sumCells - expected) / denom;
}

export interface ClusterAgreement {
  purity: number;
  nmi: number;
  ari: number;
}

/** All three at once (the Clusters view and evaluation read them together). */
export function clusterAgreement(clusters: Int32Array, labels: Int32Array): ClusterAgreement {
  const t = contingency(clusters, labels);
  return { purity: purityOf(t), nmi: nmiOf(t), ari: ariOf(t) };
}
