import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, defaultConfig, validateConfig, type ClimConfig } from '../core/config';
import { CONFIG_FIELDS, type ConfigField } from '../core/config-fields';
import { PRESETS, presetConfig } from '../core/presets';
import { RESERVED_HASH_KEYS, decodeHash, encodeHash } from './url-state';

/** mulberry32: a seeded draw so the random round trips are replayable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const isValid = (c: ClimConfig) => validateConfig(c).length === 0;

/** Another valid value for one field on the default config (other fields untouched). */
function otherValue(f: ConfigField): unknown {
  const d = DEFAULT_CONFIG[f.key] as unknown;
  let candidates: unknown[];
  switch (f.kind) {
    case 'int':
    case 'float': {
      const n = d as number;
      const lowest = f.minExclusive ? f.min + f.step : f.min;
      // An odd fraction first for floats: it checks String(n) round-trips exactly.
      const odd = f.kind === 'float' ? [lowest + (n - lowest) / 3] : [];
      candidates = [...odd, n + f.step, n - f.step, f.max, lowest, Math.round((f.min + f.max) / 2)];
      break;
    }
    case 'intList':
      candidates = [[16], [32, 16, 8], [24, 32], [8, 16, 24, 128]];
      break;
    case 'enum':
      candidates = f.options.filter((o) => o !== d);
      break;
    case 'bool':
      candidates = [!d];
      break;
  }
  return candidates.find((v) => {
    const c = { ...defaultConfig(), [f.key]: v } as ClimConfig;
    return JSON.stringify(v) !== JSON.stringify(d) && isValid(c);
  });
}

/** A random config that validateConfig accepts, drawing every field across its declared range. */
function randomConfig(r: () => number): ClimConfig {
  const c = defaultConfig() as unknown as Record<string, unknown>;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  for (const f of CONFIG_FIELDS) {
    switch (f.kind) {
      case 'int': {
        // Log-uniform for wide ranges, so small values (the useful ones) show up too.
        const hi = Math.min(f.max, f.min + Math.floor(Math.exp(r() * Math.log(f.max - f.min + 1))));
        c[f.key] = f.min + Math.floor(r() * (hi - f.min + 1));
        break;
      }
      case 'float': {
        const v = f.min + r() * (f.max - f.min);
        c[f.key] = f.minExclusive && v === f.min ? f.max : v;
        break;
      }
      case 'enum':
        c[f.key] = pick(f.options);
        break;
      case 'bool':
        c[f.key] = r() < 0.5;
        break;
      case 'intList':
        break; // after the encoder shape, which decides the divisibility
    }
  }
  const [lo, hi] = [c.cropScaleMin as number, c.cropScaleMax as number].sort((a, b) => a - b);
  c.cropScaleMin = lo;
  c.cropScaleMax = hi;
  // The schedule segment starts before the run's end.
  c.scheduleStart = Math.floor(r() * (c.totalSteps as number));
  const div = (c.stemStride as number) * 2 ** ((c.stages as number) - 1);
  const allowed: number[] = [];
  for (let v = 8; v <= 128; v++) if (v % div === 0) allowed.push(v);
  const n = 1 + Math.floor(r() * Math.min(4, allowed.length));
  const res = new Set<number>();
  while (res.size < n) res.add(pick(allowed));
  c.resolutions = [...res];
  const config = c as unknown as ClimConfig;
  expect(validateConfig(config)).toEqual([]);
  return config;
}

describe('encodeHash', () => {
  it('writes only preset, data set and seed for an unchanged preset', () => {
    expect(encodeHash({ config: defaultConfig(), preset: 'clim-paper', dataset: 'fashion-mnist' })).toBe(
      '#preset=clim-paper&ds=fashion-mnist&seed=1',
    );
    expect(encodeHash({ config: presetConfig('moco-v2'), preset: 'moco-v2', dataset: 'shapes' })).toBe(
      '#preset=moco-v2&ds=shapes&seed=1',
    );
    expect(encodeHash({ config: defaultConfig(), preset: null, dataset: 'shapes', backend: null })).toBe(
      '#ds=shapes&seed=1',
    );
    expect(encodeHash({ config: defaultConfig(), preset: null, dataset: 'shapes', backend: 'wasm' })).toBe(
      '#ds=shapes&be=wasm&seed=1',
    );
  });

  it('writes changed fields in table order: numbers with String, lists with dots, bools as 1/0', () => {
    const config = {
      ...defaultConfig(),
      seed: 3,
      lr: 0.1,
      resolutions: [32, 16],
      maskOwnKeys: false,
      weightDecay: 1e-7,
    };
    expect(encodeHash({ config, preset: 'clim-paper', dataset: 'fashion-mnist' })).toBe(
      '#preset=clim-paper&ds=fashion-mnist&seed=3&mok=0&res=32.16&lr=0.1&wd=1e-7',
    );
  });

  it('diffs against the preset, not the defaults', () => {
    // moco-v2 sets mix: none; a config with CutMix back on must say so.
    const config = { ...presetConfig('moco-v2'), mix: 'cutmix' as const };
    expect(encodeHash({ config, preset: 'moco-v2', dataset: 'shapes' })).toBe(
      '#preset=moco-v2&ds=shapes&seed=1&mix=cutmix',
    );
    // An unknown preset is dropped and the diff taken against the defaults.
    expect(encodeHash({ config: presetConfig('moco-v2'), preset: 'nope', dataset: 'shapes' })).toBe(
      '#ds=shapes&seed=1&sel=none&mix=none',
    );
  });

  it('escapes hash-special characters so values cannot add keys', () => {
    const hash = encodeHash({ config: defaultConfig(), preset: null, dataset: 'a&b=c#d e+f%', backend: '#?&x=1' });
    expect(hash.indexOf('#', 1)).toBe(-1);
    expect(hash).toMatch(/^#[A-Za-z0-9%._~*=&+-]*$/);
    expect([...new URLSearchParams(hash.slice(1)).keys()]).toEqual(['ds', 'be', 'seed']);
    const back = decodeHash(hash);
    expect(back.problems).toEqual([
      'ds=a&b=c#d e+f% is not a known data set (fashion-mnist, shapes); using the default data set.',
      'be=#?&x=1 is not a known backend (webgpu, webgl, wasm, cpu); picking one automatically.',
    ]);
    expect(back.config).toEqual(defaultConfig());
  });
});

describe('decodeHash', () => {
  it("gives the defaults and no problems for '' and '#'", () => {
    for (const h of ['', '#']) {
      expect(decodeHash(h)).toEqual({
        config: defaultConfig(),
        preset: null,
        dataset: null,
        backend: null,
        problems: [],
      });
    }
  });

  it('reads preset, data set and backend', () => {
    const d = decodeHash('#preset=knn-only&ds=shapes&be=webgpu&seed=9');
    expect(d).toEqual({
      config: { ...presetConfig('knn-only'), seed: 9 },
      preset: 'knn-only',
      dataset: 'shapes',
      backend: 'webgpu',
      problems: [],
    });
    // The leading '#' is optional.
    expect(decodeHash('preset=knn-only&ds=shapes&be=webgpu&seed=9')).toEqual(d);
  });

  it('round-trips a change of every single field', () => {
    for (const f of CONFIG_FIELDS) {
      const v = otherValue(f);
      expect(v, `no other valid value found for ${f.key}`).toBeDefined();
      const config = { ...defaultConfig(), [f.key]: v } as ClimConfig;
      const hash = encodeHash({ config, preset: 'clim-paper', dataset: 'shapes' });
      const keys = [...new URLSearchParams(hash.slice(1)).keys()];
      expect(keys, f.key).toEqual(f.key === 'seed' ? ['preset', 'ds', 'seed'] : ['preset', 'ds', 'seed', f.hash]);
      const back = decodeHash(hash);
      expect(back.problems, hash).toEqual([]);
      expect(back.config, hash).toEqual(config);
    }
  });

  it('round-trips random valid configs under every preset and none', () => {
    const r = rng(20240607);
    const presets = [null, ...PRESETS.map((p) => p.id)];
    for (let i = 0; i < 40; i++) {
      const config = randomConfig(r);
      const preset = presets[i % presets.length];
      const backend = i % 3 === 0 ? 'wasm' : null;
      const hash = encodeHash({ config, preset, dataset: 'shapes', backend });
      const back = decodeHash(hash);
      expect(back.problems, hash).toEqual([]);
      expect(back.config, hash).toEqual(config);
      expect(back.preset).toBe(preset);
      expect(back.dataset).toBe('shapes');
      expect(back.backend).toBe(backend);
    }
  });

  it('reports an unknown preset and starts from the defaults', () => {
    const d = decodeHash('#preset=zzz&lr=0.1');
    expect(d.preset).toBeNull();
    expect(d.config).toEqual({ ...defaultConfig(), lr: 0.1 });
    expect(d.problems).toHaveLength(1);
    expect(d.problems[0]).toMatch(
      /^preset=zzz is not a known preset \(clim-paper, .*moco-v2.*\); started from the defaults\.$/,
    );
  });

  it('reports an unknown key and ignores it', () => {
    const d = decodeHash('#preset=moco-v2&zz=1');
    expect(d.config).toEqual(presetConfig('moco-v2'));
    expect(d.problems).toEqual(['zz=1 is not a known setting; ignored.']);
  });

  it('reports unparsable values and keeps the preset value', () => {
    const cases: [string, string][] = [
      ['lr=abc', 'lr=abc is not a number; kept 0.06.'],
      ['lr=', 'lr= is not a number; kept 0.06.'],
      ['lr=0x10', 'lr=0x10 is not a number; kept 0.06.'],
      ['lr=Infinity', 'lr=Infinity is not a number; kept 0.06.'],
      ['k=1.5', 'k=1.5 is not a whole number; kept 10.'],
      ['mok=yes', 'mok=yes is not 1 or 0; kept 1.'],
      ['sel=nope', 'sel=nope is not one of none, knn, cluster, center-wise; kept none.'],
      ['res=32.x', "res=32.x is not a list of whole numbers joined by '.' (like 32.24); kept 32.24."],
      ['res=', "res= is not a list of whole numbers joined by '.' (like 32.24); kept 32.24."],
      ['res=32..24', "res=32..24 is not a list of whole numbers joined by '.' (like 32.24); kept 32.24."],
    ];
    for (const [entry, problem] of cases) {
      const d = decodeHash(`#preset=moco-v2&${entry}`);
      expect(d.problems, entry).toEqual([problem]);
      expect(d.config, entry).toEqual(presetConfig('moco-v2'));
    }
  });

  it('reports values validateConfig rejects, quoting its reason, and keeps the preset value', () => {
    const cases: [string, RegExp][] = [
      ['lr=20', /^lr=20 was rejected: lr must be a number above 0 and at most 10 \(got 20\); kept 0\.06\.$/],
      ['lr=0', /^lr=0 was rejected: lr must be a number above 0/],
      ['t=-1', /^t=-1 was rejected: temperature must be/],
      ['k=0', /^k=0 was rejected: knnK must be a whole number from 1 to 1000 \(got 0\); kept 10\.$/],
      ['seed=4294967296', /^seed=4294967296 was rejected: seed must be .*; kept 1\.$/],
      ['res=32.20', /^res=32\.20 was rejected: each resolution must be divisible by 8 .*\(got 20\); kept 32\.24\.$/],
      ['res=32.32', /^res=32\.32 was rejected: resolutions must not repeat; kept 32\.24\.$/],
      [
        'res=8.16.24.32.40',
        /^res=8\.16\.24\.32\.40 was rejected: resolutions must list 1 to 4 crop sizes; kept 32\.24\.$/,
      ],
      ['res=256', /^res=256 was rejected: each resolution must be a whole number from 8 to 128/],
    ];
    for (const [entry, problem] of cases) {
      const d = decodeHash(`#${entry}`);
      expect(d.problems, entry).toHaveLength(1);
      expect(d.problems[0], entry).toMatch(problem);
      expect(d.config, entry).toEqual(defaultConfig());
    }
  });

  it('blames the hash field behind a cross-field rule and keeps valid combinations', () => {
    // stages=5 needs resolutions divisible by 32; the preset's 24 is not.
    const alone = decodeHash('#stg=5');
    expect(alone.config).toEqual(defaultConfig());
    expect(alone.problems).toHaveLength(1);
    expect(alone.problems[0]).toMatch(/^stg=5 was rejected: each resolution must be divisible by 32 .*; kept 3\.$/);
    // Together with fitting resolutions it is fine.
    const both = decodeHash('#stg=5&res=32.64');
    expect(both.problems).toEqual([]);
    expect(both.config).toEqual({ ...defaultConfig(), stages: 5, resolutions: [32, 64] });
    // Crop scales out of order: the min (the field validateConfig names) goes back.
    const crop = decodeHash('#cmin=0.9&cmax=0.5');
    expect(crop.config).toEqual({ ...defaultConfig(), cropScaleMax: 0.5 });
    expect(crop.problems).toEqual([
      'cmin=0.9 was rejected: cropScaleMin (0.9) must not exceed cropScaleMax (0.5); kept 0.3.',
    ]);
  });

  it('applies the good entries around the bad ones', () => {
    const d = decodeHash('#preset=knn-only&lr=abc&k=5&zz=1&mix=cutmix&q=-3');
    expect(d.config).toEqual({ ...presetConfig('knn-only'), knnK: 5, mix: 'cutmix' });
    expect(d.problems).toHaveLength(3);
    expect(d.problems[0]).toMatch(/^lr=abc /);
    expect(d.problems[1]).toMatch(/^zz=1 /);
    expect(d.problems[2]).toMatch(/^q=-3 was rejected: queueSize must/);
  });

  it('reports unknown data sets and backends, and a repeated key', () => {
    expect(decodeHash('#ds=upload')).toMatchObject({
      dataset: null,
      problems: [expect.stringMatching(/^ds=upload names an uploaded image set/)],
    });
    expect(decodeHash('#ds=mnist')).toMatchObject({
      dataset: null,
      problems: [expect.stringMatching(/^ds=mnist is not a known data set/)],
    });
    expect(decodeHash('#be=metal')).toMatchObject({
      backend: null,
      problems: [expect.stringMatching(/^be=metal is not a known backend/)],
    });
    const twice = decodeHash('#lr=0.1&lr=0.2');
    expect(twice.config.lr).toBe(0.1);
    expect(twice.problems).toEqual(['lr appears more than once; used the first (0.1).']);
  });

  it('never throws and always returns a valid config', () => {
    const junk = [
      '#&&&',
      '#=',
      '#=1',
      '#lr',
      '#%',
      '#%E0%A4%A',
      '#res=.',
      '#res=99999999999999999999',
      '#stg=5&stem=1&res=8',
      '#t=1e400',
      '#seed=-0',
    ];
    for (const h of junk) {
      const d = decodeHash(h);
      expect(validateConfig(d.config), h).toEqual([]);
    }
  });

  it('cuts a 100,000-character key or value to a short mention with its length in every notice', () => {
    const long = 'x'.repeat(100_000);
    const cut = `${'x'.repeat(60)}… (100000 characters)`;
    const cases: Array<[string, string]> = [
      [`#preset=${long}`, `preset=${cut} is not a known preset`],
      [`#ds=${long}`, `ds=${cut} is not a known data set`],
      [`#be=${long}`, `be=${cut} is not a known backend`],
      [`#${long}=1`, `${cut}=1 is not a known setting; ignored.`],
      [`#zz=${long}`, `zz=${cut} is not a known setting; ignored.`],
      [`#lr=${long}`, `lr=${cut} is not a number; kept ${DEFAULT_CONFIG.lr}.`],
      [`#sel=${long}`, `sel=${cut} is not one of`],
      [`#lr=${long}&lr=1`, `lr appears more than once; used the first (${cut}).`],
      [`#${long}=1&${long}=2`, `${cut} appears more than once; used the first (1).`],
      // Digits that parse (to 1e+99999 → Infinity) and then fail validation: the notice quotes the text cut.
      [`#res=${'9'.repeat(100_000)}`, `res=${'9'.repeat(60)}… (100000 characters) was rejected`],
    ];
    for (const [hash, start] of cases) {
      const d = decodeHash(hash);
      expect(
        d.problems.some((m) => m.startsWith(start)),
        `${hash.slice(0, 20)}: ${d.problems.map((m) => m.slice(0, 120)).join(' | ')}`,
      ).toBe(true);
      for (const m of d.problems) expect(m.length).toBeLessThan(400);
      expect(validateConfig(d.config)).toEqual([]);
    }
  });

  it('shows control and bidi characters of a link as visible escapes in its notices', () => {
    const d = decodeHash(`#preset=${encodeURIComponent('a\nb\u202ec')}`);
    expect(d.problems[0]).toMatch(/^preset=a\\nb\\u202ec is not a known preset/);
    expect(d.problems.join('')).not.toMatch(/[\n\u202e]/);
  });

  it('reads -0 as 0, so the link it writes back reads the same (found by the fuzz test)', () => {
    for (const h of ['#flip=-1e-400', '#flip=-0', '#seed=-0']) {
      const d = decodeHash(h);
      const again = decodeHash(encodeHash({ config: d.config, preset: null, dataset: 'shapes' }));
      expect(again.config, h).toEqual(d.config);
    }
    expect(Object.is(decodeHash('#flip=-0').config.flipProb, 0)).toBe(true);
  });

  it('keeps field hash keys apart from the reserved ones', () => {
    const reserved = Object.values(RESERVED_HASH_KEYS) as string[];
    for (const f of CONFIG_FIELDS) expect(reserved, f.key).not.toContain(f.hash);
  });
});
