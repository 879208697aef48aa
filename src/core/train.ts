/**
 * The CLIM training loop (Li et al. 2021; METHOD §1–§5), one step at a time.
 * R below is the number of resolutions (config.resolutions, §5), never an
 * interval: the bank refresh and k-means run every bankRefreshEvery and
 * every kmeansEvery steps.
 *
 * trainStep, in order:
 *   1. drawStep: the next B anchors of a seeded epoch permutation and every
 *      random draw of the step; with bankView 'clean' (default) the anchors'
 *      bank rows are first rewritten from f_k's embedding of their clean
 *      centre views (§2.2), so each anchor searches with a fresh row;
 *   2. selectPositives: a positive per anchor by the selection policy over
 *      the bank (§3);
 *   3. embedKeys: per resolution, f_k of the anchor and positive key views;
 *   4. mixQueries: per resolution, the anchor and positive query views mixed (§4);
 *   5. optimiseStep: multiResolutionLoss (§5), the mean over the R×R pairs
 *      (r, s) of λ·InfoNCE(q_r, k_i,s) + (1−λ)·InfoNCE(q_r, k_p,s) against
 *      queue s without the own keys (ownKeyMask, §1.4); one step on f_q;
 *   6. followQuery: momentum-update f_k, enqueue the anchor keys per
 *      resolution, and with bankView 'augmented' write the anchors' first
 *      key views into the bank;
 *   7. maintainBank: re-embed the whole bank and re-run spherical k-means
 *      when due (§2.3, §2.4).
 * Only a few scalars and B indices are read back per step, with `await data()`.
 * Snapshots (trainer/snapshots.ts), evaluation (trainer/evaluate.ts) and
 * checkpoints (trainer/run-state.ts) are functions of the state passed in.
 */
import * as tf from '@tensorflow/tfjs';
import { installFastWasmKernels } from './ops/wasm-kernels';
import type { ClimConfig } from './config';
import { assertValidConfig, bankDim } from './config';
import { isLiveKey, type LivePatch } from './config-fields';
import type {
  ClusterSnapshot,
  EmbeddingsDump,
  EvalResult,
  ProjectionSnapshot,
  SelectionSnapshot,
  StepMetrics,
} from './api';
import type { Dataset } from './data/dataset';
import { Rng } from './rng';
import { Encoder } from './models/encoder';
import { MemoryBank } from './clim/bank';
import { KeyQueue } from './clim/queue';
import type { KMeansState } from './clim/kmeans';
import type { Checkpoint } from './checkpoint';
import { assertRunFile } from './run-file-check';
import type { RuleComparison } from './clim/rule-comparison';
import type { WeightsFile, WeightsInfo } from './weights-file';
import { encoderWeightsFile, loadEncoderWeights } from './trainer/weights-io';
import { padForCrops } from './augment/augment';
import { createOptimizer, type Optimizer } from './optim';
import { bankRefreshDue, segmentLr } from './schedule';
import { EpochSampler } from './trainer/sampler';
import { batchImages, splitTensor } from './trainer/images';
import { reclusterBank, refreshBankRows, seedQueues, writeCleanRows } from './trainer/bank-rows';
import { performanceNow, timed } from './trainer/clock';
import { followQuery, optimiseStep, ownKeyMasks } from './trainer/update';
import { drawStep, embedKeys, mixQueries, selectPositives, stepMetrics, type MixedQueries } from './trainer/step';
import { RunViews, clusterSnapshot, type BankState, type LastBatch } from './trainer/snapshots';
import { evaluateRun } from './trainer/evaluate';
import { assertSameDataset, captureRun, loadRun, type RunState } from './trainer/run-state';

// The pieces moved out of this file keep their old import path (tests, CLI).
export { EpochSampler, sampleSubset } from './trainer/sampler';
export { GALLERY_SIZE, MAP_MAX_POINTS, RULE_PROBE_MAX, clusterGalleries } from './trainer/snapshots';
export { EVAL_REPR_MAX } from './trainer/evaluate';
export { ownKeyMask } from './losses/own-key-mask';

export class Trainer {
  private readonly rng: Rng;
  /** The snapshots' own state (visualisation stream, map subset and axes, rule probe). */
  private readonly views: RunViews;
  private readonly sampler: EpochSampler;
  private readonly trainImages: tf.Tensor4D;
  private readonly testImages: tf.Tensor4D | null;
  readonly query: Encoder;
  readonly key: Encoder;
  readonly bank: MemoryBank;
  readonly queues: KeyQueue[];
  private readonly optimizer: Optimizer;
  private clusters: KMeansState | null = null;
  private stepCount = 0;
  /** A private copy: updateLive replaces it, and a caller's later edits to its object cannot reach a run. */
  private cfg: ClimConfig;
  private last: LastBatch | null = null;
  private captureViews = false;
  private disposed = false;

  private constructor(
    config: ClimConfig,
    readonly data: Dataset,
  ) {
    assertValidConfig(config);
    this.cfg = { ...config, resolutions: [...config.resolutions] };
    if (data.train.n < 1) throw new Error('The data set has no training images.');
    this.rng = new Rng(config.seed);
    this.views = new RunViews(config.seed, data.train.n);
    this.sampler = new EpochSampler(data.train.n, this.rng.fork());
    this.trainImages = splitTensor(data.train.images, data.train.n, data.size);
    this.testImages = data.test.n > 0 ? splitTensor(data.test.images, data.test.n, data.size) : null;
    this.query = Encoder.create(config, this.rng.fork());
    this.key = this.query.copy(false);
    this.bank = new MemoryBank(data.train.n, bankDim(config));
    const qrng = this.rng.fork();
    this.queues = config.resolutions.map(() => new KeyQueue(config.queueSize, config.projDim, qrng));
    this.optimizer = createOptimizer(config.optimizer, this.query.params, config.momentum, config.weightDecay);
  }

  /** Builds the model, fills the bank with one pass of the (random) key encoder (§2) and runs the first k-means. */
  static async create(config: ClimConfig, data: Dataset, opts: { init?: WeightsFile } = {}): Promise<Trainer> {
    installFastWasmKernels();
    const t = new Trainer(config, data);
    if (opts.init) {
      try {
        t.loadWeights(opts.init);
      } catch (e) {
        t.dispose();
        throw e;
      }
    }
    t.refreshBank();
    seedQueues(t.queues, t.bank, t.key, t.config, t.trainImages, t.rng);
    await t.recluster();
    return t;
  }

  get step(): number {
    return this.stepCount;
  }

  /**
   * Makes the next step keep its mixed query views at the first resolution
   * r for the selection snapshot (one readback of B×r×r×3, only on the
   * steps that report, so the loop stays free of readbacks otherwise).
   */
  captureNextViews(): void {
    this.captureViews = true;
  }

  get batchSize(): number {
    return Math.min(this.config.batchSize, this.data.train.n);
  }

  get config(): Readonly<ClimConfig> {
    return this.cfg;
  }

  /**
   * Changes live-safe fields (config-fields.ts) of a run in progress: every
   * step reads them afresh, so the model, queues, bank, clusters, random
   * stream and step count carry on. Anything else sizes state built at
   * create() and throws here, as does a value validateConfig rejects.
   */
  updateLive(patch: LivePatch): void {
    const fixed = Object.keys(patch).filter((k) => !isLiveKey(k));
    if (fixed.length) throw new Error(`${fixed.join(', ')} cannot change during a run: start a new run.`);
    const next = { ...this.cfg, ...patch };
    assertValidConfig(next);
    this.cfg = next;
    // The optimiser keeps its own copies (it holds no config).
    this.optimizer.setHyperparameters(next.momentum, next.weightDecay);
  }

  currentLearningRate(): number {
    const c = this.cfg;
    return segmentLr(this.stepCount, c.lr, c.warmupSteps, c.scheduleStart, c.totalSteps);
  }

  /** Both encoders from a weights file, before the bank is embedded: a run from trained weights selects and clusters on trained features from step 0. */
  private loadWeights(file: WeightsFile): void {
    loadEncoderWeights(file, this.cfg, [this.query, this.key]);
  }

  /** The query encoder f_q as a weights file (weights-io.ts); `info` says where it came from. */
  weightsFile(info: Partial<WeightsInfo> = {}): Promise<WeightsFile> {
    return encoderWeightsFile(this.query, this.cfg, this.data, this.stepCount, info);
  }

  /** Re-embeds every bank row from its image's clean centre view with the current key encoder (§2.3, config.bankRefreshEvery). */
  refreshBank(): void {
    refreshBankRows(this.bank, this.key, this.config, this.trainImages);
  }

  private async recluster(): Promise<void> {
    this.clusters = await reclusterBank(this.bank, this.config, this.rng, this.clusters);
  }

  /** Training images idx (B int32) as B×S×S×3, owned by the caller (images.ts). */
  private batchImages(idx: tf.Tensor1D, known?: Int32Array): Promise<tf.Tensor4D> {
    return batchImages(this.trainImages, this.data, idx, known);
  }

  /**
   * One step (§1–§5), as the file header lists it. Device work runs in one
   * tidy; the reads are the loss, its two parts, and B positives and kept
   * counts (plus the captured views when asked for).
   */
  async trainStep(): Promise<StepMetrics> {
    if (this.disposed) throw new Error('trainer is disposed');
    const t0 = performanceNow();
    const c = this.config;
    const lr = this.currentLearningRate();
    // CLIM's warm-up (§3.4, config.climWarmupSteps): plain MoCo v2 until the bank means something.
    const draws = drawStep(c, this.batchSize, this.stepCount < c.climWarmupSteps, this.sampler, this.rng);

    const anchorIdx = tf.tensor1d(draws.anchors, 'int32');
    const xa = await this.batchImages(anchorIdx, draws.anchors);
    if (c.bankView === 'clean') writeCleanRows(this.bank, this.key, c, anchorIdx, xa);
    const tSel = performanceNow();
    const sel = selectPositives(draws.policy, anchorIdx, this.bank.tensor, this.clusters, c, draws.u);
    const selectionMs = performanceNow() - tSel;
    const xp = await this.batchImages(sel.positives);

    const capture = this.captureViews;
    this.captureViews = false;
    // Set inside the tidy; its host parts (λ, the kept captured views) outlive it.
    let mixed = null as MixedQueries | null;
    const out = tf.tidy(() => {
      const views = { xa, xp, pa: padForCrops(xa), pp: padForCrops(xp) };
      const keys = embedKeys(this.key, views, c.resolutions, draws.views, c.bankView === 'clean' ? null : c.bankSpace);
      mixed = mixQueries(draws.mixer, draws.plan, views, c.resolutions, draws.views, capture);
      const masks = ownKeyMasks(this.queues, this.data.train.n, this.config.maskOwnKeys, anchorIdx, sel.positives);
      const loss = optimiseStep(
        this.query,
        this.optimizer,
        this.queues,
        this.config.temperature,
        mixed,
        keys.pairs,
        masks,
        lr,
      );
      followQuery(
        this.key,
        this.query,
        this.config.keyMomentum,
        this.queues,
        this.bank,
        keys.pairs,
        keys.bankRows,
        anchorIdx,
        draws.anchors,
      );
      return { ...loss, ...sel };
    });
    tf.dispose([anchorIdx, xa, xp]);
    const { lambdaFirst, captured } = mixed!;

    const [lossV, partsV, posV, keptV, capturedV] = await Promise.all([
      out.loss.data(),
      out.parts.data(),
      out.positives.data(),
      out.keptCount.data(),
      captured?.data(),
    ]);
    tf.dispose([out.loss, out.parts, out.positives, out.keptCount, ...(captured ? [captured] : [])]);
    const positives = Int32Array.from(posV);
    this.last = {
      anchors: draws.anchors,
      positives,
      lambda: lambdaFirst,
      mixed: capturedV ? Uint8Array.from(capturedV) : null,
      mixedSize: c.resolutions[0],
    };

    this.stepCount++;
    const { refreshMs, kmeansMs } = await this.maintainBank();
    return stepMetrics({
      step: this.stepCount,
      anchors: draws.anchors,
      positives,
      keptCount: keptV,
      lambdaFirst,
      labels: this.data.train.labels,
      loss: lossV[0],
      lossAnchor: partsV[0],
      lossPositive: partsV[1],
      lr,
      ms: performanceNow() - t0,
      selectionMs,
      kmeansMs,
      refreshMs,
    });
  }

  /** After the step counter moved: the full bank refresh (§2.3) and k-means (§2.4) when due, with their times in ms (0 when not run). */
  private async maintainBank(): Promise<{ refreshMs: number; kmeansMs: number }> {
    const c = this.config;
    const refreshMs = bankRefreshDue(this.stepCount, c.bankRefreshEvery) ? await timed(() => this.refreshBank()) : 0;
    const kmeansMs = this.stepCount % c.kmeansEvery === 0 ? await timed(() => this.recluster()) : 0;
    return { refreshMs, kmeansMs };
  }

  /** The bank, clusters and labels as the snapshots read them (borrowed). */
  private bankState(): BankState {
    return { bank: this.bank.tensor, clusters: this.clusters, labels: this.data.train.labels, step: this.stepCount };
  }

  /** Everything a checkpoint holds (borrowed). */
  private runState(): RunState {
    const { cfg: config, data, query, key, optimizer, bank, queues, rng, sampler, clusters, stepCount: step } = this;
    return { config, data, query, key, optimizer, bank, queues, rng, sampler, clusters, step };
  }

  /**
   * What the selection did for up to `nAnchors` anchors of the last batch
   * (pinned images first): their k nearest bank neighbours, each kept or
   * rejected with the reason (§3), and the positive that step actually used.
   */
  selectionSnapshot(nAnchors: number, pinned: readonly number[] = []): Promise<SelectionSnapshot> {
    return this.views.selection(this.bankState(), this.config, this.last, nAnchors, pinned);
  }

  /** Every selection rule on the same fixed probe, bank and clusters (§3.5); null before the first k-means. */
  ruleComparison(): Promise<RuleComparison | null> {
    return this.views.rules(this.bankState(), this.config.knnK);
  }

  /** The clusters of the last k-means (§2.4) as the Clusters view shows them. */
  clusterSnapshot(): Promise<ClusterSnapshot> {
    return clusterSnapshot(this.bankState());
  }

  /** A 2-D PCA map of up to MAP_MAX_POINTS bank rows; `assignments` (N, from clusterSnapshot) saves a read of c(i). */
  projectionSnapshot(assignments?: Int32Array): Promise<ProjectionSnapshot> {
    return this.views.projection(this.bankState(), assignments);
  }

  /** Up to `max` bank rows (L2-normalised, N'×d) with their clusters and labels, for projections outside the engine (UMAP). */
  embeddingsDump(max: number): Promise<EmbeddingsDump> {
    return this.views.dump(this.bankState(), max);
  }

  /**
   * Evaluation (§6) of f_q's frozen features (evaluate.ts): kNN top-1 always;
   * with `full`, the linear probe, alignment, uniformity and cluster agreement.
   * Draws from no training stream, so it never changes the loss sequence.
   */
  evaluate(opts: { full?: boolean } = {}): Promise<EvalResult> {
    const { query, config, data, trainImages, testImages, clusters, stepCount: step } = this;
    return evaluateRun({ query, config, data, trainImages, testImages, clusters, step }, opts);
  }

  /**
   * The whole run state (issue 6, run-state.ts): restoring it and training
   * on gives exactly the loss sequence of the uninterrupted run on the same
   * backend. Reads every tensor with await data().
   */
  checkpoint(extra: { app?: unknown; datasetSource?: unknown } = {}): Promise<Checkpoint> {
    return captureRun(this.runState(), extra);
  }

  /**
   * A trainer in exactly the saved state, on `data` (which must have the
   * saved fingerprint). Everything is checked before anything is built, and
   * a failure part-way disposes what was built: the caller's current run is
   * never touched. Throws CheckpointError with the first problem found.
   * The description is checked here too (checkRunFile), not only by the
   * readers of files: indices it holds reach tf.gather on the device, which
   * reports an out-of-range one only at the next step, in its own words.
   */
  static async restore(ck: Checkpoint, data: Dataset): Promise<Trainer> {
    // As create(): a process that only ever restores (the runner's --resume, a fresh page resuming a
    // saved run) would otherwise step on the stock kernels, slower and not bit-equal to the saved run's.
    installFastWasmKernels();
    const m = assertRunFile(ck).meta;
    assertSameDataset(m, data);
    const t = new Trainer(m.config, data);
    try {
      const { clusters, step } = loadRun(t.runState(), ck, m);
      t.clusters = clusters;
      t.stepCount = step;
      return t;
    } catch (e) {
      t.dispose();
      throw e;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.query.dispose();
    this.key.dispose();
    this.bank.dispose();
    this.queues.forEach((q) => q.dispose());
    this.optimizer.dispose();
    this.clusters?.dispose();
    this.trainImages.dispose();
    this.testImages?.dispose();
  }
}
