/**
 * Golden test of issue 17: the engine's exact behaviour, recorded in
 * train.golden.json by scripts/record-golden.ts, must come back bit for bit
 * (float32 values compared by bit pattern: one ulp fails). It guards
 * refactors of train.ts, the worker and the store, which must change no
 * behaviour.
 *
 * The run (the default config, seed 1, on `shapes`; WASM: the built-in set
 * for 20 steps; cpu: a 16-image set for 1 step, because tfjs' cpu backend
 * takes about a minute per default step on the built-in set) is golden-run.test-util.ts, shared
 * with the recording script so the two cannot drift.
 *
 * On a mismatch: if the change of behaviour is NOT intended, the change under
 * test broke bit-exactness; find it. Re-record (npx tsx
 * scripts/record-golden.ts) ONLY if it is intended, and say why in the commit.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import {
  GOLDEN_BACKENDS,
  GOLDEN_SETUPS,
  RECORD_COMMAND,
  diffGolden,
  f32Hex,
  fnv1a64,
  goldenRun,
  type GoldenFile,
} from './golden-run.test-util';

const golden = JSON.parse(readFileSync(new URL('./train.golden.json', import.meta.url), 'utf8')) as GoldenFile;

function mismatchMessage(backend: string, diffs: string[]): string {
  const shown = diffs.slice(0, 40);
  return [
    `The ${backend} golden run no longer matches src/core/train.golden.json bit for bit (${diffs.length} difference${diffs.length === 1 ? '' : 's'}; the first is usually the cause):`,
    ...shown.map((d) => `  - ${d}`),
    ...(diffs.length > shown.length ? [`  … and ${diffs.length - shown.length} more`] : []),
    `Recorded ${golden.recordedAt} with tfjs ${golden.tfjsVersion} on Node ${golden.node}; this run: tfjs ${tf.version.tfjs} on Node ${process.version}${golden.tfjsVersion !== tf.version.tfjs || golden.node !== process.version ? ' (a different tfjs or Node may round differently)' : ''}.`,
    `If this change of training behaviour is NOT intended (e.g. a refactor), fix the code: it must keep every bit.`,
    `Re-record ONLY if the change is intended: ${RECORD_COMMAND} (and say why in the commit).`,
  ].join('\n');
}

describe('golden run helpers', () => {
  it('FNV-1a 64 and float32 bit patterns give the known answers', () => {
    const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
    expect(fnv1a64(new Uint8Array())).toBe('cbf29ce484222325');
    expect(fnv1a64(ascii('a'))).toBe('af63dc4c8601ec8c');
    expect(fnv1a64(ascii('foobar'))).toBe('85944171f73967e8');
    expect(f32Hex(1)).toBe('3f800000');
    expect(f32Hex(-2)).toBe('c0000000');
    expect(f32Hex(Math.fround(1 + 2 ** -23))).toBe('3f800001'); // one ulp apart: different patterns
  });

  it('records what the issue asks', () => {
    expect(Object.keys(golden.runs).sort()).toEqual([...GOLDEN_BACKENDS].sort());
    for (const b of GOLDEN_BACKENDS) {
      expect(golden.runs[b].losses).toHaveLength(GOLDEN_SETUPS[b].steps);
      golden.runs[b].losses.forEach((l) => expect(f32Hex(l.loss.value)).toBe(l.loss.hex));
    }
  });
});

describe.each(GOLDEN_BACKENDS)('golden run on %s', (backend) => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  const leak = GOLDEN_SETUPS[backend].leakCheck;
  it(
    `reproduces every recorded loss, positive and checksum bit for bit${leak ? `, and keeps numTensors flat from step ${leak[0]} to ${leak[1]}` : ''}`,
    async () => {
      const want = golden.runs[backend];
      expect(want, `no ${backend} run in train.golden.json: ${RECORD_COMMAND}`).toBeDefined();
      const { run, numTensors } = await goldenRun(backend);
      const diffs = diffGolden(want, run);
      expect(diffs, mismatchMessage(backend, diffs)).toEqual([]);
      if (!leak) return;
      const [a, b] = leak;
      expect(
        numTensors[b - 1],
        `tf.memory().numTensors after step ${a} vs step ${b} on ${backend} (a leak if it grew): ${numTensors.join(', ')}`,
      ).toBe(numTensors[a - 1]);
    },
    // WASM ~10 s, cpu ~40 s on a loaded 2-core machine; room for a busier one.
    backend === 'cpu' ? 300_000 : 120_000,
  );
});
