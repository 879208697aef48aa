/**
 * .zip uploads → the same file list a dropped folder gives (fflate; the
 * archive is read whole, which is how a zip's central directory works).
 * Directory entries are dropped; hidden files and `__MACOSX/` stay in the
 * list so the report counts them as ignored, exactly as for a folder.
 */
import { unzipSync } from 'fflate';
import type { SourceFile } from './load-images';

export function isZipName(name: string): boolean {
  return /\.zip$/i.test(name);
}

/** Thrown for an archive fflate cannot read; the message names the file. */
export class ZipError extends Error {}

/**
 * Entries of the archive as source files. `prefix` ('' or 'name/') is put in
 * front of every path: several zips (or a zip next to loose files) keep their
 * entries apart, while a single zip's own folder layout is used as is.
 */
export function zipEntries(name: string, bytes: Uint8Array, prefix = ''): SourceFile[] {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new ZipError(`${name} is not a readable .zip archive (${e instanceof Error ? e.message : String(e)})`);
  }
  return Object.entries(files)
    .filter(([path]) => !path.endsWith('/'))
    .map(([path, data]) => ({ path: prefix + path, size: data.length, bytes: async () => data }));
}
