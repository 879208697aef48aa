import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { ari, clusterAgreement, contingency, nmi, purity } from './cluster-metrics';

const I = (xs: number[]) => Int32Array.from(xs);

/** Naive purity: for every cluster id 0..max, count every label id by a full scan. */
function naivePurity(c: Int32Array, y: Int32Array): number {
  const C = Math.max(-1, ...c) + 1;
  const L = Math.max(-1, ...y) + 1;
  let right = 0;
  for (let k = 0; k < C; k++) {
    let best = 0;
    for (let l = 0; l < L; l++) {
      let n = 0;
      for (let i = 0; i < c.length; i++) if (c[i] === k && y[i] === l) n++;
      best = Math.max(best, n);
    }
    right += best;
  }
  return c.length ? right / c.length : 1;
}

/** Naive NMI (arithmetic mean): dense joint distribution p(c, l), marginals summed from it. */
function naiveNmi(c: Int32Array, y: Int32Array): number {
  const C = Math.max(...c) + 1;
  const L = Math.max(...y) + 1;
  const n = c.length;
  const p = Array.from({ length: C }, () => new Array<number>(L).fill(0));
  for (let i = 0; i < n; i++) p[c[i]][y[i]] += 1 / n;
  const pc = p.map((r) => r.reduce((a, b) => a + b, 0));
  const pl = Array.from({ length: L }, (_, l) => p.reduce((s, r) => s + r[l], 0));
  const h = (q: number[]) => -q.filter((v) => v > 0).reduce((s, v) => s + v * Math.log(v), 0);
  let mi = 0;
  for (let a = 0; a < C; a++)
    for (let b = 0; b < L; b++) if (p[a][b] > 0) mi += p[a][b] * Math.log(p[a][b] / (pc[a] * pl[b]));
  const hc = h(pc);
  const hl = h(pl);
  if (hc === 0 && hl === 0) return 1;
  return mi / ((hc + hl) / 2);
}

/**
 * Naive ARI from the pair-confusion counts over all N(N−1)/2 pairs (a second
 * route, not the contingency formula): with n11 = pairs together in both,
 * n00 = apart in both, n10/n01 = together in one only,
 * ARI = 2(n11·n00 − n10·n01) / ((n11+n10)(n10+n00) + (n11+n01)(n01+n00)).
 */
function naiveAri(c: Int32Array, y: Int32Array): number {
  let n11 = 0;
  let n00 = 0;
  let n10 = 0;
  let n01 = 0;
  for (let i = 0; i < c.length; i++)
    for (let j = i + 1; j < c.length; j++) {
      const sc = c[i] === c[j];
      const sy = y[i] === y[j];
      if (sc && sy) n11++;
      else if (!sc && !sy) n00++;
      else if (sc) n10++;
      else n01++;
    }
  const den = (n11 + n10) * (n10 + n00) + (n11 + n01) * (n01 + n00);
  return den === 0 ? 1 : (2 * (n11 * n00 - n10 * n01)) / den;
}

describe('cluster metrics', () => {
  it('a perfect match scores 1 on all three, also with clusters and labels renamed', () => {
    const y = I([0, 0, 1, 1, 2, 2, 2]);
    expect(clusterAgreement(y, y)).toEqual({ purity: 1, nmi: 1, ari: 1 });
    // Clusters 7, 3, 0 stand for labels 0, 1, 2; ids 1, 2, 4, 5, 6 are empty clusters.
    const c = I([7, 7, 3, 3, 0, 0, 0]);
    expect(purity(c, y)).toBe(1);
    expect(nmi(c, y)).toBeCloseTo(1, 12);
    expect(ari(c, y)).toBeCloseTo(1, 12);
  });

  it('hand-worked independent case: NMI 0, purity ½, ARI −½', () => {
    // c = [0,0,1,1], y = [0,1,0,1]: every cell n_cl = 1, a = b = [2,2].
    // Purity (1+1)/4 = ½. I = 4 · ¼ · ln(4·1/(2·2)) = 0 ⇒ NMI 0.
    // ARI: Σ C(n_cl,2) = 0, Σ C(a,2) = Σ C(b,2) = 2, C(4,2) = 6, E = 4/6;
    // (0 − ⅔) / (2 − ⅔) = −½.
    const c = I([0, 0, 1, 1]);
    const y = I([0, 1, 0, 1]);
    expect(purity(c, y)).toBe(0.5);
    expect(nmi(c, y)).toBeCloseTo(0, 12);
    expect(ari(c, y)).toBeCloseTo(-0.5, 12);
  });

  it('hand-worked non-trivial case', () => {
    // c = [0,0,0,1,1,1], y = [0,0,1,1,1,2]. Table: cluster 0 → {l0: 2, l1: 1}, cluster 1 → {l1: 2, l2: 1}.
    // Purity (2 + 2)/6 = ⅔.
    // H(C) = ln 2; H(L) = ⅓ln3 + ½ln2 + ⅙ln6 = 1.0114043;
    // I = ⅓ln(6·2/(3·2)) + ⅙ln(6·1/(3·3)) + ⅓ln(6·2/(3·3)) + ⅙ln(6·1/(3·1))
    //   = ⅓ln2 + ⅙ln(⅔) + ⅓ln(4/3) + ⅙ln2 = 0.3748901;
    // NMI = I / ((H(C) + H(L))/2) = 0.4398695.
    // ARI: Σ C(n_cl,2) = 1+0+1+0 = 2; Σ C(a,2) = 3+3 = 6; Σ C(b,2) = 1+3+0 = 4;
    // E = 6·4/C(6,2) = 24/15 = 1.6; ARI = (2 − 1.6)/((6+4)/2 − 1.6) = 0.4/3.4 = 2/17.
    const c = I([0, 0, 0, 1, 1, 1]);
    const y = I([0, 0, 1, 1, 1, 2]);
    const mi = Math.log(2) / 3 + Math.log(2 / 3) / 6 + Math.log(4 / 3) / 3 + Math.log(2) / 6;
    const hl = Math.log(3) / 3 + Math.log(2) / 2 + Math.log(6) / 6;
    expect(purity(c, y)).toBeCloseTo(2 / 3, 12);
    expect(nmi(c, y)).toBeCloseTo(mi / ((Math.log(2) + hl) / 2), 12);
    expect(nmi(c, y)).toBeCloseTo(0.4398695, 6);
    expect(ari(c, y)).toBeCloseTo(2 / 17, 12);
    // NMI and ARI are symmetric in their arguments; purity is not (each label's majority cluster: 2+2+1).
    expect(nmi(y, c)).toBeCloseTo(nmi(c, y), 12);
    expect(ari(y, c)).toBeCloseTo(ari(c, y), 12);
    expect(purity(y, c)).toBeCloseTo(5 / 6, 12);
  });

  it('degenerate partitions follow scikit-learn: one cluster vs one label = 1; one side single-valued = NMI 0, ARI 0', () => {
    const one = I([0, 0, 0, 0]);
    expect(clusterAgreement(one, one)).toEqual({ purity: 1, nmi: 1, ari: 1 });
    const y = I([0, 1, 0, 1]);
    expect(nmi(one, y)).toBe(0);
    expect(ari(one, y)).toBe(0);
    expect(purity(one, y)).toBe(0.5);
    // One cluster per image: purity 1 by construction, ARI 0 against 2 labels.
    const single = I([0, 1, 2, 3]);
    expect(purity(single, y)).toBe(1);
    expect(ari(single, y)).toBeCloseTo(naiveAri(single, y), 12);
    // All singletons on both sides, and N < 2: trivially equal partitions.
    expect(ari(single, I([3, 2, 1, 0]))).toBe(1);
    expect(clusterAgreement(I([5]), I([2]))).toEqual({ purity: 1, nmi: 1, ari: 1 });
    expect(clusterAgreement(I([]), I([]))).toEqual({ purity: 1, nmi: 1, ari: 1 });
  });

  it('independent random partitions of 20,000 images: NMI and ARI near 0', () => {
    const rng = new Rng(11);
    const n = 20_000;
    const c = Int32Array.from({ length: n }, () => rng.int(10));
    const y = Int32Array.from({ length: n }, () => rng.int(10));
    expect(nmi(c, y)).toBeLessThan(0.005);
    expect(Math.abs(ari(c, y))).toBeLessThan(0.005);
  });

  it('matches the naive references on random partitions (many clusters, empty ids, uneven labels)', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 25; trial++) {
      const n = 1 + rng.int(150);
      const C = 1 + rng.int(40); // often more clusters than images: many ids empty
      const L = 1 + rng.int(8);
      // Labels correlated with clusters half the time, so values span the range.
      const c = Int32Array.from({ length: n }, () => rng.int(C));
      const y = Int32Array.from(c, (v) => (rng.bool(0.5) ? v % L : rng.int(L)));
      expect(purity(c, y)).toBeCloseTo(naivePurity(c, y), 12);
      expect(nmi(c, y)).toBeCloseTo(naiveNmi(c, y), 10);
      expect(ari(c, y)).toBeCloseTo(naiveAri(c, y), 10);
    }
  });

  it('the contingency table has only non-zero cells and the margins of the ids that occur (empty clusters drop out)', () => {
    const t = contingency(I([4, 4, 0, 9, 9, 9]), I([1, 1, 1, 0, 2, 2]));
    expect(t.clusterSizes).toEqual([1, 2, 3]);
    expect(t.labelSizes).toEqual([1, 3, 2]);
    expect(t.cells.reduce((a, b) => a + b, 0)).toBe(6);
    expect(t.cells.length).toBe(4);
  });

  it('huge id ranges (sparse path) give the same values as the same partition with small ids (dense path)', () => {
    const rng = new Rng(8);
    const small = Int32Array.from({ length: 300 }, () => rng.int(30));
    const y = Int32Array.from(small, (v) => (rng.bool(0.7) ? v % 4 : rng.int(4)));
    // 30 clusters renamed to ids around 10^7: (10^7)·4 cells would not fit a dense table.
    const huge = Int32Array.from(small, (v) => 10_000_000 + 7919 * v);
    const a = clusterAgreement(small, y);
    const b = clusterAgreement(huge, y);
    expect(b.purity).toBeCloseTo(a.purity, 12);
    expect(b.nmi).toBeCloseTo(a.nmi, 12);
    expect(b.ari).toBeCloseTo(a.ari, 12);
  });

  it('rejects mismatched lengths and negative ids', () => {
    expect(() => purity(I([0, 1]), I([0]))).toThrow(/2 assignments but 1 labels/);
    expect(() => nmi(I([0, -1]), I([0, 0]))).toThrow(/negative id/);
  });
});
