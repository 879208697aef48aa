import { describe, expect, it } from 'vitest';
import { defaultConfig, describeValue, mergeConfigFields, truncateText, validateConfig } from './config';

describe('mergeConfigFields', () => {
  it('takes own known fields over the base and copies arrays', () => {
    const base = defaultConfig();
    const res = [16];
    const m = mergeConfigFields(base, { lr: 0.1, resolutions: res });
    expect(m.problems).toEqual([]);
    expect(m.config).toEqual({ ...base, lr: 0.1, resolutions: [16] });
    expect(m.config.resolutions).not.toBe(res);
    expect(m.config.resolutions).not.toBe(base.resolutions);
    expect(base.lr).toBe(defaultConfig().lr);
  });

  it('refuses a JSON "__proto__" key by name and keeps the prototype', () => {
    const raw: unknown = JSON.parse('{"__proto__": {"lr": 9, "polluted": true}, "seed": 4}');
    const m = mergeConfigFields(defaultConfig(), raw);
    expect(m.problems).toEqual(['"__proto__" is not a config field (it names JavaScript\'s object machinery)']);
    expect(Object.getPrototypeOf(m.config)).toBe(Object.prototype);
    expect((m.config as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(m.config.seed).toBe(4);
  });

  it('refuses inherited names such as constructor, toString and hasOwnProperty', () => {
    const m = mergeConfigFields(defaultConfig(), JSON.parse('{"constructor": 1, "toString": 2, "hasOwnProperty": 3}'));
    expect(m.problems).toEqual([
      '"constructor" is not a config field (it names JavaScript\'s object machinery)',
      'unknown field "toString"',
      'unknown field "hasOwnProperty"',
    ]);
    expect(Object.hasOwn(m.config, 'toString')).toBe(false);
    expect(Object.keys(m.config).sort()).toEqual(Object.keys(defaultConfig()).sort());
  });

  it('refuses non-objects with what it got', () => {
    expect(mergeConfigFields(defaultConfig(), [1]).problems).toEqual(['expected an object of config fields (got [1])']);
    expect(mergeConfigFields(defaultConfig(), null).problems).toEqual([
      'expected an object of config fields (got null)',
    ]);
    expect(mergeConfigFields(defaultConfig(), 'x').problems).toEqual(['expected an object of config fields (got "x")']);
  });

  it('cuts a very long unknown key in its message', () => {
    const key = 'k'.repeat(100_000);
    const [msg] = mergeConfigFields(defaultConfig(), { [key]: 1 }).problems;
    expect(msg).toBe(`unknown field "${'k'.repeat(60)}… (100000 characters)"`);
  });
});

describe('validateConfig messages', () => {
  it('quote a string so "32" and 32 read differently', () => {
    const issues = validateConfig({ ...defaultConfig(), batchSize: '32' as unknown as number });
    expect(issues).toEqual([
      { field: 'batchSize', message: 'batchSize must be a whole number from 1 to 1024 (got "32").' },
    ]);
    const n = validateConfig({ ...defaultConfig(), batchSize: 2000 });
    expect(n[0].message).toBe('batchSize must be a whole number from 1 to 1024 (got 2000).');
  });
});

describe('describeValue / truncateText', () => {
  it('show each kind of value', () => {
    expect([
      describeValue('a'),
      describeValue(3),
      describeValue(null),
      describeValue(undefined),
      describeValue({}),
      describeValue([1, 'b']),
    ]).toEqual(['"a"', '3', 'null', 'undefined', 'an object', '[1, "b"]']);
    expect(describeValue(new Array(9).fill(0))).toBe('an array of 9 items');
    expect(truncateText('abcdef', 6)).toBe('abcdef');
    expect(truncateText('abcdefg', 3)).toBe('abc… (7 characters)');
  });
});
