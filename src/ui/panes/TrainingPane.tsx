import { EvaluationCard } from './EvaluationCard';
import { AblationCard } from './AblationCard';
import { memo, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { LineChartSvg, SeriesSample, type LineSeries, type MarkerShape } from '../LineChartSvg';
import type { Row } from '../line-geometry';
import type { EvalResult, StepMetrics } from '../../core/api';
import { useClim } from '../store';
import { downsample, heldOutSeries, toCsv, type CsvColumn, type SeriesDef } from '../series';
import { downloadBlob, downloadText, svgToPng } from '../export';

/**
 * The Training pane: loss (total and its anchor / positive parts), learning
 * rate, kNN top-1, selection coverage and precision, images per second.
 *
 * Why it stays under the 50 ms long-task budget: the charts are plain SVG
 * (LineChartSvg.tsx; recharts here went over the budget at first render and
 * per redraw while training, docs/BENCHMARKS.md §M12), they
 * redraw at most once a second (`useThrottled`), each series is thinned to
 * ≤ 150 points (`downsample`), and each chart is memoised on its own data so
 * a new kNN value does not redraw the loss.
 */

/** Okabe–Ito colours (colour-blind safe), each with its own dash pattern and marker shape so lines differ without colour too. */
export const SERIES_STYLE: readonly { stroke: string; dash: string | undefined; marker: MarkerShape }[] = [
  { stroke: '#0072B2', dash: undefined, marker: 'circle' },
  { stroke: '#D55E00', dash: '6 3', marker: 'square' },
  { stroke: '#009E73', dash: '2 3', marker: 'triangle' },
  { stroke: '#CC79A7', dash: '8 3 2 3', marker: 'diamond' },
];

const MAX_POINTS = 150;
const REDRAW_MS = 1000;

/**
 * `value` as of the last tick of a clock that ticks every `ms` at offset
 * `phase` (performance.now() ≡ phase mod ms). Charts use different phases so
 * each redraws in its own task: one recharts chart fits in a task, five at
 * once went over the 50 ms long-task budget (bench/browser.ts,
 * docs/BENCHMARKS.md §M12).
 */
export function useThrottled<T>(value: T, ms: number, phase = 0): T {
  const [shown, setShown] = useState(value);
  useEffect(() => {
    const now = performance.now();
    const wait = (((phase - now) % ms) + ms) % ms;
    const t = setTimeout(() => setShown(value), wait);
    return () => clearTimeout(t);
  }, [value, ms, phase]);
  return shown;
}

interface ChartProps<T> {
  id: string;
  title: string;
  rows: T[];
  x: (row: T) => number;
  series: SeriesDef<T>[];
  unit?: string;
  empty: string;
  /** Full-resolution rows for the CSV (the chart itself shows a thinned copy). */
  csvRows: T[];
  csvColumns: CsvColumn<T>[];
  yDomain?: [number | 'auto', number | 'auto'];
  note?: ReactNode;
  /** Offset of this chart's redraw clock (see useThrottled). */
  phase: number;
}

function ChartCard<T>({
  id,
  title,
  rows: liveRows,
  x,
  series,
  unit,
  empty,
  csvRows,
  csvColumns,
  yDomain,
  note,
  phase,
}: ChartProps<T>) {
  const throttled = useThrottled(liveRows, REDRAW_MS, phase);
  // A new run clears every chart at once rather than on each chart's next tick.
  const rows = liveRows.length === 0 ? liveRows : throttled;
  const ref = useRef<HTMLDivElement>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  const data = useMemo(
    () =>
      downsample(rows, MAX_POINTS).map((r) => {
        const o = { x: x(r) } as Row;
        for (const s of series) o[s.key] = s.value(r);
        return o;
      }),
    [rows, x, series],
  );
  const lines = useMemo<LineSeries[]>(
    () => series.map((s, i) => ({ key: s.key, name: s.name, ...SERIES_STYLE[i % SERIES_STYLE.length] })),
    [series],
  );
  const savePng = async () => {
    try {
      setExportError(null);
      if (ref.current) downloadBlob(`clim-${id}.png`, await svgToPng(ref.current));
    } catch (e) {
      setExportError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <figure className="chart-card" data-testid={`chart-${id}`} aria-label={title}>
      <figcaption>
        <span className="chart-title">{title}</span>
        {series.length > 1 && (
          // The legend: each series' colour, dash and marker, as in the chart.
          <span className="chart-legend">
            {lines.map((sr) => (
              <span key={sr.key}>
                <SeriesSample s={sr} />
                {sr.name}
              </span>
            ))}
          </span>
        )}
        <span className="chart-actions">
          <button
            type="button"
            className="small"
            onClick={() => downloadText(`clim-${id}.csv`, toCsv(csvRows, csvColumns))}
            disabled={!csvRows.length}
            aria-label={`Download ${title} as CSV`}
          >
            CSV
          </button>
          <button
            type="button"
            className="small"
            onClick={savePng}
            disabled={!rows.length}
            aria-label={`Save ${title} chart as PNG`}
          >
            PNG
          </button>
        </span>
      </figcaption>
      {exportError && <p className="error">{exportError}</p>}
      {rows.length === 0 ? (
        <p className="chart-empty">{empty}</p>
      ) : (
        <div ref={ref} className="chart-surface" data-points={data.length}>
          <LineChartSvg rows={data} series={lines} title={title} unit={unit} yDomain={yDomain} />
        </div>
      )}
      {note}
    </figure>
  );
}

const Chart = memo(ChartCard) as typeof ChartCard;

const stepX = (m: StepMetrics) => m.step;
// Constant props, so the memoised charts are not redrawn by every render of the pane.
const FROM_ZERO: [number, 'auto'] = [0, 'auto'];
const PERCENT: [number, number] = [0, 100];
const SELECTION_NOTE = (
  <p className="chart-note">
    Coverage: anchors with at least one kept neighbour. Precision: chosen positives with the anchor’s label (labelled
    data only).
  </p>
);
const evalX = (e: EvalResult) => e.step;
const LOSS_SERIES: SeriesDef<StepMetrics>[] = [
  { key: 'loss', name: 'total', value: (m) => m.loss },
  { key: 'anchor', name: 'anchor term', value: (m) => m.lossAnchor },
  { key: 'positive', name: 'positive term', value: (m) => m.lossPositive },
];
const LR_SERIES: SeriesDef<StepMetrics>[] = [{ key: 'lr', name: 'learning rate', value: (m) => m.lr }];
const SEL_SERIES: SeriesDef<StepMetrics>[] = [
  { key: 'coverage', name: 'coverage', value: (m) => m.coverage * 100 },
  { key: 'precision', name: 'precision', value: (m) => (m.precision === null ? null : m.precision * 100) },
];
const SPEED_SERIES: SeriesDef<StepMetrics>[] = [{ key: 'ips', name: 'images/s', value: (m) => m.imagesPerSecond }];
const METRIC_CSV: CsvColumn<StepMetrics>[] = [
  { header: 'step', value: (m) => m.step },
  { header: 'loss', value: (m) => m.loss },
  { header: 'loss_anchor', value: (m) => m.lossAnchor },
  { header: 'loss_positive', value: (m) => m.lossPositive },
  { header: 'lr', value: (m) => m.lr },
  { header: 'coverage', value: (m) => m.coverage },
  { header: 'precision', value: (m) => m.precision },
  { header: 'lambda_mean', value: (m) => m.lambdaMean },
  { header: 'ms', value: (m) => m.ms },
  { header: 'selection_ms', value: (m) => m.selectionMs },
  { header: 'images_per_second', value: (m) => m.imagesPerSecond },
];
const EVAL_CSV: CsvColumn<EvalResult>[] = [
  { header: 'step', value: (e) => e.step },
  { header: 'knn_top1', value: (e) => e.knnTop1 },
  { header: 'linear_top1', value: (e) => e.linearTop1 },
  { header: 'alignment', value: (e) => e.alignment },
  { header: 'uniformity', value: (e) => e.uniformity },
  { header: 'cluster_nmi', value: (e) => e.clusterNmi },
  { header: 'cluster_ari', value: (e) => e.clusterAri },
  { header: 'cluster_purity', value: (e) => e.clusterPurity },
  { header: 'ms', value: (e) => e.ms },
];

export function TrainingPane() {
  const live = useClim((s) => s.metrics);
  const liveEvals = useClim((s) => s.evals);
  const labelled = useClim((s) => (s.dataset === 'upload' ? (s.upload?.report.labelled ?? false) : true));
  const raw = useClim((s) => s.rawBaseline);
  const knnSeries = useMemo(() => heldOutSeries(raw), [raw]);
  const metrics = live;
  const evals = liveEvals;
  const noSteps = 'No steps yet: press Start or Step.';
  return (
    <div className="training-pane" data-testid="training-pane">
      <Chart
        id="loss"
        phase={0}
        title="Loss (mixed InfoNCE)"
        rows={metrics}
        x={stepX}
        series={LOSS_SERIES}
        empty={noSteps}
        csvRows={live}
        csvColumns={METRIC_CSV}
      />
      <Chart
        id="knn"
        phase={180}
        title="Held-out top-1 (kNN, linear probe)"
        rows={evals}
        x={evalX}
        series={knnSeries}
        unit="%"
        empty={
          labelled
            ? 'Measured every 100 steps, from step 100.'
            : 'This data set has no labels: accuracy cannot be measured.'
        }
        csvRows={liveEvals}
        csvColumns={EVAL_CSV}
        yDomain={FROM_ZERO}
      />
      <Chart
        id="selection"
        phase={360}
        title="Positives: coverage and precision"
        rows={metrics}
        x={stepX}
        series={SEL_SERIES}
        unit="%"
        empty={noSteps}
        csvRows={live}
        csvColumns={METRIC_CSV}
        yDomain={PERCENT}
        note={SELECTION_NOTE}
      />
      <Chart
        id="lr"
        phase={540}
        title="Learning rate"
        rows={metrics}
        x={stepX}
        series={LR_SERIES}
        empty={noSteps}
        csvRows={live}
        csvColumns={METRIC_CSV}
      />
      <EvaluationCard />
      <AblationCard />
      <Chart
        id="speed"
        phase={720}
        title="Images per second"
        rows={metrics}
        x={stepX}
        series={SPEED_SERIES}
        empty={noSteps}
        csvRows={live}
        csvColumns={METRIC_CSV}
        yDomain={FROM_ZERO}
      />
    </div>
  );
}
