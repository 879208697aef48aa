import { memo, useDeferredValue, useMemo } from 'react';
import { LineChartSvg, SeriesSample, type LineSeries, type MarkerShape } from '../LineChartSvg';
import type { Row } from '../line-geometry';
import { downsample } from '../series';
import { useClim } from '../store';
import { COMPARED_RULES, RULE_LABELS, ownRule, type ComparedRule, type RuleComparison } from '../rule-names';
import { ruleVerdict } from '../rule-verdict';
import { fixed, percent } from '../format';

/**
 * "Which rule picks the right positives?" (issue 15): every selection rule
 * on the same probe anchors, bank and clusters at the last snapshot (a
 * table and one sentence), and each rule's precision over the run (a chart).
 *
 * Kept light for the 50 ms long-task budget (e2e/responsiveness.spec.ts):
 * five table rows and one plain-SVG chart of ≤ 5 × 120 points, fed through
 * useDeferredValue (rendered in an interruptible render) and memoised on the
 * history, which changes once per selection snapshot (every 25 steps).
 */

/** Okabe–Ito colours; each rule also has its own dash and marker. The run's own rule is drawn solid and thicker. */
const RULE_STYLE: Readonly<Record<ComparedRule, { stroke: string; dash: string; marker: MarkerShape }>> = {
  knn: { stroke: '#D55E00', dash: '6 3', marker: 'square' },
  'knn-cluster': { stroke: '#E69F00', dash: '2 3', marker: 'triangle' },
  'center-wise': { stroke: '#0072B2', dash: '10 3', marker: 'circle' },
  'center-wise-mean': { stroke: '#56B4E9', dash: '8 3 2 3', marker: 'diamond' },
  cluster: { stroke: '#CC79A7', dash: '1 3', marker: 'cross' },
};

const MAX_POINTS = 120;
const PERCENT: [number, number] = [0, 100];
const EMPTY: RuleComparison[] = [];

const pct = (v: number | null) => percent(v);

const RuleTable = memo(function RuleTable({ cmp, own }: { cmp: RuleComparison; own: ComparedRule | null }) {
  const byRule = new Map(cmp.rules.map((r) => [r.rule, r]));
  return (
    <table className="rule-table" data-testid="rule-table">
      <caption>
        Over {cmp.anchors} training anchors at step {cmp.step}, with k = {cmp.k} and C = {cmp.clusters} clusters: the
        same bank and clusters for every rule.
      </caption>
      <thead>
        <tr>
          <th scope="col">Rule</th>
          <th
            scope="col"
            title="Share of the kept neighbours with the anchor’s label, averaged over anchors that keep any"
          >
            Precision
          </th>
          <th scope="col" title="Mean size of the kept set per anchor">
            Kept per anchor
          </th>
          <th scope="col" title="Share of anchors that keep at least one neighbour">
            Coverage
          </th>
        </tr>
      </thead>
      <tbody>
        {COMPARED_RULES.map((rule) => {
          const r = byRule.get(rule);
          const mine = rule === own;
          return (
            <tr
              key={rule}
              data-testid="rule-row"
              data-rule={rule}
              className={mine ? 'own-rule' : undefined}
              aria-current={mine ? 'true' : undefined}
            >
              <th scope="row">
                {mine ? <strong>{RULE_LABELS[rule]}</strong> : RULE_LABELS[rule]}
                {mine && <span className="this-run"> this run</span>}
              </th>
              <td data-testid="rule-precision">{r ? pct(r.precision) : '—'}</td>
              <td>{r ? fixed(r.keptPerAnchor, 1) : '—'}</td>
              <td>{r ? percent(r.coverage, 0) : '—'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
});

const RuleChart = memo(function RuleChart({ history, own }: { history: RuleComparison[]; own: ComparedRule | null }) {
  const series = useMemo<LineSeries[]>(
    () =>
      COMPARED_RULES.map((rule) => {
        const st = RULE_STYLE[rule];
        const mine = rule === own;
        return {
          key: rule,
          name: mine ? `${RULE_LABELS[rule]} (this run)` : RULE_LABELS[rule],
          stroke: st.stroke,
          dash: mine ? undefined : st.dash,
          marker: st.marker,
          width: mine ? 3 : 1.5,
        };
      }),
    [own],
  );
  const rows = useMemo(
    () =>
      downsample(history, MAX_POINTS).map((h) => {
        const o = { x: h.step } as Row;
        for (const rule of COMPARED_RULES) o[rule] = null;
        for (const r of h.rules) o[r.rule] = r.precision === null ? null : r.precision * 100;
        return o;
      }),
    [history],
  );
  return (
    <figure className="rule-chart" data-testid="rule-chart">
      <figcaption>
        <span className="chart-title">Precision of each rule’s kept neighbours, over the run</span>
        <span className="chart-legend">
          {series.map((s) => (
            <span key={s.key}>
              <SeriesSample s={s} />
              {s.name}
            </span>
          ))}
        </span>
      </figcaption>
      <LineChartSvg
        rows={rows}
        series={series}
        title="Precision of each selection rule"
        unit="%"
        yDomain={PERCENT}
        height={170}
      />
    </figure>
  );
});

export const RuleComparisonCard = memo(function RuleComparisonCard() {
  const liveHistory = useClim((s) => s.ruleHistory);
  // Empty on mount: the tab switch commits without it; the table and chart follow in an interruptible render.
  const history = useDeferredValue(liveHistory, EMPTY);
  const mode = useClim((s) => s.selection?.mode ?? s.config.selection);
  const threshold = useClim((s) => s.config.centerThreshold);
  const own = ownRule(mode, threshold);
  const latest = history.length ? history[history.length - 1] : null;
  const verdict = useMemo(() => (latest ? ruleVerdict(latest) : ''), [latest]);
  const labelled = latest?.rules.some((r) => r.precision !== null) ?? false;

  return (
    <section className="rule-compare" data-testid="rule-compare" aria-labelledby="rule-compare-title">
      <h3 id="rule-compare-title">Which rule picks the right positives?</h3>
      {!latest ? (
        liveHistory.length ? null : (
          <p className="chart-empty">
            Each rule is measured on the same anchors, bank and clusters from the first snapshot after the first k-means
            (step 25).
          </p>
        )
      ) : (
        <>
          <RuleTable cmp={latest} own={own} />
          {own === null && (
            <p className="chart-note">
              This run (MoCo v2) uses no neighbours: its positive is always the anchor itself.
            </p>
          )}
          <p className="rule-verdict" data-testid="rule-verdict">
            {verdict}
          </p>
          {!labelled ? (
            <p className="chart-note">No precision chart: the data set has no labels.</p>
          ) : history.length >= 2 ? (
            <RuleChart history={history} own={own} />
          ) : (
            <p className="chart-empty">The precision chart starts at the next snapshot (every 25 steps).</p>
          )}
        </>
      )}
    </section>
  );
});
