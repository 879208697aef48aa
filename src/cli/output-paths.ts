/**
 * The runner's output paths (--out, --export, --save-weights, --csv, --md),
 * checked before the first step: a run that trains for an hour and then
 * finds its report folder missing has lost the hour. The checks follow what
 * the writes will do (writeFileSync onto a file, mkdirSync -p then
 * writeFileSync under a folder), so a path they pass fails at the end only
 * when something changed meanwhile or the disk is full; those failures are
 * OutputWriteError, one line each, after everything else was written.
 */
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** An output path that cannot be written, found before training. */
export class OutputPathError extends Error {}

/**
 * Writes that failed after training. `failures` holds one line per output
 * (`--export DIR: ENOSPC: …`); every other output was still written.
 */
export class OutputWriteError extends Error {
  constructor(readonly failures: readonly string[]) {
    super(failures.join('; '));
  }
}

/** Stats of `p`, or undefined when nothing is there (ENOENT) or a parent is a file (ENOTDIR). */
function statOf(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new OutputPathError(`${p}: ${ioMessage(e)}`);
  }
}

function canWrite(p: string, folder: boolean): boolean {
  try {
    // A folder also needs search (x) permission to create entries in it.
    accessSync(p, folder ? constants.W_OK | constants.X_OK : constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The closest existing path at or above `p` (the root at worst) and its stats. */
function nearestExisting(p: string): { path: string; stats: Stats } {
  let at = p;
  for (;;) {
    const stats = statOf(at);
    if (stats) return { path: at, stats };
    const up = dirname(at);
    if (up === at) throw new OutputPathError(`${p}: no part of this path exists`);
    at = up;
  }
}

/** A line a failed I/O call leaves: Node's message is one line already ("ENOSPC: no space left on device, write"); cut anything after a line break. */
export function ioMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0];
}

/**
 * Throws OutputPathError unless `path` can be written as a file: it is a
 * writable file or absent, and then its folder exists and is writable.
 * `flag` names the option in the message (`--out`).
 */
export function checkOutputFile(flag: string, path: string): void {
  const fail = (why: string) => {
    throw new OutputPathError(`${flag} ${path}: ${why}`);
  };
  // resolve('') is the working folder: an empty path would name it silently.
  if (path === '') throw new OutputPathError(`${flag} needs a file name (got "")`);
  const target = resolve(path);
  const st = statOf(target);
  if (st?.isDirectory()) fail('it is a folder; give a file name');
  if (st) {
    if (!canWrite(target, false)) fail('the file is not writable');
    return;
  }
  const dir = dirname(target);
  const ds = statOf(dir);
  if (!ds) {
    const near = nearestExisting(dir);
    if (!near.stats.isDirectory()) fail(`${near.path} is a file, not a folder`);
    fail(`the folder ${dir} does not exist`);
  } else if (!ds.isDirectory()) fail(`${dir} is a file, not a folder`);
  else if (!canWrite(dir, true)) fail(`the folder ${dir} is not writable`);
}

/**
 * Throws OutputPathError unless `path` can take the files `files` (paths
 * relative to it, `/`-separated): it is a writable folder or absent, with a
 * writable folder above it (it is created with its parents); a subfolder or
 * file of `files` that exists already must be of that kind and writable.
 */
export function checkOutputDir(flag: string, path: string, files: readonly string[]): void {
  const fail = (why: string) => {
    throw new OutputPathError(`${flag} ${path}: ${why}`);
  };
  if (path === '') throw new OutputPathError(`${flag} needs a folder name (got "")`);
  const target = resolve(path);
  const st = statOf(target);
  if (!st) {
    const near = nearestExisting(target);
    if (!near.stats.isDirectory()) fail(`${near.path} is a file, not a folder`);
    if (!canWrite(near.path, true)) fail(`the folder ${near.path} is not writable, so ${path} cannot be created in it`);
    return;
  }
  if (!st.isDirectory()) fail('it is a file; give a folder (it is created if missing)');
  if (!canWrite(target, true)) fail('the folder is not writable');
  for (const f of files) {
    const parts = f.split('/');
    let at = target;
    // A missing entry is created in the last folder that exists, which passed canWrite.
    for (const [i, part] of parts.entries()) {
      at = join(at, part);
      const s = statOf(at);
      if (!s) break;
      const last = i === parts.length - 1;
      const rel = parts.slice(0, i + 1).join('/');
      if (!last && !s.isDirectory()) fail(`${rel} in it is a file, where the export writes a folder`);
      if (last && s.isDirectory()) fail(`${rel} in it is a folder, where the export writes a file`);
      if (!canWrite(at, !last)) fail(`${rel} in it is not writable`);
    }
  }
}
