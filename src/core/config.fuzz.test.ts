/**
 * Property-based fuzz of config fields from data (`mergeConfigFields` +
 * `validateConfig`): a `--config` file, a run file's description, anything
 * JSON.parse returns, prototype keys included.
 *
 * Fixed seed and 200 runs per property by default, so it takes seconds in
 * the suite. Run longer or elsewhere with, e.g.:
 *
 *   FUZZ_RUNS=100000 FUZZ_SEED=$RANDOM npx vitest run src/core/config.fuzz.test.ts
 *
 * A failure prints the seed and the path of the shrunk counterexample; add
 * the input to config.test.ts as a fixed case once it is fixed.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_CONFIG,
  PROTOTYPE_KEYS,
  defaultConfig,
  mergeConfigFields,
  validateConfig,
  type ClimConfig,
} from './config';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = Number(process.env.FUZZ_SEED ?? 1);
const params = { numRuns: RUNS, seed: SEED };

/** Longest message: values are described in at most 60 characters (describeValue), field names are short. */
const MAX_MESSAGE = 400;

const FIELDS = Object.keys(DEFAULT_CONFIG) as (keyof ClimConfig)[];
const HOSTILE_KEYS = [
  ...PROTOTYPE_KEYS,
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  'toJSON',
  '',
];

/** JSON text put into the file as it is: JSON.stringify would itself overflow on 10,000 nested arrays. */
class RawJson {
  constructor(readonly text: string) {}
}
const nested = (depth: number) => new RawJson('['.repeat(depth) + ']'.repeat(depth));

/**
 * Values that reach JavaScript's conversions: objects whose own toString or
 * valueOf is not a function make `${v}`, `v > w` and `v * 2` throw; deep
 * arrays make a recursive description overflow the stack or grow long.
 */
const trickyValueArb: fc.Arbitrary<unknown> = fc.constantFrom(
  { toString: 1 },
  { valueOf: {}, toString: {} },
  { __proto__: null },
  [{ toString: 1 }],
  [[8, 16]],
  { length: 2 },
  '32',
  '',
  '\u202e',
  'x'.repeat(10_000),
  -0,
  1e308,
  -1e-308,
  Number.MAX_SAFE_INTEGER + 2,
  nested(100),
  nested(10_000),
  new RawJson(`[${nested(50).text}, "${'y'.repeat(500)}"]`),
);

/** Any JSON value, the tricky ones above, and near-valid values of the fields (so some configs validate). */
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  trickyValueArb,
  fc.constantFrom(...FIELDS.map((f) => DEFAULT_CONFIG[f] as unknown)),
  fc.integer({ min: -2, max: 300 }),
  fc.array(fc.integer({ min: 0, max: 140 }), { maxLength: 6 }),
);

const keyArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...FIELDS),
  fc.constantFrom(...HOSTILE_KEYS),
  fc.string({ maxLength: 80 }),
);

/**
 * The object as JSON.parse makes it from a file: JSON text written by hand,
 * because an object literal or JSON.stringify would turn "__proto__" into a
 * prototype instead of an own key.
 */
function parsedObject(entries: ReadonlyArray<readonly [string, unknown]>): unknown {
  return JSON.parse(
    `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v instanceof RawJson ? v.text : (JSON.stringify(v) ?? 'null')}`).join(',')}}`,
  );
}

const objectArb = fc.array(fc.tuple(keyArb, valueArb), { maxLength: 10 }).map(parsedObject);

/** The default config with a few fields set to random values: near-valid configs, mutated. */
const mutatedArb = fc
  .array(fc.tuple(fc.constantFrom(...FIELDS), valueArb), { minLength: 1, maxLength: 4 })
  .map(parsedObject);

/** Anything JSON.parse can return at the top level. */
const topLevelArb: fc.Arbitrary<unknown> = fc
  .oneof(fc.jsonValue({ maxDepth: 2 }), trickyValueArb)
  .map((v) => (v instanceof RawJson ? JSON.parse(v.text) : v));

/** What must hold for any input: no throw, no pollution, bounded messages, nothing but config fields in the result. */
function check(raw: unknown): void {
  const { config, problems } = mergeConfigFields(defaultConfig(), raw);
  const issues = validateConfig(config);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
  expect(Object.keys(config).sort()).toEqual([...FIELDS].sort());
  for (const m of [...problems, ...issues.map((i) => i.message)]) {
    expect(typeof m).toBe('string');
    expect(m.length).toBeLessThanOrEqual(MAX_MESSAGE);
  }
  for (const i of issues) expect(FIELDS).toContain(i.field);
  // Each key that is not a field, prototype keys among them, is refused by its own problem.
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const refused = Object.keys(raw).filter((k) => PROTOTYPE_KEYS.includes(k) || !Object.hasOwn(DEFAULT_CONFIG, k));
    expect(problems).toHaveLength(refused.length);
  } else {
    expect(problems).toHaveLength(1);
  }
  // Either it validates, or the reasons are listed.
  if (problems.length === 0 && issues.length === 0) expect(validateConfig({ ...config })).toEqual([]);
}

describe('config from data, fuzzed', () => {
  it('random objects of fields, prototype keys and junk: never throw, messages bounded, only fields kept', () => {
    fc.assert(fc.property(objectArb, check), params);
  });

  it('the defaults with random fields changed', () => {
    fc.assert(fc.property(mutatedArb, check), params);
  });

  it('top-level values that are not objects: one problem, the base kept', () => {
    fc.assert(
      fc.property(topLevelArb, (raw) => {
        check(raw);
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
          expect(mergeConfigFields(defaultConfig(), raw).config).toEqual(DEFAULT_CONFIG);
      }),
      params,
    );
  });
});
