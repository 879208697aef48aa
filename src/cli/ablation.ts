/**
 * `npm run train -- --ablation`: the Node side of the ablation report
 * (src/core/ablation.ts). Trains every chosen arm on the same data, seed and
 * step budget one after another, logs each arm's progress and row, computes
 * the raw-pixel kNN baseline on the same split, and writes the JSON report
 * (every row, the baseline, the configs, the backend, timings and per-step
 * curves), the CSV table and the Markdown table.
 *
 *   npm run train -- --ablation --dataset fashion-mnist --steps 600 \
 *     --out report.json --csv table.csv --md table.md [--ablation-arms moco-v2,center-wise]
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { ClimConfig } from '../core/config';
import type { Dataset } from '../core/data/dataset';
import {
  ablationConfigs,
  ablationCsv,
  ablationMarkdown,
  rawPixelKnn,
  runAblationArm,
  type AblationArm,
  type AblationBaseline,
  type AblationRow,
} from '../core/ablation';
import type { LoadSummary } from './load-summary';
import { OutputWriteError, ioMessage } from './output-paths';
import { escapeControl, escapeJsonControl } from '../core/text';

export interface AblationRunOptions {
  data: Dataset;
  /** Present for a folder or .zip data set. */
  load?: LoadSummary;
  /** Base config of every arm; its totalSteps is set to `steps`. */
  config: ClimConfig;
  steps: number;
  backend: 'wasm' | 'cpu';
  /** Arm ids (src/core/ablation.ts ABLATION_IDS); all when undefined. */
  arms?: string[];
  out?: string;
  csv?: string;
  md?: string;
  /** Only the per-arm result lines and the table. */
  quiet?: boolean;
}

/** Per-step curves of one arm, as arrays (JSON-compact). */
export interface AblationCurve {
  loss: number[];
  precision: Array<number | null>;
  coverage: number[];
  ms: number[];
}

export interface AblationReport {
  version: 1;
  kind: 'ablation';
  dataset: { id: string; train: number; test: number; labelled: boolean };
  load?: LoadSummary;
  backend: string;
  host: { cpus: number; model: string; node: string };
  steps: number;
  /** The base config (selection, mix and resolutions vary per arm, see `arms`). */
  config: ClimConfig;
  arms: AblationArm[];
  rows: AblationRow[];
  baseline: AblationBaseline & { seconds: number };
  curves: Record<string, AblationCurve>;
  startedAt: string;
  wallSeconds: number;
}

const fmt = (v: number | null, d = 4): string => (v === null ? 'n/a' : v.toFixed(d));

/** Runs the ablation and writes the files it was asked for; `log` gets the progress lines and the Markdown table. */
export async function runAblation(opts: AblationRunOptions, log: (s: string) => void): Promise<AblationReport> {
  const base: ClimConfig = {
    ...opts.config,
    resolutions: [...opts.config.resolutions],
    totalSteps: Math.max(1, opts.steps),
    // Each arm is a fresh run: one warm-up and cosine over its budget (§1.5).
    scheduleStart: 0,
  };
  // Before any set-up, so a bad arm id fails at once.
  const arms = ablationConfigs(base, opts.arms);
  await tf.setBackend(opts.backend);
  await tf.ready();
  const started = Date.now();
  const { data } = opts;
  log(
    `ablation: ${arms.length} arm${arms.length === 1 ? '' : 's'} × ${opts.steps} steps on ${escapeControl(data.id)} (train ${data.train.n}, test ${data.test.n}), backend ${tf.getBackend()}, seed ${base.seed}, CLIM warm-up ${base.climWarmupSteps} steps`,
  );

  const tb = Date.now();
  const baselineTop1 = await rawPixelKnn(data, base.evalK, base.evalTemperature);
  const baseline = {
    knnTop1: baselineTop1,
    k: base.evalK,
    tau: base.evalTemperature,
    seconds: (Date.now() - tb) / 1000,
  };
  log(
    `raw-pixel kNN baseline (k=${baseline.k}, τ=${baseline.tau}): top-1 ${fmt(baselineTop1)} (${baseline.seconds.toFixed(1)} s)`,
  );

  const rows: AblationRow[] = [];
  const curves: Record<string, AblationCurve> = {};
  for (const [i, arm] of arms.entries()) {
    const curve: AblationCurve = { loss: [], precision: [], coverage: [], ms: [] };
    curves[arm.id] = curve;
    const every = Math.max(1, Math.round(opts.steps / 10));
    if (!opts.quiet)
      log(
        `[${i + 1}/${arms.length}] ${arm.id}: selection ${arm.config.selection}, mix ${arm.config.mix}, resolutions ${arm.config.resolutions.join('+')}`,
      );
    const row = await runAblationArm(arm, data, opts.steps, {
      onStep: (m) => {
        curve.loss.push(m.loss);
        curve.precision.push(m.precision);
        curve.coverage.push(m.coverage);
        curve.ms.push(m.ms);
        if (!opts.quiet && (m.step % every === 0 || m.step === 1)) {
          log(
            `  step ${m.step}/${opts.steps} loss ${m.loss.toFixed(4)} ${m.ms.toFixed(0)} ms precision ${fmt(m.precision)} coverage ${m.coverage.toFixed(2)}`,
          );
        }
      },
    });
    rows.push(row);
    const sorted = [...curve.ms].sort((a, b) => a - b);
    const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
    log(
      `[${i + 1}/${arms.length}] ${arm.id}: kNN ${fmt(row.knnTop1)} linear ${fmt(row.linearTop1)} precision ${fmt(row.precision)} coverage ${fmt(row.coverage, 2)} loss ${fmt(row.finalLoss)} NMI ${fmt(row.clusterNmi, 3)}; ${row.seconds.toFixed(1)} s (median ${median.toFixed(0)} ms/step)`,
    );
    // Each arm writes the files so far: a long run interrupted keeps what it finished.
    // A failed write here is retried after the next arm; only the final one counts.
    writeFiles(opts, report());
  }

  function report(): AblationReport {
    return {
      version: 1,
      kind: 'ablation',
      dataset: { id: data.id, train: data.train.n, test: data.test.n, labelled: data.train.labels !== null },
      ...(opts.load ? { load: opts.load } : {}),
      backend: tf.getBackend(),
      host: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
      steps: opts.steps,
      config: base,
      arms,
      rows,
      baseline,
      curves,
      startedAt: new Date(started).toISOString(),
      wallSeconds: (Date.now() - started) / 1000,
    };
  }

  const final = report();
  const failures = writeFiles(opts, final);
  log(ablationMarkdown(rows, baseline).trimEnd());
  const wrote = [opts.out, opts.csv, opts.md].filter(
    (p): p is string => p !== undefined && !failures.some((f) => f.path === p),
  );
  log(
    `ablation done in ${final.wallSeconds.toFixed(1)} s${wrote.length ? `; wrote ${wrote.map(escapeControl).join(', ')}` : ''}`,
  );
  if (failures.length) throw new OutputWriteError(failures.map((f) => f.line));
  return final;
}

/** Writes each requested file on its own, so one that fails leaves the others written; returns the failures, one line each. */
function writeFiles(opts: AblationRunOptions, r: AblationReport): Array<{ path: string; line: string }> {
  const failures: Array<{ path: string; line: string }> = [];
  const outputs: Array<[flag: string, path: string | undefined, text: () => string]> = [
    ['--out', opts.out, () => escapeJsonControl(JSON.stringify(r, null, 1))],
    ['--csv', opts.csv, () => ablationCsv(r.rows)],
    ['--md', opts.md, () => ablationMarkdown(r.rows, r.baseline)],
  ];
  for (const [flag, path, text] of outputs) {
    if (!path) continue;
    try {
      writeFileSync(path, text());
    } catch (e) {
      failures.push({ path, line: `${flag} ${path}: ${ioMessage(e)}` });
    }
  }
  return failures;
}
