/**
 * One row per ClimConfig field: what a settings form, a shareable URL and
 * the docs need to know about it. Ranges are copied from validateConfig
 * rather than derived, so the table stays a plain readable list; the tests
 * check every bound against validateConfig so the two cannot drift apart.
 *
 * Over 500 lines because it is one table: a row per config field (~45),
 * each with its label and a learner's help sentence. Split by group it would
 * lose the one place where a field's range, help and live-safety sit together.
 */
import {
  BANK_SPACES,
  BANK_VIEWS,
  CENTRE_THRESHOLDS,
  MIX_MODES,
  NORMS,
  OPTIMIZERS,
  SELECTION_MODES,
  validateConfig,
  type ClimConfig,
} from './config';

/** Display order of the settings groups (a form renders them in this order). */
export const CONFIG_GROUPS = [
  'Data & augmentation',
  'Encoder',
  'MoCo',
  'CLIM selection',
  'Mixture',
  'Multi-resolution',
  'Optimiser',
  'Evaluation',
  'Run',
] as const;
export type ConfigGroup = (typeof CONFIG_GROUPS)[number];

type KeysWhere<T> = { [K in keyof ClimConfig]: ClimConfig[K] extends T ? K : never }[keyof ClimConfig];
export type NumberKey = KeysWhere<number>;
export type IntListKey = KeysWhere<number[]>;
export type BoolKey = KeysWhere<boolean>;
export type EnumKey = KeysWhere<string>;

interface FieldBase<K extends keyof ClimConfig> {
  key: K;
  group: ConfigGroup;
  label: string;
  /** One plain sentence for a learner; cites the spec section where config.ts does. */
  help: string;
  /**
   * May change while a run is paused without rebuilding the model, the data
   * pipeline or the queues: the engine reads these fresh at every step or
   * evaluation. Everything else sizes a tensor, a queue or the bank.
   */
  liveSafe: boolean;
  /** Short URL key (1–4 lowercase letters/digits), unique across the table. */
  hash: string;
}

export interface NumberField<K extends NumberKey = NumberKey> extends FieldBase<K> {
  kind: 'int' | 'float';
  min: number;
  max: number;
  /** validateConfig rejects `min` itself (it requires a value above it). */
  minExclusive?: boolean;
  step: number;
}

/** A list of whole numbers; min/max/step bound each entry, the lengths the list. */
export interface IntListField<K extends IntListKey = IntListKey> extends FieldBase<K> {
  kind: 'intList';
  min: number;
  max: number;
  step: number;
  minLength: number;
  maxLength: number;
}

export interface EnumField<K extends EnumKey = EnumKey> extends FieldBase<K> {
  kind: 'enum';
  options: readonly ClimConfig[K][];
}

export interface BoolField<K extends BoolKey = BoolKey> extends FieldBase<K> {
  kind: 'bool';
}

/**
 * Mapped per key so a row's kind and options must fit its field's type: an
 * 'enum' row on a number field, or options of the wrong enum, do not compile.
 */
export type ConfigField =
  | { [K in NumberKey]: NumberField<K> }[NumberKey]
  | { [K in IntListKey]: IntListField<K> }[IntListKey]
  | { [K in EnumKey]: EnumField<K> }[EnumKey]
  | { [K in BoolKey]: BoolField<K> }[BoolKey];

// liveSafe rows (all others false) and why they may change mid-run:
// - lr, momentum, weightDecay, warmupSteps, totalSteps, scheduleStart: read by
//   the optimiser step and the LR schedule at every step; no state depends on
//   their values (an extension, engine extendRun, moves the last two together).
// - temperature, keyMomentum: scalars of the loss and of the key-encoder update.
// - mixProb, mixAlpha: drawn from afresh at every step (§4).
// - climWarmupSteps, centerThreshold, knnK: the selection reads them per step
//   from the bank it already holds; k only caps the neighbour search (§3).
// - bankView, bankRefreshEvery: read at each bank write and refresh; the bank
//   keeps its shape (§2).
// - evalK, evalTemperature: read at each kNN evaluation (§6).
const ROWS = [
  // --- Data & augmentation (§1) ---
  {
    key: 'cropScaleMin',
    group: 'Data & augmentation',
    label: 'Crop scale min',
    kind: 'float',
    min: 0.05,
    max: 1,
    step: 0.05,
    liveSafe: false,
    hash: 'cmin',
    help: 'Smallest share of the image area a random crop may keep (at most the crop scale max), so lower values make the two views harder to match (§1).',
  },
  {
    key: 'cropScaleMax',
    group: 'Data & augmentation',
    label: 'Crop scale max',
    kind: 'float',
    min: 0.05,
    max: 1,
    step: 0.05,
    liveSafe: false,
    hash: 'cmax',
    help: 'Largest share of the image area a random crop may keep, where 1 allows the whole image (§1).',
  },
  {
    key: 'flipProb',
    group: 'Data & augmentation',
    label: 'Flip probability',
    kind: 'float',
    min: 0,
    max: 1,
    step: 0.05,
    liveSafe: false,
    hash: 'flip',
    help: 'Chance that a view is mirrored left to right (§1).',
  },
  {
    key: 'jitterProb',
    group: 'Data & augmentation',
    label: 'Colour jitter probability',
    kind: 'float',
    min: 0,
    max: 1,
    step: 0.05,
    liveSafe: false,
    hash: 'jit',
    help: 'Chance that a view has its brightness, contrast, saturation and hue jittered (§1).',
  },
  {
    key: 'brightness',
    group: 'Data & augmentation',
    label: 'Brightness jitter',
    kind: 'float',
    min: 0,
    max: 1,
    step: 0.05,
    liveSafe: false,
    hash: 'bri',
    help: 'How far a jittered view’s brightness may be scaled up or down (§1).',
  },
  {
    key: 'contrast',
    group: 'Data & augmentation',
    label: 'Contrast jitter',
    kind: 'float',
    min: 0,
    max: 1,
    step: 0.05,
    liveSafe: false,
    hash: 'con',
    help: 'How far a jittered view’s contrast may be scaled up or down (§1).',
  },
  {
    key: 'saturation',
    group: 'Data & augmentation',
    label: 'Saturation jitter',
    kind: 'float',
    min: 0,
    max: 1,
    step: 0.05,
    liveSafe: false,
    hash: 'sat',
    help: 'How far a jittered view’s colour saturation may be scaled, where strong values stop colour from being an easy shortcut.',
  },
  {
    key: 'hue',
    group: 'Data & augmentation',
    label: 'Hue jitter',
    kind: 'float',
    min: 0,
    max: 0.5,
    step: 0.05,
    liveSafe: false,
    hash: 'hue',
    help: 'How far a jittered view’s hue may be rotated, where 0.5 allows any hue.',
  },
  {
    key: 'grayscaleProb',
    group: 'Data & augmentation',
    label: 'Grayscale probability',
    kind: 'float',
    min: 0,
    max: 1,
    step: 0.05,
    liveSafe: false,
    hash: 'gray',
    help: 'Chance that a view loses its colour, so the encoder has to rely on shape (§1).',
  },

  // --- Encoder ---
  {
    key: 'width',
    group: 'Encoder',
    label: 'Width (channels)',
    kind: 'int',
    min: 2,
    max: 256,
    step: 2,
    liveSafe: false,
    hash: 'w',
    help: 'Channels of the first stage, doubled at each later stage, so it sets most of the model’s cost.',
  },
  {
    key: 'stemStride',
    group: 'Encoder',
    label: 'Stem stride',
    kind: 'int',
    min: 1,
    max: 2,
    step: 1,
    liveSafe: false,
    hash: 'stem',
    help: 'Stride of the first convolution, where 2 halves the image before the first stage and makes each step much cheaper.',
  },
  {
    key: 'stages',
    group: 'Encoder',
    label: 'Stages',
    kind: 'int',
    min: 1,
    max: 5,
    step: 1,
    liveSafe: false,
    hash: 'stg',
    help: 'Number of residual stages, each after the first halving the resolution and doubling the channels.',
  },
  {
    key: 'blocksPerStage',
    group: 'Encoder',
    label: 'Blocks per stage',
    kind: 'int',
    min: 1,
    max: 8,
    step: 1,
    liveSafe: false,
    hash: 'bps',
    help: 'Residual blocks in each stage, the main cost of a step on a CPU.',
  },
  {
    key: 'norm',
    group: 'Encoder',
    label: 'Normalisation',
    kind: 'enum',
    options: NORMS,
    liveSafe: false,
    hash: 'norm',
    help: 'Normalisation inside the backbone, where GroupNorm avoids the batch-statistics leak between query and key that BatchNorm would cause (§1).',
  },
  {
    key: 'groups',
    group: 'Encoder',
    label: 'GroupNorm groups',
    kind: 'int',
    min: 1,
    max: 64,
    step: 1,
    liveSafe: false,
    hash: 'gn',
    help: 'Number of channel groups GroupNorm normalises together, lowered to a divisor of each layer’s channel count.',
  },
  {
    key: 'projHidden',
    group: 'Encoder',
    label: 'Projection hidden width',
    kind: 'int',
    min: 2,
    max: 4096,
    step: 1,
    liveSafe: false,
    hash: 'ph',
    help: 'Hidden width of the two-layer MLP head that maps backbone features to the embedding (§1).',
  },
  {
    key: 'projDim',
    group: 'Encoder',
    label: 'Embedding size d',
    kind: 'int',
    min: 2,
    max: 1024,
    step: 1,
    liveSafe: false,
    hash: 'pd',
    help: 'Size d of the normalised embedding that the contrastive loss compares (§1).',
  },

  // --- MoCo (§1) ---
  {
    key: 'batchSize',
    group: 'MoCo',
    label: 'Batch size',
    kind: 'int',
    min: 1,
    max: 1024,
    step: 1,
    liveSafe: false,
    hash: 'bs',
    help: 'Images per training step, each one an anchor with its own key (§1).',
  },
  {
    key: 'queueSize',
    group: 'MoCo',
    label: 'Queue length K',
    kind: 'int',
    min: 0,
    max: 65536,
    step: 32,
    liveSafe: false,
    hash: 'q',
    help: 'Past keys kept per resolution as negatives, where on a small set a long queue mostly repeats the anchor’s own older keys (§1).',
  },
  {
    key: 'temperature',
    group: 'MoCo',
    label: 'Temperature T',
    kind: 'float',
    min: 0,
    minExclusive: true,
    max: 10,
    step: 0.01,
    liveSafe: true,
    hash: 't',
    help: 'Temperature T of the InfoNCE softmax, where lower values weigh the hardest negatives more (§1).',
  },
  {
    key: 'maskOwnKeys',
    group: 'MoCo',
    label: 'Mask own keys',
    kind: 'bool',
    liveSafe: false,
    hash: 'mok',
    help: 'Whether to drop the anchor’s and its positive’s own older keys from the negatives, which matters on small sets.',
  },
  {
    key: 'keyMomentum',
    group: 'MoCo',
    label: 'Key momentum m',
    kind: 'float',
    min: 0,
    max: 1,
    step: 0.001,
    liveSafe: true,
    hash: 'm',
    help: 'How slowly the key encoder follows the query encoder, where 0.99 suits small data sets (§1).',
  },

  // --- CLIM selection (§2, §3) ---
  {
    key: 'selection',
    group: 'CLIM selection',
    label: 'Positive selection',
    kind: 'enum',
    options: SELECTION_MODES,
    liveSafe: false,
    hash: 'sel',
    help: 'Which image serves as an anchor’s positive: itself only (MoCo v2), a nearest neighbour, any image of its cluster, or the paper’s center-wise rule (§3).',
  },
  {
    key: 'climWarmupSteps',
    group: 'CLIM selection',
    label: 'CLIM warm-up steps',
    kind: 'int',
    min: 0,
    max: 10_000_000,
    step: 10,
    liveSafe: true,
    hash: 'cw',
    help: 'Steps of plain MoCo v2 before selection and mixing switch on, because a random encoder’s neighbourhoods are not worth trusting (§3).',
  },
  {
    key: 'centerThreshold',
    group: 'CLIM selection',
    label: 'Centre threshold',
    kind: 'enum',
    options: CENTRE_THRESHOLDS,
    liveSafe: true,
    hash: 'ct',
    help: 'Whether a kept neighbour must be closer to the cluster centre than the anchor (the paper) or within the cluster’s mean distance (author code) (§3).',
  },
  {
    key: 'knnK',
    group: 'CLIM selection',
    label: 'k (neighbours)',
    kind: 'int',
    min: 1,
    max: 1000,
    step: 1,
    liveSafe: true,
    hash: 'k',
    help: 'Number k of nearest bank neighbours N_k(i) that positives are chosen from (§3).',
  },
  {
    key: 'clusters',
    group: 'CLIM selection',
    label: 'Clusters C',
    kind: 'int',
    min: 1,
    max: 10000,
    step: 1,
    liveSafe: false,
    hash: 'c',
    help: 'Number C of spherical k-means clusters over the memory bank (§2).',
  },
  {
    key: 'kmeansEvery',
    group: 'CLIM selection',
    label: 'k-means every N steps',
    kind: 'int',
    min: 1,
    max: 1_000_000,
    step: 1,
    liveSafe: false,
    hash: 'ke',
    help: 'Steps R between two k-means runs over the slowly drifting memory bank (§2).',
  },
  {
    key: 'kmeansIters',
    group: 'CLIM selection',
    label: 'k-means iterations',
    kind: 'int',
    min: 1,
    max: 1000,
    step: 1,
    liveSafe: false,
    hash: 'ki',
    help: 'Lloyd iterations in each k-means run (§2).',
  },
  {
    key: 'bankView',
    group: 'CLIM selection',
    label: 'Bank rows from',
    kind: 'enum',
    options: BANK_VIEWS,
    liveSafe: true,
    hash: 'bv',
    help: 'Whether an anchor’s memory-bank row is the key encoder’s embedding of the clean image or of its augmented key view, which makes neighbours and clusters much noisier (§2).',
  },
  {
    key: 'bankRefreshEvery',
    group: 'CLIM selection',
    label: 'Refresh bank every E steps',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    step: 50,
    liveSafe: true,
    hash: 'bre',
    help: 'Steps between two full re-embeddings of the memory bank with the current key encoder (0 = never), so rows written many steps ago do not go stale (§2).',
  },
  {
    key: 'bankSpace',
    group: 'CLIM selection',
    label: 'Bank space',
    kind: 'enum',
    options: BANK_SPACES,
    liveSafe: false,
    hash: 'bsp',
    help: 'Whether neighbours and clusters are searched among the key encoder’s projections z or among its backbone features, the space the kNN monitor evaluates (§2).',
  },

  // --- Mixture (§4) ---
  {
    key: 'mix',
    group: 'Mixture',
    label: 'Mixing',
    kind: 'enum',
    options: MIX_MODES,
    liveSafe: false,
    hash: 'mix',
    help: 'How an anchor and its positive become one query image: not at all, CutMix (a pasted box) or Mixup (a blend) (§4).',
  },
  {
    key: 'mixProb',
    group: 'Mixture',
    label: 'Mix probability',
    kind: 'float',
    min: 0,
    max: 1,
    step: 0.05,
    liveSafe: true,
    hash: 'mp',
    help: 'Chance that a query image is mixed with its positive at a step (§4).',
  },
  {
    key: 'mixAlpha',
    group: 'Mixture',
    label: 'Mix α',
    kind: 'float',
    min: 0,
    minExclusive: true,
    max: 100,
    step: 0.1,
    liveSafe: true,
    hash: 'ma',
    help: 'Shape α of the Beta(α, α) law the mixing ratio λ is drawn from, where 1 draws λ uniformly (§4).',
  },

  // --- Multi-resolution (§5) ---
  {
    key: 'resolutions',
    group: 'Multi-resolution',
    label: 'Crop sizes (px)',
    kind: 'intList',
    min: 8,
    max: 128,
    step: 4,
    minLength: 1,
    maxLength: 4,
    liveSafe: false,
    hash: 'res',
    help: 'One to four distinct crop sizes in pixels, each divisible by stemStride·2^(stages−1) and with its own views and queue (§5).',
  },

  // --- Optimiser ---
  {
    key: 'optimizer',
    group: 'Optimiser',
    label: 'Optimiser',
    kind: 'enum',
    options: OPTIMIZERS,
    liveSafe: false,
    hash: 'opt',
    help: 'The update rule, either SGD with momentum as in the author code or Adam.',
  },
  {
    key: 'lr',
    group: 'Optimiser',
    label: 'Learning rate',
    kind: 'float',
    min: 0,
    minExclusive: true,
    max: 10,
    step: 0.01,
    liveSafe: true,
    hash: 'lr',
    help: 'Peak step size of the optimiser, reached after the warm-up and then lowered along a cosine.',
  },
  {
    key: 'momentum',
    group: 'Optimiser',
    label: 'SGD momentum',
    kind: 'float',
    min: 0,
    max: 1,
    step: 0.01,
    liveSafe: true,
    hash: 'mom',
    help: 'Share of the previous update that SGD carries into the next one.',
  },
  {
    key: 'weightDecay',
    group: 'Optimiser',
    label: 'Weight decay',
    kind: 'float',
    min: 0,
    max: 1,
    step: 0.0001,
    liveSafe: true,
    hash: 'wd',
    help: 'Pull of every weight towards zero at each step, which regularises small nets on small data.',
  },
  {
    key: 'warmupSteps',
    group: 'Optimiser',
    label: 'LR warm-up steps',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    step: 1,
    liveSafe: true,
    hash: 'wu',
    help: 'Steps over which the learning rate ramps up from zero, avoiding early blow-ups of the fresh queue.',
  },
  {
    key: 'totalSteps',
    group: 'Optimiser',
    label: 'Total steps',
    kind: 'int',
    min: 1,
    max: 10_000_000,
    step: 10,
    liveSafe: true,
    hash: 'ts',
    help: 'Step at which the run finishes, where the cosine learning-rate schedule reaches zero.',
  },
  {
    key: 'scheduleStart',
    group: 'Optimiser',
    label: 'Schedule segment start',
    kind: 'int',
    min: 0,
    max: 9_999_999,
    step: 1,
    liveSafe: true,
    hash: 'ss',
    help: 'Step where the current warm-up and cosine segment of the learning rate starts, which “Train N more steps” sets to the step the run had finished at (§1.5).',
  },

  // --- Evaluation (§6) ---
  {
    key: 'evalK',
    group: 'Evaluation',
    label: 'Monitor k',
    kind: 'int',
    min: 1,
    max: 10000,
    step: 1,
    liveSafe: true,
    hash: 'ek',
    help: 'Number of neighbours that vote in the weighted kNN accuracy monitor (§6).',
  },
  {
    key: 'evalTemperature',
    group: 'Evaluation',
    label: 'Monitor temperature τ',
    kind: 'float',
    min: 0,
    minExclusive: true,
    max: 10,
    step: 0.01,
    liveSafe: true,
    hash: 'et',
    help: 'Temperature τ of the kNN monitor’s vote weights exp(s/τ), where lower values trust the closest neighbours more (§6).',
  },

  // --- Run ---
  {
    key: 'seed',
    group: 'Run',
    label: 'Seed',
    kind: 'int',
    min: 0,
    max: 2 ** 32 - 1,
    step: 1,
    liveSafe: false,
    hash: 'seed',
    help: 'Seed of every random draw, so the same seed replays the same run.',
  },
] as const satisfies readonly ConfigField[];

/**
 * Compile-time exhaustiveness: a ClimConfig field without a row makes this
 * line fail with the missing key's name in the error.
 */
type MissingRows = Exclude<keyof ClimConfig, (typeof ROWS)[number]['key']>;
const everyFieldHasARow: [MissingRows] extends [never] ? true : { missingRowsFor: MissingRows } = true;
void everyFieldHasARow;

/** Widened to ConfigField so callers narrow on `kind` instead of 43 literal row types. */
export const CONFIG_FIELDS: readonly ConfigField[] = Object.freeze(ROWS);

/** Fields marked liveSafe: the only ones a paused run may change (Trainer.updateLive, the `setLive` request). */
export type LiveKey = Extract<(typeof ROWS)[number], { liveSafe: true }>['key'];
export type LivePatch = Partial<Pick<ClimConfig, LiveKey>>;

const LIVE_KEYS: ReadonlySet<string> = new Set(CONFIG_FIELDS.filter((f) => f.liveSafe).map((f) => f.key));

export function isLiveKey(key: string): key is LiveKey {
  return LIVE_KEYS.has(key);
}

function sameFieldValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
  return Object.is(a, b);
}

/**
 * How `draft` differs from the `applied` config of a run: the live-safe
 * fields as a patch a paused run can take, and the other changed fields,
 * which only a new run can take (in CONFIG_FIELDS order).
 */
export function splitChanges(
  applied: ClimConfig,
  draft: ClimConfig,
): { live: LivePatch; restart: (keyof ClimConfig)[] } {
  const live: Record<string, unknown> = {};
  const restart: (keyof ClimConfig)[] = [];
  for (const f of CONFIG_FIELDS) {
    if (sameFieldValue(applied[f.key], draft[f.key])) continue;
    if (f.liveSafe) live[f.key] = draft[f.key];
    else restart.push(f.key);
  }
  return { live: live as LivePatch, restart };
}

/** Row of a field, for a form that renders one input by key. */
export function configField(key: keyof ClimConfig): ConfigField {
  const f = CONFIG_FIELDS.find((r) => r.key === key);
  if (!f) throw new Error(`no CONFIG_FIELDS row for ${key}`);
  return f;
}

/**
 * validateConfig's messages keyed by the field each names, so a form can show
 * them next to their inputs. Only fields with issues appear. A cross-field
 * rule is listed under the field validateConfig names (cropScaleMin for the
 * crop order, resolutions for the divisibility by the encoder's stride).
 */
export function fieldIssues(config: ClimConfig): Map<keyof ClimConfig, string[]> {
  const out = new Map<keyof ClimConfig, string[]>();
  for (const { field, message } of validateConfig(config)) {
    const list = out.get(field);
    if (list) list.push(message);
    else out.set(field, [message]);
  }
  return out;
}
