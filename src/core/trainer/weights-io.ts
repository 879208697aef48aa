/**
 * Encoder weights in and out of a run (weights-file.ts): what MoCo releases
 * is f_q (§1.1), and a run may start from such a file.
 */
import * as tf from '@tensorflow/tfjs';
import type { ClimConfig } from '../config';
import type { Dataset } from '../data/dataset';
import type { Encoder } from '../models/encoder';
import {
  WeightsFileError,
  architectureOf,
  weightsMismatch,
  type WeightRecord,
  type WeightsFile,
  type WeightsInfo,
} from '../weights-file';

/**
 * Writes `file` into every encoder of `encoders` (f_q and f_k, the same
 * architecture as `cfg`). Throws WeightsFileError('mismatch') with the
 * reason, before any variable changes, when the file does not fit.
 */
export function loadEncoderWeights(file: WeightsFile, cfg: Readonly<ClimConfig>, encoders: readonly Encoder[]): void {
  const want = encoders[0].params.map((p) => ({ name: p.name, shape: p.variable.shape }));
  const why = weightsMismatch(file, cfg, want);
  if (why) throw new WeightsFileError('mismatch', why);
  const byName = new Map(file.params.map((p) => [p.name, p]));
  for (const enc of encoders) {
    for (const p of enc.params) {
      const r = byName.get(p.name) as WeightRecord;
      tf.tidy(() => p.variable.assign(tf.tensor(r.data, r.shape)));
    }
  }
}

/**
 * The query encoder f_q of a run (config `cfg`, trained `steps` steps on
 * `data`) as a weights file, read with await data(): what MoCo releases and
 * what the kNN monitor and linear probe evaluate, so a run started from the
 * file at step 0 measures what this run measured. `info` says where it came from.
 */
export async function encoderWeightsFile(
  query: Encoder,
  cfg: Readonly<ClimConfig>,
  data: Dataset,
  steps: number,
  info: Partial<WeightsInfo> = {},
): Promise<WeightsFile> {
  const datas = await Promise.all(query.params.map((p) => p.variable.data()));
  return {
    architecture: architectureOf(cfg),
    info: {
      savedAt: new Date().toISOString(),
      trainedOn: { id: data.id, train: data.train.n, test: data.test.n },
      steps,
      config: { ...cfg, resolutions: [...cfg.resolutions] },
      ...info,
    },
    params: query.params.map((p, i) => ({
      name: p.name,
      shape: [...p.variable.shape],
      data: Float32Array.from(datas[i] as Float32Array),
    })),
  };
}
