/**
 * Headless runner: the same src/core engine as the browser worker, in Node.
 *
 *   npm run train -- --dataset shapes --steps 200 --backend wasm --seed 1 --out run.json
 *   npm run train -- --dataset path/to/folder-or.zip --fit pad --holdout 0.2
 *
 * Writes a JSON report (fields documented in README, kept stable). A folder
 * or .zip goes through the browser's upload pipeline (src/io/load-images.ts:
 * the same layout rules, duplicate and size checks and skip report), with
 * PNG/JPEG decoded by `NodeDecoder`; the report goes to stderr so stdout
 * stays the training log.
 *
 *   npm run train -- --ablation --dataset fashion-mnist --steps 600 --out r.json --csv r.csv --md r.md
 *
 * runs the ablation report instead (src/cli/ablation.ts, src/core/ablation.ts).
 *
 *   npm run train -- --config c.json --steps 300 --save-run a.climrun
 *   npm run train -- --resume a.climrun --steps 600 --save-run b.climrun
 *
 * writes and continues the app's run files (save-run.ts).
 * Flags live in args.ts, the data sets in datasets.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { ClimConfig } from '../core/config';
import { CheckpointError, type Checkpoint } from '../core/checkpoint';
import { chartsFromApp } from '../core/run-file-app';
import { Trainer } from '../core/train';
import type { Dataset } from '../core/data/dataset';
import type { EvalResult, StepMetrics } from '../core/api';
import { EXPORT_FILE_PATHS, writeRunExports } from './export-files';
import { OutputPathError, OutputWriteError, checkOutputDir, checkOutputFile, ioMessage } from './output-paths';
import { escapeControl, escapeJsonControl } from '../core/text';
import { DatasetPathError } from './decode-node';
import { runAblation } from './ablation';
import type { LoadSummary } from './load-summary';
import type { RuleStats } from '../core/clim/rule-comparison';
import { CALIBRATION_STEPS, TimeBudget } from './time-budget';
import { WeightsFileError, decodeWeights, encodeWeights, type WeightsFile } from '../core/weights-file';
import { HELP, UsageError, parseCli, type CliOptions } from './args';
import { NoImagesError, loadDataset, loadFolderDataset } from './datasets';
import {
  RunFileUseError,
  assertResumeData,
  datasetSourceOf,
  encodeRunFile,
  readResumeFile,
  resumeBuiltin,
} from './save-run';
import type { DatasetChoice } from './args';

export interface RunReport {
  version: 1;
  config: ClimConfig;
  backend: string;
  dataset: { id: string; train: number; test: number; labelled: boolean };
  /** Present for a folder or .zip data set. */
  load?: LoadSummary;
  /** Every step of the run; with --resume the file's history (as the app kept it) first, then this part's steps. */
  history: Array<
    Pick<
      StepMetrics,
      'step' | 'loss' | 'lossAnchor' | 'lossPositive' | 'lr' | 'ms' | 'imagesPerSecond' | 'coverage' | 'precision'
    >
  >;
  /**
   * The last evaluation. With --full-eval or --export it also has the linear
   * probe, alignment/uniformity and cluster agreement (null otherwise).
   */
  eval: { step: number; knnTop1: number | null; initialKnnTop1: number | null } & Pick<
    EvalResult,
    'linearTop1' | 'alignment' | 'uniformity' | 'clusterPurity' | 'clusterNmi' | 'clusterAri'
  >;
  /**
   * Every selection rule on the final bank and clusters, over the same probe
   * anchors (rule-comparison.ts): precision of the kept set (null without
   * labels) and its mean size. Null before the first k-means.
   */
  ruleComparison: Array<Pick<RuleStats, 'rule' | 'precision' | 'keptPerAnchor' | 'coverage'>> | null;
  /**
   * Every evaluation of the run (start, every --eval-every steps or --eval-minutes, end) with its training
   * time; with --resume the file's first (their times summed from its history's step times).
   */
  evals: Array<{ step: number; seconds: number; knnTop1: number | null; linearTop1: number | null }>;
  /**
   * The run reached config.totalSteps, the end of its learning-rate schedule: what the app calls a finished run
   * (issue 19). False when --minutes, or --steps short of totalSteps (a --config that sets it), stopped it earlier.
   */
  finished: boolean;
  /** --export: the files written (model, Embedding Projector set, CSVs, config). */
  exported?: string[];
  /** Outputs that failed to write at the end (one line each, as printed); absent when every write succeeded. */
  writeErrors?: string[];
  wallSeconds: number;
}

/** `log` takes the training log (stdout), `warn` the data report and decode rate (stderr). Null for --help and --ablation (which writes its own report). */
export async function run(
  argv: string[],
  log: (s: string) => void = (s) => console.log(s),
  warn: (s: string) => void = (s) => console.error(s),
): Promise<RunReport | null> {
  const opts = parseCli(argv);
  if (opts.help) {
    log(HELP);
    return null;
  }
  checkOutputs(opts);
  // The run file before its data set: a bad file fails fast, and its settings size the data.
  const resumed = opts.resume !== undefined ? readResumeFile(opts.resume) : undefined;
  const config: ClimConfig = resumed
    ? { ...resumed.meta.config, resolutions: [...resumed.meta.config.resolutions] }
    : opts.config;
  // Data before the backend: a folder with nothing usable fails fast, before any tfjs set-up.
  let data: Dataset;
  let load: LoadSummary | undefined;
  let choice: DatasetChoice = opts.dataset;
  if ('path' in opts.dataset) {
    const size = Math.max(...config.resolutions);
    ({ data, load } = await loadFolderDataset(
      opts.dataset.path,
      { size, fit: opts.fit, holdout: opts.holdout, seed: config.seed },
      warn,
    ));
  } else if (resumed) {
    const got = resumeBuiltin(opts.resume!, resumed, opts.datasetGiven ? opts.dataset.name : undefined);
    data = got.data;
    choice = { name: got.name };
  } else {
    data = loadDataset(opts.dataset.name, config.seed);
  }
  if (resumed) assertResumeData(opts.resume!, resumed, data, datasetLabel(choice, opts.datasetGiven));
  if (opts.ablation) {
    await runAblation(
      {
        data,
        load,
        config: opts.config,
        steps: opts.steps,
        backend: opts.backend,
        arms: opts.ablationArms,
        out: opts.out,
        csv: opts.csv,
        md: opts.md,
        quiet: opts.quiet,
      },
      log,
    );
    return null;
  }
  const init = opts.initWeights !== undefined ? readWeights(opts.initWeights) : undefined;
  await tf.setBackend(opts.backend);
  await tf.ready();
  const started = Date.now();
  const trainer = resumed ? await restore(opts.resume!, resumed, data) : await Trainer.create(config, data, { init });
  try {
    const startStep = trainer.step;
    // A resumed run stops at --steps counted from its start, else where its own schedule ends.
    let steps = resumed && !opts.stepsGiven ? (opts.minutes !== undefined ? Infinity : config.totalSteps) : opts.steps;
    if (resumed && opts.stepsGiven && steps > startStep && steps !== config.totalSteps) {
      // A finished run goes on as the page's "Train N more steps" does: a new warm-up and cosine segment
      // from its last step (docs/METHOD.md §1.5); an unfinished one has its schedule stretched to --steps.
      if (startStep >= config.totalSteps) config.scheduleStart = startStep;
      config.totalSteps = Math.max(1, steps);
      trainer.updateLive({ totalSteps: config.totalSteps, scheduleStart: config.scheduleStart });
    }
    // The file's charts carry on: the whole run's history and evaluations, as the page shows them after an import.
    const prior = resumed ? chartsFromApp(resumed.meta.app) : { history: [], evals: [] };
    const priorSeconds = (step: number) =>
      prior.history.reduce((a, h) => (h.step <= step && Number.isFinite(h.ms) ? a + h.ms : a), 0) / 1000;
    /** Training time of the file's part (s): the start of this part's clock in the report's evals. */
    const offsetSeconds = resumed ? priorSeconds(startStep) : 0;
    const start = await trainer.evaluate();
    if (!opts.quiet)
      log(
        `backend=${tf.getBackend()} dataset=${escapeControl(data.id)} train=${data.train.n} test=${data.test.n} ${resumed ? `resumed at step ${startStep} of ${escapeControl(opts.resume!)} ` : ''}kNN@${startStep}=${fmt(start.knnTop1)}`,
      );
    const history: RunReport['history'] = prior.history.map(reported);
    // Every step's full metrics and every evaluation, for --export's metrics.csv and evals.csv and --save-run.
    const metrics: StepMetrics[] = [...prior.history];
    const evals: EvalResult[] = [...prior.evals];
    const evalSeconds: number[] = prior.evals.map((e) => priorSeconds(e.step));
    // A file whose last evaluation is of its last step (the runner's are) is not measured twice in the report.
    if (!evals.some((e) => e.step === startStep)) {
      evals.push(start);
      evalSeconds.push(offsetSeconds);
    }
    /** Training time so far (ms): steps only, evaluations not counted, so --minutes means the same with or without them. */
    let trainMs = 0;
    const budget = new TimeBudget(opts.minutes, opts.evalMinutes);
    const evaluate = async (full: boolean) => {
      const e = await trainer.evaluate({ full });
      evals.push(e);
      evalSeconds.push(offsetSeconds + trainMs / 1000);
      return e;
    };
    const source = datasetSourceOf(choice, data, config.seed, resumed);
    const saveRunFile = async () =>
      writeFileSync(opts.saveRun!, await encodeRunFile(trainer, { history: metrics, evals }, source));
    while (trainer.step < steps && !budget.spent(trainMs)) {
      const m = await trainer.trainStep();
      if (!Number.isFinite(m.loss)) throw new Error(`loss became ${m.loss} at step ${m.step}`);
      trainMs += m.ms;
      metrics.push(m);
      history.push(reported(m));
      if (opts.calibrate && m.step === CALIBRATION_STEPS) {
        const total = budget.scheduleSteps(
          metrics.map((x) => x.ms),
          m.step,
        );
        trainer.updateLive({ totalSteps: total });
        config.totalSteps = total;
        steps = total;
        if (!opts.quiet)
          log(
            `calibrated: ${(trainMs / m.step).toFixed(1)} ms per step over ${m.step} steps → totalSteps ${total} for ${opts.minutes} min`,
          );
      }
      const last = budget.spent(trainMs) || m.step >= steps;
      if (!opts.quiet && (m.step % 10 === 0 || m.step === 1)) {
        log(
          `step ${m.step}/${Number.isFinite(steps) ? steps : '?'} loss ${m.loss.toFixed(4)} lr ${m.lr.toFixed(4)} ${m.ms.toFixed(0)} ms (${m.imagesPerSecond.toFixed(0)} img/s) coverage ${m.coverage.toFixed(2)} precision ${fmt(m.precision)}`,
        );
      }
      if (last) continue;
      if (opts.saveEvery && m.step % opts.saveEvery === 0) {
        // A failed write here costs only this copy: the run goes on, and the write at the end reports its own outcome.
        try {
          await saveRunFile();
        } catch (e) {
          warn(`warning: --save-run ${escapeControl(opts.saveRun!)} at step ${m.step}: ${escapeControl(ioMessage(e))}`);
        }
      }
      if (budget.evalDue(trainMs)) {
        const e = await evaluate(true);
        if (!opts.quiet)
          log(
            `${(trainMs / 60000).toFixed(1)} min, step ${m.step}: kNN top-1 ${fmt(e.knnTop1)}, linear top-1 ${fmt(e.linearTop1)}`,
          );
      } else if (opts.evalEvery && m.step % opts.evalEvery === 0) {
        const e = await evaluate(false);
        if (!opts.quiet) log(`step ${m.step} kNN top-1 ${fmt(e.knnTop1)}`);
      }
    }
    const ran = trainer.step > startStep;
    const final = ran || opts.fullEval ? await evaluate(opts.fullEval || opts.evalMinutes !== undefined) : start;
    const initial = evals.find((e) => e.step === 0) ?? null;
    const rules = await trainer.ruleComparison();
    // Each output on its own: one that fails (disk full, a path changed since
    // the checks) costs that file only, and the report says which.
    const writeErrors: string[] = [];
    if (opts.saveWeights !== undefined) {
      const w = await trainer.weightsFile({ knnTop1: final.knnTop1, linearTop1: final.linearTop1 });
      try {
        writeFileSync(opts.saveWeights, encodeWeights(w));
        if (!opts.quiet) log(`saved the encoder's weights to ${escapeControl(opts.saveWeights)}`);
      } catch (e) {
        writeErrors.push(`--save-weights ${opts.saveWeights}: ${ioMessage(e)}`);
      }
    }
    if (opts.saveRun !== undefined) {
      try {
        await saveRunFile();
        if (!opts.quiet) log(`saved the run (step ${trainer.step}) to ${escapeControl(opts.saveRun)}`);
      } catch (e) {
        writeErrors.push(`--save-run ${opts.saveRun}: ${ioMessage(e)}`);
      }
    }
    let exported: string[] | undefined;
    if (opts.exportDir) {
      try {
        exported = await writeRunExports(opts.exportDir, { trainer, data, history: metrics, evals });
        if (!opts.quiet) log(`exported ${exported.length} files to ${escapeControl(opts.exportDir)}`);
      } catch (e) {
        writeErrors.push(`--export ${opts.exportDir}: ${ioMessage(e)}`);
      }
    }
    const report: RunReport = {
      version: 1,
      config,
      backend: tf.getBackend(),
      dataset: { id: data.id, train: data.train.n, test: data.test.n, labelled: data.train.labels !== null },
      ...(load ? { load } : {}),
      history,
      eval: {
        step: final.step,
        knnTop1: final.knnTop1,
        initialKnnTop1: initial?.knnTop1 ?? null,
        linearTop1: final.linearTop1,
        alignment: final.alignment,
        uniformity: final.uniformity,
        clusterPurity: final.clusterPurity,
        clusterNmi: final.clusterNmi,
        clusterAri: final.clusterAri,
      },
      finished: trainer.step >= config.totalSteps,
      ruleComparison: rules
        ? rules.rules.map((r) => ({
            rule: r.rule,
            precision: r.precision,
            keptPerAnchor: r.keptPerAnchor,
            coverage: r.coverage,
          }))
        : null,
      evals: evals.map((e, i) => ({
        step: e.step,
        seconds: evalSeconds[i],
        knnTop1: e.knnTop1,
        linearTop1: e.linearTop1,
      })),
      ...(exported ? { exported } : {}),
      ...(writeErrors.length ? { writeErrors: [...writeErrors] } : {}),
      wallSeconds: (Date.now() - started) / 1000,
    };
    if (opts.out) {
      try {
        // Separators and bidi controls in names as JSON's own \u escapes: nothing in the file
        // displays misleadingly, and JSON.parse still gives the exact paths back.
        writeFileSync(opts.out, escapeJsonControl(JSON.stringify(report, null, 1)));
      } catch (e) {
        writeErrors.push(`--out ${opts.out}: ${ioMessage(e)}`);
      }
    }
    // This part's steps: a resumed run's earlier ones ran elsewhere, maybe on another machine.
    const part = history.slice(history.length - (trainer.step - startStep));
    const firstN = part.slice(0, 20);
    const lastN = part.slice(-20);
    const mean = (h: typeof history) => (h.length ? h.reduce((a, b) => a + b.loss, 0) / h.length : NaN);
    const medianMs = part.length ? [...part.map((h) => h.ms)].sort((a, b) => a - b)[Math.floor(part.length / 2)] : NaN;
    log(
      `done: ${part.length} steps${resumed ? ` (steps ${startStep + 1}–${trainer.step})` : ''} in ${report.wallSeconds.toFixed(1)} s, median ${medianMs.toFixed(0)} ms/step; loss first20 ${mean(firstN).toFixed(4)} last20 ${mean(lastN).toFixed(4)}; kNN top-1 ${fmt(start.knnTop1)} → ${fmt(final.knnTop1)}${opts.fullEval ? `, linear top-1 ${fmt(final.linearTop1)}` : ''}${opts.out && !writeErrors.some((w) => w.startsWith('--out ')) ? `; report ${escapeControl(opts.out)}` : ''}`,
    );
    if (writeErrors.length) throw new RunOutputError(writeErrors, report);
    return report;
  } finally {
    trainer.dispose();
  }
}

/** The fields of a step the report keeps. */
function reported(m: StepMetrics): RunReport['history'][number] {
  return {
    step: m.step,
    loss: m.loss,
    lossAnchor: m.lossAnchor,
    lossPositive: m.lossPositive,
    lr: m.lr,
    ms: m.ms,
    imagesPerSecond: m.imagesPerSecond,
    coverage: m.coverage,
    precision: m.precision,
  };
}

/** How a mismatch message names the data set the user gave (or the one the file named). */
function datasetLabel(choice: DatasetChoice, given: boolean): string {
  const what = 'path' in choice ? choice.path : choice.name;
  return given ? `--dataset ${what}` : `the file's own ${what}`;
}

/** The trainer in the file's state; a file whose tensors do not fit its settings is the file's fault, one line. */
async function restore(path: string, ck: Checkpoint, data: Dataset): Promise<Trainer> {
  try {
    return await Trainer.restore(ck, data);
  } catch (e) {
    if (e instanceof CheckpointError) throw new RunFileUseError(`--resume ${path}: ${e.message}`);
    throw e;
  }
}

/** A weights file from disk, checked (weights-file.ts); an unreadable or bad file is a one-line error. */
function readWeights(path: string): WeightsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UsageError(`--init-weights ${path}: ${(e as Error).message}`);
  }
  try {
    return decodeWeights(bytes);
  } catch (e) {
    throw new UsageError(`--init-weights ${path}: ${(e as Error).message}`);
  }
}

/** Some outputs of a finished run failed to write; `report` is the run's report all the same (written to --out unless that failed too). */
export class RunOutputError extends OutputWriteError {
  constructor(
    failures: readonly string[],
    readonly report: RunReport,
  ) {
    super(failures);
  }
}

/** Every output path of the run, checked before the data is read and the first step is taken. */
function checkOutputs(opts: CliOptions): void {
  if (opts.out !== undefined) checkOutputFile('--out', opts.out);
  if (opts.saveWeights !== undefined) checkOutputFile('--save-weights', opts.saveWeights);
  if (opts.saveRun !== undefined) checkOutputFile('--save-run', opts.saveRun);
  if (opts.exportDir !== undefined) checkOutputDir('--export', opts.exportDir, EXPORT_FILE_PATHS);
  if (opts.csv !== undefined) checkOutputFile('--csv', opts.csv);
  if (opts.md !== undefined) checkOutputFile('--md', opts.md);
}

function fmt(v: number | null): string {
  return v === null ? 'n/a' : v.toFixed(4);
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '');
if (isMain) {
  // Messages repeat paths and values as given: escaped, so a newline in one cannot add a line.
  run(process.argv.slice(2)).catch((e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`error: ${escapeControl(e.message)} (see --help)`);
      process.exit(2);
    }
    if (
      e instanceof DatasetPathError ||
      e instanceof NoImagesError ||
      e instanceof WeightsFileError ||
      e instanceof RunFileUseError ||
      e instanceof OutputPathError
    ) {
      console.error(`error: ${escapeControl(e.message)}`);
      process.exit(2);
    }
    if (e instanceof OutputWriteError) {
      for (const f of e.failures) console.error(`error: ${escapeControl(f)}`);
      process.exit(1);
    }
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  });
}
