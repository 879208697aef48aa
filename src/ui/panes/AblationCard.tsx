import { useState } from 'react';
import { ABLATION_MAX_STEPS, ABLATION_VARIANTS } from '../../core/ablation-table';
import { climStore, useClim } from '../store';
import { fixed, percent } from '../format';

const pct = (v: number | null) => percent(v);

/**
 * Steps per arm offered first: a minute or two per arm of the default config on a 2-core CPU, seconds on a GPU
 * (docs/BENCHMARKS.md §M11).
 */
const DEFAULT_ABLATION_STEPS = 200;

/**
 * The ablation report in the app (issue 6): the same data, seed, settings
 * and step budget under each chosen arm — no selection (MoCo v2), kNN,
 * cluster, center-wise, each with and without CutMix, and CLIM with a second
 * resolution — trained one after another in the worker, each evaluated in
 * full. The table shows kNN top-1, linear top-1 and the precision of the
 * chosen positives, with the raw-pixel kNN baseline; "Download CSV" saves it.
 */
export function AblationCard() {
  const ablation = useClim((s) => s.ablation);
  const runState = useClim((s) => s.runState);
  const { runAblation, stopAblation, downloadAblationCsv } = climStore.getState();
  const [chosen, setChosen] = useState<Set<string>>(() => new Set(ABLATION_VARIANTS.map((v) => v.id)));
  const [stepsText, setStepsText] = useState(String(DEFAULT_ABLATION_STEPS));
  const steps = /^\d+$/.test(stepsText.trim()) ? Number(stepsText.trim()) : NaN;
  const stepsProblem =
    Number.isInteger(steps) && steps >= 1 && steps <= ABLATION_MAX_STEPS
      ? null
      : `Steps per arm: a whole number from 1 to ${ABLATION_MAX_STEPS}.`;
  const running = ablation?.status === 'running';
  const busy = runState === 'connecting' || runState === 'preparing';
  const arms = ABLATION_VARIANTS.filter((v) => chosen.has(v.id)).map((v) => v.id);
  const toggle = (id: string) =>
    setChosen((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const current = ablation?.current ?? null;
  const currentLabel = current ? (ablation?.arms[current.index]?.label ?? current.id) : null;

  return (
    <figure className="chart-card ablation-card" data-testid="ablation-card">
      <figcaption>
        <span>Ablation: which part of CLIM matters</span>
      </figcaption>
      <p className="hint">
        Trains each chosen arm from scratch on this data set with these settings and seed, one after another (the
        current run is paused and kept), then evaluates it in full.
      </p>
      <fieldset className="ablation-arms" disabled={running}>
        <legend>Arms</legend>
        {ABLATION_VARIANTS.map((v) => (
          <label
            key={v.id}
            title={`selection ${v.selection}, mix ${v.mix}, ${v.resolutions === 'multi' ? 'two resolutions' : 'one resolution'}`}
          >
            <input
              type="checkbox"
              checked={chosen.has(v.id)}
              onChange={() => toggle(v.id)}
              data-testid={`ablation-arm-${v.id}`}
            />{' '}
            {v.label}
          </label>
        ))}
      </fieldset>
      <div className="ablation-run">
        <label>
          Steps per arm{' '}
          <input
            type="text"
            inputMode="numeric"
            size={6}
            value={stepsText}
            onChange={(e) => setStepsText(e.target.value)}
            disabled={running}
            aria-invalid={stepsProblem !== null}
            aria-describedby={stepsProblem ? 'ablation-steps-problem' : undefined}
            data-testid="ablation-steps"
          />
        </label>{' '}
        {running ? (
          <button type="button" onClick={stopAblation} data-testid="ablation-stop">
            Stop
          </button>
        ) : (
          <button
            type="button"
            onClick={() => runAblation(arms, steps)}
            disabled={busy || arms.length === 0 || stepsProblem !== null}
            data-testid="ablation-run"
          >
            Run {arms.length} arm{arms.length === 1 ? '' : 's'}
          </button>
        )}{' '}
        <button
          type="button"
          onClick={downloadAblationCsv}
          disabled={!ablation || ablation.rows.length === 0}
          data-testid="ablation-csv"
        >
          Download CSV
        </button>
        {stepsProblem && (
          <span id="ablation-steps-problem" className="hint warn" role="status">
            {' '}
            {stepsProblem}
          </span>
        )}
        {arms.length === 0 && (
          <span className="hint warn" role="status">
            {' '}
            Choose at least one arm.
          </span>
        )}
      </div>
      {ablation && (
        <p className={ablation.status === 'failed' ? 'hint warn' : 'hint'} role="status" data-testid="ablation-status">
          {ablation.status === 'running' &&
            (current
              ? `Arm ${current.index + 1} of ${ablation.arms.length}, ${currentLabel}: step ${current.step} of ${ablation.steps}.`
              : ablation.arms.length === 0
                ? 'Starting…'
                : ablation.baseline === null
                  ? 'Raw-pixel baseline…'
                  : `${ablation.rows.length} of ${ablation.arms.length} arms done; evaluating or setting up the next…`)}
          {ablation.status === 'done' && `Done: ${ablation.rows.length} arms × ${ablation.steps} steps.`}
          {(ablation.status === 'stopped' || ablation.status === 'failed') && ablation.message}
        </p>
      )}
      {ablation && ablation.rows.length > 0 && (
        <table className="eval-table" data-testid="ablation-table">
          <thead>
            <tr>
              <th scope="col">arm</th>
              <th scope="col">kNN top-1</th>
              <th scope="col">linear top-1</th>
              <th
                scope="col"
                title="Share of chosen positives with the anchor's label, mean over the steps after CLIM's warm-up"
              >
                selection precision
              </th>
              <th scope="col" title="Share of anchors that kept at least one positive">
                coverage
              </th>
              <th scope="col">time</th>
            </tr>
          </thead>
          <tbody>
            {ablation.rows.map((r) => (
              <tr key={r.id} data-arm={r.id}>
                <th scope="row">{r.label}</th>
                <td>{pct(r.knnTop1)}</td>
                <td>{pct(r.linearTop1)}</td>
                <td>{pct(r.precision)}</td>
                <td>{pct(r.coverage)}</td>
                <td>{fixed(r.seconds, 0)} s</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {ablation?.baseline && (
        <p className="hint" data-testid="ablation-baseline">
          Raw-pixel kNN baseline (same split, k = {ablation.baseline.k}, τ = {ablation.baseline.tau}):{' '}
          {pct(ablation.baseline.knnTop1)} top-1.
        </p>
      )}
    </figure>
  );
}
