/**
 * Writes the exports of a trained run to a folder (Node only): the files of
 * src/core/export/bundle.ts (model, Embedding Projector set, CSVs, config),
 * with the sprite encoded as PNG by pngjs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PNG } from 'pngjs';
import { runExportFiles, SPRITE_PATH, type RunExportOptions } from '../core/export/bundle';
import { WEIGHTS_FILE } from '../core/export/layers-model';

export { DEFAULT_PROJECTOR_MAX } from '../core/export/bundle';

/**
 * Every file `writeRunExports` writes, relative to its folder: the runner
 * checks these paths before training (output-paths.ts), so a `model` file
 * in the way fails at once rather than after the run. A test keeps the list
 * equal to what is written.
 */
export const EXPORT_FILE_PATHS: readonly string[] = Object.freeze([
  'model/model.json',
  `model/${WEIGHTS_FILE}`,
  'projector/vectors.tsv',
  'projector/metadata.tsv',
  'projector/projector_config.json',
  SPRITE_PATH,
  'metrics.csv',
  'evals.csv',
  'config.json',
]);

/** Writes the run's exports under `dir` (created if missing); returns the written paths. */
export async function writeRunExports(dir: string, opts: RunExportOptions): Promise<string[]> {
  const { files, sprite } = await runExportFiles(opts);
  const png = new PNG({ width: sprite.width, height: sprite.height });
  png.data = Buffer.from(sprite.rgba.buffer, sprite.rgba.byteOffset, sprite.rgba.byteLength);
  const written: string[] = [];
  for (const f of [...files, { path: SPRITE_PATH, content: PNG.sync.write(png) as Uint8Array }]) {
    const path = join(dir, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
    written.push(path);
  }
  return written;
}
