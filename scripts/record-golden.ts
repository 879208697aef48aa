/**
 * Records src/core/train.golden.json, the engine's exact behaviour that
 * src/core/train.golden.test.ts asserts bit for bit (issue 17):
 *
 *   npx tsx scripts/record-golden.ts
 *
 * Re-record ONLY when a change of the training behaviour is intended (a new
 * default, a fixed bug, a new kernel), never to make a refactor's test pass:
 * a refactor that changes no behaviour keeps every bit. Say in the commit why
 * the numbers moved.
 *
 * The run itself (config, data, steps per backend and why cpu runs a smaller
 * one) is src/core/golden-run.test-util.ts, shared with the test. Takes about
 * a minute on a 2-core machine (WASM ~10 s, cpu ~40 s).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import {
  GOLDEN_BACKENDS,
  GOLDEN_FILE,
  GOLDEN_SETUPS,
  RECORD_COMMAND,
  goldenRun,
  type GoldenFile,
  type GoldenRun,
} from '../src/core/golden-run.test-util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  const runs = {} as Record<(typeof GOLDEN_BACKENDS)[number], GoldenRun>;
  for (const backend of GOLDEN_BACKENDS) {
    const s = GOLDEN_SETUPS[backend];
    console.log(`${backend}: default config, shapes ${s.nTrain}+${s.nTest}, ${s.steps} steps`);
    const { run, numTensors, ms } = await goldenRun(backend, {
      onStep: (step, t) => console.log(`  step ${step}  ${(t / 1000).toFixed(1)} s`),
    });
    const [a, b] = s.leakCheck ?? [1, 1];
    if (numTensors[a - 1] !== numTensors[b - 1])
      throw new Error(
        `${backend}: tf.memory().numTensors grew from ${numTensors[a - 1]} after step ${a} to ${numTensors[b - 1]} after step ${b}: a leak; not recording`,
      );
    console.log(
      `  ${(ms / 1000).toFixed(1)} s; final loss 0x${run.losses.at(-1)?.loss.hex} (${run.losses.at(-1)?.loss.value}); bank ${run.bank.fnv1a64}; f_q ${run.queryWeights.all}`,
    );
    runs[backend] = run;
  }
  const file: GoldenFile = {
    about:
      `Golden record of issue 17, asserted bit for bit by src/core/train.golden.test.ts. Re-record (${RECORD_COMMAND}) ONLY if the behaviour change is intended. ` +
      'The run is src/core/golden-run.test-util.ts: the default config (seed 1) on shapes; WASM: the built-in 2400+600 set, 20 steps; ' +
      'cpu: 16+0 images, 1 step (the tfjs cpu backend takes ~60 s per default step on the built-in set on 2 cores, see that file); wasm-clim: the wasm run with climWarmupSteps 0 and kmeansEvery 5, so selection, mixing and k-means are pinned too. ' +
      'Float32 values compare by their hex bit pattern; checksums are FNV-1a 64 over the float32 bytes (little-endian).',
    recordedAt: new Date().toISOString(),
    tfjsVersion: tf.version.tfjs,
    node: process.version,
    runs,
  };
  const path = join(root, GOLDEN_FILE);
  // Arrays of numbers (shapes, anchor/positive pairs) on one line each: a readable diff when they change.
  const text = JSON.stringify(file, null, 2).replace(/\[[\d,\s-]*\]/g, (a) =>
    a.replace(/\s+/g, '').replace(/,/g, ', '),
  );
  writeFileSync(path, `${text}\n`);
  console.log(`wrote ${path}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
