/**
 * The exports of a trained run as a list of files (issue 6, "Export"), the
 * same for the runner (`--export dir`, written to disk) and the app (zipped
 * in the worker and downloaded):
 *
 *   model/model.json, model/weights.bin   the query encoder as a tfjs LayersModel
 *                                          (built-in layers only; outputs [features, embedding],
 *                                          input N×S×S×3 RGB in [0,1], S = resolutions[0])
 *   projector/vectors.tsv, metadata.tsv,  the memory-bank embeddings for the TensorFlow
 *   projector/sprite.png,                  Embedding Projector (projector.tensorflow.org: "Load")
 *   projector/projector_config.json
 *   metrics.csv, evals.csv, config.json   history, evaluations, the run's config
 *
 * The projector rows are `trainer.embeddingsDump(max)`: bank rows (the key
 * encoder's L2-normalised embedding of each image when it was last in a
 * batch, what k-means and the Clusters view use), a seeded subset when the
 * training split is larger than `max`, with their k-means cluster and label.
 * `max` is capped at the sprite's capacity (⌊8192/S⌋² images) so vectors,
 * metadata and sprite describe the same points. The sprite comes back as
 * RGBA pixels: PNG encoding is the caller's (pngjs in Node, OffscreenCanvas
 * in the worker), as src/core has neither.
 */
import type { EvalResult, StepMetrics } from '../api';
import type { Dataset } from '../data/dataset';
import type { Trainer } from '../train';
import { encoderToLayersModel, saveLayersModelArtifacts, WEIGHTS_FILE } from './layers-model';
import {
  configJson,
  evalCsv,
  metadataTsv,
  metricsCsv,
  projectorConfig,
  spriteCapacity,
  spriteRgba,
  vectorsTsv,
  type Sprite,
} from './projector';

/** Projector rows when `projectorMax` is not given: the Embedding Projector stays responsive up to a few thousand points. */
export const DEFAULT_PROJECTOR_MAX = 5000;

/** Where the sprite goes in the file list (its bytes are the caller's PNG encoding of `sprite`). */
export const SPRITE_PATH = 'projector/sprite.png';

export interface RunExportOptions {
  trainer: Trainer;
  data: Dataset;
  history: readonly StepMetrics[];
  evals: readonly EvalResult[];
  /** At most this many projector points (default DEFAULT_PROJECTOR_MAX, and at most the sprite's capacity). */
  projectorMax?: number;
}

export interface RunExportFiles {
  /** Relative path → contents, every file but the sprite. */
  files: Array<{ path: string; content: string | Uint8Array }>;
  /** The projector sprite to encode as PNG at SPRITE_PATH. */
  sprite: Sprite;
  /** Projector points written. */
  points: number;
}

export async function runExportFiles(opts: RunExportOptions): Promise<RunExportFiles> {
  const { trainer, data } = opts;
  const files: RunExportFiles['files'] = [];
  // The model: a snapshot of the query encoder at the bank's resolution.
  const model = encoderToLayersModel(trainer.query, trainer.config.resolutions[0]);
  try {
    const { modelJson, weights } = await saveLayersModelArtifacts(model);
    files.push({ path: 'model/model.json', content: modelJson }, { path: `model/${WEIGHTS_FILE}`, content: weights });
  } finally {
    model.dispose();
  }

  const size = data.size;
  const max = Math.min(opts.projectorMax ?? DEFAULT_PROJECTOR_MAX, spriteCapacity(size));
  const dump = await trainer.embeddingsDump(max);
  const n = dump.index.length;
  files.push({ path: 'projector/vectors.tsv', content: vectorsTsv(dump.vectors, dump.dim) });
  files.push({
    path: 'projector/metadata.tsv',
    content: metadataTsv(
      Array.from(dump.index, (idx, i) => ({
        label: dump.label ? (data.classNames[dump.label[i]] ?? String(dump.label[i])) : null,
        cluster: dump.cluster[i],
        name: `train/${idx}`,
      })),
    ),
  });
  const px = size * size * 3;
  const images = new Uint8Array(n * px);
  dump.index.forEach((idx, i) => images.set(data.train.images.subarray(idx * px, (idx + 1) * px), i * px));
  const sprite = spriteRgba(images, n, size);
  files.push({
    path: 'projector/projector_config.json',
    content: projectorConfig({
      tensorName: `${data.name} step ${dump.step}`,
      tensorPath: 'vectors.tsv',
      metadataPath: 'metadata.tsv',
      spritePath: 'sprite.png',
      spriteSize: size,
      shape: [n, dump.dim],
    }),
  });
  files.push(
    { path: 'metrics.csv', content: metricsCsv([...opts.history]) },
    { path: 'evals.csv', content: evalCsv([...opts.evals]) },
    { path: 'config.json', content: configJson(trainer.config) },
  );
  return { files, sprite, points: n };
}
