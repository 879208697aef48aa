/**
 * The selection rules the engine compares side by side (issue 15,
 * clim/rule-comparison.ts computes them): their ids, labels and the shape of
 * a comparison. Plain data, no tfjs, so the page can name them too.
 */

/** Rules compared, from the broadest local one to the broadest global one. */
export const COMPARED_RULES = ['knn', 'knn-cluster', 'center-wise', 'center-wise-mean', 'cluster'] as const;
export type ComparedRule = (typeof COMPARED_RULES)[number];

/** What a learner reads for each rule (the run's own rule is marked by the view). */
export const RULE_LABELS: Readonly<Record<ComparedRule, string>> = Object.freeze({
  knn: 'k nearest neighbours',
  'knn-cluster': 'kNN ∩ same cluster',
  'center-wise': 'center-wise (closer to centre than the anchor)',
  'center-wise-mean': 'center-wise (cluster-mean threshold)',
  cluster: 'any image of the same cluster',
});

export interface RuleStats {
  rule: ComparedRule;
  /**
   * Mean over the anchors with a non-empty kept set of the share of kept
   * images with the anchor's label: the chance that a positive drawn
   * uniformly from the kept set is of the anchor's class (the step's
   * `precision`, in expectation). Null without labels or when nothing is kept.
   */
  precision: number | null;
  /** Mean size of the kept set over all anchors (an empty set counts 0). */
  keptPerAnchor: number;
  /** Share of anchors with a non-empty kept set. */
  coverage: number;
}

/** What a selection snapshot and the runner's report carry: the rules over one probe set of anchors. */
export interface RuleComparison {
  step: number;
  /** Anchors compared (a fixed seeded subset of the training set, the same at every snapshot of a run). */
  anchors: number;
  k: number;
  clusters: number;
  rules: RuleStats[];
}
