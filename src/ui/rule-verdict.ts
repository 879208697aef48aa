/**
 * One plain sentence on the rule comparison (issue 15): does center-wise
 * selection keep purer positives than plain kNN at the same k, as Li et al.
 * (2021) claim? Decided on the numbers as the table shows them (percentages
 * to one decimal), so the sentence never contradicts the table.
 */
import { RULE_LABELS, type ComparedRule, type RuleComparison, type RuleStats } from './rule-names';

/** Below this many percentage points apart, two rules count as equally pure. */
export const SAME_PURITY_POINTS = 2;

/** A share as tenths of a percent (the table's precision), so comparisons are exact integers. */
const tenths = (share: number) => Math.round(share * 1000);
const pct = (share: number) => `${(tenths(share) / 10).toFixed(1)}%`;
const per = (v: number) => v.toFixed(1);

export function ruleVerdict(cmp: RuleComparison): string {
  const by = (rule: ComparedRule): RuleStats | undefined => cmp.rules.find((r) => r.rule === rule);
  const cw = by('center-wise');
  const kn = by('knn');
  if (!cw || !kn) return 'This snapshot does not compare center-wise with plain kNN.';
  const measured = cmp.rules.filter((r): r is RuleStats & { precision: number } => r.precision !== null);
  if (measured.length === 0)
    return 'Whether center-wise picks purer positives than plain kNN needs labels: this data set has none, so only the kept-set sizes and coverage can be compared.';
  if (cw.precision === null)
    return `center-wise kept no neighbour for any of the ${cmp.anchors} anchors, so its precision is undefined here (plain kNN: ${kn.precision === null ? '—' : pct(kn.precision)}).`;
  if (kn.precision === null)
    return `Plain kNN kept no neighbour for any of the ${cmp.anchors} anchors, so center-wise (${pct(cw.precision)}) has nothing to be compared with.`;

  const x = pct(cw.precision);
  const y = pct(kn.precision);
  const diff = tenths(cw.precision) - tenths(kn.precision);
  const a = per(cw.keptPerAnchor);
  const b = per(kn.keptPerAnchor);
  const keeps = `center-wise keeps ${a === b ? 'as many' : Number(a) < Number(b) ? 'fewer' : 'more'} neighbours (${a} vs ${b} per anchor)`;
  let sentence: string;
  if (Math.abs(diff) < SAME_PURITY_POINTS * 10)
    sentence = `center-wise and plain kNN are about equally pure here (${x} vs ${y}): at this clustering the centre test does not help.`;
  else if (diff > 0)
    sentence = `${keeps} and ${x} of them share the anchor’s label against ${y} for plain kNN: the paper’s claim holds here.`;
  else
    sentence = `${keeps} but only ${x} of them share the anchor’s label against ${y} for plain kNN: the paper’s claim does not hold here.`;

  // The purest rule overall, named when it is neither of the two and strictly purer than both.
  let best = measured[0];
  for (const r of measured) if (tenths(r.precision) > tenths(best.precision)) best = r;
  if (
    best.rule !== 'center-wise' &&
    best.rule !== 'knn' &&
    tenths(best.precision) > Math.max(tenths(cw.precision), tenths(kn.precision))
  )
    sentence += ` The purest rule here is ${RULE_LABELS[best.rule]} (${pct(best.precision)}, ${per(best.keptPerAnchor)} kept per anchor).`;
  return sentence;
}
