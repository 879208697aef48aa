/**
 * The runner's command line: flags, their checks (a bad value is a
 * `UsageError` naming the flag, the value and what it takes) and the parsed
 * options `run` works from.
 */
import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import {
  CENTRE_THRESHOLDS,
  MIX_MODES,
  SELECTION_MODES,
  defaultConfig,
  describeValue,
  mergeConfigFields,
  validateConfig,
} from '../core/config';
import { isZipName } from '../io/zip';
import { ABLATION_DEFAULT_STEPS, ABLATION_IDS, ablationBaseConfig } from '../core/ablation';
import { CALIBRATION_STEPS } from './time-budget';
import { DATASETS as BUILTIN_DATASETS, type DatasetName } from '../worker/protocol';
import { WEIGHTS_FILE_EXTENSION } from '../core/weights-file';
import { RUN_FILE_EXTENSION } from '../core/checkpoint';

export class UsageError extends Error {}

const BACKENDS = ['wasm', 'cpu'] as const;
/** The built-in sets (worker/protocol.ts), the runner's default first. */
const DATASETS: readonly DatasetName[] = ['shapes', ...BUILTIN_DATASETS.filter((d) => d !== 'shapes')];
const FITS = ['crop', 'pad'] as const;
/** A built-in set by name, or the path of an image folder or .zip. */
export type DatasetChoice = { name: DatasetName } | { path: string };
/** Held-out fraction of a labelled folder when --holdout is not given (the page's default too). */
export const DEFAULT_HOLDOUT = 0.1;

export const HELP = `Usage: npm run train -- [options]
  --dataset NAME|PATH         built-in data set shapes (default) or fashion-mnist, or the path of
                              an image folder or .zip (PNG and JPEG; one subfolder per label, or
                              none for unlabelled images; write ./shapes for a folder named shapes)
  --fit crop|pad              folder/.zip: square the images by a centre crop (default) or black padding
  --holdout F                 folder/.zip: fraction of each label held out for kNN evaluation,
                              0 to 0.9 (default 0.1; unlabelled sets hold out nothing)
  --steps N                   training steps (default 200; 0 evaluates the untrained encoder); also the
                              cosine schedule's length (totalSteps) unless --config sets it
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
  --save-run FILE             at the end, write the whole run (both encoders, optimiser, bank, queues,
                              clusters, random streams, step, the history and evaluations) as a
                              ${RUN_FILE_EXTENSION} file, the format of the app's "Export run": the page can import it
  --save-every N              with --save-run: also write it every N steps (each write replaces the last)
  --resume FILE               continue a ${RUN_FILE_EXTENSION} run (from the app or --save-run) with its own settings;
                              training goes on exactly as if never stopped (same backend). --steps N
                              counts from the run's start (a run at step 30 with --steps 40 trains 10
                              more; at or below 30 it only evaluates) and sets totalSteps to N like a
                              fresh run (a finished run gets a new warm-up and cosine segment, as the
                              page's Train N more steps); without --steps it trains to the file's
                              totalSteps. So that
                              both parts follow one schedule, give the first part the whole length
                              (--config with totalSteps). --dataset must be the run's data set (checked
                              by its fingerprint; left out, the file's built-in set is used). The
                              report's history and evaluations are the whole run's, the file's first;
                              --minutes counts this part's training time only. Refused with it:
                              --config, --selection, --threshold, --mix, --seed, --init-weights
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
  'save-run': { type: 'string' },
  'save-every': { type: 'string' },
  resume: { type: 'string' },
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
        'save-run',
        'save-every',
        'resume',
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
      'save-run': 'it trains several runs',
      'save-every': 'it trains several runs',
      resume: 'every arm starts a fresh run',
    };
    if (fixed) throw new UsageError(`--${fixed} cannot be used with --ablation: ${why[fixed]}`);
  }
  const resume = v.resume;
  if (resume !== undefined) {
    if (resume === '') throw new UsageError('--resume needs a file name (got "")');
    const fixed = (['config', 'selection', 'threshold', 'mix', 'seed', 'init-weights'] as const).find(
      (f) => v[f] !== undefined,
    );
    const settings = 'the run goes on with the settings it was saved with';
    const why: Record<typeof fixed & string, string> = {
      config: settings,
      selection: settings,
      threshold: settings,
      mix: settings,
      seed: 'the run file carries its random streams, and its data set is made with its own seed',
      'init-weights': 'the run file carries its own weights',
    };
    if (fixed) throw new UsageError(`--${fixed} cannot be used with --resume: ${why[fixed]}`);
  }
  if (v['save-every'] !== undefined && v['save-run'] === undefined)
    throw new UsageError('--save-every applies with --save-run only (it says how often to write that file)');
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
  // A resumed run's settings are the file's, so the defaults above are never used (nor --steps written into them).
  if (v.steps !== undefined && !configSetsTotal && resume === undefined) config.totalSteps = Math.max(1, steps);
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
    saveRun: v['save-run'],
    saveEvery: intFlag('save-every', v['save-every'], 1),
    resume,
    /** --steps was given: with --resume it sets the run's length, else the file's totalSteps does. */
    stepsGiven: v.steps !== undefined,
    /** --dataset was given: with --resume the file's built-in set is used without it. */
    datasetGiven: v.dataset !== undefined,
    /** The schedule's length follows the time budget (--minutes without --steps or a config totalSteps); a resumed run keeps its own. */
    calibrate: minutes !== undefined && v.steps === undefined && !configSetsTotal && resume === undefined,
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

export type CliOptions = ReturnType<typeof parseCli>;
