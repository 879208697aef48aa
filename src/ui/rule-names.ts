/**
 * The selection rules the engine compares at every selection snapshot
 * (core/clim/rule-comparison.ts, issue 15), for the UI: the rule ids in the
 * engine's order and their labels. A copy, because that module imports tfjs
 * and components never load it; the types come from core/api, and the
 * checks below fail the type check if the engine adds or renames a rule.
 */
import type { SelectionSnapshot } from '../core/api';
import type { CenterThreshold, SelectionMode } from '../core/config';

export type RuleComparison = NonNullable<SelectionSnapshot['rules']>;
export type RuleStats = RuleComparison['rules'][number];
export type ComparedRule = RuleStats['rule'];

/** From the broadest local rule to the broadest global one (the engine's COMPARED_RULES). */
export const COMPARED_RULES = ['knn', 'knn-cluster', 'center-wise', 'center-wise-mean', 'cluster'] as const satisfies readonly ComparedRule[];

/** Never unless a rule of the engine is missing above. */
type MissingRule = Exclude<ComparedRule, (typeof COMPARED_RULES)[number]>;
const noneMissing: [MissingRule] extends [never] ? true : never = true;
void noneMissing;

export const RULE_LABELS: Readonly<Record<ComparedRule, string>> = Object.freeze({
  knn: 'k nearest neighbours',
  'knn-cluster': 'kNN ∩ same cluster',
  'center-wise': 'center-wise (closer to centre than the anchor)',
  'center-wise-mean': 'center-wise (cluster-mean threshold)',
  cluster: 'any image of the same cluster',
});

/** The compared rule a run itself uses; null for `none` (MoCo v2 uses no neighbours). */
export function ownRule(mode: SelectionMode, threshold: CenterThreshold): ComparedRule | null {
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
