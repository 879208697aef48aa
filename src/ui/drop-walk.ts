/**
 * Dropped items and chosen files → the decode worker's file list, with
 * paths relative to what was dropped (`root/cats/1.png`), so the folder
 * layout rules (src/core/data/folder.ts) see the same paths whether a
 * folder came through the picker (`webkitRelativePath`) or a drop.
 */
import type { UploadFile } from '../worker/decode-protocol';

export type { UploadFile };

/** Chosen files: the folder picker fills `webkitRelativePath`; a plain multi-file pick does not. */
export function filesFromInput(list: FileList | File[]): UploadFile[] {
  return Array.from(list, (file) => ({ path: file.webkitRelativePath || file.name, file }));
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries returns at most ~100 entries per call: call until it returns none.
  return new Promise((resolve, reject) => {
    const out: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(out);
        else {
          out.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, prefix: string, out: UploadFile[]): Promise<void> {
  const path = prefix + entry.name;
  if (entry.isFile) {
    out.push({ path, file: await fileOf(entry as FileSystemFileEntry) });
  } else if (entry.isDirectory) {
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader()))
      await walk(child, `${path}/`, out);
  }
}

/**
 * Files of a drop, folders walked recursively. Entries must be taken from
 * the DataTransfer synchronously inside the drop handler (the list empties
 * after it returns), hence `entriesOf` first and `walkEntries` after.
 */
export function entriesOf(dt: DataTransfer): { entries: FileSystemEntry[]; files: File[] } {
  const entries: FileSystemEntry[] = [];
  const files: File[] = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== 'file') continue;
    const e = item.webkitGetAsEntry?.();
    if (e) entries.push(e);
    else {
      const f = item.getAsFile();
      if (f) files.push(f);
    }
  }
  return { entries, files };
}

export async function walkEntries(entries: FileSystemEntry[], files: File[] = []): Promise<UploadFile[]> {
  const out: UploadFile[] = [];
  for (const e of entries) await walk(e, '', out);
  for (const f of files) out.push({ path: f.name, file: f });
  return out;
}

/** A name for the upload: the dropped folder's or zip's name, or "N files". */
export function uploadName(files: UploadFile[]): string {
  const tops = new Set(files.map((f) => f.path.split('/')[0]));
  if (tops.size === 1) {
    const only = [...tops][0];
    return only.replace(/\.zip$/i, '');
  }
  return `${files.length} files`;
}
