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
  defaultConfig,
  mergeConfigFields,
  truncateText,
  upgradeSavedConfig,
  validateConfig,
  type ClimConfig,
} from './config';
import {
  Problems,
  RUN_FILE_LIMITS,
  found,
  isObj,
  list,
  object,
  rngState,
  text,
  unknownKeys,
  whole,
  type Obj,
  type RunFileProblem,
} from './run-file-values';
import { checkApp } from './run-file-app';

export type { RunFileProblem };

export type RunFileCheck =
  { ok: true; checkpoint: Checkpoint } | { ok: false; problems: RunFileProblem[]; more: number };

/** How many problems one refusal's message lists. */
const LISTED = 5;

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
