/**
 * meta.app of a run file: the charts' history and the evaluations the page
 * keeps with a run, checked field by field (run-file-check.ts reads the rest).
 */
import type { EvalResult, StepMetrics } from './api';
import { Problems, RUN_FILE_LIMITS, found, isObj, list, object, unknownKeys, whole, type Obj } from './run-file-values';

/** What the page keeps with a run (meta.app, written by the engine worker): the charts' history and the evaluations. */
export interface RunAppState {
  history: StepMetrics[];
  evals: EvalResult[];
}

/** Tolerance on shares (precision, top-1, NMI) that floating-point sums may push just past 0 or 1. */
const SHARE_EPS = 1e-6;

/** How each known field of a history or evaluation entry is checked: a required finite number, a share in [0, 1], nullable, or optional. */
type FieldRule = { kind: 'step' } | { kind: 'number'; lo: number; hi: number; nullable?: boolean; optional?: boolean };

const anyNumber = { kind: 'number', lo: -Number.MAX_VALUE, hi: Number.MAX_VALUE } as const;
const nonNegative = { kind: 'number', lo: 0, hi: Number.MAX_VALUE } as const;
const share = { kind: 'number', lo: -SHARE_EPS, hi: 1 + SHARE_EPS } as const;

/**
 * StepMetrics as the worker records them. The losses and the rate are always
 * finite (a step whose loss is not a number never reaches the history,
 * faults.ts); the timings and shares may be null, which is what JSON makes of
 * a NaN or an Infinity; refreshMs came after run files did (absent in older ones).
 */
const HISTORY_FIELDS: Record<keyof StepMetrics, FieldRule> = {
  step: { kind: 'step' },
  loss: anyNumber,
  lossAnchor: anyNumber,
  lossPositive: anyNumber,
  lr: { kind: 'number', lo: 0, hi: 10 },
  ms: { ...nonNegative, nullable: true },
  imagesPerSecond: { ...nonNegative, nullable: true },
  coverage: { ...share, nullable: true },
  precision: { ...share, nullable: true },
  lambdaMean: { ...share, nullable: true },
  selectionMs: { ...nonNegative, nullable: true },
  kmeansMs: { ...nonNegative, nullable: true },
  refreshMs: { ...nonNegative, nullable: true, optional: true },
};

/** EvalResult (api.ts), unchanged since run files exist; `classes` and `confusion` are checked together. */
const EVAL_FIELDS: Record<Exclude<keyof EvalResult, 'classes' | 'confusion'>, FieldRule> = {
  step: { kind: 'step' },
  knnTop1: { ...share, nullable: true },
  linearTop1: { ...share, nullable: true },
  alignment: { ...anyNumber, nullable: true },
  uniformity: { ...anyNumber, nullable: true },
  clusterPurity: { ...share, nullable: true },
  clusterNmi: { ...share, nullable: true },
  clusterAri: { kind: 'number', lo: -1 - SHARE_EPS, hi: 1 + SHARE_EPS, nullable: true },
  ms: nonNegative,
};

const describeRule = (r: FieldRule): string => {
  if (r.kind === 'step') return `a whole number from 0 to ${RUN_FILE_LIMITS.maxCount}`;
  const range =
    r === anyNumber || (r.lo === anyNumber.lo && r.hi === anyNumber.hi)
      ? 'a finite number'
      : r.hi === Number.MAX_VALUE
        ? `a number from ${r.lo} up`
        : `a number from ${Math.round(r.lo)} to ${Math.round(r.hi)}`;
  return r.nullable ? `${range}, or null` : range;
};

/** Copies the fields `rules` names from `o` into `out`, checked; false when any is wrong. */
function fields(o: Obj, rules: Record<string, FieldRule>, path: string, out: Obj, P: Problems): boolean {
  let ok = true;
  for (const [key, r] of Object.entries(rules)) {
    const v = o[key];
    const at = `${path}.${key}`;
    if (r.kind === 'step') {
      if (!whole(v, at, 0, RUN_FILE_LIMITS.maxCount, P)) ok = false;
      else out[key] = v;
      continue;
    }
    if (v === undefined && r.optional) continue;
    if (v === null && r.nullable) {
      out[key] = null;
      continue;
    }
    if (typeof v === 'number' && Number.isFinite(v) && v >= r.lo && v <= r.hi) {
      out[key] = v;
      continue;
    }
    P.add(
      at,
      v === undefined
        ? `is missing (${describeRule(r)} is expected).`
        : `must be ${describeRule(r)}; found ${found(v)}.`,
    );
    ok = false;
  }
  return ok;
}

function checkHistoryEntry(v: unknown, path: string, P: Problems): StepMetrics | null {
  const o = object(v, path, P);
  if (!o) return null;
  const out: Obj = {};
  unknownKeys(o, Object.keys(HISTORY_FIELDS), path, P);
  return fields(o, HISTORY_FIELDS, path, out, P) ? (out as unknown as StepMetrics) : null;
}

function checkEvalEntry(v: unknown, path: string, P: Problems): EvalResult | null {
  const o = object(v, path, P);
  if (!o) return null;
  const out: Obj = {};
  unknownKeys(o, [...Object.keys(EVAL_FIELDS), 'classes', 'confusion'], path, P);
  let ok = fields(o, EVAL_FIELDS, path, out, P);
  if (!whole(o.classes, `${path}.classes`, 0, RUN_FILE_LIMITS.maxClasses, P)) return null;
  const k = o.classes as number;
  out.classes = k;
  const c = o.confusion;
  if (c === null) out.confusion = null;
  else {
    // An Int32Array goes through JSON as {"0": n, "1": n, …}; a list, and the array itself (in memory), are accepted too.
    const values = Array.isArray(c)
      ? Array.from(c as unknown[])
      : c instanceof Int32Array
        ? Array.from(c)
        : isObj(c)
          ? Object.values(c)
          : null;
    const keysInOrder = !isObj(c) || Object.keys(c).every((key, i) => key === String(i));
    if (
      !values ||
      !keysInOrder ||
      values.length !== k * k ||
      !values.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= RUN_FILE_LIMITS.maxCount)
    ) {
      P.add(
        `${path}.confusion`,
        c === undefined
          ? 'is missing (null or a table of counts is expected).'
          : `must be null or ${k}×${k} counts (whole numbers from 0 up); found ${values ? `${values.length} values, not all of them counts` : found(c)}.`,
      );
      ok = false;
    } else out.confusion = Int32Array.from(values as number[]);
  }
  return ok ? (out as unknown as EvalResult) : null;
}

/**
 * meta.app: only `history` and `evals` are read back, so only they are kept
 * (other keys are dropped, not refused: the engine never reads them).
 */
export function checkApp(v: unknown, P: Problems): RunAppState | undefined {
  const a = object(v, 'app', P);
  if (!a) return undefined;
  const history: StepMetrics[] = [];
  const evals: EvalResult[] = [];
  const h = a.history === undefined ? null : list(a.history, 'app.history', 0, RUN_FILE_LIMITS.maxHistory, P, 'steps');
  h?.forEach((e, i) => {
    const m = checkHistoryEntry(e, `app.history[${i}]`, P);
    if (m) history.push(m);
  });
  const ev = a.evals === undefined ? null : list(a.evals, 'app.evals', 0, RUN_FILE_LIMITS.maxEvals, P, 'evaluations');
  ev?.forEach((e, i) => {
    const r = checkEvalEntry(e, `app.evals[${i}]`, P);
    if (r) evals.push(r);
  });
  return { history, evals };
}

/**
 * The chart history and evaluations of a description, keeping the entries
 * that hold up and dropping the rest: for readers that must not fail (the
 * description has been through checkRunFile already on every current path).
 */
export function chartsFromApp(app: unknown): RunAppState {
  if (app === undefined || app === null) return { history: [], evals: [] };
  return checkApp(app, new Problems()) ?? { history: [], evals: [] };
}
