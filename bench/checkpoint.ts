/**
 * Size and save/load time of a run checkpoint (issue 6, "Checkpoints"), Node,
 * WASM backend, on the built-in Fashion-MNIST set (10k train + 2k test,
 * loaded as the runner loads it: src/cli/train.ts loadDataset):
 *
 * - bytes of the encoded run file (src/core/checkpoint.ts encodeCheckpoint,
 *   what the app's autosave writes to IndexedDB) and the split of those
 *   bytes by part, from the Checkpoint's own tensor records (query / key
 *   encoder, optimiser state, bank, queues, k-means, epoch order), the
 *   header JSON (with the app's metrics history: the measured steps'
 *   StepMetrics repeated to 1,000 entries, a 1,000-step run's chart; and one
 *   real kNN evaluation repeated for steps 100, 200, …, 1000 as the worker's
 *   EVAL_EVERY = 100 keeps them) and the fixed framing;
 * - save: `await trainer.checkpoint()` (device read-back), encodeCheckpoint
 *   (serialisation + FNV-1a checksum) and the two together, median of
 *   --save-reps (the first also pays the data set fingerprint, cached per
 *   Dataset object afterwards, as in the app);
 * - load: decodeCheckpoint (checksum + copies) and Trainer.restore, median of
 *   --load-reps; then one step of the original trainer (after the save) and
 *   one of the last restored trainer: the two losses must be equal exactly.
 *
 * Cases: the default config (defaultConfig(), the `clim-paper` preset) and
 * `fast-demo-cpu`, each after --steps training steps (state size does not
 * grow with steps; only the history would). tf.memory().numTensors is
 * printed before and after each case and must not change.
 *
 *   npx tsx bench/checkpoint.ts [--steps 20] [--out bench/results/checkpoint-default.json] [--md FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { defaultConfig, type ClimConfig } from '../src/core/config';
import { presetConfig } from '../src/core/presets';
import { Trainer } from '../src/core/train';
import { decodeCheckpoint, encodeCheckpoint, fnv1a, type Checkpoint } from '../src/core/checkpoint';
import type { EvalResult, StepMetrics } from '../src/core/api';
import type { Dataset } from '../src/core/data/dataset';
import { loadDataset } from '../src/cli/datasets';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '20' },
    out: { type: 'string', default: 'bench/results/checkpoint-default.json' },
    md: { type: 'string' },
    'save-reps': { type: 'string', default: '5' },
    'load-reps': { type: 'string', default: '3' },
    history: { type: 'string', default: '1000' },
  },
});
const steps = Number(values.steps);
const saveReps = Number(values['save-reps']);
const loadReps = Number(values['load-reps']);
const historyLen = Number(values.history);
for (const [flag, v, min] of [
  ['steps', steps, 1],
  ['save-reps', saveReps, 1],
  ['load-reps', loadReps, 1],
  ['history', historyLen, 0],
] as const) {
  if (!Number.isInteger(v) || v < min) throw new Error(`--${flag} must be a whole number ≥ ${min} (got ${v})`);
}
/** The worker evaluates every EVAL_EVERY = 100 steps (src/worker/engine.worker.ts). */
const EVAL_EVERY = 100;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r1 = (x: number) => +x.toFixed(1);
const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Which part of the run a tensor record belongs to (names from Trainer.checkpoint). */
function partOf(name: string): string {
  if (name.startsWith('query/')) return 'query encoder';
  if (name.startsWith('key/')) return 'key encoder';
  if (name.startsWith('optimizer/')) return 'optimiser state';
  if (name === 'bank') return 'memory bank';
  if (/^queue\d+\/keys$/.test(name)) return 'queue keys';
  if (/^queue\d+\/ids$/.test(name)) return 'queue ids';
  if (name.startsWith('kmeans/')) return 'k-means state';
  if (name === 'sampler/order') return 'epoch order';
  return `other (${name})`;
}

interface Part {
  part: string;
  tensors: number;
  elements: number;
  bytes: number;
  share: number;
}

/** The encoded file's bytes by part: tensor payload from the records, header and framing from the bytes themselves. */
function breakdown(ck: Checkpoint, bytes: Uint8Array) {
  const headerJson = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(12, true);
  const payload = ck.tensors.reduce((a, t) => a + t.data.byteLength, 0);
  const framing = bytes.length - headerJson - payload; // magic + version + length (16) + 0–3 alignment bytes
  const app = ck.meta.app as { history: unknown[]; evals: unknown[] };
  // JSON.stringify(header) holds JSON.stringify(meta.app) verbatim, so these are exact sub-lengths of the header.
  const historyJson = utf8Bytes(JSON.stringify(app.history));
  const evalsJson = utf8Bytes(JSON.stringify(app.evals));
  const map = new Map<string, Part>();
  for (const t of ck.tensors) {
    const name = partOf(t.name);
    const p = map.get(name) ?? { part: name, tensors: 0, elements: 0, bytes: 0, share: 0 };
    p.tensors++;
    p.elements += t.data.length;
    p.bytes += t.data.byteLength;
    map.set(name, p);
  }
  const parts: Part[] = [...map.values()];
  parts.push({
    part: 'header JSON: app.history',
    tensors: 0,
    elements: app.history.length,
    bytes: historyJson,
    share: 0,
  });
  parts.push({ part: 'header JSON: app.evals', tensors: 0, elements: app.evals.length, bytes: evalsJson, share: 0 });
  parts.push({
    part: 'header JSON: rest (meta, config, tensor table)',
    tensors: 0,
    elements: 0,
    bytes: headerJson - historyJson - evalsJson,
    share: 0,
  });
  parts.push({
    part: 'framing (magic, version, length, alignment)',
    tensors: 0,
    elements: 0,
    bytes: framing,
    share: 0,
  });
  const sum = parts.reduce((a, p) => a + p.bytes, 0);
  if (sum !== bytes.length) throw new Error(`breakdown sums to ${sum} bytes, the file has ${bytes.length}`);
  for (const p of parts) p.share = +(p.bytes / bytes.length).toFixed(4);
  const perTensor = ck.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.data.byteLength }));
  return {
    bytes: bytes.length,
    payloadBytes: payload,
    headerJsonBytes: headerJson,
    framingBytes: framing,
    parts,
    perTensor,
  };
}

/** The measured steps' metrics repeated to `n` entries, renumbered 1…n: the chart history of an n-step run. */
function padHistory(ms: StepMetrics[], n: number): StepMetrics[] {
  return Array.from({ length: n }, (_, i) => ({ ...ms[i % ms.length], step: i + 1 }));
}

const stats = (xs: number[]) => ({
  medianMs: r1(median(xs)),
  minMs: r1(Math.min(...xs)),
  maxMs: r1(Math.max(...xs)),
  samplesMs: xs.map(r1),
});

async function measureCase(name: string, config: ClimConfig, data: Dataset) {
  const tensorsBefore = tf.memory().numTensors;
  console.log(`\n[${name}] tf.memory().numTensors before: ${tensorsBefore}`);
  const t0 = performance.now();
  const trainer = await Trainer.create(config, data);
  const createMs = performance.now() - t0;
  const metrics: StepMetrics[] = [];
  let restored: Trainer | null = null;
  try {
    for (let s = 0; s < steps; s++) {
      const m = await trainer.trainStep();
      if (!Number.isFinite(m.loss)) throw new Error(`loss became ${m.loss} at step ${m.step}`);
      metrics.push(m);
    }
    console.log(
      `[${name}] create ${createMs.toFixed(0)} ms, ${steps} steps, median ${median(metrics.map((m) => m.ms)).toFixed(0)} ms/step, last loss ${metrics[metrics.length - 1].loss.toFixed(4)}`,
    );
    // One real kNN evaluation (it draws nothing from the training stream), stamped at every EVAL_EVERY-th step.
    const ev = await trainer.evaluate();
    const evals: EvalResult[] = Array.from({ length: Math.floor(historyLen / EVAL_EVERY) }, (_, i) => ({
      ...ev,
      step: (i + 1) * EVAL_EVERY,
    }));
    const app = { history: padHistory(metrics, historyLen), evals };
    const datasetSource = { kind: 'builtin', name: 'fashion-mnist', seed: config.seed };

    // Save: read-back, then serialisation + checksum.
    const ckMs: number[] = [];
    const encMs: number[] = [];
    const totalMs: number[] = [];
    let ck: Checkpoint | null = null;
    let bytes: Uint8Array = new Uint8Array(0);
    for (let r = 0; r < saveReps; r++) {
      const a = performance.now();
      ck = await trainer.checkpoint({ app, datasetSource });
      const b = performance.now();
      bytes = encodeCheckpoint(ck);
      const c = performance.now();
      ckMs.push(b - a);
      encMs.push(c - b);
      totalMs.push(c - a);
    }
    const size = breakdown(ck!, bytes);
    // What the fingerprint hash costs when it is not cached (the first save of a data set pays it inside checkpoint()).
    const fpStart = performance.now();
    fnv1a(data.test.images, fnv1a(data.train.images));
    const fingerprintMs = performance.now() - fpStart;
    console.log(
      `[${name}] ${size.bytes} bytes; checkpoint() ${median(ckMs).toFixed(1)} ms, encode ${median(encMs).toFixed(1)} ms, save ${median(totalMs).toFixed(1)} ms (median of ${saveReps})`,
    );

    // The original steps on from the saved state…
    const lossOriginal = (await trainer.trainStep()).loss;
    trainer.dispose();

    // …and so does a trainer restored from the bytes.
    const decMs: number[] = [];
    const resMs: number[] = [];
    const loadMs: number[] = [];
    for (let r = 0; r < loadReps; r++) {
      restored?.dispose();
      restored = null;
      const a = performance.now();
      const back = decodeCheckpoint(bytes);
      const b = performance.now();
      restored = await Trainer.restore(back, data);
      const c = performance.now();
      decMs.push(b - a);
      resMs.push(c - b);
      loadMs.push(c - a);
    }
    if (restored!.step !== steps) throw new Error(`restored trainer is at step ${restored!.step}, saved at ${steps}`);
    const lossRestored = (await restored!.trainStep()).loss;
    restored!.dispose();
    restored = null;
    const match = Object.is(lossOriginal, lossRestored);
    console.log(
      `[${name}] decode ${median(decMs).toFixed(1)} ms, restore ${median(resMs).toFixed(1)} ms, load ${median(loadMs).toFixed(1)} ms (median of ${loadReps}); next loss ${lossOriginal} vs restored ${lossRestored}: ${match ? 'equal' : 'DIFFERENT'}`,
    );

    const tensorsAfter = tf.memory().numTensors;
    console.log(
      `[${name}] tf.memory().numTensors after: ${tensorsAfter} (${tensorsAfter - tensorsBefore >= 0 ? '+' : ''}${tensorsAfter - tensorsBefore})`,
    );
    return {
      config,
      dataset: { id: data.id, train: data.train.n, test: data.test.n, size: data.size },
      steps,
      createMs: r1(createMs),
      stepMedianMs: r1(median(metrics.map((m) => m.ms))),
      app: {
        historyEntries: app.history.length,
        evalEntries: app.evals.length,
        evalMs: r1(ev.ms),
        knnTop1: ev.knnTop1,
      },
      size,
      save: {
        reps: saveReps,
        checkpoint: stats(ckMs),
        encode: stats(encMs),
        total: stats(totalMs),
        fingerprintUncachedMs: r1(fingerprintMs),
      },
      load: { reps: loadReps, decode: stats(decMs), restore: stats(resMs), total: stats(loadMs) },
      nextStepLoss: { original: lossOriginal, restored: lossRestored, match },
      tensors: { before: tensorsBefore, after: tensorsAfter, delta: tensorsAfter - tensorsBefore },
    };
  } finally {
    trainer.dispose();
    restored?.dispose();
  }
}

type CaseResult = Awaited<ReturnType<typeof measureCase>>;

const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

/** The section for docs/BENCHMARKS.md: one column per case, one row per part and timing. */
function markdown(
  out: {
    cpu: string | undefined;
    cpus: number;
    node: string;
    date: string;
    loadavg: { start: number[]; end: number[] };
  },
  cases: Record<string, CaseResult>,
): string {
  const names = Object.keys(cases);
  const cs = names.map((n) => cases[n]);
  // Fewer rows than the JSON's parts: the section must stay short.
  const groups: Array<[string, (part: string) => boolean]> = [
    ['query + key encoders', (p) => p === 'query encoder' || p === 'key encoder'],
    ['optimiser state', (p) => p === 'optimiser state'],
    ['memory bank', (p) => p === 'memory bank'],
    ['queues (keys + ids)', (p) => p.startsWith('queue')],
    ['k-means + epoch order', (p) => p === 'k-means state' || p === 'epoch order'],
    [
      'header JSON (metrics history, evals, config, table) + framing',
      (p) => p.startsWith('header') || p.startsWith('framing'),
    ],
  ];
  const cell = (c: CaseResult, match: (part: string) => boolean) => {
    const b = c.size.parts.filter((q) => match(q.part)).reduce((a, q) => a + q.bytes, 0);
    return `${b >= 2 ** 20 ? mb(b) : kb(b)} (${((b / c.size.bytes) * 100).toFixed(1)}%)`;
  };
  const ms = (s: { medianMs: number }) => `${s.medianMs.toFixed(1)} ms`;
  const row = (label: string, f: (c: CaseResult) => string) => `| ${label} | ${cs.map(f).join(' | ')} |`;
  return [
    `Run checkpoint, Fashion-MNIST (${cs[0].dataset.train} + ${cs[0].dataset.test}), tfjs WASM in Node ${out.node}, ${out.cpu ?? 'unknown CPU'} (${out.cpus} cores), ${out.date.slice(0, 10)}, load average ${out.loadavg.start[0].toFixed(2)} → ${out.loadavg.end[0].toFixed(2)} (shared machine). After ${cs[0].steps} steps; history ${cs[0].app.historyEntries} steps + ${cs[0].app.evalEntries} evaluations. Save: median of ${cs[0].save.reps}, load: median of ${cs[0].load.reps}; a total is the median of the per-repetition totals, not the sum of the medians. The first save of a data set also hashes its images for the fingerprint (${cs[0].save.fingerprintUncachedMs.toFixed(0)} ms here, cached afterwards).`,
    '',
    `| | ${names.map((n) => `\`${n}\``).join(' | ')} |`,
    `|---|${names.map(() => '---:').join('|')}|`,
    row('**file size**', (c) => `**${mb(c.size.bytes)}** (${c.size.bytes.toLocaleString('en')} B)`),
    ...groups.map(([label, match]) => row(label, (c) => cell(c, match))),
    row('save: `trainer.checkpoint()` (read-back)', (c) => ms(c.save.checkpoint)),
    row('save: `encodeCheckpoint` (serialise + checksum)', (c) => ms(c.save.encode)),
    row('**save total**', (c) => `**${ms(c.save.total)}**`),
    row('load: `decodeCheckpoint` (checksum + copies)', (c) => ms(c.load.decode)),
    row('load: `Trainer.restore`', (c) => ms(c.load.restore)),
    row('**load total**', (c) => `**${ms(c.load.total)}**`),
    row(
      'next-step loss, original = restored',
      (c) => `${c.nextStepLoss.match ? 'yes' : '**no**'} (${c.nextStepLoss.original.toFixed(6)})`,
    ),
    '',
    `Reproduce: \`npx tsx bench/checkpoint.ts --steps ${cs[0].steps}${values.md ? ` --md ${values.md}` : ''}\` (writes ${values.out}${values.md ? ` and ${values.md}` : ''}).`,
    '',
  ].join('\n');
}

async function main() {
  const loadStart = os.loadavg();
  await tf.setBackend('wasm');
  await tf.ready();
  const data = loadDataset('fashion-mnist', defaultConfig().seed);
  const tensorsStart = tf.memory().numTensors;
  const cases: Record<string, CaseResult> = {};
  cases.default = await measureCase('default', defaultConfig(), data);
  cases['fast-demo-cpu'] = await measureCase('fast-demo-cpu', presetConfig('fast-demo-cpu'), data);
  const tensorsEnd = tf.memory().numTensors;
  console.log(`\ntf.memory().numTensors: ${tensorsStart} at start, ${tensorsEnd} at end`);
  const out = {
    date: new Date().toISOString(),
    backend: tf.getBackend(),
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    wasmSimd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    wasmThreads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    loadavg: { start: loadStart.map((x) => +x.toFixed(2)), end: os.loadavg().map((x) => +x.toFixed(2)) },
    steps,
    saveReps,
    loadReps,
    historyEntries: historyLen,
    tensors: { start: tensorsStart, end: tensorsEnd },
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    cases,
  };
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, JSON.stringify(out, null, 1));
  const md = markdown(out, cases);
  if (values.md) writeFileSync(values.md, md);
  console.log(`\n${md}`);
  console.log(`wrote ${values.out}${values.md ? ` and ${values.md}` : ''}`);
  if (tensorsEnd !== tensorsStart || Object.values(cases).some((c) => !c.nextStepLoss.match)) process.exitCode = 1;
}
main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
