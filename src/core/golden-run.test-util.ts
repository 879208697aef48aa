/**
 * The golden run of issue 17, shared by `scripts/record-golden.ts` (writes
 * `src/core/train.golden.json`) and `train.golden.test.ts` (asserts it bit
 * for bit), so the two cannot drift. The issue asks for the DEFAULT config
 * (`defaultConfig()`, seed 1) on the built-in `shapes` data set as the page
 * and the CLI build it (`makeShapesDataset({ seed })`: 2400 + 600 images of
 * 32×32) for 20 steps, on WASM and on tfjs' cpu backend (GOLDEN_SETUPS).
 *
 * WASM runs exactly that: the built-in set, 20 default steps (~10 s).
 *
 * cpu runs the same default config on a smaller `shapes` set, 16 training
 * images (seed 1, no test images), for 1 step. Why: tfjs' cpu backend is
 * ~150× slower than WASM on the default model, and CPU-bound (user time =
 * wall time), so a busy machine is not the reason. Measured on the 2-core
 * machine: on the built-in set Trainer.create takes ~60 s and each default
 * step ~60 s, 83% of it in the plain-JS Conv2DBackpropFilter kernel
 * (tf.profile), so the asked 20 steps take ~20 minutes and even a single
 * step on the built-in set is ~2 minutes. Fewer steps alone cannot fit, so
 * the data set is smaller too: `makeShapesDataset` takes any nTrain/nTest
 * (the page's data set options use them; it is a different draw, not a
 * prefix, of the generator). With 16 images B = min(batchSize, N) = 16 and a
 * step costs ~15 s; create still costs ~22 s whatever N is (it embeds
 * queueSize = 512 images for each of the two queues). 16 keeps every default
 * meaningful: N > knnK (10), N ≥ clusters (10), two images per class. One
 * step: ~37 s in all; a second step would make it ~52 s, not well under the
 * minute a unit test may take here. cpu and WASM take the same code paths
 * (both are host backends, ops/host-backend.ts), so the full-length WASM run
 * covers the multi-step state (momentum, queues, epochs, the leak check)
 * and the cpu run adds an independent set of kernels.
 *
 * What is recorded (all read with `await data()`, never dataSync):
 * - per step, `loss`, `lossAnchor`, `lossPositive` (float32: read back from
 *   Float32Arrays) as 8-hex-digit bit patterns and as decimals, and the
 *   host-side numbers `lr`, `coverage`, `precision`, `lambdaMean` (doubles;
 *   JSON round-trips them exactly, compared with Object.is);
 * - the last step's (anchor, positive) pairs, through the public
 *   `selectionSnapshot(B)`, sorted by anchor. NOTE: the default config has
 *   climWarmupSteps 100, so every recorded step is plain MoCo v2 (selection 'none',
 *   no mixing): every positive is its anchor, coverage is 0, precision null
 *   and lambdaMean 1. The golden run therefore pins the sampler,
 *   augmentation, encoder, InfoNCE, optimiser and schedule, key momentum,
 *   queues, bank writes and the k-means at create, but NOT CLIM's selection
 *   or CutMix (see the issue 17 report);
 * - FNV-1a 64 checksums of the final memory bank, of the query and key
 *   encoders' weights (per parameter, by name, and over all of them in
 *   order) and of each queue's keys; the float32 bytes in little-endian order
 *   (the machine's; every machine tfjs runs on is little-endian);
 * - the k-means clusters (public `clusterSnapshot()`): sizes, each centre's
 *   nearest image and a checksum of the assignments;
 * - `tf.memory().numTensors` after each step (the test asserts it is flat
 *   between steps 10 and 20 on WASM), not part of the bit-exact record.
 *
 * Determinism: WASM is pinned to one thread (WASM_HAS_MULTITHREAD_SUPPORT
 * false before the backend initialises; tfjs already refuses threads in
 * Node, this makes it explicit). The cpu backend is plain single-threaded
 * JS. Both were checked to give identical bits twice in one process and in
 * two processes (issue 17 report).
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { defaultConfig, upgradeSavedConfig, type ClimConfig } from './config';
import { SHAPES_DEFAULTS, makeShapesDataset } from './data/shapes';
import { Trainer } from './train';

/** Golden cases (ids are the keys of train.golden.json's `runs`). */
export const GOLDEN_BACKENDS = ['wasm', 'cpu', 'wasm-clim'] as const;
export type GoldenBackend = (typeof GOLDEN_BACKENDS)[number];

export interface GoldenSetup {
  /** The tfjs backend the case runs on. */
  backend: 'wasm' | 'cpu';
  /** `shapes` training and test images (seed = the config's seed, 1). */
  nTrain: number;
  nTest: number;
  steps: number;
  /** tf.memory().numTensors must be equal after these two steps (1-based); null: too few steps to check. */
  leakCheck: readonly [number, number] | null;
  /** Fields over the default config. */
  overrides: Readonly<Partial<ClimConfig>>;
}

/**
 * Per case: WASM the run as asked, cpu a smaller one (see the header
 * for why), and `wasm-clim` the same WASM run with the CLIM warm-up off and
 * k-means every 5 steps: the default's 100-step warm-up makes all 20 steps
 * of `wasm` plain MoCo, so only this case pins selection, mixing and k-means.
 */
export const GOLDEN_SETUPS: Readonly<Record<GoldenBackend, Readonly<GoldenSetup>>> = Object.freeze({
  wasm: Object.freeze({
    backend: 'wasm',
    nTrain: SHAPES_DEFAULTS.nTrain,
    nTest: SHAPES_DEFAULTS.nTest,
    steps: 20,
    leakCheck: [10, 20] as const,
    overrides: {},
  }),
  cpu: Object.freeze({ backend: 'cpu', nTrain: 16, nTest: 0, steps: 1, leakCheck: null, overrides: {} }),
  'wasm-clim': Object.freeze({
    backend: 'wasm',
    nTrain: SHAPES_DEFAULTS.nTrain,
    nTest: SHAPES_DEFAULTS.nTest,
    steps: 20,
    leakCheck: [10, 20] as const,
    overrides: { climWarmupSteps: 0, kmeansEvery: 5 },
  }),
});

export const GOLDEN_FILE = 'src/core/train.golden.json';
export const RECORD_COMMAND = 'npx tsx scripts/record-golden.ts';

/** A float32 value: its bit pattern (what is compared) and its decimal (for readers). */
export interface F32 {
  hex: string;
  value: number;
}

export interface GoldenStep {
  step: number;
  loss: F32;
  lossAnchor: F32;
  lossPositive: F32;
  lr: number;
  coverage: number;
  precision: number | null;
  lambdaMean: number;
}

export interface GoldenTensorSum {
  shape: number[];
  fnv1a64: string;
}

export interface GoldenRun {
  backend: GoldenBackend;
  steps: number;
  /** The data set's id, which names its seed, sizes and image side. */
  datasetId: string;
  /** Which tfjs WASM build ran (SIMD or not; threads): another build may round differently. Null on cpu. */
  wasmBuild: { simd: boolean; threads: number } | null;
  /** The config that ran (the default, seed 1), kept so a change of defaults shows as a config diff first. */
  config: ClimConfig;
  losses: GoldenStep[];
  /** The last step's anchors and the positive each used, sorted by anchor. */
  lastPositives: Array<[anchor: number, positive: number]>;
  bank: GoldenTensorSum;
  /** Query encoder f_q: one checksum per parameter (by name) and one over all of them in order. */
  queryWeights: { all: string; params: Record<string, GoldenTensorSum> };
  keyWeights: { all: string; params: Record<string, GoldenTensorSum> };
  queues: GoldenTensorSum[];
  /** The last k-means (at create: kmeansEvery is 50), through the public clusterSnapshot(): sizes, each centre's nearest image, the assignments' checksum. */
  clusters: { sizes: number[]; nearest: number[]; assignments: string };
}

export interface GoldenRunResult {
  run: GoldenRun;
  /** tf.memory().numTensors after each step, index 0 = after step 1. */
  numTensors: number[];
  /** Wall time of create + the steps, ms (not recorded, reported). */
  ms: number;
}

/** The float32 bit pattern of `v` (which must be a float32 value) as 8 hex digits. */
export function f32Hex(v: number): string {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, v, true);
  return b.getUint32(0, true).toString(16).padStart(8, '0');
}

function f32(v: number): F32 {
  return { hex: f32Hex(v), value: v };
}

/**
 * Incremental FNV-1a 64 over bytes, the state in four 16-bit limbs (h0 lowest);
 * the prime 2^40 + 435 is applied limb by limb so no BigInt is needed.
 */
class Fnv1a64 {
  private h0 = 0x2325;
  private h1 = 0x8422;
  private h2 = 0x9ce4;
  private h3 = 0xcbf2;

  update(bytes: Uint8Array): this {
    let { h0, h1, h2, h3 } = this;
    for (let i = 0; i < bytes.length; i++) {
      h0 ^= bytes[i];
      const t0 = h0 * 435;
      let t1 = h1 * 435;
      let t2 = h2 * 435 + (h0 << 8);
      const t3 = h3 * 435 + (h1 << 8);
      t1 += t0 >>> 16;
      h0 = t0 & 0xffff;
      t2 += t1 >>> 16;
      h1 = t1 & 0xffff;
      h3 = (t3 + (t2 >>> 16)) & 0xffff;
      h2 = t2 & 0xffff;
    }
    Object.assign(this, { h0, h1, h2, h3 });
    return this;
  }

  hex(): string {
    return [this.h3, this.h2, this.h1, this.h0].map((h) => h.toString(16).padStart(4, '0')).join('');
  }
}

/** FNV-1a 64 of `bytes` as 16 hex digits (exported for its known-answer test). */
export function fnv1a64(bytes: Uint8Array): string {
  return new Fnv1a64().update(bytes).hex();
}

function bytesOf(a: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Parameter names are ASCII; non-ASCII code units are folded to their low byte (names only label the hash). */
function asciiBytes(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0) & 0xff);
}

/** performance.now() without DOM or Node types (this module is type-checked with the core's ES2022 lib only). */
function now(): number {
  return (globalThis as unknown as { performance: { now(): number } }).performance.now();
}

async function tensorSum(t: tf.Tensor): Promise<GoldenTensorSum> {
  if (t.dtype !== 'float32') throw new Error(`golden checksum expects float32, got ${t.dtype}`);
  const data = (await t.data()) as Float32Array;
  return { shape: [...t.shape], fnv1a64: fnv1a64(bytesOf(data)) };
}

async function weightsSum(
  params: ReadonlyArray<{ name: string; variable: tf.Variable }>,
): Promise<{ all: string; params: Record<string, GoldenTensorSum> }> {
  const all = new Fnv1a64();
  const out: Record<string, GoldenTensorSum> = {};
  for (const p of params) {
    const data = (await p.variable.data()) as Float32Array;
    all.update(asciiBytes(`${p.name}:${p.variable.shape.join('x')};`)).update(bytesOf(data));
    out[p.name] = { shape: [...p.variable.shape], fnv1a64: fnv1a64(bytesOf(data)) };
  }
  return { all: all.hex(), params: out };
}

/**
 * Selects `backend`, pinned for reproducibility: WASM single-threaded. Must
 * run before the WASM backend first initialises to take effect; the flag is
 * false in Node anyway (tfjs issue 3830), so a backend a test already set up
 * is single-threaded too, which this asserts.
 */
export async function selectGoldenBackend(backend: 'wasm' | 'cpu'): Promise<void> {
  if (backend === 'wasm') tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} did not initialise`);
  await tf.ready();
  if (tf.getBackend() !== backend) throw new Error(`expected tfjs backend ${backend}, got ${tf.getBackend()}`);
  if (backend === 'wasm' && ((await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) || getThreadsCount() !== 1))
    throw new Error('the golden run needs single-threaded WASM');
}

/**
 * The golden run on `backend` (selected here). `onStep` sees each step's
 * number (1-based) after it finished, for progress output.
 */
export async function goldenRun(
  backend: GoldenBackend,
  opts: { steps?: number; onStep?: (step: number, ms: number) => void } = {},
): Promise<GoldenRunResult> {
  const setup = GOLDEN_SETUPS[backend];
  await selectGoldenBackend(setup.backend);
  const steps = opts.steps ?? setup.steps;
  const t0 = now();
  const config = { ...defaultConfig(), ...setup.overrides };
  const data = makeShapesDataset({ seed: config.seed, nTrain: setup.nTrain, nTest: setup.nTest });
  const trainer = await Trainer.create(config, data);
  const numTensors: number[] = [];
  try {
    const losses: GoldenStep[] = [];
    for (let s = 1; s <= steps; s++) {
      const m = await trainer.trainStep();
      losses.push({
        step: m.step,
        loss: f32(m.loss),
        lossAnchor: f32(m.lossAnchor),
        lossPositive: f32(m.lossPositive),
        lr: m.lr,
        coverage: m.coverage,
        precision: m.precision,
        lambdaMean: m.lambdaMean,
      });
      numTensors.push(tf.memory().numTensors);
      opts.onStep?.(s, now() - t0);
    }
    // Reads only (the visualisation stream, not the training one), after the last step's tensor count.
    const snap = await trainer.selectionSnapshot(trainer.batchSize);
    const cs = await trainer.clusterSnapshot();
    const lastPositives = snap.anchors
      .map((a) => [a.anchor, a.positive ?? -1] as [number, number])
      .sort((x, y) => x[0] - y[0]);
    const run: GoldenRun = {
      backend,
      steps,
      datasetId: data.id,
      wasmBuild:
        setup.backend === 'wasm'
          ? { simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')), threads: getThreadsCount() }
          : null,
      config: trainer.config as ClimConfig,
      losses,
      lastPositives,
      bank: await tensorSum(trainer.bank.tensor),
      queryWeights: await weightsSum(trainer.query.params),
      keyWeights: await weightsSum(trainer.key.params),
      queues: await Promise.all(trainer.queues.map((q) => tensorSum(q.keys as unknown as tf.Tensor))),
      clusters: {
        sizes: Array.from(cs.sizes),
        nearest: Array.from(cs.nearest),
        assignments: fnv1a64(bytesOf(cs.assignments)),
      },
    };
    return { run, numTensors, ms: now() - t0 };
  } finally {
    trainer.dispose();
  }
}

export interface GoldenFile {
  about: string;
  recordedAt: string;
  tfjsVersion: string;
  node: string;
  runs: Record<GoldenBackend, GoldenRun>;
}

/**
 * Every difference between a recorded run and a fresh one, one line each
 * (float32 values by bit pattern: a 1-ulp change is a difference); empty
 * when they match bit for bit.
 */
export function diffGolden(want: GoldenRun, got: GoldenRun): string[] {
  const out: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  // A recorded config from before a field existed is read as a saved run's is (upgradeSavedConfig): the field as
  // those runs behaved (scheduleStart 0: one schedule from step 0), so adding a field is no diff, changing one is.
  const canon = (c: ClimConfig) => JSON.stringify(Object.entries(c).sort(([a], [b]) => (a < b ? -1 : 1)));
  if (canon(upgradeSavedConfig(want.config)) !== canon(got.config))
    out.push(`config: recorded ${JSON.stringify(want.config)}, now ${JSON.stringify(got.config)}`);
  if (want.datasetId !== got.datasetId) out.push(`data set: recorded ${want.datasetId}, now ${got.datasetId}`);
  if (want.steps !== got.steps) out.push(`steps: recorded ${want.steps}, now ${got.steps}`);
  if (!same(want.wasmBuild, got.wasmBuild))
    out.push(
      `WASM build: recorded ${JSON.stringify(want.wasmBuild)}, now ${JSON.stringify(got.wasmBuild)} (a machine without WASM SIMD runs another build, whose bits may differ)`,
    );
  const n = Math.max(want.losses.length, got.losses.length);
  for (let i = 0; i < n; i++) {
    const w = want.losses[i];
    const g = got.losses[i];
    if (!w || !g) {
      out.push(`step ${i + 1}: ${w ? 'missing now' : 'not recorded'}`);
      continue;
    }
    if (w.step !== g.step) out.push(`step ${i + 1}: step counter recorded ${w.step}, now ${g.step}`);
    for (const k of ['loss', 'lossAnchor', 'lossPositive'] as const) {
      if (w[k].hex !== g[k].hex)
        out.push(`step ${i + 1} ${k}: recorded 0x${w[k].hex} (${w[k].value}), now 0x${g[k].hex} (${g[k].value})`);
    }
    for (const k of ['lr', 'coverage', 'precision', 'lambdaMean'] as const) {
      if (!Object.is(w[k], g[k])) out.push(`step ${i + 1} ${k}: recorded ${w[k]}, now ${g[k]}`);
    }
  }
  if (!same(want.lastPositives, got.lastPositives))
    out.push(
      `last step's (anchor, positive) pairs: recorded ${JSON.stringify(want.lastPositives)}, now ${JSON.stringify(got.lastPositives)}`,
    );
  if (!same(want.bank, got.bank))
    out.push(`memory bank: recorded ${JSON.stringify(want.bank)}, now ${JSON.stringify(got.bank)}`);
  for (const k of ['queryWeights', 'keyWeights'] as const) {
    if (want[k].all === got[k].all && same(want[k].params, got[k].params)) continue;
    const names = [...new Set([...Object.keys(want[k].params), ...Object.keys(got[k].params)])];
    const changed = names.filter((p) => !same(want[k].params[p], got[k].params[p]));
    out.push(
      `${k}: checksum recorded ${want[k].all}, now ${got[k].all}; parameters that differ: ${changed.join(', ') || '(none by name: order changed)'}`,
    );
  }
  if (!same(want.queues, got.queues))
    out.push(`queues: recorded ${JSON.stringify(want.queues)}, now ${JSON.stringify(got.queues)}`);
  if (!same(want.clusters, got.clusters))
    out.push(`k-means clusters: recorded ${JSON.stringify(want.clusters)}, now ${JSON.stringify(got.clusters)}`);
  return out;
}
