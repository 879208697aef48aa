/**
 * What keeping the memory bank fresh costs per step (issue 15): two trainers
 * on the same data and seed, one writing clean-view bank rows (an extra key
 * pass over the B anchors' centre views), one
 * writing augmented key views (no extra pass), stepped alternately so the
 * machine's drift falls on both sides. Reports the median step of each, the
 * median of the paired differences and ratios, and the full-refresh time
 * amortised over the run (every `bankRefreshEvery` steps, when set).
 *
 *   npx tsx bench/bank-cost.ts --preset fast-demo-cpu --pairs 60 --out bench/results/bank-cost.json
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { presetConfig } from '../src/core/presets';
import { Trainer } from '../src/core/train';
import { loadDataset } from '../src/cli/datasets';
import type { ClimConfig } from '../src/core/config';

const { values: v } = parseArgs({
  options: {
    preset: { type: 'string', default: 'fast-demo-cpu' },
    pairs: { type: 'string', default: '60' },
    warm: { type: 'string', default: '5' },
    set: { type: 'string', default: '{}' },
    out: { type: 'string' },
  },
});
const pairs = Number(v.pairs);
await tf.setBackend('wasm');
await tf.ready();
const base: ClimConfig = {
  ...presetConfig(v.preset as string),
  ...(JSON.parse(v.set as string) as Partial<ClimConfig>),
};
const data = loadDataset('fashion-mnist', base.seed);
const clean = await Trainer.create({ ...base, bankView: 'clean' }, data);
const aug = await Trainer.create({ ...base, bankView: 'augmented', bankRefreshEvery: 0 }, data);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const step = async (t: Trainer) => {
  const m = await t.trainStep();
  // k-means and refreshes are accounted for separately: the per-step cost is the extra key pass.
  return { ms: m.ms - m.kmeansMs - m.refreshMs, refreshMs: m.refreshMs };
};
for (let i = 0; i < Number(v.warm); i++) {
  await step(clean);
  await step(aug);
}
const a: number[] = [];
const b: number[] = [];
for (let i = 0; i < pairs; i++) {
  // Alternate which goes first, so neither always follows the other's garbage.
  if (i % 2 === 0) {
    a.push((await step(clean)).ms);
    b.push((await step(aug)).ms);
  } else {
    b.push((await step(aug)).ms);
    a.push((await step(clean)).ms);
  }
}
// One full refresh on the clean trainer, timed alone (what bankRefreshEvery costs each time).
const refreshes: number[] = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  clean.refreshBank();
  await clean.bank.tensor.data();
  refreshes.push(performance.now() - t0);
}
const refresh = median(refreshes);
const cleanMs = median(a);
const augMs = median(b);
const diff = median(a.map((x, i) => x - b[i]));
const ratio = median(a.map((x, i) => x / b[i]));
const total = base.totalSteps;
const refreshCount = base.bankRefreshEvery > 0 ? Math.floor(total / base.bankRefreshEvery) : 0;
const amortised = diff + (refreshCount * refresh) / total;
const result = {
  preset: v.preset,
  config: base,
  pairs,
  train: data.train.n,
  medianMs: { clean: cleanMs, augmented: augMs },
  pairedDiffMs: diff,
  pairedRatio: ratio,
  refreshMs: refresh,
  refreshesPerRun: refreshCount,
  totalSteps: total,
  amortisedExtraMs: amortised,
  amortisedShare: amortised / augMs,
  date: new Date().toISOString(),
};
console.log(
  `${v.preset}: clean ${cleanMs.toFixed(1)} ms, augmented ${augMs.toFixed(1)} ms per step (median of ${pairs} paired: +${diff.toFixed(1)} ms, ×${ratio.toFixed(3)}); ` +
    `full refresh of ${data.train.n} rows ${refresh.toFixed(0)} ms × ${refreshCount} per ${total}-step run → ${amortised.toFixed(1)} ms per step amortised (${(100 * result.amortisedShare).toFixed(1)}% of the augmented step)`,
);
if (v.out) writeFileSync(v.out, JSON.stringify(result, null, 1));
clean.dispose();
aug.dispose();
