/**
 * How pure the memory bank's neighbourhoods are while a run trains (issue 15):
 * every --every steps, the rule comparison (rule-comparison.ts) over a fixed
 * probe of --probe anchors, the mean step precision and step time since the
 * last report, and at the end the held-out kNN top-1.
 *
 *   npx tsx bench/bank-purity.ts --preset fast-demo-cpu --steps 600 --every 100 \
 *     --set '{"selection":"center-wise","mix":"none","bankView":"clean"}' --out bench/results/x.json
 *
 * --set overrides config fields (JSON); --steps also sets totalSteps, as the
 * ablation does. Fashion-MNIST (built in), WASM, one thread.
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { presetConfig } from '../src/core/presets';
import { assertValidConfig, type ClimConfig } from '../src/core/config';
import { Trainer, sampleSubset } from '../src/core/train';
import { Rng } from '../src/core/rng';
import { loadDataset } from '../src/cli/datasets';
import { compareRulesOnBank, type RuleStats } from '../src/core/clim/rule-comparison';
import { sphericalKMeans } from '../src/core/clim/kmeans';
import { clusterAgreement } from '../src/core/eval/cluster-metrics';
import { l2Normalize } from '../src/core/models/encoder';

const { values: v } = parseArgs({
  options: {
    preset: { type: 'string', default: 'fast-demo-cpu' },
    steps: { type: 'string', default: '600' },
    every: { type: 'string', default: '100' },
    probe: { type: 'string', default: '2000' },
    set: { type: 'string', default: '{}' },
    dataset: { type: 'string', default: 'fashion-mnist' },
    out: { type: 'string' },
    /** After training: the rules on the final bank (and on raw pixels) for each C × k listed. */
    'sweep-clusters': { type: 'string' },
    'sweep-k': { type: 'string', default: '10' },
  },
});
const steps = Number(v.steps);
const every = Number(v.every);
const config: ClimConfig = {
  ...presetConfig(v.preset as string),
  ...(JSON.parse(v.set as string) as Partial<ClimConfig>),
  totalSteps: Math.max(1, steps),
};
assertValidConfig(config);
await tf.setBackend('wasm');
await tf.ready();
const data = loadDataset(v.dataset as 'fashion-mnist' | 'shapes', config.seed);
const t = await Trainer.create(config, data);
const probe = sampleSubset(data.train.n, Math.min(data.train.n, Number(v.probe)), new Rng(12345));

interface Row {
  step: number;
  rules: RuleStats[];
  stepPrecision: number | null;
  stepMs: number;
  refreshMs: number;
  kmeansMs: number;
}
const rows: Row[] = [];
async function report(
  step: number,
  window: Array<{ precision: number | null; ms: number; refreshMs: number; kmeansMs: number }>,
) {
  const cl = (t as unknown as { clusters: Parameters<typeof compareRulesOnBank>[1] }).clusters;
  const rules = await compareRulesOnBank(t.bank.tensor, cl, probe, config.knnK, data.train.labels);
  const ps = window.map((w) => w.precision).filter((p): p is number => p !== null);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const row: Row = {
    step,
    rules,
    stepPrecision: ps.length ? mean(ps) : null,
    stepMs: mean(window.map((w) => w.ms - w.refreshMs - w.kmeansMs)),
    refreshMs: window.reduce((a, w) => a + w.refreshMs, 0),
    kmeansMs: window.reduce((a, w) => a + w.kmeansMs, 0),
  };
  rows.push(row);
  const pct = (x: number | null) => (x === null ? '  n/a' : `${(100 * x).toFixed(1)}%`);
  console.log(
    `step ${step}: ` +
      rules.map((r) => `${r.rule} ${pct(r.precision)} (${r.keptPerAnchor.toFixed(1)})`).join(' | ') +
      ` | step precision ${pct(row.stepPrecision)} | ${row.stepMs.toFixed(1)} ms/step, refresh ${row.refreshMs.toFixed(0)} ms, k-means ${row.kmeansMs.toFixed(0)} ms`,
  );
}

const started = Date.now();
await report(0, []);
let window: Array<{ precision: number | null; ms: number; refreshMs: number; kmeansMs: number }> = [];
for (let s = 1; s <= steps; s++) {
  const m = await t.trainStep();
  window.push(m);
  if (s % every === 0 || s === steps) {
    await report(s, window);
    window = [];
  }
}
const ev = await t.evaluate({ full: true });
const wall = (Date.now() - started) / 1000;
console.log(
  `kNN top-1 ${(100 * (ev.knnTop1 ?? NaN)).toFixed(2)}%, linear ${(100 * (ev.linearTop1 ?? NaN)).toFixed(2)}%, NMI ${ev.clusterNmi?.toFixed(3)}, purity ${ev.clusterPurity?.toFixed(3)}, ${wall.toFixed(0)} s`,
);

/** The rules for every C × k on one bank (N×d, rows unit length), k-means seeded alike for every space. */
interface SweepRow {
  space: string;
  clusters: number;
  k: number;
  nmi: number;
  purity: number;
  rules: RuleStats[];
}
const sweep: SweepRow[] = [];
async function sweepBank(space: string, bank: tf.Tensor2D) {
  for (const C of (v['sweep-clusters'] as string).split(',').map(Number)) {
    const km = await sphericalKMeans(bank, C, 20, new Rng(777));
    const a = clusterAgreement(Int32Array.from(await km.assignments.data()), data.train.labels!);
    for (const k of (v['sweep-k'] as string).split(',').map(Number)) {
      const rules = await compareRulesOnBank(bank, km, probe, k, data.train.labels);
      sweep.push({ space, clusters: C, k, nmi: a.nmi, purity: a.purity, rules });
      const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
      console.log(
        `${space} C=${C} k=${k} NMI ${a.nmi.toFixed(3)} purity ${a.purity.toFixed(3)}: ` +
          rules
            .map((r) => `${r.rule} ${pct(r.precision)} (${r.keptPerAnchor.toFixed(1)}, cov ${r.coverage.toFixed(2)})`)
            .join(' | '),
      );
    }
    km.dispose();
  }
}
if (v['sweep-clusters']) {
  await sweepBank('bank', t.bank.tensor);
  const S = data.size;
  const raw = tf.tidy(() => {
    const x = tf.tensor2d(
      Float32Array.from(data.train.images, (b) => b / 255),
      [data.train.n, S * S * 3],
    );
    return l2Normalize(tf.sub(x, tf.mean(x, 0, true)) as tf.Tensor2D);
  });
  await sweepBank('raw pixels (centred)', raw);
  raw.dispose();
}
if (v.out)
  writeFileSync(
    v.out,
    JSON.stringify({ config, probe: probe.length, rows, eval: ev, sweep, wallSeconds: wall }, null, 1),
  );
t.dispose();
