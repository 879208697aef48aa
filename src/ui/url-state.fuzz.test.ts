/**
 * Property-based fuzz of the URL-hash reader: a link is typed, pasted and
 * hand-edited by anyone, so `decodeHash` must take any string.
 *
 * Fixed seed and 200 runs per property by default, so it takes seconds in
 * the suite. Run longer or elsewhere with, e.g.:
 *
 *   FUZZ_RUNS=100000 FUZZ_SEED=$RANDOM npx vitest run src/ui/url-state.fuzz.test.ts
 *
 * A failure prints the seed and the path of the shrunk counterexample; add
 * the input to url-state.test.ts as a fixed case once it is fixed.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { validateConfig } from '../core/config';
import { CONFIG_FIELDS } from '../core/config-fields';
import { PRESETS, presetConfig } from '../core/presets';
import { RESERVED_HASH_KEYS, decodeHash, encodeHash, type DecodedHash } from './url-state';
import { BACKEND_NAMES, DATASETS } from '../worker/protocol';

// The UI is compiled without Node's types; the tests still run in Node.
const process = (globalThis as { process?: { env: Record<string, string | undefined> } }).process ?? { env: {} };
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = Number(process.env.FUZZ_SEED ?? 1);
const params = { numRuns: RUNS, seed: SEED };

/** Longest notice the reader may write: each repeats at most 60 characters of a key and of a value, plus validateConfig's reasons. */
const MAX_NOTICE = 1000;

const KEYS = [...CONFIG_FIELDS.map((f) => f.hash), ...Object.values(RESERVED_HASH_KEYS)];
const PRESET_IDS = PRESETS.map((p) => p.id);

/** Text a value could hold: near-valid numbers and lists, words the reader knows, junk, and long runs. */
const valueArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-0',
    '1',
    '-1',
    '0.5',
    '1e2',
    '1e400',
    '-1e-400',
    '0x10',
    'Infinity',
    'NaN',
    '1.',
    '.5',
    '32.24',
    '8.16.24.128',
    '32..',
    '.',
    'true',
    'false',
    'upload',
    '%',
    '%E0%A4%A',
    '\u202e',
    '\u0000',
  ),
  fc.constantFrom(
    ...PRESET_IDS,
    ...DATASETS,
    ...BACKEND_NAMES,
    ...CONFIG_FIELDS.flatMap((f) => (f.kind === 'enum' ? [...f.options] : [])),
  ),
  fc.double().map(String),
  fc.integer().map(String),
  fc.array(fc.nat({ max: 300 }), { minLength: 0, maxLength: 6 }).map((xs) => xs.join('.')),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.nat({ max: 5000 }).map((n) => '9'.repeat(n)),
);

const keyArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...KEYS),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', ''),
);

/** A hash of key=value entries, each part percent-encoded or not, with stray separators. */
const entriesHashArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(fc.tuple(keyArb, valueArb, fc.boolean()), { maxLength: 12 }),
    fc.constantFrom('#', '', '##', '#&', '#?'),
  )
  .map(
    ([entries, lead]) =>
      lead +
      entries.map(([k, v, enc]) => (enc ? `${encodeURIComponent(k)}=${encodeURIComponent(v)}` : `${k}=${v}`)).join('&'),
  );

/** A link the page wrote (a preset with some fields changed), then mutated by hand: characters cut, repeated, replaced or inserted. */
const mutatedHashArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(null, ...PRESET_IDS),
    fc.constantFrom(...DATASETS),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.nat(),
        fc.string({ unit: 'binary', maxLength: 6 }),
        fc.constantFrom('cut', 'insert', 'replace', 'repeat'),
      ),
      { maxLength: 6 },
    ),
  )
  .map(([preset, dataset, edits]) => {
    let h = encodeHash({ config: preset ? presetConfig(preset) : presetConfig(PRESET_IDS[0]), preset, dataset });
    for (const [at, len, text, kind] of edits) {
      const i = at % (h.length + 1);
      const j = Math.min(h.length, i + (len % 8));
      if (kind === 'cut') h = h.slice(0, i) + h.slice(j);
      else if (kind === 'insert') h = h.slice(0, i) + text + h.slice(i);
      else if (kind === 'replace') h = h.slice(0, i) + text + h.slice(j);
      else h = h.slice(0, j) + h.slice(i, j) + h.slice(j);
    }
    return h;
  });

/** What every decoded hash must satisfy, whatever went in. */
function checkDecoded(d: DecodedHash): void {
  expect(validateConfig(d.config)).toEqual([]);
  expect(d.preset === null || PRESET_IDS.includes(d.preset)).toBe(true);
  expect(d.dataset === null || (DATASETS as readonly string[]).includes(d.dataset)).toBe(true);
  expect(d.backend === null || (BACKEND_NAMES as readonly string[]).includes(d.backend)).toBe(true);
  for (const m of d.problems) {
    expect(typeof m).toBe('string');
    expect(m.length).toBeLessThanOrEqual(MAX_NOTICE);
  }
  // What the page then writes back reads the same, with nothing to report.
  const again = decodeHash(
    encodeHash({ config: d.config, preset: d.preset, dataset: d.dataset ?? DATASETS[0], backend: d.backend }),
  );
  expect(again.problems).toEqual([]);
  expect(again.config).toEqual(d.config);
}

describe('decodeHash fuzz', () => {
  it('any string: never throws, always a valid config, short notices', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (h) => checkDecoded(decodeHash(h))),
      params,
    );
  });

  it('key=value entries of known keys, near-valid values and junk', () => {
    fc.assert(
      fc.property(entriesHashArb, (h) => checkDecoded(decodeHash(h))),
      params,
    );
  });

  it('links the page wrote, edited by hand', () => {
    fc.assert(
      fc.property(mutatedHashArb, (h) => checkDecoded(decodeHash(h))),
      params,
    );
  });
});
