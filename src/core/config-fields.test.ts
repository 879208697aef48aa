import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, defaultConfig, validateConfig, type ClimConfig } from './config';
import {
  CONFIG_FIELDS,
  CONFIG_GROUPS,
  configField,
  fieldIssues,
  isLiveKey,
  splitChanges,
  type ConfigField,
} from './config-fields';

const KEYS = Object.keys(DEFAULT_CONFIG) as (keyof ClimConfig)[];

/** The messages validateConfig gives for `field` when `value` is set on the default config. */
function issuesFor(field: keyof ClimConfig, value: unknown, base: ClimConfig = defaultConfig()): string[] {
  const c = { ...base, [field]: value } as ClimConfig;
  return validateConfig(c)
    .filter((i) => i.field === field)
    .map((i) => i.message);
}

describe('CONFIG_FIELDS', () => {
  it('lists every ClimConfig field exactly once', () => {
    const keys = CONFIG_FIELDS.map((f) => f.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual([...KEYS].sort());
  });

  it('is in display order: groups appear in CONFIG_GROUPS order, each in one run of rows', () => {
    const order = CONFIG_FIELDS.map((f) => CONFIG_GROUPS.indexOf(f.group));
    expect(order.every((g) => g >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(new Set(CONFIG_FIELDS.map((f) => f.group))).toEqual(new Set(CONFIG_GROUPS));
    expect(configField('seed').group).toBe('Run');
    expect(configField('resolutions').group).toBe('Multi-resolution');
  });

  it('has unique, short, URL-safe hash keys', () => {
    const hashes = CONFIG_FIELDS.map((f) => f.hash);
    expect(new Set(hashes).size).toBe(hashes.length);
    for (const h of hashes) expect(h, h).toMatch(/^[a-z0-9]{1,4}$/);
  });

  it('marks exactly the fields the engine reads per step as live-safe', () => {
    const live = CONFIG_FIELDS.filter((f) => f.liveSafe)
      .map((f) => f.key)
      .sort();
    expect(live).toEqual(
      [
        'lr',
        'momentum',
        'weightDecay',
        'temperature',
        'keyMomentum',
        'mixProb',
        'mixAlpha',
        'centerThreshold',
        'knnK',
        'evalK',
        'evalTemperature',
        'climWarmupSteps',
        'totalSteps',
        'scheduleStart',
        'warmupSteps',
        'bankView',
        'bankRefreshEvery',
      ].sort(),
    );
  });

  it('gives every field a label and a one-sentence help text', () => {
    for (const f of CONFIG_FIELDS) {
      expect(f.label.trim(), f.key).not.toBe('');
      const h = f.help.trim();
      expect(h, f.key).toMatch(/^[A-Z].*\.$/);
      // A second sentence would start after a full stop: ". X".
      expect(h, f.key).not.toMatch(/[.!?]\s+[A-Z]/);
      expect(h.slice(0, -1), f.key).not.toMatch(/\.$/);
    }
  });

  it('puts every default inside its declared range', () => {
    for (const f of CONFIG_FIELDS) {
      const v = DEFAULT_CONFIG[f.key] as unknown;
      switch (f.kind) {
        case 'int':
        case 'float': {
          const n = v as number;
          expect(typeof n, f.key).toBe('number');
          if (f.kind === 'int') expect(Number.isInteger(n), f.key).toBe(true);
          expect(f.minExclusive ? n > f.min : n >= f.min, f.key).toBe(true);
          expect(n <= f.max, f.key).toBe(true);
          expect(f.step > 0 && f.step <= f.max - f.min, f.key).toBe(true);
          break;
        }
        case 'intList': {
          const list = v as number[];
          expect(list.length >= f.minLength && list.length <= f.maxLength, f.key).toBe(true);
          for (const r of list) expect(Number.isInteger(r) && r >= f.min && r <= f.max, `${f.key} ${r}`).toBe(true);
          break;
        }
        case 'enum':
          expect((f.options as readonly string[]).includes(v as string), f.key).toBe(true);
          break;
        case 'bool':
          expect(typeof v, f.key).toBe('boolean');
          break;
      }
    }
  });
});

describe('declared ranges agree with validateConfig', () => {
  const numeric = CONFIG_FIELDS.filter(
    (f): f is Extract<ConfigField, { kind: 'int' | 'float' }> => f.kind === 'int' || f.kind === 'float',
  );

  it.each(numeric.map((f) => [f.key, f] as const))('%s: bounds accepted, one step beyond rejected', (_key, f) => {
    // An exclusive lower bound: the bound itself is the first rejected value.
    const lowest = f.minExclusive ? f.min + f.step : f.min;
    expect(issuesFor(f.key, lowest), `${f.key}=${lowest}`).toEqual([]);
    // scheduleStart must also stay below totalSteps: its top is checked against the longest schedule.
    const top = f.key === 'scheduleStart' ? { ...defaultConfig(), totalSteps: 10_000_000 } : defaultConfig();
    expect(issuesFor(f.key, f.max, top), `${f.key}=${f.max}`).toEqual([]);
    const below = f.minExclusive ? f.min : f.min - f.step;
    expect(issuesFor(f.key, below).join(' '), `${f.key}=${below}`).toMatch(new RegExp(`^${f.key} must`));
    expect(issuesFor(f.key, f.max + f.step).join(' '), `${f.key}=${f.max + f.step}`).toMatch(
      new RegExp(`^${f.key} must`),
    );
    // Just inside an exclusive bound is accepted: the bound really is open, not off by a step.
    if (f.minExclusive) expect(issuesFor(f.key, f.min + Number.EPSILON)).toEqual([]);
    expect(issuesFor(f.key, Number.NaN).length, `${f.key}=NaN`).toBeGreaterThan(0);
    if (f.kind === 'int') expect(issuesFor(f.key, f.min + 0.5).length, `${f.key} fractional`).toBeGreaterThan(0);
  });

  it('crop scales: the cross-field rule is reported on cropScaleMin', () => {
    // Each bound alone is in range; only the order of the pair fails.
    const c = { ...defaultConfig(), cropScaleMin: 0.9, cropScaleMax: 0.5 };
    expect(fieldIssues(c).get('cropScaleMin')?.join(' ')).toMatch(/must not exceed cropScaleMax/);
    expect(fieldIssues(c).has('cropScaleMax')).toBe(false);
  });

  it('schedule segment: scheduleStart must be below totalSteps, reported on scheduleStart', () => {
    const c = { ...defaultConfig(), scheduleStart: 30, totalSteps: 30 };
    expect(fieldIssues(c).get('scheduleStart')?.join(' ')).toBe(
      'scheduleStart (30) must be less than totalSteps (30): the learning-rate segment it starts needs at least one step.',
    );
    expect(fieldIssues({ ...c, totalSteps: 31 }).size).toBe(0);
  });

  it('resolutions: per-entry bounds, list length and divisibility', () => {
    const f = configField('resolutions');
    if (f.kind !== 'intList') throw new Error('resolutions is not an intList row');
    // The smallest valid entry needs a stride product that divides it: stride 1, 2 stages → step 2.
    const fine = { ...defaultConfig(), stemStride: 1, stages: 2 };
    expect(issuesFor('resolutions', [f.min], fine)).toEqual([]);
    expect(issuesFor('resolutions', [f.max], fine)).toEqual([]);
    expect(issuesFor('resolutions', [f.min - f.step], fine)).not.toEqual([]);
    expect(issuesFor('resolutions', [f.max + f.step], fine)).not.toEqual([]);
    expect(issuesFor('resolutions', [9], fine).join(' ')).toMatch(/divisible by 2/);
    // Defaults (stride 2, 3 stages): every entry a multiple of 8.
    expect(issuesFor('resolutions', [8, 16, 24, 128])).toEqual([]);
    expect(issuesFor('resolutions', [20]).join(' ')).toMatch(/divisible by 8/);
    expect(issuesFor('resolutions', Array(f.minLength - 1).fill(32))).not.toEqual([]);
    expect(issuesFor('resolutions', [8, 16, 24, 32].slice(0, f.maxLength))).toEqual([]);
    expect(issuesFor('resolutions', [8, 16, 24, 32, 40].slice(0, f.maxLength + 1))).not.toEqual([]);
    expect(issuesFor('resolutions', [32, 32])).not.toEqual([]);
    expect(issuesFor('resolutions', [32.5])).not.toEqual([]);
  });

  it('enums accept every option and reject anything else', () => {
    for (const f of CONFIG_FIELDS) {
      if (f.kind !== 'enum') continue;
      for (const o of f.options) expect(issuesFor(f.key, o), `${f.key}=${o}`).toEqual([]);
      expect(issuesFor(f.key, 'nope').join(' '), f.key).toMatch(new RegExp(`^${f.key} must be one of`));
    }
  });

  it('bools accept true and false only', () => {
    const bools = CONFIG_FIELDS.filter((f) => f.kind === 'bool');
    expect(bools.length).toBeGreaterThan(0);
    for (const f of bools) {
      expect(issuesFor(f.key, true)).toEqual([]);
      expect(issuesFor(f.key, false)).toEqual([]);
      for (const bad of [1, 0, 'true', null]) expect(issuesFor(f.key, bad).length, `${f.key}=${String(bad)}`).toBe(1);
    }
  });
});

describe('fieldIssues', () => {
  it('is empty for a valid config and groups several issues by field', () => {
    expect(fieldIssues(defaultConfig()).size).toBe(0);
    const bad = { ...defaultConfig(), lr: -1, knnK: 0, resolutions: [20, 20] };
    const m = fieldIssues(bad);
    expect([...m.keys()].sort()).toEqual(['knnK', 'lr', 'resolutions']);
    expect(m.get('lr')).toHaveLength(1);
    // Two entries not divisible by 8, plus the repeat.
    expect(m.get('resolutions')).toHaveLength(3);
  });
});

describe('splitChanges and isLiveKey', () => {
  it('separates live-safe changes (a patch) from changes that need a new run (in table order)', () => {
    const a = defaultConfig();
    const b = { ...a, lr: 0.1, knnK: 3, batchSize: 16, seed: 9, resolutions: [32] };
    expect(splitChanges(a, b)).toEqual({ live: { lr: 0.1, knnK: 3 }, restart: ['batchSize', 'resolutions', 'seed'] });
    // Lists compare by content, not identity; NaN equals NaN (an emptied input is not a change each render).
    expect(splitChanges(a, { ...a, resolutions: [...a.resolutions] })).toEqual({ live: {}, restart: [] });
    const empty = { ...a, lr: Number.NaN };
    expect(splitChanges(empty, { ...empty })).toEqual({ live: {}, restart: [] });
  });

  it('isLiveKey agrees with the liveSafe column', () => {
    for (const f of CONFIG_FIELDS) expect(isLiveKey(f.key), f.key).toBe(f.liveSafe);
    expect(isLiveKey('nope')).toBe(false);
  });
});
