/**
 * The one check of a run file's description (issue 16). The checksum of a
 * run file covers its tensor bytes only, so the JSON description (settings,
 * random streams, queue pointers, history, evaluations) and the index tensors
 * it describes (epoch order, queue ids, k-means runs) can be edited by hand
 * and still decode. Anything that reads a run file goes through here before
 * the first thing changes: the import and the resume of a saved run in the
 * engine worker, and Trainer.restore itself (so no caller can skip it).
 *
 * What is checked is what a run written by this app always satisfies: every
 * field's type, range and length; the settings through config.ts (own keys
 * only, no prototype keys, every field present, every value in range); every
 * index against the data set's size and the queues' and clusters' sizes, and
 * the k-means runs against each other, so no gather on the device can go out
 * of bounds. Float tensors against the model are Trainer.restore's check (it
 * alone knows the model's shapes).
 */
import type { EvalResult, StepMetrics } from './api';
import {
  CHECKPOINT_VERSION,
  CheckpointError,
  decodeCheckpoint,
  type Checkpoint,
  type CheckpointMeta,
  type DatasetRef,
  type TensorRecord,
} from './checkpoint';
import {
  DEFAULT_CONFIG,
  PROTOTYPE_KEYS,
  defaultConfig,
  mergeConfigFields,
  truncateText,
  upgradeSavedConfig,
  validateConfig,
  type ClimConfig,
} from './config';
import type { RngState } from './rng';

/** One thing wrong with a run file: where (a path such as `app.evals[0].knnTop1`) and what, with what was found. */
export interface RunFileProblem {
  path: string;
  message: string;
}

export type RunFileCheck =
  { ok: true; checkpoint: Checkpoint } | { ok: false; problems: RunFileProblem[]; more: number };

/** What the page keeps with a run (meta.app, written by the engine worker): the charts' history and the evaluations. */
export interface RunAppState {
  history: StepMetrics[];
  evals: EvalResult[];
}

/**
 * Bounds beyond anything this app writes, each for a reason: a crafted file
 * must not make the page allocate or draw without limit before it is refused.
 */
export const RUN_FILE_LIMITS = Object.freeze({
  /** Steps and counters are int32 everywhere else (tensors, the UI's inputs). */
  maxCount: 2 ** 31 - 1,
  /** The engine worker thins its history at 10,000 entries (MAX_HISTORY, worker/protocol.ts; core cannot import it). */
  maxHistory: 10_000,
  /** One evaluation per 100 steps over the longest schedule (10,000,000 steps), plus room for manual ones. */
  maxEvals: 200_000,
  /**
   * Classes of an evaluation: an upload's are its folders, which a browser
   * cannot hold a million of; not tied to the image count, since a subset
   * (fashion-mnist at n = 6) keeps all the set's classes.
   */
  maxClasses: 1_000_000,
  /** Both splits' pixels in memory at once: one typed array each, which browsers cap near 2 GiB. */
  maxImageBytes: 2 ** 31 - 1,
  maxImageSide: 1024,
  /** Data set ids and upload names (a folder or zip name, 255 bytes at most on disk, inside an id): longer ones only serve to flood messages and the page. */
  maxText: 1024,
  /** Problems kept for the message; the rest are counted. */
  maxProblems: 50,
});

/** How many problems one refusal's message lists. */
const LISTED = 5;

/** Tolerance on shares (precision, top-1, NMI) that floating-point sums may push just past 0 or 1. */
const SHARE_EPS = 1e-6;

type Obj = Record<string, unknown>;

class Problems {
  readonly list: RunFileProblem[] = [];
  more = 0;
  add(path: string, message: string): void {
    if (this.list.length < RUN_FILE_LIMITS.maxProblems) this.list.push({ path, message });
    else this.more++;
  }
  get count(): number {
    return this.list.length + this.more;
  }
}

/** A value as a message shows it, without walking into it (crafted values may nest thousands deep or run for megabytes). */
export function found(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `${JSON.stringify(truncateText(v, 40))} (text)`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (ArrayBuffer.isView(v)) return 'binary data';
  return typeof v === 'object' ? 'an object' : typeof v;
}

const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

/** `v` as an object, or null with a problem; prototype keys are refused by name (JSON.parse makes them own keys). */
function object(v: unknown, path: string, P: Problems): Obj | null {
  if (!isObj(v)) {
    P.add(path, `must be an object; found ${found(v)}.`);
    return null;
  }
  for (const k of PROTOTYPE_KEYS)
    if (Object.hasOwn(v, k)) P.add(`${path}.${k}`, `"${k}" is not a field (it names JavaScript's object machinery).`);
  return v;
}

/** Keys `o` has that are not in `allowed` (prototype keys are reported by `object`). */
function unknownKeys(o: Obj, allowed: readonly string[], path: string, P: Problems): void {
  let n = 0;
  for (const k of Object.keys(o)) {
    if (allowed.includes(k) || PROTOTYPE_KEYS.includes(k)) continue;
    if (n++ < 3) P.add(`${path}.${truncateText(k, 40)}`, 'is not a field of a run file.');
  }
  if (n > 3) P.add(path, `has ${n - 3} more unknown fields.`);
}

function whole(v: unknown, path: string, lo: number, hi: number, P: Problems, why = ''): v is number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi) return true;
  P.add(
    path,
    v === undefined
      ? `is missing (a whole number from ${lo} to ${hi}${why} is expected).`
      : `must be a whole number from ${lo} to ${hi}${why}; found ${found(v)}.`,
  );
  return false;
}

function text(v: unknown, path: string, max: number, P: Problems): v is string {
  if (typeof v === 'string' && v.length <= max) return true;
  P.add(
    path,
    v === undefined
      ? 'is missing (text is expected).'
      : typeof v === 'string'
        ? `must be at most ${max} characters; found ${found(v)}.`
        : `must be text; found ${found(v)}.`,
  );
  return false;
}

/** `v` as a list of lo..hi items, copied dense (forEach and every skip the holes a sparse array has), or null with a problem. */
function list(v: unknown, path: string, lo: number, hi: number, P: Problems, what: string): unknown[] | null {
  if (Array.isArray(v) && v.length >= lo && v.length <= hi) return Array.from(v as unknown[]);
  const want = lo === hi ? `${lo}` : `${lo} to ${hi}`;
  P.add(
    path,
    Array.isArray(v)
      ? `must list ${want} ${what}; found ${v.length}.`
      : v === undefined
        ? `is missing (a list of ${what} is expected).`
        : `must be a list of ${what}; found ${found(v)}.`,
  );
  return null;
}

function rngState(v: unknown, path: string, P: Problems): RngState | null {
  const a = list(v, path, 4, 4, P, 'whole numbers (a random stream’s state)');
  if (!a || !a.every((x, i) => whole(x, `${path}[${i}]`, 0, 2 ** 32 - 1, P))) return null;
  // xoshiro's all-zero state is a fixed point: the stream would draw 0 for ever.
  if (a.every((x) => x === 0)) {
    P.add(path, 'must not be all zeros (a random stream stuck at zero).');
    return null;
  }
  return a as RngState;
}

/**
 * The settings: through upgradeSavedConfig (runs saved before a field
 * existed carry on as they ran), mergeConfigFields (own keys only, known
 * fields only, prototype keys refused) and validateConfig (ranges); every
 * field must be present, since a default filled in silently would change the
 * run. Values of the wrong kind are reported here and kept away from
 * validateConfig, whose messages print them.
 */
function checkConfig(raw: unknown, P: Problems): ClimConfig | null {
  if (!isObj(raw)) {
    P.add('config', `must be an object of settings; found ${found(raw)}.`);
    return null;
  }
  const upgraded = upgradeSavedConfig(raw as unknown as ClimConfig) as unknown as Obj;
  const merged = mergeConfigFields(defaultConfig(), upgraded);
  const before = P.count;
  for (const m of merged.problems) P.add('config', `${m}.`);
  const base = DEFAULT_CONFIG as unknown as Obj;
  const cfg = merged.config as unknown as Obj;
  const wrongKind = new Set<string>();
  for (const key of Object.keys(base)) {
    const path = `config.${key}`;
    const want = base[key];
    if (!Object.hasOwn(upgraded, key)) {
      P.add(path, 'is missing.');
      wrongKind.add(key);
      continue;
    }
    const v = upgraded[key];
    if (Array.isArray(want)) {
      if (!Array.isArray(v) || v.length > 16 || !Array.from(v as unknown[]).every((x) => typeof x === 'number')) {
        P.add(path, `must be a short list of numbers; found ${found(v)}.`);
        wrongKind.add(key);
      }
    } else if (typeof v !== typeof want) {
      P.add(
        path,
        `must be ${typeof want === 'number' ? 'a number' : typeof want === 'boolean' ? 'true or false' : 'text'}; found ${found(v)}.`,
      );
      wrongKind.add(key);
    }
  }
  // validateConfig sees the default in place of a value of the wrong kind, and its message about that field is dropped.
  for (const key of wrongKind) cfg[key] = Array.isArray(base[key]) ? [...(base[key] as number[])] : base[key];
  for (const issue of validateConfig(merged.config)) {
    // validateConfig's messages open with the field's name, which the path already gives.
    const m = issue.message.startsWith(`${issue.field} `) ? issue.message.slice(issue.field.length + 1) : issue.message;
    if (!wrongKind.has(issue.field)) P.add(`config.${issue.field}`, m);
  }
  return P.count === before ? merged.config : null;
}

/** Pattern of datasetFingerprint(): `size:train+test:hash`. */
const FINGERPRINT = /^(\d{1,7}):(\d{1,10})\+(\d{1,10}):[0-9a-f]{8}$/;

function checkDataset(v: unknown, P: Problems): DatasetRef | null {
  const d = object(v, 'dataset', P);
  if (!d) return null;
  const before = P.count;
  unknownKeys(d, ['id', 'fingerprint', 'train', 'test', 'size', 'source'], 'dataset', P);
  const { maxCount, maxImageSide, maxImageBytes, maxText } = RUN_FILE_LIMITS;
  text(d.id, 'dataset.id', maxText, P);
  const train = whole(d.train, 'dataset.train', 1, maxCount, P);
  const test = whole(d.test, 'dataset.test', 0, maxCount, P);
  const size = whole(d.size, 'dataset.size', 1, maxImageSide, P);
  if (
    train &&
    test &&
    size &&
    ((d.train as number) + (d.test as number)) * (d.size as number) ** 2 * 3 > maxImageBytes
  ) {
    P.add(
      'dataset',
      `${d.train} + ${d.test} images of ${d.size}×${d.size} pixels would need more than 2 GB in memory.`,
    );
  }
  if (text(d.fingerprint, 'dataset.fingerprint', 64, P)) {
    const m = FINGERPRINT.exec(d.fingerprint as string);
    if (!m)
      P.add(
        'dataset.fingerprint',
        `must read size:train+test:hash (as the app writes it); found ${found(d.fingerprint)}.`,
      );
    else if (Number(m[1]) !== d.size || Number(m[2]) !== d.train || Number(m[3]) !== d.test) {
      P.add(
        'dataset.fingerprint',
        `names ${m[2]} + ${m[3]} images of ${m[1]} pixels, but the description says ${found(d.train)} + ${found(d.test)} of ${found(d.size)}.`,
      );
    }
  }
  const source = d.source === undefined ? undefined : checkSource(d.source, P);
  if (P.count !== before) return null;
  const out: DatasetRef = {
    id: d.id as string,
    fingerprint: d.fingerprint as string,
    train: d.train as number,
    test: d.test as number,
    size: d.size as number,
  };
  if (source !== undefined) out.source = source;
  return out;
}

/** How the app finds the data set again (engine.worker.ts DatasetSource): opaque to the engine, but it is loaded before anything else is checked, so its sizes are bounded here. */
function checkSource(v: unknown, P: Problems): unknown {
  const s = object(v, 'dataset.source', P);
  if (!s) return undefined;
  const { maxCount, maxText } = RUN_FILE_LIMITS;
  if (s.kind === 'builtin') {
    unknownKeys(s, ['kind', 'name', 'seed', 'nTrain', 'nTest'], 'dataset.source', P);
    if (text(s.name, 'dataset.source.name', 64, P) && !/^[a-z0-9-]+$/.test(s.name as string))
      P.add(
        'dataset.source.name',
        `must name a built-in data set (lower-case letters, digits, dashes); found ${found(s.name)}.`,
      );
    whole(s.seed, 'dataset.source.seed', 0, 2 ** 32 - 1, P);
    for (const k of ['nTrain', 'nTest'] as const)
      if (s[k] !== undefined) whole(s[k], `dataset.source.${k}`, 0, maxCount, P);
    const out: Obj = { kind: 'builtin', name: s.name, seed: s.seed };
    if (s.nTrain !== undefined) out.nTrain = s.nTrain;
    if (s.nTest !== undefined) out.nTest = s.nTest;
    return out;
  }
  if (s.kind === 'upload') {
    unknownKeys(s, ['kind', 'name'], 'dataset.source', P);
    text(s.name, 'dataset.source.name', maxText, P);
    return { kind: 'upload', name: s.name };
  }
  P.add('dataset.source.kind', `must be "builtin" or "upload"; found ${found(s.kind)}.`);
  return undefined;
}

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
function checkApp(v: unknown, P: Problems): RunAppState | undefined {
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

/** An int32 tensor of `shape`, found by name; null with a problem otherwise. */
function intTensor(
  byName: ReadonlyMap<string, TensorRecord>,
  name: string,
  shape: number[],
  what: string,
  P: Problems,
): Int32Array | null {
  const r = byName.get(name);
  const path = `tensor "${name}"`;
  if (!r) {
    P.add(path, `is missing (${what}).`);
    return null;
  }
  if (
    r.dtype !== 'int32' ||
    !(r.data instanceof Int32Array) ||
    r.shape.length !== shape.length ||
    r.shape.some((d, i) => d !== shape[i]) ||
    r.data.length !== shape.reduce((a, b) => a * b, 1)
  ) {
    P.add(
      path,
      `must be int32 [${shape.join('×')}] (${what}); found ${r.dtype} [${r.shape.slice(0, 4).join('×')}${r.shape.length > 4 ? '×…' : ''}].`,
    );
    return null;
  }
  return r.data;
}

/** Every value in [lo, hi] (or equal to `also`); reports the first few that are not. */
function indices(
  data: Int32Array,
  name: string,
  lo: number,
  hi: number,
  why: string,
  P: Problems,
  also?: number,
): boolean {
  let bad = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if ((v >= lo && v <= hi) || v === also) continue;
    if (bad++ < 3)
      P.add(
        `tensor "${name}"[${i}]`,
        `must be ${also !== undefined ? `${also} or ` : ''}an index from ${lo} to ${hi} (${why}); found ${v}.`,
      );
  }
  if (bad > 3) P.add(`tensor "${name}"`, `has ${bad - 3} more indices out of range.`);
  return bad === 0;
}

/** Each of 0..n−1 exactly once (values already in range). */
function permutation(data: Int32Array, name: string, what: string, P: Problems): boolean {
  const seen = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    if (seen[data[i]]) {
      P.add(`tensor "${name}"[${i}]`, `repeats index ${data[i]}: ${what} must hold every index once.`);
      return false;
    }
    seen[data[i]] = 1;
  }
  return true;
}

/**
 * The k-means state against itself: sizes count the assignments, start is
 * their running sum, and order[start[c(i)] + rank[i]] = i for every image,
 * which is what same-cluster sampling gathers with (kmeans.ts KMeansState).
 */
function checkClusters(
  byName: ReadonlyMap<string, TensorRecord>,
  sizesRaw: unknown,
  C: number,
  N: number,
  P: Problems,
): number[] | null {
  const listed = list(sizesRaw, 'clusterSizes', C, C, P, `cluster sizes (one per cluster of ${C})`);
  if (!listed || !listed.every((s, c) => whole(s, `clusterSizes[${c}]`, 0, N, P))) return null;
  const sizes = listed as number[];
  const ix = (name: string, len: number, what: string) => intTensor(byName, name, [len], what, P);
  const assignments = ix('kmeans/assignments', N, 'each image’s cluster');
  const order = ix('kmeans/order', N, 'images grouped by cluster');
  const start = ix('kmeans/start', C, 'where each cluster’s run starts');
  const rank = ix('kmeans/rank', N, 'each image’s place in its cluster’s run');
  if (!assignments || !order || !start || !rank) return null;
  const inRange = [
    indices(assignments, 'kmeans/assignments', 0, C - 1, `there are ${C} clusters`, P),
    indices(order, 'kmeans/order', 0, N - 1, `there are ${N} training images`, P),
    indices(start, 'kmeans/start', 0, N, `offsets into ${N} images`, P),
    indices(rank, 'kmeans/rank', 0, N - 1, `there are ${N} training images`, P),
  ].every(Boolean);
  if (!inRange) return null;
  const counts = new Array<number>(C).fill(0);
  for (let i = 0; i < N; i++) counts[assignments[i]]++;
  let at = 0;
  for (let c = 0; c < C; c++) {
    if (counts[c] !== sizes[c]) {
      P.add(`clusterSizes[${c}]`, `must count the images assigned to cluster ${c} (${counts[c]}); found ${sizes[c]}.`);
      return null;
    }
    if (start[c] !== at) {
      P.add(`tensor "kmeans/start"[${c}]`, `must be where cluster ${c}'s run starts (${at}); found ${start[c]}.`);
      return null;
    }
    at += sizes[c];
  }
  for (let i = 0; i < N; i++) {
    const p = start[assignments[i]] + rank[i];
    if (rank[i] >= sizes[assignments[i]] || order[p] !== i) {
      P.add(
        `tensor "kmeans/rank"[${i}]`,
        `must place image ${i} in its cluster's run (order[start + rank] = ${i}); found rank ${rank[i]}.`,
      );
      return null;
    }
  }
  return [...sizes];
}

const META_KEYS = [
  'version',
  'savedAt',
  'step',
  'config',
  'dataset',
  'rng',
  'samplerRng',
  'samplerPos',
  'samplerEpoch',
  'queuePointers',
  'clusterSizes',
  'optimizerSteps',
  'app',
] as const;

/**
 * Checks a decoded run file's description and index tensors. Never throws;
 * returns the checked description (fresh objects holding only known fields,
 * confusion matrices back as Int32Array) or every problem found, each with
 * where it is, what is wrong and what was there.
 */
export function checkRunFile(ck: { meta: unknown; tensors: readonly TensorRecord[] }): RunFileCheck {
  const P = new Problems();
  const meta = object(ck.meta, 'description', P);
  if (!meta) return { ok: false, problems: P.list, more: P.more };
  unknownKeys(meta, META_KEYS, 'description', P);
  const { maxCount } = RUN_FILE_LIMITS;
  if (meta.version !== CHECKPOINT_VERSION)
    P.add(
      'version',
      `must be ${CHECKPOINT_VERSION} (the version in the file's first bytes); found ${found(meta.version)}.`,
    );
  if (text(meta.savedAt, 'savedAt', 40, P) && !Number.isFinite(Date.parse(meta.savedAt as string)))
    P.add('savedAt', `must be a date and time; found ${found(meta.savedAt)}.`);
  whole(meta.step, 'step', 0, maxCount, P);
  whole(meta.samplerEpoch, 'samplerEpoch', 0, maxCount, P);
  whole(meta.optimizerSteps, 'optimizerSteps', 0, maxCount, P);
  const rng = rngState(meta.rng, 'rng', P);
  const samplerRng = rngState(meta.samplerRng, 'samplerRng', P);
  const config = checkConfig(meta.config, P);
  const dataset = checkDataset(meta.dataset, P);
  const app = meta.app === undefined ? undefined : checkApp(meta.app, P);

  const names = new Set<string>();
  for (const t of ck.tensors) {
    if (names.has(t.name)) P.add(`tensor "${truncateText(t.name, 60)}"`, 'appears twice.');
    names.add(t.name);
  }
  const byName = new Map(ck.tensors.map((t) => [t.name, t]));

  // Indices need the data set's size; queues and clusters need the settings too.
  let clusterSizes: number[] | null = null;
  let queuePointers: number[] | null = null;
  if (dataset) {
    const N = dataset.train;
    whole(meta.samplerPos, 'samplerPos', 0, N, P, ` (the epoch order has ${N} places)`);
    const order = intTensor(byName, 'sampler/order', [N], `the epoch order of ${N} training images`, P);
    if (order && indices(order, 'sampler/order', 0, N - 1, `the data set has ${N} training images`, P))
      permutation(order, 'sampler/order', 'the epoch order', P);
    if (config) {
      const R = config.resolutions.length;
      const K = config.queueSize;
      queuePointers = list(
        meta.queuePointers,
        'queuePointers',
        R,
        R,
        P,
        `queue pointers (one per resolution, ${R})`,
      ) as number[] | null;
      queuePointers?.forEach((p, s) =>
        whole(p, `queuePointers[${s}]`, 0, Math.max(0, K - 1), P, ` (queue ${s} has ${K} rows)`),
      );
      for (let s = 0; s < R; s++) {
        const ids = intTensor(byName, `queue${s}/ids`, [K], `the image behind each of queue ${s}'s ${K} keys`, P);
        if (ids)
          indices(
            ids,
            `queue${s}/ids`,
            0,
            N - 1,
            `the data set has ${N} training images; −1 marks a key of no image`,
            P,
            -1,
          );
      }
      if (meta.clusterSizes !== null) clusterSizes = checkClusters(byName, meta.clusterSizes, config.clusters, N, P);
    }
  } else if (meta.samplerPos === undefined) P.add('samplerPos', 'is missing.');

  if (P.count > 0 || !config || !dataset || !rng || !samplerRng || !queuePointers)
    return { ok: false, problems: P.list, more: P.more };
  const checked: CheckpointMeta = {
    version: CHECKPOINT_VERSION,
    savedAt: meta.savedAt as string,
    step: meta.step as number,
    config,
    dataset,
    rng,
    samplerRng,
    samplerPos: meta.samplerPos as number,
    samplerEpoch: meta.samplerEpoch as number,
    queuePointers,
    clusterSizes,
    optimizerSteps: meta.optimizerSteps as number,
  };
  if (app !== undefined) checked.app = app;
  return { ok: true, checkpoint: { meta: checked, tensors: [...ck.tensors] } };
}

/** The problems as one message: the first few listed, the rest counted. */
export function describeProblems(problems: readonly RunFileProblem[], more = 0): string {
  const total = problems.length + more;
  const shown = problems.slice(0, LISTED).map((p) => `${p.path} ${p.message}`);
  const rest = total - shown.length;
  return `The run file's description does not hold up (${total} problem${total === 1 ? '' : 's'}): ${shown.join(' ')}${rest > 0 ? ` …and ${rest} more.` : ''}`;
}

/** The checked checkpoint, or a CheckpointError ('invalid') naming what is wrong. */
export function assertRunFile(ck: { meta: unknown; tensors: readonly TensorRecord[] }): Checkpoint {
  const r = checkRunFile(ck);
  if (r.ok) return r.checkpoint;
  throw new CheckpointError('invalid', describeProblems(r.problems, r.more));
}

/** Bytes → a checked checkpoint: the container (decodeCheckpoint), then the description (checkRunFile). Throws CheckpointError only. */
export function readRunFile(bytes: Uint8Array): Checkpoint {
  return assertRunFile(decodeCheckpoint(bytes));
}
