/**
 * The value checks every part of a run file's description is read with
 * (run-file-check.ts): each takes a value and its path, and either returns it
 * typed or records a problem naming the path, what was wanted and what was
 * found, so one pass reports everything wrong with a file.
 */
import { PROTOTYPE_KEYS, truncateText } from './config';
import type { RngState } from './rng';

/** One thing wrong with a run file: where (a path such as `app.evals[0].knnTop1`) and what, with what was found. */
export interface RunFileProblem {
  path: string;
  message: string;
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

export type Obj = Record<string, unknown>;

export class Problems {
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

export const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

/** `v` as an object, or null with a problem; prototype keys are refused by name (JSON.parse makes them own keys). */
export function object(v: unknown, path: string, P: Problems): Obj | null {
  if (!isObj(v)) {
    P.add(path, `must be an object; found ${found(v)}.`);
    return null;
  }
  for (const k of PROTOTYPE_KEYS)
    if (Object.hasOwn(v, k)) P.add(`${path}.${k}`, `"${k}" is not a field (it names JavaScript's object machinery).`);
  return v;
}

/** Keys `o` has that are not in `allowed` (prototype keys are reported by `object`). */
export function unknownKeys(o: Obj, allowed: readonly string[], path: string, P: Problems): void {
  let n = 0;
  for (const k of Object.keys(o)) {
    if (allowed.includes(k) || PROTOTYPE_KEYS.includes(k)) continue;
    if (n++ < 3) P.add(`${path}.${truncateText(k, 40)}`, 'is not a field of a run file.');
  }
  if (n > 3) P.add(path, `has ${n - 3} more unknown fields.`);
}

export function whole(v: unknown, path: string, lo: number, hi: number, P: Problems, why = ''): v is number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi) return true;
  P.add(
    path,
    v === undefined
      ? `is missing (a whole number from ${lo} to ${hi}${why} is expected).`
      : `must be a whole number from ${lo} to ${hi}${why}; found ${found(v)}.`,
  );
  return false;
}

export function text(v: unknown, path: string, max: number, P: Problems): v is string {
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
export function list(v: unknown, path: string, lo: number, hi: number, P: Problems, what: string): unknown[] | null {
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

export function rngState(v: unknown, path: string, P: Problems): RngState | null {
  const a = list(v, path, 4, 4, P, 'whole numbers (a random stream’s state)');
  if (!a || !a.every((x, i) => whole(x, `${path}[${i}]`, 0, 2 ** 32 - 1, P))) return null;
  // xoshiro's all-zero state is a fixed point: the stream would draw 0 for ever.
  if (a.every((x) => x === 0)) {
    P.add(path, 'must not be all zeros (a random stream stuck at zero).');
    return null;
  }
  return a as RngState;
}
