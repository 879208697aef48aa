/**
 * The CLIM training loop (Li et al. 2021; METHOD §1–§5), one step at a time.
 *
 * A step, top to bottom:
 *   1. take the next B anchors of a seeded epoch permutation; with bankView
 *      'clean' (default) write their bank rows from f_k's embedding of their
 *      clean centre views first (§2), so each anchor searches with a fresh row;
 *   2. pick a positive per anchor with the selection policy (§3) over the bank;
 *   3. per resolution r (§5): augment anchor and positive views on the device,
 *      mix the two query views (§4), embed the mixed view with f_q and the
 *      anchor/positive key views with f_k;
 *   4. loss = mean over (r, s) of λ·InfoNCE(q_r, k_i,s) + (1−λ)·InfoNCE(q_r, k_p,s)
 *      against queue s; one optimiser step on f_q;
 *   5. momentum-update f_k, enqueue the anchor keys per resolution (with
 *      bankView 'augmented', write the anchors' first key views into the
 *      bank); every bankRefreshEvery steps re-embed the whole bank, every
 *      kmeansEvery steps re-run spherical k-means (§2).
 * Only a few scalars and B indices are read back per step, with `await data()`.
 */
import * as tf from '@tensorflow/tfjs';
import { useFastWasmKernels } from './ops/wasm-kernels';
import type { ClimConfig } from './config';
import { assertValidConfig, bankDim } from './config';
import { isLiveKey, type LivePatch } from './config-fields';
import type { ClusterSnapshot, EmbeddingsDump, EvalResult, NeighbourInfo, ProjectionSnapshot, RejectReason, SelectionSnapshot, StepMetrics } from './api';
import type { Dataset } from './data/dataset';
import { Rng, type RngState } from './rng';
import { Encoder, l2Normalize } from './models/encoder';
import { MemoryBank } from './clim/bank';
import { KeyQueue } from './clim/queue';
import { kmeansStateFrom, sphericalKMeans, type KMeansState } from './clim/kmeans';
import { CHECKPOINT_VERSION, CheckpointError, type Checkpoint, type TensorRecord } from './checkpoint';
import { assertRunFile } from './run-file-check';
import { datasetFingerprint } from './data/dataset';
import { knn } from './clim/knn';
import { matMulABt } from './ops/matmul';
import { isHostBackend } from './ops/host-backend';
import { getSelectionPolicy, REASON_NAMES } from './clim/selection';
import { compareRulesOnBank, type RuleComparison } from './clim/rule-comparison';
import { WeightsFileError, architectureOf, weightsMismatch, type WeightRecord, type WeightsFile, type WeightsInfo } from './weights-file';
import { getMixer } from './clim/mix';
import { applyAugment, centreView, drawAugment, padForCrops, type AugmentParams } from './augment/augment';
import { mixedInfoNCE } from './losses/infonce';
import { AdamW, createOptimizer, type Optimizer } from './optim';
import { bankRefreshDue, warmupCosine } from './schedule';
import { knnClassify } from './eval/knn-monitor';
import { clusterAgreement } from './eval/cluster-metrics';
import { pca2 } from './eval/pca';
import { DEFAULT_PROBE, linearProbe } from './eval/linear-probe';
import { alignment, uniformity } from './eval/representation';

/** Members per cluster gallery (nearest and farthest from the centre), issue 5. */
export const GALLERY_SIZE = 6;
/** At most this many bank rows go into the 2-D map; larger banks use a seeded subset. */
export const MAP_MAX_POINTS = 20_000;
/** Rows×C numbers per block of the snapshot's N×C similarities (16 MB of float32), as in kmeans.ts. */
const SNAPSHOT_BLOCK = 1 << 22;
/** Salt of the map subset's seed, apart from the training stream so looking never changes the loss. */
const MAP_SUBSET_SALT = 0x3a9d;
/** Salt of the evaluation's augmentation draws (alignment), apart from the training stream. */
const EVAL_SALT = 0x7e1a;
/** Held-out images whose embeddings give alignment and uniformity: the N×N Gram matrix stays at 4 MB. */
export const EVAL_REPR_MAX = 1000;
/** Anchors of the rule comparison: a precision near 0.6 has a standard error of about 2 points over 512. */
export const RULE_PROBE_MAX = 512;
/** Salt of the rule comparison's probe anchors (fixed for a run, so its chart follows the same images). */
const RULE_PROBE_SALT = 0x51c7;

/**
 * Per-cluster galleries from each image's cluster c(i) and its centre
 * similarity s_i = cos(z_i, μ_c(i)) (N each): the G members with the highest
 * s (best first) and the G with the lowest (worst first), ties by lower
 * index; C×G row-major, −1 where a cluster has fewer than G members.
 * One pass with a sorted insert per cluster: O(N·G), no N log N sort.
 */
export function clusterGalleries(assign: ArrayLike<number>, sims: ArrayLike<number>, clusters: number, g: number): { near: Int32Array; far: Int32Array } {
  const near = new Int32Array(clusters * g).fill(-1);
  const far = new Int32Array(clusters * g).fill(-1);
  const nearS = new Float64Array(clusters * g);
  const farS = new Float64Array(clusters * g);
  const count = new Int32Array(clusters);
  // better(a, b): a ranks before b; indices arrive in ascending order, so a tie keeps the earlier one first.
  const insert = (idx: Int32Array, val: Float64Array, base: number, filled: number, i: number, s: number, better: (a: number, b: number) => boolean) => {
    let p = Math.min(filled, g);
    if (p === g && !better(s, val[base + g - 1])) return;
    if (p === g) p = g - 1;
    while (p > 0 && better(s, val[base + p - 1])) {
      idx[base + p] = idx[base + p - 1];
      val[base + p] = val[base + p - 1];
      p--;
    }
    idx[base + p] = i;
    val[base + p] = s;
  };
  const higher = (a: number, b: number) => a > b;
  const lower = (a: number, b: number) => a < b;
  for (let i = 0; i < assign.length; i++) {
    const c = assign[i];
    if (c < 0 || c >= clusters) continue;
    insert(near, nearS, c * g, count[c], i, sims[i], higher);
    insert(far, farS, c * g, count[c], i, sims[i], lower);
    count[c]++;
  }
  return { near, far };
}

/** `max` distinct indices of 0..n−1 drawn with `rng` (partial Fisher–Yates), ascending; all of them when max ≥ n. */
export function sampleSubset(n: number, max: number, rng: Rng): Int32Array {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  if (max >= n) return all;
  for (let i = 0; i < max; i++) {
    const j = i + rng.int(n - i);
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, Math.max(0, max)).sort();
}

/** Seeded sampling of anchors without replacement, one permutation per epoch. */
export class EpochSampler {
  private order: Int32Array;
  private pos = 0;
  epoch = 0;

  constructor(private readonly n: number, private readonly rng: Rng) {
    this.order = this.shuffled();
  }

  private shuffled(): Int32Array {
    const o = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) o[i] = i;
    return this.rng.shuffle(o) as Int32Array;
  }

  /** Everything the next draws depend on (checkpoints). */
  getState(): { order: Int32Array; pos: number; epoch: number; rng: RngState } {
    return { order: Int32Array.from(this.order), pos: this.pos, epoch: this.epoch, rng: this.rng.getState() };
  }

  setState(st: { order: Int32Array; pos: number; epoch: number; rng: RngState }): void {
    if (st.order.length !== this.n) throw new Error(`sampler state has ${st.order.length} indices for ${this.n} images`);
    this.order = Int32Array.from(st.order);
    this.pos = st.pos;
    this.epoch = st.epoch;
    this.rng.setState(st.rng);
  }

  /** b distinct indices (b ≤ n); an epoch boundary inside a batch reshuffles without repeating an index in that batch. */
  next(b: number): Int32Array {
    const out = new Int32Array(b);
    const seen = new Set<number>();
    let i = 0;
    while (i < b) {
      if (this.pos >= this.n) {
        this.order = this.shuffled();
        this.pos = 0;
        this.epoch++;
      }
      const v = this.order[this.pos++];
      if (seen.has(v)) continue;
      seen.add(v);
      out[i++] = v;
    }
    return out;
  }
}

/** Float32 [0,1] pixels of a split, N×S×S×3, kept on the device for the whole run. */
function splitTensor(images: Uint8Array, n: number, size: number): tf.Tensor4D {
  return tf.tensor4d(unitFloats(images, new Float32Array(images.length), 0), [n, size, size, 3]);
}

/** Writes bytes / 255 into `out` from `at` on; returns `out`. */
function unitFloats(bytes: Uint8Array, out: Float32Array, at: number): Float32Array {
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i] / 255;
  return out;
}

/** Rows of `x` (N×…) mapped through fn in chunks, concatenated: bounds peak memory for big sets. */
function mapChunks(x: tf.Tensor4D, chunk: number, fn: (part: tf.Tensor4D) => tf.Tensor2D): tf.Tensor2D {
  const n = x.shape[0];
  const parts: tf.Tensor2D[] = [];
  for (let s = 0; s < n; s += chunk) {
    parts.push(tf.tidy(() => fn(tf.slice(x, [s, 0, 0, 0], [Math.min(chunk, n - s), -1, -1, -1]))));
  }
  const out = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
  if (parts.length > 1) tf.dispose(parts);
  return out;
}

interface LastBatch {
  anchors: Int32Array;
  positives: Int32Array;
  lambda: Float32Array;
  /** B×R×R×3 RGB bytes of the first resolution's mixed query views, when captured. */
  mixed: Uint8Array | null;
  mixedSize: number;
}

export class Trainer {
  private readonly rng: Rng;
  /** Draws for visualisation only, so looking never changes the loss sequence. */
  private readonly vizRng: Rng;
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
  /** D×2 PCA axes of the last map, the warm start of the next (pca.ts); host memory, nothing to dispose. */
  private mapAxes: Float32Array | null = null;
  private mapIndex: Int32Array | null = null;
  private probeIndex: Int32Array | null = null;

  private constructor(config: ClimConfig, readonly data: Dataset) {
    assertValidConfig(config);
    this.cfg = { ...config, resolutions: [...config.resolutions] };
    if (data.train.n < 1) throw new Error('The data set has no training images.');
    this.rng = new Rng(config.seed);
    this.vizRng = new Rng(config.seed ^ 0x5eed);
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
    useFastWasmKernels();
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
    t.seedQueues();
    await t.recluster();
    return t;
  }

  /**
   * Starts every queue with real key embeddings (random bank rows) instead of
   * MoCo's random unit vectors: those are far easier negatives than real keys of
   * a fresh encoder, so the loss would first climb while the queue fills and
   * hide the learning from the curve.
   */
  private seedQueues(): void {
    const n = this.data.train.n;
    for (const q of this.queues) {
      if (q.size === 0) continue;
      const idx = new Int32Array(q.size);
      for (let i = 0; i < q.size; i++) idx[i] = this.rng.int(n);
      tf.tidy(() => {
        const at = tf.tensor1d(idx, 'int32');
        // A backbone-space bank holds no keys: embed the drawn images' centre views instead.
        const keys = this.config.bankSpace === 'projection' ? tf.gather(this.bank.tensor, at) : this.key.embed(centreView(tf.gather(this.trainImages, at), this.config.resolutions[0]));
        q.fill(keys as tf.Tensor2D, idx);
      });
    }
  }

  /** Bank rows of views x (B×S×S×3) in the bank's space (config.bankSpace), B×dim, unit rows. */
  private bankRows(x: tf.Tensor4D): tf.Tensor2D {
    return this.config.bankSpace === 'projection' ? this.key.embed(x) : l2Normalize(this.key.features(x));
  }

  get step(): number {
    return this.stepCount;
  }

  /**
   * Makes the next step keep its first-resolution mixed query views for the
   * selection snapshot (one readback of B×R×R×3, only on the steps that
   * report, so the loop stays free of readbacks otherwise).
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
    return warmupCosine(this.stepCount, this.cfg.lr, this.cfg.warmupSteps, this.cfg.totalSteps);
  }


  /**
   * Both encoders from a weights file (weights-file.ts), before the bank is
   * embedded: so a run started from trained weights selects and clusters on
   * trained features from step 0. Throws WeightsFileError('mismatch') with
   * the reason, before any variable changes, when the file does not fit.
   */
  private loadWeights(file: WeightsFile): void {
    const want = this.query.params.map((p) => ({ name: p.name, shape: p.variable.shape }));
    const why = weightsMismatch(file, this.cfg, want);
    if (why) throw new WeightsFileError('mismatch', why);
    const byName = new Map(file.params.map((p) => [p.name, p]));
    for (const enc of [this.query, this.key]) {
      for (const p of enc.params) {
        const r = byName.get(p.name) as WeightRecord;
        tf.tidy(() => p.variable.assign(tf.tensor(r.data, r.shape)));
      }
    }
  }

  /**
   * The query encoder f_q as a weights file (what MoCo releases, and what
   * the kNN monitor and linear probe evaluate, so a run started from the
   * file at step 0 measures what this run measured), read with await
   * data(); `info` says where it came from.
   */
  async weightsFile(info: Partial<WeightsInfo> = {}): Promise<WeightsFile> {
    const datas = await Promise.all(this.query.params.map((p) => p.variable.data()));
    return {
      architecture: architectureOf(this.cfg),
      info: {
        savedAt: new Date().toISOString(),
        trainedOn: { id: this.data.id, train: this.data.train.n, test: this.data.test.n },
        steps: this.stepCount,
        config: { ...this.cfg, resolutions: [...this.cfg.resolutions] },
        ...info,
      },
      params: this.query.params.map((p, i) => ({ name: p.name, shape: [...p.variable.shape], data: Float32Array.from(datas[i] as Float32Array) })),
    };
  }

  /** Re-embeds every bank row from its image's clean centre view with the current key encoder (§2, config.bankRefreshEvery). */
  refreshBank(): void {
    const r = this.config.resolutions[0];
    tf.tidy(() => this.bank.setAll(mapChunks(this.trainImages, 256, (x) => this.bankRows(centreView(x, r)))));
  }

  private async recluster(): Promise<void> {
    const prev = this.clusters;
    this.clusters = await sphericalKMeans(this.bank.tensor, this.config.clusters, this.config.kmeansIters, this.rng, prev ? prev.centroids : null);
    prev?.dispose();
  }

  /**
   * Training images idx (B int32) as B×S×S×3. On WASM and cpu they are copied
   * from the host bytes: tfjs' WASM GatherV2 took 12 ms for 64 images of
   * 32×32×3 while the copy takes well under 1 ms, and reading B indices back
   * (`known` saves even that) costs nothing where the "device" is the CPU. On
   * GPU backends a gather keeps everything on the device (no readback mid-step).
   */
  private async batchImages(idx: tf.Tensor1D, known?: Int32Array): Promise<tf.Tensor4D> {
    if (!isHostBackend()) return tf.tidy(() => tf.gather(this.trainImages, idx) as tf.Tensor4D);
    const ids = known ?? (await idx.data());
    const { images } = this.data.train;
    const S = this.data.size;
    const per = S * S * 3;
    const f = new Float32Array(ids.length * per);
    for (let b = 0; b < ids.length; b++) unitFloats(images.subarray(ids[b] * per, (ids[b] + 1) * per), f, b * per);
    return tf.tensor4d(f, [ids.length, S, S, 3]);
  }

  /**
   * bankView 'clean' (§2): each anchor's bank row becomes the key encoder's
   * embedding of its clean centre view before the selection reads the bank,
   * so the anchor searches with a fresh z_i. The anchors of a batch are the
   * images whose rows are oldest (each epoch draws every image once), and
   * searching with their stale rows cost 15 points of step precision
   * (docs/BENCHMARKS.md, "Memory bank").
   */
  private writeCleanRows(anchorIdx: tf.Tensor1D, xa: tf.Tensor4D): void {
    tf.tidy(() => this.bank.update(anchorIdx, this.bankRows(centreView(xa, this.config.resolutions[0]))));
  }

  async trainStep(): Promise<StepMetrics> {
    if (this.disposed) throw new Error('trainer is disposed');
    const t0 = performanceNow();
    const c = this.config;
    const B = this.batchSize;
    const R = c.resolutions.length;
    const lr = this.currentLearningRate();

    // All random draws happen here, in a fixed order, from the one seeded stream.
    const anchors = this.sampler.next(B);
    const u = this.rng.floats(B);
    // CLIM's warm-up (config.climWarmupSteps): plain MoCo v2 until the bank means something.
    const warm = this.stepCount < c.climWarmupSteps;
    const mixer = getMixer(warm ? 'none' : c.mix);
    const plan = mixer.plan(B, c.mixProb, c.mixAlpha, this.rng);
    const ap: AugmentParams = c;
    const draws = c.resolutions.map(() => ({
      qa: drawAugment(B, ap, this.rng),
      qp: drawAugment(B, ap, this.rng),
      ka: drawAugment(B, ap, this.rng),
      kp: drawAugment(B, ap, this.rng),
    }));
    const policy = getSelectionPolicy(warm ? 'none' : c.selection);
    let lambdaFirst: Float32Array = new Float32Array(B).fill(1);

    const anchorIdx = tf.tensor1d(anchors, 'int32');
    const xa = await this.batchImages(anchorIdx, anchors);
    const clean = c.bankView === 'clean';
    if (clean) this.writeCleanRows(anchorIdx, xa);
    const tSel = performanceNow();
    const sel = tf.tidy(() => {
      const s = policy.select({
        anchorIdx,
        bank: this.bank.tensor,
        clusters: this.clusters,
        k: c.knnK,
        threshold: c.centerThreshold,
        u: tf.tensor1d(u),
      });
      // Policies keep their outputs alive for the caller (tf.keep): release the unused ones here.
      tf.dispose([s.neighbours, s.similarities, s.reason].filter((x): x is tf.Tensor2D => x !== null));
      return { positives: s.positives, keptCount: s.keptCount };
    });
    const selectionMs = performanceNow() - tSel;
    const xp = await this.batchImages(sel.positives);

    const capture = this.captureViews;
    this.captureViews = false;
    let captured: tf.Tensor4D | null = null;
    const out = tf.tidy(() => {
      const [pa, pp] = [padForCrops(xa), padForCrops(xp)];
      // Keys: one key-encoder pass per resolution over [anchor views; positive views].
      let augmentedRows: tf.Tensor2D | null = null;
      const keys = c.resolutions.map((r, i) => {
        const views = tf.concat([applyAugment(xa, r, draws[i].ka, pa), applyAugment(xp, r, draws[i].kp, pp)], 0) as tf.Tensor4D;
        const f = this.key.features(views);
        const k = this.key.project(f);
        const anchor = tf.slice(k, [0, 0], [B, -1]) as tf.Tensor2D;
        // bankView 'augmented': the rows come from the anchors' first key view, as in the author code.
        if (i === 0 && !clean) augmentedRows = c.bankSpace === 'projection' ? anchor : l2Normalize(tf.slice(f, [0, 0], [B, -1]) as tf.Tensor2D);
        return { anchor, positive: tf.slice(k, [B, 0], [B, -1]) as tf.Tensor2D };
      });

      // Query views are mixed outside the gradient tape: they depend on no parameter.
      const mixedViews = c.resolutions.map((r, i) => {
        const m = mixer.apply(plan, applyAugment(xa, r, draws[i].qa, pa), applyAugment(xp, r, draws[i].qp, pp));
        if (i === 0) lambdaFirst = m.lambda;
        if (i === 0 && capture) captured = tf.keep(tf.cast(tf.round(tf.mul(tf.clipByValue(m.mixed, 0, 1), 255)), 'int32') as tf.Tensor4D);
        return { x: m.mixed, lambda: tf.tensor1d(m.lambda) };
      });

      // Per queue s, B×K additive masks that drop the anchor's and the positive's
      // own older keys from the negatives (config.maskOwnKeys). Found on the
      // device from the host's row table, so the positives need no readback.
      const masks = c.resolutions.map((_, s) => (c.maskOwnKeys ? ownKeyMask(this.queues[s], this.data.train.n, anchorIdx, sel.positives) : null));

      let parts: tf.Tensor1D | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const totals: tf.Scalar[] = [];
        const anchorsL: tf.Scalar[] = [];
        const positivesL: tf.Scalar[] = [];
        for (let r = 0; r < R; r++) {
          const q = this.query.embed(mixedViews[r].x);
          for (let s = 0; s < R; s++) {
            const l = mixedInfoNCE(q, keys[s].anchor, keys[s].positive, this.queues[s].keys as unknown as tf.Tensor2D, mixedViews[r].lambda, c.temperature, masks[s]);
            totals.push(l.total);
            anchorsL.push(l.anchor);
            positivesL.push(l.positive);
          }
        }
        const pairs = R * R;
        parts = tf.keep(tf.stack([tf.div(tf.addN(anchorsL), pairs), tf.div(tf.addN(positivesL), pairs)]) as tf.Tensor1D);
        return tf.div(tf.addN(totals), pairs) as tf.Scalar;
      }, this.query.trainableVariables());

      this.optimizer.apply(grads, lr);
      this.key.momentumUpdate(this.query, c.keyMomentum);
      keys.forEach((k, s) => this.queues[s].enqueue(k.anchor, anchors));
      if (augmentedRows) this.bank.update(anchorIdx, augmentedRows);

      return { loss: value, parts: parts as unknown as tf.Tensor1D, positives: sel.positives, keptCount: sel.keptCount };
    });
    tf.dispose([anchorIdx, xa, xp]);

    const [lossV, partsV, posV, keptV] = await Promise.all([out.loss.data(), out.parts.data(), out.positives.data(), out.keptCount.data()]);
    tf.dispose([out.loss, out.parts, out.positives, out.keptCount]);
    const positives = Int32Array.from(posV);
    let mixed: Uint8Array | null = null;
    const capturedViews = captured as tf.Tensor4D | null;
    if (capturedViews) {
      mixed = Uint8Array.from(await capturedViews.data());
      capturedViews.dispose();
    }
    this.last = { anchors, positives, lambda: lambdaFirst, mixed, mixedSize: c.resolutions[0] };

    this.stepCount++;
    let refreshMs = 0;
    if (bankRefreshDue(this.stepCount, c.bankRefreshEvery)) {
      const tr = performanceNow();
      this.refreshBank();
      refreshMs = performanceNow() - tr;
    }
    let kmeansMs = 0;
    if (this.stepCount % c.kmeansEvery === 0) {
      const tk = performanceNow();
      await this.recluster();
      kmeansMs = performanceNow() - tk;
    }

    let covered = 0;
    for (let b = 0; b < B; b++) if (keptV[b] > 0) covered++;
    const labels = this.data.train.labels;
    let chosen = 0;
    let agree = 0;
    if (labels) {
      for (let b = 0; b < B; b++) {
        if (positives[b] === anchors[b]) continue;
        chosen++;
        if (labels[positives[b]] === labels[anchors[b]]) agree++;
      }
    }
    const ms = performanceNow() - t0;
    let lambdaSum = 0;
    for (let b = 0; b < B; b++) lambdaSum += lambdaFirst[b];
    return {
      step: this.stepCount,
      loss: lossV[0],
      lossAnchor: partsV[0],
      lossPositive: partsV[1],
      lr,
      ms,
      imagesPerSecond: (B * 1000) / Math.max(ms, 1e-6),
      coverage: covered / B,
      precision: labels && chosen > 0 ? agree / chosen : null,
      lambdaMean: lambdaSum / B,
      selectionMs,
      kmeansMs,
      refreshMs,
    };
  }

  /**
   * What the selection did for up to `nAnchors` anchors of the last batch: their
   * k nearest bank neighbours, each kept or rejected with the reason (§3), and
   * the positive that step actually used.
   */
  async selectionSnapshot(nAnchors: number, pinned: readonly number[] = []): Promise<SelectionSnapshot> {
    const c = this.config;
    const labels = this.data.train.labels;
    const last = this.last;
    const B = last ? last.anchors.length : 0;
    const n = this.data.train.n;
    // Pinned images first (valid, distinct), then random anchors of the last batch.
    const pins = [...new Set(pinned.filter((i) => Number.isInteger(i) && i >= 0 && i < n))];
    const anchorIds: number[] = [...pins];
    /** Batch position of each anchor, or −1 (a pinned image not in the last batch). */
    const batchPos: number[] = pins.map((i) => (last ? last.anchors.indexOf(i) : -1));
    const want = Math.max(nAnchors, pins.length);
    if (last) {
      const order = Array.from({ length: B }, (_, i) => i);
      this.vizRng.shuffle(order);
      for (const p of order) {
        if (anchorIds.length >= want) break;
        if (anchorIds.includes(last.anchors[p])) continue;
        anchorIds.push(last.anchors[p]);
        batchPos.push(p);
      }
    } else {
      for (let i = 0; anchorIds.length < Math.min(want, n) && i < 4 * want; i++) {
        const r = this.vizRng.int(n);
        if (anchorIds.includes(r)) continue;
        anchorIds.push(r);
        batchPos.push(-1);
      }
    }
    const rules = await this.ruleComparison();
    if (anchorIds.length === 0) return { step: this.stepCount, mode: c.selection, anchors: [], rules };

    const policy = getSelectionPolicy(c.selection);
    const t = tf.tidy(() => {
      const idx = tf.tensor1d(anchorIds, 'int32');
      const z = tf.gather(this.bank.tensor, idx);
      let nb: tf.Tensor2D;
      let sims: tf.Tensor2D;
      // −1 where the policy gives no reason codes (modes without kNN); same shape as nb.
      let reason: tf.Tensor2D | null = null;
      if (policy.usesKnn) {
        const sel = policy.select({ anchorIdx: idx, bank: this.bank.tensor, clusters: this.clusters, k: c.knnK, threshold: c.centerThreshold, u: tf.zeros([anchorIds.length]) });
        nb = sel.neighbours as tf.Tensor2D;
        sims = sel.similarities as tf.Tensor2D;
        reason = sel.reason;
        tf.dispose([sel.positives, sel.keptCount]);
      } else {
        const r = knn(z, this.bank.tensor, c.knnK, idx);
        nb = r.indices;
        sims = r.similarities;
      }
      const reasons = reason ?? (tf.fill(nb.shape, -1, 'int32') as tf.Tensor2D);
      const assign = this.clusters ? this.clusters.assignments : tf.zeros([this.data.train.n], 'int32');
      const centroids = this.clusters ? this.clusters.centroids : l2Normalize(tf.mean(this.bank.tensor, 0, true) as tf.Tensor2D);
      const ac = tf.gather(assign, idx) as tf.Tensor1D;
      const mu = tf.gather(centroids, ac) as tf.Tensor2D; // A×d
      const anchorCentre = tf.sum(tf.mul(z, mu), 1);
      const flat = tf.reshape(nb, [-1]);
      const nz = tf.reshape(tf.gather(this.bank.tensor, flat), [nb.shape[0], nb.shape[1], -1]); // A×k×d
      const nbCentre = tf.sum(tf.mul(nz, tf.expandDims(mu, 1)), 2); // cos(z_j, μ_c(i))
      const nbCluster = tf.reshape(tf.gather(assign, flat), nb.shape);
      return { nb, sims, reason: reasons, ac, anchorCentre, nbCentre, nbCluster } as Record<string, tf.Tensor>;
    });
    const [nb, sims, reason, ac, anchorCentre, nbCentre, nbCluster] = await Promise.all([
      t.nb.data(), t.sims.data(), t.reason.data(), t.ac.data(), t.anchorCentre.data(), t.nbCentre.data(), t.nbCluster.data(),
    ]);
    const k = t.nb.shape[1] ?? 0;
    tf.dispose(Object.values(t));

    const mixedBytes = last ? last.mixedSize * last.mixedSize * 3 : 0;
    return {
      step: this.stepCount,
      mode: c.selection,
      rules,
      anchors: anchorIds.map((anchor, a) => {
        const neighbours: NeighbourInfo[] = [];
        for (let j = 0; j < k; j++) {
          const o = a * k + j;
          let why: RejectReason;
          if (reason[o] >= 0) why = REASON_NAMES[reason[o]] ?? 'not-selected-by-mode';
          else if (c.selection === 'cluster') why = nbCluster[o] === ac[a] ? 'kept' : 'different-cluster';
          else why = 'not-selected-by-mode';
          neighbours.push({
            index: nb[o],
            similarity: sims[o],
            cluster: nbCluster[o],
            centreSimilarity: nbCentre[o],
            kept: why === 'kept',
            reason: why,
            label: labels ? labels[nb[o]] : null,
          });
        }
        return {
          anchor,
          label: labels ? labels[anchor] : null,
          cluster: ac[a],
          centreSimilarity: anchorCentre[a],
          neighbours,
          positive: last && batchPos[a] >= 0 ? last.positives[batchPos[a]] : null,
          lambda: last && batchPos[a] >= 0 ? last.lambda[batchPos[a]] : null,
          pinned: a < pins.length,
          mixed: last?.mixed && batchPos[a] >= 0 ? last.mixed.slice(batchPos[a] * mixedBytes, (batchPos[a] + 1) * mixedBytes) : null,
          mixedSize: last ? last.mixedSize : 0,
        };
      }),
    };
  }

  /**
   * Every selection rule on the same anchors, bank and clusters
   * (rule-comparison.ts): a fixed seeded probe of up to RULE_PROBE_MAX
   * training images, so a run's chart follows the same anchors. Null before
   * the first k-means. Reads no training stream: looking never changes the loss.
   */
  async ruleComparison(): Promise<RuleComparison | null> {
    if (!this.clusters) return null;
    const n = this.data.train.n;
    this.probeIndex ??= sampleSubset(n, Math.min(n, RULE_PROBE_MAX), new Rng(this.config.seed ^ RULE_PROBE_SALT));
    const rules = await compareRulesOnBank(this.bank.tensor, this.clusters, this.probeIndex, this.config.knnK, this.data.train.labels);
    return { step: this.stepCount, anchors: this.probeIndex.length, k: Math.min(this.config.knnK, n - 1), clusters: this.clusters.sizes.length, rules };
  }

  /**
   * The clusters of the last k-means run (§2) as the Clusters view shows
   * them: assignments c(i), sizes, the image nearest each centre, per-cluster
   * galleries by cos(z_i, μ_c(i)) (GALLERY_SIZE nearest and farthest members),
   * and purity/NMI/ARI of c(i) against the training labels (§6) when labelled.
   * Device work: one N×C product (nearest) and one N×d row-wise dot (the
   * centre similarities); three reads.
   */
  async clusterSnapshot(): Promise<ClusterSnapshot> {
    const n = this.data.train.n;
    const g = GALLERY_SIZE;
    const labels = this.data.train.labels;
    const agreement = (a: Int32Array) => (labels ? clusterAgreement(a, labels) : { purity: null, nmi: null, ari: null });
    if (!this.clusters) {
      const assignments = new Int32Array(n);
      return { step: this.stepCount, assignments, sizes: Int32Array.from([n]), nearest: Int32Array.from([0]), galleryNear: new Int32Array(g).fill(-1), galleryFar: new Int32Array(g).fill(-1), gallerySize: g, ...agreement(assignments) };
    }
    const cl = this.clusters;
    const C = cl.sizes.length;
    // The N×C similarities in row blocks (as in kmeans.ts: a 60k bank with 1000 clusters would be 240 MB at once).
    // Per block: each row's similarity to its own centre cos(z_i, μ_c(i)) (a one-hot mask, not a row gather:
    // gathering 10k centre rows took 110–140 ms on WASM, the mask 1 ms), and the block's best row per centre.
    const rows = Math.max(1, Math.floor(SNAPSHOT_BLOCK / Math.max(1, C)));
    const parts: Array<{ own: tf.Tensor1D; best: tf.Tensor1D; arg: tf.Tensor1D }> = [];
    for (let s = 0; s < n; s += rows) {
      const m = Math.min(rows, n - s);
      parts.push(
        tf.tidy(() => {
          const sims = matMulABt(m === n ? this.bank.tensor : tf.slice(this.bank.tensor, [s, 0], [m, -1]), cl.centroids); // m×C
          const a = m === n ? cl.assignments : tf.slice(cl.assignments, [s], [m]);
          const oh = C === 1 ? tf.ones([m, 1]) : tf.oneHot(a, C).toFloat();
          return { own: tf.sum(tf.mul(sims, oh), 1) as tf.Tensor1D, best: tf.max(sims, 0) as tf.Tensor1D, arg: tf.argMax(sims, 0) as tf.Tensor1D };
        }),
      );
    }
    const read = await Promise.all([cl.assignments.data(), ...parts.flatMap((p) => [p.own.data(), p.best.data(), p.arg.data()])]);
    tf.dispose(parts.flatMap((p) => [p.own, p.best, p.arg]));
    const assign = read[0];
    const own = new Float32Array(n);
    const nearest = new Int32Array(C);
    const nearestSim = new Float32Array(C).fill(-Infinity);
    parts.forEach((_, b) => {
      own.set(read[1 + 3 * b] as Float32Array, b * rows);
      const best = read[2 + 3 * b];
      const arg = read[3 + 3 * b];
      // Strictly greater: the earliest block wins ties, as argMax over all rows would.
      for (let c = 0; c < C; c++)
        if (best[c] > nearestSim[c]) {
          nearestSim[c] = best[c];
          nearest[c] = arg[c] + b * rows;
        }
    });
    const sizes = Int32Array.from(cl.sizes);
    const assignments = Int32Array.from(assign);
    const gal = clusterGalleries(assignments, own, sizes.length, g);
    return {
      step: this.stepCount,
      assignments,
      sizes,
      nearest: Int32Array.from(nearest, (v, i) => (sizes[i] > 0 ? v : -1)),
      galleryNear: gal.near,
      galleryFar: gal.far,
      gallerySize: g,
      ...agreement(assignments),
    };
  }

  /** The bank rows of the 2-D map: all of them, or a seeded subset of MAP_MAX_POINTS (fixed for the run, so points keep their identity). */
  private mapRows(max: number): Int32Array {
    const n = this.data.train.n;
    const take = Math.min(n, Math.max(1, Math.floor(max)));
    // The same seed for every size: a dump of MAP_MAX_POINTS rows is exactly the map's subset.
    if (take === Math.min(n, MAP_MAX_POINTS)) return (this.mapIndex ??= sampleSubset(n, take, new Rng(this.config.seed ^ MAP_SUBSET_SALT)));
    return sampleSubset(n, take, new Rng(this.config.seed ^ MAP_SUBSET_SALT));
  }

  /**
   * A 2-D PCA map of the bank (pca.ts) for the Clusters view: up to
   * MAP_MAX_POINTS rows (N'×d → N'×2), warm-started from the previous map's
   * axes. `assignments` (N, from clusterSnapshot) saves a read of c(i).
   */
  async projectionSnapshot(assignments?: Int32Array): Promise<ProjectionSnapshot> {
    const index = this.mapRows(MAP_MAX_POINTS);
    const all = index.length === this.data.train.n;
    const x = all ? this.bank.tensor : tf.tidy(() => tf.gather(this.bank.tensor, tf.tensor1d(index, 'int32')) as tf.Tensor2D);
    const r = await pca2(x, { init: this.mapAxes });
    if (!all) x.dispose();
    this.mapAxes = r.axes;
    const assign = assignments ?? (this.clusters ? Int32Array.from(await this.clusters.assignments.data()) : new Int32Array(this.data.train.n));
    const labels = this.data.train.labels;
    return {
      step: this.stepCount,
      method: 'pca',
      index: Int32Array.from(index),
      xy: r.xy,
      cluster: Int32Array.from(index, (i) => assign[i]),
      label: labels ? Int32Array.from(index, (i) => labels[i]) : null,
      explained: r.explained,
    };
  }

  /** Up to `max` bank rows (L2-normalised, N'×d) with their clusters and labels, for projections outside the engine (UMAP). */
  async embeddingsDump(max: number): Promise<EmbeddingsDump> {
    const index = this.mapRows(max);
    const rows = tf.tidy(() => tf.gather(this.bank.tensor, tf.tensor1d(index, 'int32')));
    const vectors = Float32Array.from(await rows.data());
    rows.dispose();
    const assign = this.clusters ? await this.clusters.assignments.data() : new Int32Array(this.data.train.n);
    const labels = this.data.train.labels;
    return {
      step: this.stepCount,
      index: Int32Array.from(index),
      vectors,
      dim: this.bank.dim,
      cluster: Int32Array.from(index, (i) => assign[i]),
      label: labels ? Int32Array.from(index, (i) => labels[i]) : null,
    };
  }

  /**
   * Evaluation (§6) of frozen features on the held-out split, the train split
   * as the memory / probe training set: weighted cosine kNN top-1 always;
   * with `full`, also the linear probe (top-1 + confusion), alignment and
   * uniformity (Wang & Isola 2020) and cluster purity/NMI/ARI.
   *
   * Alignment pairs two augmented views of the same held-out images (up to
   * EVAL_REPR_MAX of them) through the query encoder; uniformity is over the
   * first view's embeddings. Its draws come from a fresh generator seeded
   * from the run's seed, never from the training stream: evaluating must not
   * change the loss sequence (checkpoint resume relies on it).
   */
  async evaluate(opts: { full?: boolean } = {}): Promise<EvalResult> {
    const t0 = performanceNow();
    const trainLabels = this.data.train.labels;
    const testLabels = this.data.test.labels;
    const classes = trainLabels ? Math.max(this.data.classNames.length, Math.max(...trainLabels) + 1) : 0;
    const result: EvalResult = {
      step: this.stepCount,
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
    const r = this.config.resolutions[0];
    if (trainLabels && testLabels && this.testImages) {
      const feats = (x: tf.Tensor4D) => mapChunks(x, 256, (p) => this.query.features(centreView(p, r)));
      const train = feats(this.trainImages);
      const test = feats(this.testImages);
      try {
        const trainN = tf.tidy(() => l2Normalize(train));
        const testN = tf.tidy(() => l2Normalize(test));
        const pred = await knnClassify(trainN, trainLabels, testN, this.config.evalK, this.config.evalTemperature, classes);
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
      const images = this.testImages ?? this.trainImages;
      const m = Math.min(images.shape[0], EVAL_REPR_MAX);
      if (m >= 2) {
        const rng = new Rng(this.config.seed ^ EVAL_SALT);
        const da = drawAugment(m, this.config, rng);
        const db = drawAugment(m, this.config, rng);
        const [za, zb] = tf.tidy(() => {
          const x = m === images.shape[0] ? images : tf.slice(images, [0, 0, 0, 0], [m, -1, -1, -1]);
          return [this.query.embed(applyAugment(x, r, da)), this.query.embed(applyAugment(x, r, db))];
        });
        result.alignment = await alignment(za, zb);
        result.uniformity = await uniformity(za);
        tf.dispose([za, zb]);
      }
      if (trainLabels && this.clusters) {
        const a = clusterAgreement(Int32Array.from(await this.clusters.assignments.data()), trainLabels);
        result.clusterPurity = a.purity;
        result.clusterNmi = a.nmi;
        result.clusterAri = a.ari;
      }
    }
    result.ms = performanceNow() - t0;
    return result;
  }

  /**
   * The whole run state (issue 6): both encoders, optimiser buffers, queues
   * with their image ids and pointers, the bank, the k-means state, both
   * random streams, the epoch order and the step. Restoring it and training
   * on gives exactly the loss sequence of the uninterrupted run on the same
   * backend (train-checkpoint.test.ts). Reads every tensor with await data().
   */
  async checkpoint(extra: { app?: unknown; datasetSource?: unknown } = {}): Promise<Checkpoint> {
    const named: Array<[string, tf.Tensor]> = [
      ...this.query.params.map((p): [string, tf.Tensor] => [`query/${p.name}`, p.variable]),
      ...this.key.params.map((p): [string, tf.Tensor] => [`key/${p.name}`, p.variable]),
      ...this.optimizer.state().map((v, i): [string, tf.Tensor] => [`optimizer/${i}`, v]),
      ['bank', this.bank.tensor],
      ...this.queues.map((q, s): [string, tf.Tensor] => [`queue${s}/keys`, q.keys]),
    ];
    const cl = this.clusters;
    if (cl) {
      named.push(['kmeans/centroids', cl.centroids], ['kmeans/assignments', cl.assignments], ['kmeans/meanCentreSim', cl.meanCentreSim], ['kmeans/order', cl.order], ['kmeans/start', cl.start], ['kmeans/rank', cl.rank]);
    }
    const datas = await Promise.all(named.map(([, t]) => t.data()));
    const tensors: TensorRecord[] = named.map(([name, t], i) => ({
      name,
      dtype: t.dtype === 'int32' ? 'int32' : 'float32',
      shape: [...t.shape],
      data: t.dtype === 'int32' ? Int32Array.from(datas[i]) : Float32Array.from(datas[i]),
    }));
    const sampler = this.sampler.getState();
    tensors.push({ name: 'sampler/order', dtype: 'int32', shape: [sampler.order.length], data: sampler.order });
    this.queues.forEach((q, s) => tensors.push({ name: `queue${s}/ids`, dtype: 'int32', shape: [q.size], data: Int32Array.from(q.ids) }));
    const d = this.data;
    return {
      meta: {
        version: CHECKPOINT_VERSION,
        savedAt: new Date().toISOString(),
        step: this.stepCount,
        config: { ...this.cfg, resolutions: [...this.cfg.resolutions] },
        dataset: { id: d.id, fingerprint: datasetFingerprint(d), train: d.train.n, test: d.test.n, size: d.size, source: extra.datasetSource },
        rng: this.rng.getState(),
        samplerRng: sampler.rng,
        samplerPos: sampler.pos,
        samplerEpoch: sampler.epoch,
        queuePointers: this.queues.map((q) => q.pointer),
        clusterSizes: cl ? Array.from(cl.sizes) : null,
        optimizerSteps: this.optimizer instanceof AdamW ? this.optimizer.steps : 0,
        app: extra.app,
      },
      tensors,
    };
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
    const m = assertRunFile(ck).meta;
    const fp = datasetFingerprint(data);
    // Every index in the file was checked against the description's counts: they must be `data`'s (the fingerprint names them too).
    if (m.dataset.fingerprint !== fp || m.dataset.train !== data.train.n || m.dataset.test !== data.test.n) {
      throw new CheckpointError('dataset', `This run was trained on "${m.dataset.id}" (${m.dataset.train} + ${m.dataset.test} images, fingerprint ${m.dataset.fingerprint}); the data set loaded now is "${data.id}" (${data.train.n} + ${data.test.n}, fingerprint ${fp}). Load the run's data set and import again.`);
    }
    const byName = new Map(ck.tensors.map((t) => [t.name, t]));
    const t = new Trainer(m.config, data);
    try {
      const take = (name: string, like: tf.Tensor): TensorRecord => {
        const r = byName.get(name);
        if (!r) throw new CheckpointError('mismatch', `The run file has no "${name}" (the model it was saved from differs from its settings).`);
        const want = like.dtype === 'int32' ? 'int32' : 'float32';
        if (r.dtype !== want || r.shape.length !== like.shape.length || r.shape.some((v, i) => v !== like.shape[i])) {
          throw new CheckpointError('mismatch', `Shape mismatch in the run file: "${name}" is ${r.dtype} [${r.shape.join('×')}], the model needs ${want} [${like.shape.join('×')}].`);
        }
        return r;
      };
      const assign = (name: string, v: tf.Variable) => {
        const r = take(name, v);
        tf.tidy(() => v.assign(tf.tensor(r.data, r.shape, r.dtype)));
      };
      // Check every record before the first write, so a bad file fails fast.
      const plan: Array<[string, tf.Variable]> = [
        ...t.query.params.map((p): [string, tf.Variable] => [`query/${p.name}`, p.variable]),
        ...t.key.params.map((p): [string, tf.Variable] => [`key/${p.name}`, p.variable]),
        ...t.optimizer.state().map((v, i): [string, tf.Variable] => [`optimizer/${i}`, v]),
        ['bank', t.bank.embeddings],
        ...t.queues.map((q, s): [string, tf.Variable] => [`queue${s}/keys`, q.keys]),
      ];
      plan.forEach(([name, v]) => take(name, v));
      const order = byName.get('sampler/order');
      if (!order || order.dtype !== 'int32' || order.data.length !== data.train.n) throw new CheckpointError('mismatch', `The run file's epoch order does not fit ${data.train.n} training images.`);
      t.queues.forEach((q, s) => {
        const ids = byName.get(`queue${s}/ids`);
        if (!ids || ids.data.length !== q.size) throw new CheckpointError('mismatch', `The run file's queue ${s} ids do not fit a queue of ${q.size}.`);
      });
      if (m.queuePointers.length !== t.queues.length) throw new CheckpointError('mismatch', `The run file has ${m.queuePointers.length} queues, the settings need ${t.queues.length}.`);

      plan.forEach(([name, v]) => assign(name, v));
      t.queues.forEach((q, s) => {
        q.ids.set(byName.get(`queue${s}/ids`)!.data as Int32Array);
        q.pointer = m.queuePointers[s];
      });
      if (m.clusterSizes) {
        const C = m.config.clusters;
        const N = data.train.n;
        const D = bankDim(m.config);
        const specs: Array<[string, number[], 'float32' | 'int32']> = [
          ['kmeans/centroids', [C, D], 'float32'],
          ['kmeans/assignments', [N], 'int32'],
          ['kmeans/meanCentreSim', [C], 'float32'],
          ['kmeans/order', [N], 'int32'],
          ['kmeans/start', [C], 'int32'],
          ['kmeans/rank', [N], 'int32'],
        ];
        // Every record checked before the first tensor is made, so a mismatch leaves nothing behind.
        for (const [name, shape, dtype] of specs) {
          const r = byName.get(name);
          if (!r || r.dtype !== dtype || r.shape.join() !== shape.join()) throw new CheckpointError('mismatch', `The run file's "${name}" does not fit ${C} clusters over ${N} images.`);
        }
        const [centroids, assignments, meanCentreSim, kOrder, start, rank] = specs.map(([n, sh, dt]) => tf.tensor(byName.get(n)!.data, sh, dt));
        t.clusters = kmeansStateFrom({
          centroids: centroids as tf.Tensor2D,
          assignments: assignments as tf.Tensor1D,
          meanCentreSim: meanCentreSim as tf.Tensor1D,
          order: kOrder as tf.Tensor1D,
          start: start as tf.Tensor1D,
          rank: rank as tf.Tensor1D,
          sizes: Int32Array.from(m.clusterSizes),
        });
      }
      t.rng.setState(m.rng);
      t.sampler.setState({ order: order.data as Int32Array, pos: m.samplerPos, epoch: m.samplerEpoch, rng: m.samplerRng });
      if (t.optimizer instanceof AdamW) t.optimizer.steps = m.optimizerSteps;
      t.stepCount = m.step;
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

/**
 * B×K additive mask over queue rows: OWN_KEY_MASK where the row holds an older
 * key of the anchor or of its positive, 0 elsewhere. On small data sets a
 * queue of K keys holds each image's previous key with probability ≈ K/N
 * (85% for 2048 keys over 2,400 images), and InfoNCE would then push a query
 * away from its own image (or from the positive it is pulled towards).
 * oneHot over K+1 columns with column 0 meaning "not in the queue", then cut.
 */
export function ownKeyMask(queue: KeyQueue, n: number, anchorIdx: tf.Tensor1D, positives: tf.Tensor1D): tf.Tensor2D | null {
  const K = queue.size;
  if (K === 0) return null;
  return tf.tidy(() => {
    const table = tf.tensor1d(queue.slotTable(n), 'int32');
    const hits = tf.add(tf.oneHot(tf.gather(table, anchorIdx), K + 1), tf.oneHot(tf.gather(table, positives), K + 1));
    const b = anchorIdx.shape[0];
    return tf.mul(tf.minimum(tf.slice(hits, [0, 1], [b, K]), 1), OWN_KEY_MASK) as tf.Tensor2D;
  });
}

/** Added to masked logits (after the division by the temperature): exp underflows to 0, and it fits half floats. */
const OWN_KEY_MASK = -1e4;

/** Monotonic clock available in browsers, workers and Node alike. */
function performanceNow(): number {
  return (globalThis as unknown as { performance: { now(): number } }).performance.now();
}
