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
 */
import { parseArgs } from 'node:util';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'fflate';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  CENTRE_THRESHOLDS,
  MIX_MODES,
  SELECTION_MODES,
  defaultConfig,
  describeValue,
  mergeConfigFields,
  validateConfig,
  type ClimConfig,
} from '../core/config';
import { Trainer } from '../core/train';
import { makeShapesDataset } from '../core/data/shapes';
import { parseFashionMnist } from '../core/data/fashion-mnist';
import type { Dataset } from '../core/data/dataset';
import type { EvalResult, StepMetrics } from '../core/api';
import { EXPORT_FILE_PATHS, writeRunExports } from './export-files';
import { OutputPathError, OutputWriteError, checkOutputDir, checkOutputFile, ioMessage } from './output-paths';
import { escapeControl, escapeJsonControl } from '../core/text';
import { IMAGE_EXTENSIONS, assembleDataset } from '../core/data/folder';
import { formatReport } from '../core/data/upload';
import { DEFAULT_MAX_PIXELS, loadImages, type Fit } from '../io/load-images';
import { isZipName } from '../io/zip';
import { DatasetPathError, NodeDecoder, nodeFiles } from './decode-node';
import { ABLATION_DEFAULT_STEPS, ABLATION_IDS, ablationBaseConfig } from '../core/ablation';
import { runAblation } from './ablation';
import type { LoadSummary } from './load-summary';
import type { RuleStats } from '../core/clim/rule-comparison';
import { CALIBRATION_STEPS, TimeBudget } from './time-budget';
import { DATASETS as BUILTIN_DATASETS, type DatasetName } from '../worker/protocol';
import {
  WEIGHTS_FILE_EXTENSION,
  WeightsFileError,
  decodeWeights,
  encodeWeights,
  type WeightsFile,
} from '../core/weights-file';

const BACKENDS = ['wasm', 'cpu'] as const;
/** The built-in sets (worker/protocol.ts), the runner's default first. */
const DATASETS: readonly DatasetName[] = ['shapes', ...BUILTIN_DATASETS.filter((d) => d !== 'shapes')];
const FITS = ['crop', 'pad'] as const;
/** A built-in set by name, or the path of an image folder or .zip. */
export type DatasetChoice = { name: DatasetName } | { path: string };
/** Held-out fraction of a labelled folder when --holdout is not given (the page's default too). */
export const DEFAULT_HOLDOUT = 0.1;

/** The committed data files the page serves (`public/datasets/`), read from the repository. */
export const DATASET_DIR = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'public', 'datasets');

/** Builds or reads a built-in data set; `shapes` depends on the seed, `fashion-mnist` is a fixed file. */
export function loadDataset(name: DatasetName, seed: number): Dataset {
  if (name === 'shapes') return makeShapesDataset({ seed });
  const file = join(DATASET_DIR, 'fashion-mnist.bin');
  let gz: Uint8Array;
  try {
    gz = readFileSync(file);
  } catch (e) {
    throw new Error(
      `cannot read the fashion-mnist data file ${file} (${(e as Error).message}); it is committed, or rebuild it with npm run data:fashion-mnist`,
    );
  }
  return parseFashionMnist(gunzipSync(gz));
}

class UsageError extends Error {}

/** Nothing in the folder or .zip decoded; the report lines are already printed. */
export class NoImagesError extends Error {}

export interface FolderLoadOptions {
  /** Side S of the stored images: the largest crop resolution, so no crop is upsampled from a smaller copy. */
  size: number;
  fit: Fit;
  /** Held-out fraction for a labelled set; an unlabelled one holds out nothing (there is nothing to evaluate). */
  holdout: number;
  seed: number;
}

/** What the JSON report records about a folder or .zip load (load-summary.ts). */
export type { LoadSummary };

/**
 * Reads, checks and decodes an image folder or .zip into a data set, and
 * prints the upload report and the decode rate through `warn`. Throws
 * `DatasetPathError` for a path that is not a folder or readable zip and
 * `NoImagesError` when no image decoded (after printing the report, which
 * says why).
 */
export async function loadFolderDataset(
  path: string,
  opts: FolderLoadOptions,
  warn: (s: string) => void,
): Promise<{ data: Dataset; load: LoadSummary }> {
  const { name, files } = await nodeFiles(path);
  const r = await loadImages(files, new NodeDecoder(), {
    size: opts.size,
    fit: opts.fit,
    maxPixels: DEFAULT_MAX_PIXELS,
  });
  // File and label names come from the disk: a tab or newline in one must not split or fake a report line.
  for (const line of formatReport(r.report)) warn(escapeControl(line));
  const n = r.plan.candidates.length;
  const seconds = r.ms / 1000;
  warn(
    `decode: ${n} image file${n === 1 ? '' : 's'} read and decoded in ${seconds.toFixed(2)} s, ${(n / Math.max(seconds, 1e-3)).toFixed(0)} images/s (${opts.size}×${opts.size}, fit ${opts.fit})`,
  );
  if (r.report.loaded === 0) {
    throw new NoImagesError(
      `no decodable image in ${path}${n === 0 ? ` (no file has an image extension: ${IMAGE_EXTENSIONS.join(', ')})` : ''}`,
    );
  }
  const fraction = r.labels ? opts.holdout : 0;
  if (r.labels && fraction === 0)
    warn('note: --holdout 0 keeps every image for training, so there is no kNN evaluation');
  const data = assembleDataset({
    name,
    size: opts.size,
    images: r.images,
    labels: r.labels,
    classNames: r.classNames,
    fraction,
    seed: opts.seed,
  });
  const load: LoadSummary = {
    path,
    fit: opts.fit,
    files: r.report.files,
    loaded: r.report.loaded,
    hidden: r.report.hiddenCount,
    skipped: r.report.countsByKind,
    seconds,
  };
  return { data, load };
}

export interface RunReport {
  version: 1;
  config: ClimConfig;
  backend: string;
  dataset: { id: string; train: number; test: number; labelled: boolean };
  /** Present for a folder or .zip data set. */
  load?: LoadSummary;
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
  /** Every evaluation of the run (start, every --eval-every steps or --eval-minutes, end) with its wall time. */
  evals: Array<{ step: number; seconds: number; knnTop1: number | null; linearTop1: number | null }>;
  /** --export: the files written (model, Embedding Projector set, CSVs, config). */
  exported?: string[];
  /** Outputs that failed to write at the end (one line each, as printed); absent when every write succeeded. */
  writeErrors?: string[];
  wallSeconds: number;
}

const HELP = `Usage: npm run train -- [options]
  --dataset NAME|PATH         built-in data set shapes (default) or fashion-mnist, or the path of
                              an image folder or .zip (PNG and JPEG; one subfolder per label, or
                              none for unlabelled images; write ./shapes for a folder named shapes)
  --fit crop|pad              folder/.zip: square the images by a centre crop (default) or black padding
  --holdout F                 folder/.zip: fraction of each label held out for kNN evaluation,
                              0 to 0.9 (default 0.1; unlabelled sets hold out nothing)
  --steps N                   training steps (default 200; 0 evaluates the untrained encoder)
  --backend wasm|cpu          tfjs backend (default wasm)
  --seed N                    seed of every random draw (default 1)
  --out FILE                  write the JSON report here
  --config FILE               JSON with config fields overriding the defaults
  --selection none|knn|cluster|center-wise
  --threshold anchor|cluster-mean
  --mix none|cutmix|mixup
  --eval-every N              also evaluate every N steps (default: start and end only)
  --minutes M                 train for M minutes of training time (evaluations not counted); without
                              --steps the cosine schedule's length (totalSteps) is set from the mean
                              step time of the first ${CALIBRATION_STEPS} steps so it ends with the budget
  --eval-minutes E            also evaluate (kNN and linear probe) every E minutes of training time
  --init-weights FILE         start from a trained encoder (a ${WEIGHTS_FILE_EXTENSION} file, e.g. public/models/):
                              both encoders load it, then the bank is embedded and clustered with it;
                              an encoder of another shape is refused with the reason
  --save-weights FILE         at the end, write the query encoder as a ${WEIGHTS_FILE_EXTENSION} file (with the final
                              kNN and linear top-1 it measured)
  --quiet                     print only the summary
  --full-eval                 end with the full evaluation: linear-probe top-1, alignment/uniformity,
                              cluster NMI/ARI/purity (seconds more)
  --export DIR                write the trained encoder (tfjs LayersModel), Embedding Projector files
                              (vectors, metadata, sprite, config), metrics.csv, evals.csv and
                              config.json under DIR, as the app's export zip has them (implies --full-eval)
  --ablation                  ablation report: train each arm (selection none/knn/cluster/center-wise
                              × mix none/cutmix, and CLIM with two resolutions) on the same data,
                              seed and --steps (default ${ABLATION_DEFAULT_STEPS}) one after another; print and write
                              kNN top-1, linear top-1 and selection precision per arm and the raw-pixel
                              kNN baseline. Base config: the fast-demo-cpu preset (+ --config, --seed,
                              --threshold); --selection and --mix are set per arm
  --ablation-arms A,B,…       only these arms, in this order: ${ABLATION_IDS.join(', ')}
  --csv FILE                  --ablation: write the table as CSV here
  --md FILE                   --ablation: write the table as Markdown here`;

function oneOf<T extends string>(flag: string, v: string | undefined, options: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!options.includes(v as T))
    throw new UsageError(`--${flag} must be one of ${options.join(', ')} (got ${describeValue(v)})`);
  return v as T;
}

/** A built-in name, else anything that looks like or is a path; a plain unknown word is a usage error. */
function datasetFlag(v: string | undefined): DatasetChoice {
  if (v === undefined) return { name: 'shapes' };
  if ((DATASETS as readonly string[]).includes(v)) return { name: v as DatasetName };
  if (/[\\/]/.test(v) || isZipName(v) || existsSync(v)) return { path: v };
  throw new UsageError(
    `--dataset must be one of ${DATASETS.join(', ')}, or a path to a folder or .zip (got ${describeValue(v)})`,
  );
}

/**
 * Digits, an optional point and digits. Number() alone would also take '',
 * ' ', '0x2', '1e2' and 'Infinity', so an empty --steps ran 0 steps silently.
 */
const DECIMAL_RE = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;
const INTEGER_RE = /^[0-9]+$/;

/** The value of a decimal flag, or NaN for anything but plain decimal digits (a sign included: the flags that take one are all ≥ 0). */
function decimal(v: string): number {
  return DECIMAL_RE.test(v) ? Number(v) : NaN;
}

function fractionFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = decimal(v);
  if (!Number.isFinite(x) || x < 0 || x > 0.9)
    throw new UsageError(`--${flag} must be a decimal number from 0 to 0.9 (got ${describeValue(v)})`);
  return x;
}

function positiveFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = decimal(v);
  if (!Number.isFinite(x) || x <= 0)
    throw new UsageError(`--${flag} must be a decimal number above 0, like 2.5 (got ${describeValue(v)})`);
  return x;
}

function intFlag(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = INTEGER_RE.test(v) ? Number(v) : NaN;
  // Above 2^53 − 1, 9007199254740993 would silently become …992.
  const tooBig = INTEGER_RE.test(v) && !Number.isSafeInteger(n) ? ` and at most ${Number.MAX_SAFE_INTEGER}` : '';
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${flag} must be a whole number ≥ ${min}${tooBig} (got ${describeValue(v)})`);
  return n;
}

const OPTIONS = {
  dataset: { type: 'string' },
  steps: { type: 'string' },
  backend: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  config: { type: 'string' },
  selection: { type: 'string' },
  threshold: { type: 'string' },
  mix: { type: 'string' },
  'eval-every': { type: 'string' },
  minutes: { type: 'string' },
  'eval-minutes': { type: 'string' },
  'init-weights': { type: 'string' },
  'save-weights': { type: 'string' },
  fit: { type: 'string' },
  holdout: { type: 'string' },
  quiet: { type: 'boolean' },
  'full-eval': { type: 'boolean' },
  export: { type: 'string' },
  ablation: { type: 'boolean' },
  'ablation-arms': { type: 'string' },
  csv: { type: 'string' },
  md: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `--flag VALUE` where VALUE starts with `-` as `--flag=VALUE`: parseArgs
 * calls `--steps -1` ambiguous and its message, cut to one line, lost the
 * hint, so the value's own check never spoke. A value that is another
 * option (`--steps --quiet`) or missing is named here instead.
 */
function joinDashValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : '';
    const takesValue = Object.hasOwn(OPTIONS, name) && OPTIONS[name as keyof typeof OPTIONS].type === 'string';
    if (!takesValue) {
      out.push(a);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined) throw new UsageError(`${a} needs a value`);
    if (next.startsWith('--') || next === '-h')
      throw new UsageError(
        `${a} needs a value (got the option ${describeValue(next)}; write ${a}=VALUE for a value that starts with -)`,
      );
    if (next.startsWith('-')) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function parseCli(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: joinDashValues(argv), options: OPTIONS, strict: true, allowPositionals: false });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  const v = parsed.values;
  const ablation = v.ablation ?? false;
  if (!ablation) {
    const only = (['ablation-arms', 'csv', 'md'] as const).find((f) => v[f] !== undefined);
    if (only) throw new UsageError(`--${only} applies to --ablation only`);
  } else {
    const fixed = (
      [
        'selection',
        'mix',
        'eval-every',
        'export',
        'full-eval',
        'minutes',
        'eval-minutes',
        'init-weights',
        'save-weights',
      ] as const
    ).find((f) => v[f] !== undefined);
    const why: Record<typeof fixed & string, string> = {
      selection: 'each arm sets it',
      mix: 'each arm sets it',
      'eval-every': 'each arm is evaluated once, at the end',
      export: 'it exports one run; use --out, --csv and --md for the table',
      'full-eval': 'each arm is evaluated in full already',
      minutes: 'every arm gets the same --steps',
      'eval-minutes': 'each arm is evaluated once, at the end',
      'init-weights': 'every arm starts from its own random encoder',
      'save-weights': 'it trains several encoders',
    };
    if (fixed) throw new UsageError(`--${fixed} cannot be used with --ablation: ${why[fixed]}`);
  }
  const ablationArms = v['ablation-arms']
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (ablationArms !== undefined) {
    const unknown = ablationArms.filter((a) => !ABLATION_IDS.includes(a));
    if (unknown.length)
      throw new UsageError(
        `--ablation-arms: unknown arm ${unknown.map((u) => describeValue(u)).join(', ')}; known: ${ABLATION_IDS.join(', ')}`,
      );
    if (ablationArms.length === 0) throw new UsageError('--ablation-arms needs at least one arm id');
    if (new Set(ablationArms).size !== ablationArms.length)
      throw new UsageError('--ablation-arms: an arm is listed twice');
  }
  let config = ablation ? ablationBaseConfig() : defaultConfig();
  let configSetsTotal = false;
  if (v.config) {
    let extra: unknown;
    try {
      extra = JSON.parse(readFileSync(v.config, 'utf8'));
    } catch (e) {
      throw new UsageError(`--config ${v.config}: ${(e as Error).message}`);
    }
    const merged = mergeConfigFields(config, extra);
    if (merged.problems.length) throw new UsageError(`--config ${v.config}: ${merged.problems.join('; ')}`);
    config = merged.config;
    configSetsTotal = Object.hasOwn(extra as object, 'totalSteps');
  }
  const seed = intFlag('seed', v.seed, 0);
  if (seed !== undefined) config.seed = seed;
  config.selection = oneOf('selection', v.selection, SELECTION_MODES) ?? config.selection;
  config.centerThreshold = oneOf('threshold', v.threshold, CENTRE_THRESHOLDS) ?? config.centerThreshold;
  config.mix = oneOf('mix', v.mix, MIX_MODES) ?? config.mix;
  const minutes = positiveFlag('minutes', v.minutes);
  const evalMinutes = positiveFlag('eval-minutes', v['eval-minutes']);
  // With --minutes alone the time decides when training stops.
  const steps =
    intFlag('steps', v.steps, 0) ?? (ablation ? ABLATION_DEFAULT_STEPS : minutes !== undefined ? Infinity : 200);
  if (v.steps !== undefined && !configSetsTotal) config.totalSteps = Math.max(1, steps);
  const issues = validateConfig(config);
  if (issues.length) throw new UsageError(issues.map((i) => i.message).join(' '));
  const dataset = datasetFlag(v.dataset);
  const fit = oneOf('fit', v.fit, FITS);
  const holdout = fractionFlag('holdout', v.holdout);
  if (!('path' in dataset) && (fit !== undefined || holdout !== undefined)) {
    throw new UsageError(
      `--${fit !== undefined ? 'fit' : 'holdout'} applies to a folder or .zip data set, not the built-in ${dataset.name}`,
    );
  }
  return {
    help: v.help ?? false,
    dataset,
    fit: fit ?? 'crop',
    holdout: holdout ?? DEFAULT_HOLDOUT,
    steps,
    backend: oneOf('backend', v.backend, BACKENDS) ?? 'wasm',
    out: v.out,
    evalEvery: intFlag('eval-every', v['eval-every'], 1),
    minutes,
    evalMinutes,
    initWeights: v['init-weights'],
    saveWeights: v['save-weights'],
    /** The schedule's length follows the time budget (--minutes without --steps or a config totalSteps). */
    calibrate: minutes !== undefined && v.steps === undefined && !configSetsTotal,
    quiet: v.quiet ?? false,
    exportDir: v.export,
    fullEval: (v['full-eval'] ?? false) || v.export !== undefined,
    config,
    ablation,
    ablationArms,
    csv: v.csv,
    md: v.md,
  };
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
  // Data before the backend: a folder with nothing usable fails fast, before any tfjs set-up.
  let data: Dataset;
  let load: LoadSummary | undefined;
  if ('path' in opts.dataset) {
    const size = Math.max(...opts.config.resolutions);
    ({ data, load } = await loadFolderDataset(
      opts.dataset.path,
      { size, fit: opts.fit, holdout: opts.holdout, seed: opts.config.seed },
      warn,
    ));
  } else {
    data = loadDataset(opts.dataset.name, opts.config.seed);
  }
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
  const trainer = await Trainer.create(opts.config, data, { init });
  try {
    const initial = await trainer.evaluate();
    if (!opts.quiet)
      log(
        `backend=${tf.getBackend()} dataset=${escapeControl(data.id)} train=${data.train.n} test=${data.test.n} kNN@0=${fmt(initial.knnTop1)}`,
      );
    const history: RunReport['history'] = [];
    // Every step's full metrics and every evaluation, for --export's metrics.csv and evals.csv.
    const metrics: StepMetrics[] = [];
    const evals: EvalResult[] = [initial];
    /** Training time so far (ms): steps only, evaluations not counted, so --minutes means the same with or without them. */
    let trainMs = 0;
    const evalSeconds: number[] = [0];
    const budget = new TimeBudget(opts.minutes, opts.evalMinutes);
    let steps = opts.steps;
    const evaluate = async (full: boolean) => {
      const e = await trainer.evaluate({ full });
      evals.push(e);
      evalSeconds.push(trainMs / 1000);
      return e;
    };
    for (let s = 0; s < steps && !budget.spent(trainMs); s++) {
      const m = await trainer.trainStep();
      if (!Number.isFinite(m.loss)) throw new Error(`loss became ${m.loss} at step ${m.step}`);
      trainMs += m.ms;
      metrics.push(m);
      history.push({
        step: m.step,
        loss: m.loss,
        lossAnchor: m.lossAnchor,
        lossPositive: m.lossPositive,
        lr: m.lr,
        ms: m.ms,
        imagesPerSecond: m.imagesPerSecond,
        coverage: m.coverage,
        precision: m.precision,
      });
      if (opts.calibrate && m.step === CALIBRATION_STEPS) {
        const total = budget.scheduleSteps(
          metrics.map((x) => x.ms),
          m.step,
        );
        trainer.updateLive({ totalSteps: total });
        opts.config.totalSteps = total;
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
    const ran = trainer.step > 0;
    const final = ran || opts.fullEval ? await evaluate(opts.fullEval || opts.evalMinutes !== undefined) : initial;
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
      config: opts.config,
      backend: tf.getBackend(),
      dataset: { id: data.id, train: data.train.n, test: data.test.n, labelled: data.train.labels !== null },
      ...(load ? { load } : {}),
      history,
      eval: {
        step: final.step,
        knnTop1: final.knnTop1,
        initialKnnTop1: initial.knnTop1,
        linearTop1: final.linearTop1,
        alignment: final.alignment,
        uniformity: final.uniformity,
        clusterPurity: final.clusterPurity,
        clusterNmi: final.clusterNmi,
        clusterAri: final.clusterAri,
      },
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
    const firstN = history.slice(0, 20);
    const lastN = history.slice(-20);
    const mean = (h: typeof history) => (h.length ? h.reduce((a, b) => a + b.loss, 0) / h.length : NaN);
    const medianMs = history.length
      ? [...history.map((h) => h.ms)].sort((a, b) => a - b)[Math.floor(history.length / 2)]
      : NaN;
    log(
      `done: ${history.length} steps in ${report.wallSeconds.toFixed(1)} s, median ${medianMs.toFixed(0)} ms/step; loss first20 ${mean(firstN).toFixed(4)} last20 ${mean(lastN).toFixed(4)}; kNN top-1 ${fmt(initial.knnTop1)} → ${fmt(final.knnTop1)}${opts.fullEval ? `, linear top-1 ${fmt(final.linearTop1)}` : ''}${opts.out && !writeErrors.some((w) => w.startsWith('--out ')) ? `; report ${escapeControl(opts.out)}` : ''}`,
    );
    if (writeErrors.length) throw new RunOutputError(writeErrors, report);
    return report;
  } finally {
    trainer.dispose();
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
function checkOutputs(opts: ReturnType<typeof parseCli>): void {
  if (opts.out !== undefined) checkOutputFile('--out', opts.out);
  if (opts.saveWeights !== undefined) checkOutputFile('--save-weights', opts.saveWeights);
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
