import type { EvalResult } from '../../core/api';
import { climStore, useClim } from '../store';
import { lastFull, rowShares } from '../eval-view';
import { fixed, percent, seconds, whole } from '../format';
import { heatCell } from '../palette';

const pct = (v: number | null) => percent(v);
const num = (v: number | null, d = 3) => fixed(v, d);
/** Most classes the confusion table is drawn for: a bigger one would stall the page cell by cell (the numbers above it still show). */
const MAX_CONFUSION_CLASSES = 1000;

/**
 * The K×K table's size, or 0 when the evaluation's matrix does not fit its
 * class count (an edited run file): drawing it would read past its end or
 * build millions of cells.
 */
function confusionSize(full: EvalResult | null): number {
  const k = full?.classes;
  const c = full?.confusion as ArrayLike<number> | null | undefined;
  if (typeof k !== 'number' || !Number.isInteger(k) || k <= 0 || k > MAX_CONFUSION_CLASSES || !c || c.length !== k * k)
    return 0;
  return k;
}

/**
 * Evaluation on demand (§6) and the run's exports: "Evaluate now" runs the
 * kNN monitor, the linear probe (top-1 and confusion matrix), alignment and
 * uniformity and the clusters' agreement with the labels, in the worker;
 * "Export model & embeddings" downloads one zip (LayersModel, Embedding
 * Projector files, metrics CSV, config JSON).
 */
export function EvaluationCard() {
  const evals = useClim((s) => s.evals);
  const evaluating = useClim((s) => s.evaluating);
  const exporting = useClim((s) => s.exporting);
  const runState = useClim((s) => s.runState);
  const step = useClim((s) => s.step);
  const classNames = useClim((s) => s.classNames);
  const { evaluateNow, exportBundle } = climStore.getState();
  const full = lastFull(evals);
  const noRun = step === 0 && runState !== 'paused';
  return (
    <figure className="chart-card eval-card" data-testid="eval-card">
      <figcaption>
        <span>Evaluation and export</span>
        <span>
          <button
            type="button"
            onClick={() => evaluateNow(true)}
            disabled={noRun || evaluating}
            title="kNN, linear probe with confusion matrix, alignment, uniformity, cluster NMI/ARI (a few seconds)"
            data-testid="evaluate-now"
          >
            {evaluating ? 'Evaluating…' : 'Evaluate now'}
          </button>{' '}
          <button
            type="button"
            onClick={exportBundle}
            disabled={noRun || exporting}
            title="The encoder as a TensorFlow.js LayersModel, Embedding Projector files, metrics CSV and config JSON, in one zip"
            data-testid="export-bundle"
          >
            {exporting ? 'Exporting…' : 'Export model & embeddings'}
          </button>
        </span>
      </figcaption>
      {!full ? (
        <p className="hint">
          {noRun
            ? 'No steps yet: press Start or Step.'
            : 'Press “Evaluate now” for the linear probe, alignment and uniformity (the kNN monitor runs every 100 steps by itself).'}
        </p>
      ) : (
        <EvalTables full={full} classNames={classNames} />
      )}
    </figure>
  );
}

/** The latest full evaluation's numbers and confusion matrix; any missing value prints as a dash. */
export function EvalTables({ full, classNames }: { full: EvalResult; classNames: readonly string[] }) {
  const k = confusionSize(full);
  const shares = k > 0 ? rowShares(full.confusion!, k) : null;
  return (
    <>
      <table className="eval-table" data-testid="eval-table">
        <tbody>
          <tr>
            <th scope="row">Step</th>
            <td>{whole(full.step)}</td>
            <th scope="row">Took</th>
            <td>{seconds(full.ms)}</td>
          </tr>
          <tr>
            <th scope="row">kNN top-1</th>
            <td data-testid="eval-knn">{pct(full.knnTop1)}</td>
            <th scope="row">Linear top-1</th>
            <td data-testid="eval-linear">{pct(full.linearTop1)}</td>
          </tr>
          <tr>
            <th scope="row" title="Mean squared distance between two views of an image (lower: views agree)">
              Alignment
            </th>
            <td>{num(full.alignment)}</td>
            <th scope="row" title="log E exp(−2‖zᵢ−zⱼ‖²) (lower: spread over the sphere)">
              Uniformity
            </th>
            <td>{num(full.uniformity)}</td>
          </tr>
          <tr>
            <th scope="row">Cluster NMI</th>
            <td>{num(full.clusterNmi)}</td>
            <th scope="row">ARI / purity</th>
            <td>
              {num(full.clusterAri)} / {pct(full.clusterPurity)}
            </td>
          </tr>
        </tbody>
      </table>
      {shares && k > 0 && (
        <table
          className="confusion"
          aria-label="Linear-probe confusion matrix: rows are true classes, columns predictions"
          data-testid="confusion"
        >
          <thead>
            <tr>
              <th scope="col">true \ predicted</th>
              {Array.from({ length: k }, (_, j) => (
                <th key={j} scope="col" title={classNames[j] ?? String(j)}>
                  {(classNames[j] ?? String(j)).slice(0, 4)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {Array.from({ length: k }, (_, i) => (
              <tr key={i}>
                <th scope="row">{classNames[i] ?? i}</th>
                {Array.from({ length: k }, (_, j) => {
                  const v = shares[i * k + j];
                  return (
                    <td key={j} style={heatCell(v)} title={`${full.confusion![i * k + j]} images`}>
                      {Math.round(v * 100)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
