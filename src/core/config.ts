/**
 * The one typed configuration of a CLIM run. Every default carries a one-line
 * reason; `validateConfig` explains each bad value in words a user can act on.
 * Section numbers (§N) refer to docs/METHOD.md, the method as this project implements it.
 */

export const SELECTION_MODES = ['none', 'knn', 'cluster', 'center-wise'] as const;
export type SelectionMode = (typeof SELECTION_MODES)[number];
export const CENTRE_THRESHOLDS = ['anchor', 'cluster-mean'] as const;
export type CentreThreshold = (typeof CENTRE_THRESHOLDS)[number];
export const MIX_MODES = ['none', 'cutmix', 'mixup'] as const;
export type MixMode = (typeof MIX_MODES)[number];
export const OPTIMIZERS = ['sgd', 'adam'] as const;
export type OptimizerKind = (typeof OPTIMIZERS)[number];
export const NORMS = ['group', 'none'] as const;
export type NormKind = (typeof NORMS)[number];
export const BANK_VIEWS = ['clean', 'augmented'] as const;
export type BankView = (typeof BANK_VIEWS)[number];
export const BANK_SPACES = ['projection', 'backbone'] as const;
export type BankSpace = (typeof BANK_SPACES)[number];

export interface ClimConfig {
  /** Seed of every random draw (augmentation, sampling, initialisation). */
  seed: number;

  // --- Data & augmentation (§1, §5) ---
  /** Crop resolutions; each gets its own crops and queue (§5). */
  resolutions: number[];
  cropScaleMin: number;
  cropScaleMax: number;
  flipProb: number;
  /** Probability of colour jitter per view. */
  jitterProb: number;
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
  grayscaleProb: number;

  // --- Encoder ---
  /** Channels of the first stage; doubled at each later stage. */
  width: number;
  /** Stride of the stem conv: 2 halves the resolution before the first stage. */
  stemStride: number;
  /** Number of stages (each after the first halves the resolution). */
  stages: number;
  /** Residual blocks per stage. */
  blocksPerStage: number;
  /** Normalisation inside the backbone. */
  norm: NormKind;
  /** GroupNorm groups (clipped to the channel count). */
  groups: number;
  /** Hidden width of the 2-layer projection MLP. */
  projHidden: number;
  /** Output dimension d of the projection head. */
  projDim: number;

  // --- MoCo (§1) ---
  batchSize: number;
  /** Negative queue length K, per resolution. */
  queueSize: number;
  /** InfoNCE temperature T. */
  temperature: number;
  /** Drop from the negatives the queue's older keys of the anchor itself and of its positive (not in MoCo/CLIM; matters on small sets). */
  maskOwnKeys: boolean;
  /** Key-encoder momentum m. */
  keyMomentum: number;

  // --- CLIM selection (§2, §3) ---
  selection: SelectionMode;
  /** Steps of plain MoCo v2 (no selection, no mixing) before CLIM's positives and mixture switch on: a random encoder's bank has no neighbourhoods worth trusting. */
  climWarmupSteps: number;
  centerThreshold: CentreThreshold;
  /** k of the local neighbourhood N_k(i). */
  knnK: number;
  /** Number of clusters C. */
  clusters: number;
  /** What an anchor's bank row is written from: the key encoder's embedding of its clean centre view, or of its augmented key view (§2). */
  bankView: BankView;
  /** Re-embed the whole bank (clean views, key encoder) every E steps; 0 = never (§2). */
  bankRefreshEvery: number;
  /** The space the bank, kNN and k-means live in: the key encoder's projection z (d = projDim) or its backbone features (L2-normalised) (§2). */
  bankSpace: BankSpace;
  /** Steps between spherical k-means re-runs on the bank (METHOD §2.4). */
  kmeansEvery: number;
  /** Lloyd iterations per k-means run. */
  kmeansIters: number;

  // --- Mixture (§4) ---
  mix: MixMode;
  mixProb: number;
  mixAlpha: number;

  // --- Optimiser ---
  optimizer: OptimizerKind;
  lr: number;
  momentum: number;
  weightDecay: number;
  warmupSteps: number;
  /** The step the run finishes at (§1.5): the end of the cosine schedule; the engine and the runners stop there. */
  totalSteps: number;
  /**
   * First step of the learning-rate segment that ends at totalSteps (§1.5): 0 for a run's own schedule; "Train N
   * more steps" sets it to the step the run had finished at, so the extension gets its own warm-up and cosine.
   */
  scheduleStart: number;

  // --- Evaluation (§6) ---
  /** k of the weighted kNN monitor. */
  evalK: number;
  /** Temperature of the kNN monitor's weights exp(s/τ). */
  evalTemperature: number;
}

export const DEFAULT_CONFIG: Readonly<ClimConfig> = Object.freeze({
  seed: 1, // any fixed value: runs are replayable by default
  resolutions: [32, 24], // §5: natural pair for 32-px data (≈ 224:160)
  cropScaleMin: 0.3, // §8: 0.3–1 learned visibly on small data; 0.2 is harsh at 32 px
  cropScaleMax: 1,
  flipProb: 0.5, // MoCo v2
  jitterProb: 0.8, // MoCo v2
  brightness: 0.4, // MoCo v2 (0.4, 0.4, 0.4, 0.1)
  contrast: 0.4,
  saturation: 0.8, // stronger than MoCo v2's 0.4: see hue
  hue: 0.5, // any hue: with MoCo v2's 0.1 colour stayed the easiest shortcut on small sets and kNN barely moved in 200 steps (docs/BENCHMARKS.md)
  grayscaleProb: 0.5, // as hue: 0.2 left colour too informative
  width: 16, // small enough for sub-second steps on a 2-core CPU (docs/BENCHMARKS.md §M11), wide enough to learn
  stemStride: 2, // 32-px input, 16-px first stage: element-wise ops dominate on WASM, this quarters them
  stages: 3, // 16 → 8 → 4 px after the stem: enough receptive field for 32-px images
  blocksPerStage: 1, // depth is the main cost on CPU; one residual block per stage
  norm: 'group', // batch-independent: no BatchNorm leak between query and key (§1)
  groups: 8,
  projHidden: 128, // MoCo v2's 2-layer MLP head
  projDim: 128, // d = 128 as in MoCo v2
  batchSize: 64, // CPU-friendly; large enough for cluster-wide negatives from the queue
  queueSize: 512, // on small sets a long queue mostly holds the anchor's own older key as a negative (2048 of 2400 shapes: kNN flat; 512: 17 → 28% in 150 MoCo steps in the PyTorch reference)
  temperature: 0.2, // MoCo v2
  maskOwnKeys: true, // with K/N large an image's own older key is often a negative, pushing a query away from itself
  keyMomentum: 0.99, // §1: 0.99 suits small data sets
  selection: 'center-wise', // the paper's rule (§3)
  climWarmupSteps: 100, // measured on shapes: early positives are at chance purity (13%) and early mixing slowed kNN gains
  centerThreshold: 'anchor', // the abstract's wording (§3)
  knnK: 10, // k = 5 was 1.2–2.6 points purer but left 43% of anchors without a positive and cost 0.5 kNN points (four seeds, docs/BENCHMARKS.md)
  clusters: 10, // C = 30 made center-wise as pure as kNN (+1.4) but halved its coverage (53%) at 600 steps (docs/BENCHMARKS.md)
  bankView: 'clean', // augmented rows cost 21–28 points of 10-NN purity on Fashion-MNIST (docs/BENCHMARKS.md)
  bankRefreshEvery: 0, // off: each anchor's own clean write keeps the bank within an epoch of the encoder
  bankSpace: 'backbone', // 10-NN purity +3 points over the projection; selection precision +4.3 points (two seeds, docs/BENCHMARKS.md)
  kmeansEvery: 50, // bank drifts slowly; k-means every ~50 steps is cheap
  kmeansIters: 10, // spherical k-means converges in a few Lloyd steps
  mix: 'cutmix', // author code default (§4)
  mixProb: 0.8, // author code
  mixAlpha: 1, // authors' runs: λ ~ Beta(1, 1) = U(0, 1)
  optimizer: 'sgd', // author code
  lr: 0.06, // 0.03 × batch/256 is tuned for 200 epochs; short runs need more
  momentum: 0.9, // author code
  weightDecay: 5e-4, // small nets on small data regularise better than 1e-4
  warmupSteps: 10, // avoids early blow-ups of the freshly initialised queue
  totalSteps: 1000, // a few minutes on CPU
  scheduleStart: 0, // one warm-up and cosine over the whole run; only an extension moves it
  evalK: 20, // §6: smaller k than 200 for small data
  evalTemperature: 0.1, // §6: Wu et al. 2018
});

export function defaultConfig(): ClimConfig {
  return { ...DEFAULT_CONFIG, resolutions: [...DEFAULT_CONFIG.resolutions] };
}

/** Tiny config for tests and the SwiftShader WebGPU check. */
export function tinyConfig(overrides: Partial<ClimConfig> = {}): ClimConfig {
  return {
    ...defaultConfig(),
    resolutions: [16],
    width: 8,
    stemStride: 1,
    stages: 2,
    blocksPerStage: 1,
    groups: 4,
    projHidden: 32,
    projDim: 16,
    batchSize: 8,
    queueSize: 32,
    knnK: 4,
    climWarmupSteps: 0,
    clusters: 3,
    kmeansEvery: 5,
    kmeansIters: 5,
    warmupSteps: 2,
    totalSteps: 50,
    evalK: 5,
    ...overrides,
  };
}

export interface ConfigIssue {
  field: keyof ClimConfig;
  message: string;
}

/** Every problem with `c`, each naming its field; empty when valid. */
export function validateConfig(c: ClimConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const bad = (field: keyof ClimConfig, message: string) => issues.push({ field, message });
  const int = (f: keyof ClimConfig, lo: number, hi: number) => {
    const v = c[f] as unknown;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      bad(f, `${f} must be a whole number from ${lo} to ${hi} (got ${describeValue(v)}).`);
    }
  };
  const num = (f: keyof ClimConfig, lo: number, hi: number, loOpen = false) => {
    const v = c[f] as unknown;
    if (typeof v !== 'number' || !Number.isFinite(v) || v > hi || (loOpen ? v <= lo : v < lo)) {
      bad(
        f,
        `${f} must be a number ${loOpen ? 'above' : 'from'} ${lo}${loOpen ? ' and at most' : ' to'} ${hi} (got ${describeValue(v)}).`,
      );
    }
  };
  const oneOf = (f: keyof ClimConfig, options: readonly string[]) => {
    if (!options.includes(c[f] as string))
      bad(f, `${f} must be one of ${options.join(', ')} (got ${describeValue(c[f])}).`);
  };

  int('seed', 0, 2 ** 32 - 1);
  if (!Array.isArray(c.resolutions) || c.resolutions.length === 0 || c.resolutions.length > 4) {
    bad('resolutions', 'resolutions must list 1 to 4 crop sizes.');
  } else {
    // Arithmetic and template strings on an object from JSON ({"toString": 1}) throw: numbers only.
    const numOr = (v: unknown, d: number) => (typeof v === 'number' ? v : d);
    const step = numOr(c.stemStride, 1) * 2 ** Math.max(0, numOr(c.stages, 1) - 1);
    for (const r of c.resolutions as unknown[]) {
      if (typeof r !== 'number' || !Number.isInteger(r) || r < 8 || r > 128)
        bad('resolutions', `each resolution must be a whole number from 8 to 128 (got ${describeValue(r)}).`);
      else if (r % step !== 0)
        bad(
          'resolutions',
          `each resolution must be divisible by ${step} (stemStride·2^(stages−1)) so every downsampling halves it evenly (got ${r}).`,
        );
    }
    if (new Set(c.resolutions).size !== c.resolutions.length) bad('resolutions', 'resolutions must not repeat.');
  }
  num('cropScaleMin', 0.05, 1);
  num('cropScaleMax', 0.05, 1);
  if (typeof c.cropScaleMin === 'number' && typeof c.cropScaleMax === 'number' && c.cropScaleMin > c.cropScaleMax)
    bad('cropScaleMin', `cropScaleMin (${c.cropScaleMin}) must not exceed cropScaleMax (${c.cropScaleMax}).`);
  for (const f of ['flipProb', 'jitterProb', 'grayscaleProb', 'mixProb'] as const) num(f, 0, 1);
  for (const f of ['brightness', 'contrast', 'saturation'] as const) num(f, 0, 1);
  num('hue', 0, 0.5);
  int('width', 2, 256);
  int('stemStride', 1, 2);
  int('stages', 1, 5);
  int('blocksPerStage', 1, 8);
  oneOf('norm', NORMS);
  int('groups', 1, 64);
  int('projHidden', 2, 4096);
  int('projDim', 2, 1024);
  int('batchSize', 1, 1024);
  int('queueSize', 0, 65536);
  num('temperature', 0, 10, true);
  num('keyMomentum', 0, 1);
  if (typeof c.maskOwnKeys !== 'boolean')
    bad('maskOwnKeys', `maskOwnKeys must be true or false (got ${describeValue(c.maskOwnKeys)}).`);
  oneOf('selection', SELECTION_MODES);
  int('climWarmupSteps', 0, 10_000_000);
  oneOf('centerThreshold', CENTRE_THRESHOLDS);
  int('knnK', 1, 1000);
  int('clusters', 1, 10000);
  oneOf('bankView', BANK_VIEWS);
  int('bankRefreshEvery', 0, 1_000_000);
  oneOf('bankSpace', BANK_SPACES);
  int('kmeansEvery', 1, 1_000_000);
  int('kmeansIters', 1, 1000);
  oneOf('mix', MIX_MODES);
  num('mixAlpha', 0, 100, true);
  oneOf('optimizer', OPTIMIZERS);
  num('lr', 0, 10, true);
  num('momentum', 0, 1);
  num('weightDecay', 0, 1);
  int('warmupSteps', 0, 1_000_000);
  int('totalSteps', 1, 10_000_000);
  int('scheduleStart', 0, 9_999_999);
  if (typeof c.scheduleStart === 'number' && typeof c.totalSteps === 'number' && c.scheduleStart >= c.totalSteps)
    bad(
      'scheduleStart',
      `scheduleStart (${c.scheduleStart}) must be less than totalSteps (${c.totalSteps}): the learning-rate segment it starts needs at least one step.`,
    );
  int('evalK', 1, 10000);
  num('evalTemperature', 0, 10, true);
  return issues;
}

/** Width F of the backbone's features: `width` channels doubled at each stage after the first, then pooled. */
export function featureDim(c: Pick<ClimConfig, 'width' | 'stages'>): number {
  return c.width * 2 ** (c.stages - 1);
}

/** Width of a memory-bank row: the projection's d, or the backbone's F (config.bankSpace). */
export function bankDim(c: Pick<ClimConfig, 'bankSpace' | 'projDim' | 'width' | 'stages'>): number {
  return c.bankSpace === 'projection' ? c.projDim : featureDim(c);
}

/**
 * The values of fields added after the first run-file format, as runs saved
 * before them behaved: a saved config without `bankView` wrote augmented key
 * views of the projection into its bank and never refreshed it, so resuming
 * it replays exactly.
 */
export const PRE_BANK_VIEW_FIELDS: Readonly<Pick<ClimConfig, 'bankView' | 'bankRefreshEvery' | 'bankSpace'>> =
  Object.freeze({ bankView: 'augmented', bankRefreshEvery: 0, bankSpace: 'projection' });

/** Runs saved before `scheduleStart` existed had one schedule from step 0 (§1.5). */
export const PRE_SCHEDULE_START_FIELDS: Readonly<Pick<ClimConfig, 'scheduleStart'>> = Object.freeze({
  scheduleStart: 0,
});

/** A saved config with every later field filled in as the run that saved it behaved. */
export function upgradeSavedConfig(saved: ClimConfig): ClimConfig {
  return { ...PRE_BANK_VIEW_FIELDS, ...PRE_SCHEDULE_START_FIELDS, ...saved };
}

/** Keys that reach JavaScript's object machinery; refused by name wherever a config arrives as data. */
export const PROTOTYPE_KEYS: readonly string[] = Object.freeze(['__proto__', 'constructor', 'prototype']);

export interface ConfigMerge {
  config: ClimConfig;
  /** One sentence per refused key or wrong shape; empty when every key was taken. */
  problems: string[];
}

/**
 * Config fields from untrusted data (a `--config` file, a run file's
 * description) laid over `base`. Only the object's own keys count, each must
 * be a field `base` owns, and prototype keys are refused by name: `JSON.parse`
 * makes `"__proto__"` an own key, and assigning it would replace the result's
 * prototype. Values are copied, not range-checked (that is validateConfig's
 * job); the result and its `resolutions` array are fresh objects.
 */
export function mergeConfigFields(base: ClimConfig, raw: unknown): ConfigMerge {
  const config = { ...base, resolutions: [...base.resolutions] } as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      config: config as unknown as ClimConfig,
      problems: [`expected an object of config fields (got ${describeValue(raw)})`],
    };
  }
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if (PROTOTYPE_KEYS.includes(key))
      problems.push(`"${key}" is not a config field (it names JavaScript's object machinery)`);
    else if (!Object.hasOwn(base, key)) problems.push(`unknown field "${truncateText(key, 60)}"`);
    else {
      const v = (raw as Record<string, unknown>)[key];
      config[key] = Array.isArray(v) ? [...(v as unknown[])] : v;
    }
  }
  return { config: config as unknown as ClimConfig, problems };
}

/** A value as a message shows it: strings quoted (so "32" and 32 differ), long ones cut. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(truncateText(v, 60));
  // One level only: nested arrays (a 10,000-deep [[[…]]] in a file) would recurse past the stack and grow the message.
  if (Array.isArray(v))
    return v.length <= 8 && !v.some((x) => typeof x === 'object' && x !== null)
      ? truncateText(`[${v.map(describeValue).join(', ')}]`, 120)
      : `an array of ${v.length} items`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** `s` cut to `max` characters with an ellipsis and the full length, for messages that repeat user input. */
export function truncateText(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} characters)`;
}

/** Throws one Error listing every issue; for the CLI and the worker boundary. */
export function assertValidConfig(c: ClimConfig): void {
  const issues = validateConfig(c);
  if (issues.length) throw new Error(`Invalid config: ${issues.map((i) => i.message).join(' ')}`);
}

/**
 * The config as the files that carry it write it (the export zip's
 * config.json, the page's Export config for PyTorch): pretty JSON, 2-space
 * indent, trailing newline; `JSON.parse` gives it back, and the Python
 * trainer's load_config reads it.
 */
export function configJson(config: Readonly<ClimConfig>): string {
  return JSON.stringify(config, null, 2) + '\n';
}
