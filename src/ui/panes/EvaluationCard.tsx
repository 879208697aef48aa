import { climStore, useClim } from '../store';
import { lastFull, rowShares } from '../eval-view';

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
const num = (v: number | null, d = 3) => (v === null ? '—' : v.toFixed(d));

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
  const k = full?.classes ?? 0;
  const shares = full?.confusion ? rowShares(full.confusion, k) : null;
  return (
    <figure className="chart-card eval-card" data-testid="eval-card">
      <figcaption>
        <span>Evaluation and export</span>
        <span>
          <button type="button" onClick={() => evaluateNow(true)} disabled={noRun || evaluating} title="kNN, linear probe with confusion matrix, alignment, uniformity, cluster NMI/ARI (a few seconds)" data-testid="evaluate-now">
            {evaluating ? 'Evaluating…' : 'Evaluate now'}
          </button>{' '}
          <button type="button" onClick={exportBundle} disabled={noRun || exporting} title="The encoder as a TensorFlow.js LayersModel, Embedding Projector files, metrics CSV and config JSON, in one zip" data-testid="export-bundle">
            {exporting ? 'Exporting…' : 'Export model & embeddings'}
          </button>
        </span>
      </figcaption>
      {!full ? (
        <p className="hint">{noRun ? 'No steps yet: press Start or Step.' : 'Press “Evaluate now” for the linear probe, alignment and uniformity (the kNN monitor runs every 100 steps by itself).'}</p>
      ) : (
        <>
          <table className="eval-table" data-testid="eval-table">
            <tbody>
              <tr><th scope="row">Step</th><td>{full.step}</td><th scope="row">Took</th><td>{(full.ms / 1000).toFixed(1)} s</td></tr>
              <tr><th scope="row">kNN top-1</th><td data-testid="eval-knn">{pct(full.knnTop1)}</td><th scope="row">Linear top-1</th><td data-testid="eval-linear">{pct(full.linearTop1)}</td></tr>
              <tr><th scope="row" title="Mean squared distance between two views of an image (lower: views agree)">Alignment</th><td>{num(full.alignment)}</td><th scope="row" title="log E exp(−2‖zᵢ−zⱼ‖²) (lower: spread over the sphere)">Uniformity</th><td>{num(full.uniformity)}</td></tr>
              <tr><th scope="row">Cluster NMI</th><td>{num(full.clusterNmi)}</td><th scope="row">ARI / purity</th><td>{num(full.clusterAri)} / {pct(full.clusterPurity)}</td></tr>
            </tbody>
          </table>
          {shares && k > 0 && (
            <table className="confusion" aria-label="Linear-probe confusion matrix: rows are true classes, columns predictions" data-testid="confusion">
              <thead>
                <tr>
                  <th scope="col">true \ predicted</th>
                  {Array.from({ length: k }, (_, j) => (
                    <th key={j} scope="col" title={classNames[j] ?? String(j)}>{(classNames[j] ?? String(j)).slice(0, 4)}</th>
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
                        <td key={j} style={{ background: `rgba(0, 114, 178, ${v.toFixed(3)})`, color: v > 0.5 ? '#fff' : '#111' }} title={`${full.confusion![i * k + j]} images`}>
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
      )}
    </figure>
  );
}
