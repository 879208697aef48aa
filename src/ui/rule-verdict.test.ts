import { describe, expect, it } from 'vitest';
import { ruleVerdict } from './rule-verdict';
import { COMPARED_RULES, ownRule, type ComparedRule, type RuleComparison } from './rule-names';

/** A comparison over 512 anchors at step 100; every rule at 40% unless given. */
function cmp(
  precision: Partial<Record<ComparedRule, number | null>>,
  kept: Partial<Record<ComparedRule, number>> = {},
): RuleComparison {
  return {
    step: 100,
    anchors: 512,
    k: 10,
    clusters: 10,
    rules: COMPARED_RULES.map((rule) => ({
      rule,
      precision: rule in precision ? (precision[rule] ?? null) : 0.4,
      keptPerAnchor: kept[rule] ?? 10,
      coverage: 1,
    })),
  };
}

describe('ruleVerdict', () => {
  it('says precision needs labels on an unlabelled set', () => {
    const v = ruleVerdict(
      cmp({ knn: null, 'knn-cluster': null, 'center-wise': null, 'center-wise-mean': null, cluster: null }),
    );
    expect(v).toMatch(/needs labels/);
    expect(v).toMatch(/center-wise/);
  });

  it('says when center-wise kept nothing at all (labelled set)', () => {
    expect(ruleVerdict(cmp({ 'center-wise': null, knn: 0.6 }))).toMatch(
      /^center-wise kept no neighbour for any of the 512 anchors.*60\.0%/,
    );
  });

  it('calls them equally pure under 2 points apart', () => {
    const v = ruleVerdict(cmp({ 'center-wise': 0.619, knn: 0.6 }));
    expect(v).toBe(
      'center-wise and plain kNN are about equally pure here (61.9% vs 60.0%): at this clustering the centre test does not help.',
    );
    expect(ruleVerdict(cmp({ 'center-wise': 0.581, knn: 0.6 }))).toMatch(
      /about equally pure here \(58\.1% vs 60\.0%\)/,
    );
  });

  it('says the claim holds when center-wise is higher, from exactly 2 points', () => {
    // 0.62 − 0.60 is not exactly 0.02 in floating point: the table's one-decimal numbers decide.
    const v = ruleVerdict(cmp({ 'center-wise': 0.62, knn: 0.6 }, { 'center-wise': 4.25, knn: 10 }));
    expect(v).toBe(
      'center-wise keeps fewer neighbours (4.3 vs 10.0 per anchor) and 62.0% of them share the anchor’s label against 60.0% for plain kNN: the paper’s claim holds here.',
    );
    expect(ruleVerdict(cmp({ 'center-wise': 0.523, knn: 0.503 }))).toMatch(
      /52\.3% of them .* 50\.3% for plain kNN: the paper’s claim holds here/,
    );
  });

  it('says plainly that it does not hold when center-wise is lower, from exactly 2 points', () => {
    const v = ruleVerdict(cmp({ 'center-wise': 0.58, knn: 0.6 }, { 'center-wise': 3 }));
    expect(v).toBe(
      'center-wise keeps fewer neighbours (3.0 vs 10.0 per anchor) but only 58.0% of them share the anchor’s label against 60.0% for plain kNN: the paper’s claim does not hold here.',
    );
  });

  it('names the purest rule when it is neither of the two', () => {
    const v = ruleVerdict(cmp({ 'center-wise': 0.7, knn: 0.6, 'knn-cluster': 0.75 }, { 'knn-cluster': 6 }));
    expect(v).toMatch(
      /claim holds here\. The purest rule here is kNN ∩ same cluster \(75\.0%, 6\.0 kept per anchor\)\.$/,
    );
    // Not when one of the two is the purest, nor on a tie with it.
    expect(ruleVerdict(cmp({ 'center-wise': 0.7, knn: 0.6, 'knn-cluster': 0.65 }))).not.toMatch(/purest/);
    expect(ruleVerdict(cmp({ 'center-wise': 0.7, knn: 0.6, 'knn-cluster': 0.7 }))).not.toMatch(/purest/);
    expect(ruleVerdict(cmp({ 'center-wise': 0.6, knn: 0.6, cluster: 0.9 }))).toMatch(
      /equally pure .* The purest rule here is any image of the same cluster \(90\.0%/,
    );
  });
});

describe('ownRule', () => {
  it('maps the run’s selection to the compared rule', () => {
    expect(ownRule('knn', 'anchor')).toBe('knn');
    expect(ownRule('cluster', 'anchor')).toBe('cluster');
    expect(ownRule('center-wise', 'anchor')).toBe('center-wise');
    expect(ownRule('center-wise', 'cluster-mean')).toBe('center-wise-mean');
    expect(ownRule('none', 'anchor')).toBeNull();
  });
});
