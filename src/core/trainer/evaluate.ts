/**
 * Evaluation of frozen features (METHOD §6) on a run's encoder. Reads the
 * run's tensors (borrowed) and draws from its own seeded generator, never
 * from the training stream: evaluating must not change the loss sequence
 * (checkpoint resume relies on it).
 */
import * as tf from '@tensorflow/tfjs';
import type { ClimConfig } from '../config';
import type { EvalResult } from '../api';
import type { Dataset } from '../data/dataset';
import { Rng } from '../rng';
import { l2Normalize, type Encoder } from '../models/encoder';
import type { KMeansState } from '../clim/kmeans';
import { applyAugment, centreView, drawAugment } from '../augment/augment';
import { knnClassify } from '../eval/knn-monitor';
import { clusterAgreement } from '../eval/cluster-metrics';
import { DEFAULT_PROBE, linearProbe } from '../eval/linear-probe';
import { alignment, uniformity } from '../eval/representation';
import { mapChunks } from './images';
import { performanceNow } from './clock';

/** Salt of the evaluation's augmentation draws (alignment), apart from the training stream. */
const EVAL_SALT = 0x7e1a;
/** Held-out images whose embeddings give alignment and uniformity: the N×N Gram matrix stays at 4 MB. */
export const EVAL_REPR_MAX = 1000;

/** What an evaluation reads of a run, all borrowed. */
export interface EvalInputs {
  /** f_q (§1.1): the encoder MoCo releases. */
  query: Encoder;
  config: Readonly<ClimConfig>;
  data: Dataset;
  /** N×S×S×3 and M×S×S×3 [0,1] pixels of the splits; test null when the split is empty. */
  trainImages: tf.Tensor4D;
  testImages: tf.Tensor4D | null;
  /** The last k-means (§2.4), for cluster purity/NMI/ARI; null before the first. */
  clusters: KMeansState | null;
  step: number;
}

/**
 * Evaluation (§6) of frozen features on the held-out split, the train split
 * as the memory / probe training set: weighted cosine kNN top-1 always;
 * with `full`, also the linear probe (top-1 + confusion), alignment and
 * uniformity (Wang & Isola 2020) and cluster purity/NMI/ARI.
 *
 * Alignment pairs two augmented views of the same held-out images (up to
 * EVAL_REPR_MAX of them) through the query encoder; uniformity is over the
 * first view's embeddings.
 */
export async function evaluateRun(e: EvalInputs, opts: { full?: boolean } = {}): Promise<EvalResult> {
  const t0 = performanceNow();
  const { data, config } = e;
  const trainLabels = data.train.labels;
  const testLabels = data.test.labels;
  const classes = trainLabels ? Math.max(data.classNames.length, Math.max(...trainLabels) + 1) : 0;
  const result: EvalResult = {
    step: e.step,
    knnTop1: null,
    linearTop1: null,
    confusion: null,
    classes,
    alignment: null,
    uniformity: null,
    clusterPurity: null,
    clusterNmi: null,
    clusterAri: null,
    ms: 0,
  };
  const r = config.resolutions[0];
  if (trainLabels && testLabels && e.testImages) {
    const feats = (x: tf.Tensor4D) => mapChunks(x, 256, (p) => e.query.features(centreView(p, r)));
    const train = feats(e.trainImages);
    const test = feats(e.testImages);
    try {
      const trainN = tf.tidy(() => l2Normalize(train));
      const testN = tf.tidy(() => l2Normalize(test));
      const pred = await knnClassify(trainN, trainLabels, testN, config.evalK, config.evalTemperature, classes);
      tf.dispose([trainN, testN]);
      let right = 0;
      for (let i = 0; i < pred.length; i++) if (pred[i] === testLabels[i]) right++;
      result.knnTop1 = right / pred.length;
      if (opts.full) {
        const probe = await linearProbe(train, trainLabels, test, testLabels, { ...DEFAULT_PROBE, classes });
        result.linearTop1 = probe.top1;
        result.confusion = probe.confusion;
      }
    } finally {
      tf.dispose([train, test]);
    }
  }
  if (opts.full) {
    const images = e.testImages ?? e.trainImages;
    const m = Math.min(images.shape[0], EVAL_REPR_MAX);
    if (m >= 2) {
      const rng = new Rng(config.seed ^ EVAL_SALT);
      const da = drawAugment(m, config, rng);
      const db = drawAugment(m, config, rng);
      const [za, zb] = tf.tidy(() => {
        const x = m === images.shape[0] ? images : tf.slice(images, [0, 0, 0, 0], [m, -1, -1, -1]);
        return [e.query.embed(applyAugment(x, r, da)), e.query.embed(applyAugment(x, r, db))];
      });
      result.alignment = await alignment(za, zb);
      result.uniformity = await uniformity(za);
      tf.dispose([za, zb]);
    }
    if (trainLabels && e.clusters) {
      const a = clusterAgreement(Int32Array.from(await e.clusters.assignments.data()), trainLabels);
      result.clusterPurity = a.purity;
      result.clusterNmi = a.nmi;
      result.clusterAri = a.ari;
    }
  }
  result.ms = performanceNow() - t0;
  return result;
}
