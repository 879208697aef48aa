/**
 * The upload pipeline shared by the browser's decode worker and the Node
 * runner: plan (src/core/data/upload.ts) → per file: read, hash, header size
 * check, decode + resize (the environment's `ImageDecoder`) → report. Bad
 * files become report lines; only "nothing at all decoded" is an error, and
 * that is the caller's to raise, after the report is built.
 *
 * Runs `concurrency` files at a time: in the browser `createImageBitmap`
 * decodes off the calling thread, so several in flight keep its decoder
 * threads busy; in Node the decoders are synchronous and the pool only
 * interleaves file reads.
 */
import { imageSize } from 'image-size';
import {
  finishUpload,
  pixelLimitReason,
  planUpload,
  seededSubset,
  type DecodeOutcome,
  type SkipKind,
  type UploadEntry,
  type UploadImages,
  type UploadPlan,
} from '../core/data/upload';
import { ZipError } from './zip';

export type Fit = 'crop' | 'pad';

export interface SourceFile extends UploadEntry {
  bytes(): Promise<Uint8Array>;
  /**
   * Refused while listing, before any byte is read: a symbolic link (never
   * followed), an encrypted zip entry, one whose headers already break the
   * unpack limits. Listed under its kind, never read or decoded.
   */
  skip?: { kind: SkipKind; reason: string };
}

export interface HeaderInfo {
  width: number;
  height: number;
  /** EXIF orientation 1–8 when the header has one (JPEG). */
  orientation?: number;
  /** Container type as image-size names it ('png', 'jpg', 'webp', ...). */
  type?: string;
}

/** Decodes one file's bytes into S×S×3 RGB (box per `squareBoxes`, alpha over white, padding black). */
export interface ImageDecoder {
  decode(bytes: Uint8Array, header: HeaderInfo | null, size: number, fit: Fit): Promise<DecodeOutcome>;
}

export interface LoadProgress {
  /** Candidates finished (loaded or skipped) so far. */
  done: number;
  /** Candidates to decode. */
  total: number;
  loaded: number;
  skipped: number;
}

export interface LoadOptions {
  size: number;
  fit: Fit;
  /** Width × height above which a file is skipped before decoding. */
  maxPixels: number;
  /** Files in flight at once. */
  concurrency?: number;
  /** Decode only this many candidates, a seeded random subset (the over-budget choice). */
  subset?: { count: number; seed: number };
  isCancelled?: () => boolean;
  onProgress?: (p: LoadProgress) => void;
  /** Minimum ms between progress calls (the last one always comes). */
  progressEveryMs?: number;
  now?: () => number;
}

/** Default pixel limit: 40 MP, above any phone camera's still while far below what would exhaust a tab's memory when decoded (160 MB RGBA). */
export const DEFAULT_MAX_PIXELS = 40_000_000;

/** Header width/height (and orientation) without decoding, or null when image-size does not recognise the bytes. */
export function readHeader(bytes: Uint8Array): HeaderInfo | null {
  try {
    const r = imageSize(bytes);
    if (!r.width || !r.height) return null;
    const info: HeaderInfo = { width: r.width, height: r.height };
    if (r.orientation) info.orientation = r.orientation;
    if (r.type) info.type = r.type;
    return info;
  } catch {
    return null;
  }
}

/** Hex SHA-256 of the bytes (WebCrypto: the same call in browsers, workers and Node ≥ 19). */
export async function contentHash(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let s = '';
  for (const b of d) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * `planUpload` plus the skips decided while listing (`SourceFile.skip`): such
 * a file is taken out of the candidates, or its name-based line ('not an
 * image') replaced, so it is listed once under its own kind and the memory
 * estimate does not count it. Hidden files stay silent, as for any file.
 */
export function planSources(files: SourceFile[]): UploadPlan {
  const plan = planUpload(files);
  if (!files.some((f) => f.skip)) return plan;
  const listed = plan.skipped.filter((s) => !files[s.entry].skip);
  for (const c of plan.candidates) {
    const skip = files[c.entry].skip;
    if (skip) listed.push({ entry: c.entry, path: c.path, ...skip });
  }
  for (const s of plan.skipped) {
    const skip = files[s.entry].skip;
    if (skip) listed.push({ entry: s.entry, path: s.path, ...skip });
  }
  listed.sort((a, b) => a.entry - b.entry);
  return { ...plan, candidates: plan.candidates.filter((c) => !files[c.entry].skip), skipped: listed };
}

export interface LoadResult extends UploadImages {
  cancelled: boolean;
  plan: UploadPlan;
  /** Wall time of the read + decode phase. */
  ms: number;
}

/**
 * Plans, decodes and reports. Duplicate detection follows candidate order:
 * of two files with the same bytes, the earlier in folder order is kept,
 * whatever order the pool finishes them in.
 */
export async function loadImages(files: SourceFile[], decoder: ImageDecoder, opts: LoadOptions): Promise<LoadResult> {
  const now = opts.now ?? (() => performance.now());
  const t0 = now();
  const plan = planSources(files);
  const n = plan.candidates.length;
  const chosen = opts.subset && opts.subset.count < n ? seededSubset(n, opts.subset.count, opts.subset.seed) : null;
  const todo = chosen ? Array.from(chosen) : Array.from({ length: n }, (_, i) => i);
  const outcomes: (DecodeOutcome | undefined)[] = new Array(n).fill(undefined);
  // Hashing happens in the pool; the duplicate decision waits until every
  // earlier candidate's hash is known, so it does not depend on timing.
  const hashReady: Promise<string | null>[] = new Array(n);
  const resolvers: ((h: string | null) => void)[] = new Array(n);
  for (const i of todo) hashReady[i] = new Promise((res) => (resolvers[i] = res));
  // First candidate (in folder order) seen with each hash: decided along one
  // promise chain in candidate order, so whichever file the pool finishes
  // first, the earlier one is kept and the later one reported as a duplicate.
  const firstWithHash = new Map<string, number>();
  const decided: Promise<void>[] = new Array(n);
  let chain: Promise<void> = Promise.resolve();
  for (const i of todo) {
    chain = chain.then(async () => {
      const h = await hashReady[i];
      if (h !== null && !firstWithHash.has(h)) firstWithHash.set(h, i);
    });
    decided[i] = chain;
  }

  let next = 0;
  let done = 0;
  let loaded = 0;
  let skipped = 0;
  let lastReport = -Infinity;
  const every = opts.progressEveryMs ?? 100;
  const report = (force: boolean) => {
    const t = now();
    if (!opts.onProgress || (!force && t - lastReport < every)) return;
    lastReport = t;
    opts.onProgress({ done, total: todo.length, loaded, skipped });
  };
  let cancelled = false;

  const one = async (i: number): Promise<void> => {
    const c = plan.candidates[i];
    let bytes: Uint8Array;
    try {
      bytes = await files[c.entry].bytes();
    } catch (e) {
      resolvers[i](null);
      // A zip entry refused while unpacking (over a cap, damaged) says which kind of skip it is.
      if (e instanceof ZipError && e.kind) outcomes[i] = { ok: false, kind: e.kind, reason: e.reason };
      else
        outcomes[i] = {
          ok: false,
          kind: 'corrupt',
          reason: `could not be read (${e instanceof Error ? e.message : String(e)})`,
        };
      return;
    }
    const h = await contentHash(bytes);
    resolvers[i](h);
    await decided[i];
    const first = firstWithHash.get(h) as number;
    if (first !== i) {
      outcomes[i] = { ok: false, kind: 'duplicate', reason: `same bytes as ${plan.candidates[first].path}` };
      return;
    }
    const header = readHeader(bytes);
    if (header) {
      const over = pixelLimitReason(header.width, header.height, opts.maxPixels);
      if (over) {
        outcomes[i] = { ok: false, kind: 'too-large', reason: over };
        return;
      }
    }
    try {
      outcomes[i] = await decoder.decode(bytes, header, opts.size, opts.fit);
    } catch (e) {
      outcomes[i] = {
        ok: false,
        kind: 'corrupt',
        reason: `could not be decoded (${e instanceof Error ? e.message : String(e)})`,
      };
    }
  };

  const worker = async () => {
    while (next < todo.length) {
      if (opts.isCancelled?.()) {
        cancelled = true;
        // Unblock anyone waiting on hashes that will never come.
        while (next < todo.length) resolvers[todo[next++]](null);
        return;
      }
      const i = todo[next++];
      await one(i);
      done++;
      const o = outcomes[i];
      if (o?.ok) loaded++;
      else if (o) skipped++;
      report(false);
    }
  };
  const pool = Math.max(1, Math.min(opts.concurrency ?? 8, todo.length || 1));
  await Promise.all(Array.from({ length: pool }, worker));
  report(true);

  const notes: string[] = [];
  if (chosen)
    notes.push(`a seeded random subset of ${chosen.length} of the ${n} images was loaded (seed ${opts.subset!.seed})`);
  if (cancelled) notes.push(`cancelled after ${done} of ${todo.length} images`);
  const result = finishUpload(plan, outcomes, opts.size, files.length, notes);
  return { ...result, cancelled, plan, ms: now() - t0 };
}
