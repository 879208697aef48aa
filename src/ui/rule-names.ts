/** Which compared rule (core/rules.ts, issue 15) a run itself uses, for the Positives view. */
import type { CentreThreshold, SelectionMode } from '../core/config';
import type { ComparedRule } from '../core/rules';

export { COMPARED_RULES, RULE_LABELS, type ComparedRule, type RuleComparison, type RuleStats } from '../core/rules';

/** The compared rule a run itself uses; null for `none` (MoCo v2 uses no neighbours). */
export function ownRule(mode: SelectionMode, threshold: CentreThreshold): ComparedRule | null {
  switch (mode) {
    case 'knn':
      return 'knn';
    case 'cluster':
      return 'cluster';
    case 'center-wise':
      return threshold === 'cluster-mean' ? 'center-wise-mean' : 'center-wise';
    default:
      return null;
  }
}
