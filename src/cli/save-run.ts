/**
 * --save-run and --resume: the runner writes and reads the app's own run
 * files (.climrun, src/core/checkpoint.ts), built the way "Export run" builds
 * them (worker/engine-persistence.ts encodeRun) and read through the one
 * check every reader uses (readRunFile), so a run moves between the page and
 * Node in either direction and carries on exactly where it stopped.
 */
import { readFileSync } from 'node:fs';
import type { EvalResult, StepMetrics } from '../core/api';
import { encodeCheckpoint, type Checkpoint } from '../core/checkpoint';
import { datasetFingerprint, takeSubset, type Dataset } from '../core/data/dataset';
import { SHAPES_DEFAULTS, makeShapesDataset } from '../core/data/shapes';
import { readRunFile } from '../core/run-file-check';
import { truncateText } from '../core/config';
import type { Trainer } from '../core/train';
import type { DatasetSource } from '../worker/engine-persistence';
import { isDatasetName, thinHistory, type DatasetName } from '../worker/protocol';
import type { DatasetChoice } from './args';
import { loadDataset } from './datasets';
import { ioMessage } from './output-paths';

/**
 * A run file that cannot be resumed here (unreadable, damaged, or of another
 * data set): one line and exit 2, like a bad --init-weights file. Not a
 * UsageError: the flags are fine, the file or the data set is not.
 */
export class RunFileUseError extends Error {}

/** The run file at `path`, checked whole (container, then description) before anything of it is used. */
export function readResumeFile(path: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new RunFileUseError(`--resume ${path}: ${ioMessage(e)}`);
  }
  // The app's words for the same case (engine-persistence.ts onPrepareRestore).
  if (bytes.length === 0)
    throw new RunFileUseError(`--resume ${path}: The file is empty (0 bytes), so it is not a run file.`);
  try {
    return readRunFile(bytes);
  } catch (e) {
    throw new RunFileUseError(`--resume ${path}: ${ioMessage(e)}`);
  }
}

/**
 * The built-in set `name` (or, without --dataset, the one the file names)
 * made by the file's own recipe: the page may have trained on a subset or
 * with a data seed other than the run's, and only that recipe gives the
 * images the run's indices point into.
 */
export function resumeBuiltin(
  path: string,
  ck: Checkpoint,
  name: DatasetName | undefined,
): { data: Dataset; name: DatasetName } {
  const src = ck.meta.dataset.source as DatasetSource | undefined;
  const named = src?.kind === 'builtin' && isDatasetName(src.name) ? src : undefined;
  const want = name ?? named?.name;
  if (want === undefined) {
    const what =
      src?.kind === 'upload'
        ? `the folder or zip "${truncateText(src.name, 80)}"`
        : `the data set "${truncateText(ck.meta.dataset.id, 80)}"`;
    throw new RunFileUseError(
      `--resume ${path}: the run was trained on ${what} (${ck.meta.dataset.train} + ${ck.meta.dataset.test} images); give it with --dataset PATH`,
    );
  }
  const recipe = named?.name === want ? named : { seed: ck.meta.config.seed, nTrain: undefined, nTest: undefined };
  if (want === 'shapes') {
    // Generated only at the run's own sizes: other ones could only make a set of the wrong (or a huge) size.
    const nTrain = recipe.nTrain ?? SHAPES_DEFAULTS.nTrain;
    const nTest = recipe.nTest ?? SHAPES_DEFAULTS.nTest;
    if (named?.name === want && (nTrain !== ck.meta.dataset.train || nTest !== ck.meta.dataset.test))
      throw new RunFileUseError(
        `--resume ${path}: the file's data set recipe asks for ${nTrain} + ${nTest} shapes images, but the run was trained on ${ck.meta.dataset.train} + ${ck.meta.dataset.test}`,
      );
    return { data: makeShapesDataset({ seed: recipe.seed, nTrain, nTest }), name: want };
  }
  return { data: takeSubset(loadDataset(want, recipe.seed), recipe.nTrain, recipe.nTest), name: want };
}

/**
 * Refuses `data` unless it is the run's data set: the same images and labels
 * (the fingerprint) and sizes. A different name alone is no reason (a
 * renamed folder holds the same images; the app decides by fingerprint too),
 * but the message names every part that differs.
 */
export function assertResumeData(path: string, ck: Checkpoint, data: Dataset, given: string): void {
  const d = ck.meta.dataset;
  const fp = datasetFingerprint(data);
  if (fp === d.fingerprint && d.train === data.train.n && d.test === data.test.n) return;
  const diffs: string[] = [];
  if (d.id !== data.id) diffs.push(`it is "${truncateText(d.id, 80)}", not "${truncateText(data.id, 80)}"`);
  if (d.train !== data.train.n || d.test !== data.test.n)
    diffs.push(`${d.train} + ${d.test} images, not ${data.train.n} + ${data.test.n}`);
  if (d.size !== data.size) diffs.push(`${d.size} px, not ${data.size}`);
  if (!diffs.length) diffs.push('the same sizes but other images, labels or held-out split');
  throw new RunFileUseError(
    `--resume ${path}: the run was trained on another data set than ${given}: ${diffs.join('; ')} (fingerprint ${d.fingerprint}, not ${fp})`,
  );
}

/**
 * How the page finds the data set again (engine-persistence.ts DatasetSource):
 * a built-in by name and recipe (a resumed run keeps its file's recipe), a
 * folder or zip as an upload of that name, which the page asks the user to
 * load.
 */
export function datasetSourceOf(
  choice: DatasetChoice,
  data: Dataset,
  seed: number,
  resumed?: Checkpoint,
): DatasetSource {
  if ('path' in choice) return { kind: 'upload', name: data.name };
  const src = resumed?.meta.dataset.source as DatasetSource | undefined;
  if (src?.kind === 'builtin' && src.name === choice.name) return src;
  return { kind: 'builtin', name: choice.name, seed };
}

/**
 * The run as the app's "Export run" writes it (encodeRun): the checkpoint
 * with the charts' history and evaluations in meta.app, the history thinned
 * as the worker thins it so a long run stays within what readers accept.
 */
export async function encodeRunFile(
  trainer: Trainer,
  app: { history: StepMetrics[]; evals: EvalResult[] },
  source: DatasetSource,
): Promise<Uint8Array> {
  const ck = await trainer.checkpoint({
    app: { history: thinHistory(app.history), evals: app.evals },
    datasetSource: source,
  });
  return encodeCheckpoint(ck);
}
