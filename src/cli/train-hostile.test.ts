/** The runner given hostile input (issue 16): untrusted --config files, number flags, output paths, control characters. */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import '@tensorflow/tfjs-backend-wasm';
import { RunOutputError, run, type RunReport } from './train';
import { parseCli } from './args';
import { OutputPathError } from './output-paths';
import { DEFAULT_CONFIG, defaultConfig } from '../core/config';

import { RAW_CONTROL, TINY, cli, failure } from './cli.test-util';

describe('train CLI --config from an untrusted file (issue 16, item 5)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clim-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  for (const [key, msg] of [
    [
      '__proto__',
      /^--config .*__proto__\.json: "__proto__" is not a config field \(it names JavaScript's object machinery\)$/,
    ],
    [
      'constructor',
      /^--config .*constructor\.json: "constructor" is not a config field \(it names JavaScript's object machinery\)$/,
    ],
    ['toString', /^--config .*toString\.json: unknown field "toString"$/],
    ['hasOwnProperty', /^--config .*hasOwnProperty\.json: unknown field "hasOwnProperty"$/],
  ] as const) {
    it(`refuses a "${key}" key by name before any work, writes no report and pollutes nothing`, async () => {
      // Written by hand: JSON.stringify of an object literal would drop or rename these keys.
      const path = file(`${key}.json`, `{"width": 4, "${key}": {"polluted": true, "width": 64, "totalSteps": 3}}`);
      const out = join(dir, `${key}-report.json`);
      const lines: string[] = [];
      const e = await failure(run(['--config', path, '--steps', '1', '--out', out], (l) => lines.push(l)));
      expect((e as Error).message).toMatch(msg);
      expect(lines).toEqual([]);
      expect(existsSync(out)).toBe(false);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getPrototypeOf(defaultConfig())).toBe(Object.prototype);
      expect(defaultConfig()).toEqual(DEFAULT_CONFIG);
    });
  }

  it('names every refused key of one file, exits 2 with one line and writes no report', () => {
    const path = file(
      'all.json',
      '{"__proto__": {"width": 64}, "constructor": 1, "toString": "x", "hasOwnProperty": null, "width": 4}',
    );
    const out = join(dir, 'all-report.json');
    const r = cli(['--config', path, '--steps', '1', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `error: --config ${path}: "__proto__" is not a config field (it names JavaScript's object machinery); "constructor" is not a config field (it names JavaScript's object machinery); unknown field "toString"; unknown field "hasOwnProperty" (see --help)`,
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('--steps sets totalSteps when the config file does not, and the file wins when it does', async () => {
    const plain = file('plain.json', JSON.stringify(TINY));
    const sets = file('sets.json', JSON.stringify({ ...TINY, totalSteps: 50 }));
    expect(parseCli(['--config', plain, '--steps', '7'])).toMatchObject({
      steps: 7,
      config: { totalSteps: 7, width: 4 },
    });
    expect(parseCli(['--config', plain, '--steps', '0'])).toMatchObject({ steps: 0, config: { totalSteps: 1 } });
    expect(parseCli(['--config', plain])).toMatchObject({
      steps: 200,
      config: { totalSteps: DEFAULT_CONFIG.totalSteps },
    });
    expect(parseCli(['--config', sets, '--steps', '7'])).toMatchObject({ steps: 7, config: { totalSteps: 50 } });
    expect(parseCli(['--config', sets])).toMatchObject({ steps: 200, config: { totalSteps: 50 } });
    // The report's config is the schedule the run used: 1 step of a 50-step schedule.
    const r = (await run(['--config', sets, '--steps', '1', '--backend', 'wasm', '--quiet'], () => {})) as RunReport;
    expect(r.history).toHaveLength(1);
    expect(r.config.totalSteps).toBe(50);
    expect(r.history[0].lr).toBeGreaterThan(0);
  });
});

describe('train CLI number flags (issue 16, item 7)', () => {
  const BAD = ['', ' ', '0x2', '1e2', '-1', '1.5', 'Infinity', '9007199254740993'];
  const quoted = (v: string) => JSON.stringify(v);

  for (const [flag, min] of [
    ['steps', 0],
    ['seed', 0],
    ['eval-every', 1],
  ] as const) {
    it(`--${flag} takes digits only: ${BAD.map(quoted).join(', ')} are refused with the value quoted`, () => {
      for (const v of BAD) {
        const range = v === '9007199254740993' ? ` and at most ${Number.MAX_SAFE_INTEGER}` : '';
        const want = `--${flag} must be a whole number ≥ ${min}${range} (got ${quoted(v)})`;
        // Both spellings: a separate argument (where parseArgs took "-1" for an option) and --flag=value.
        expect(() => parseCli([`--${flag}`, v]), v).toThrow(want);
        expect(() => parseCli([`--${flag}=${v}`]), v).toThrow(want);
      }
      for (const v of ['7', '007', '12']) expect(() => parseCli([`--${flag}`, v])).not.toThrow();
    });
  }

  for (const [flag, range, extra] of [
    ['minutes', 'above 0, like 2.5', []],
    ['eval-minutes', 'above 0, like 2.5', []],
    ['holdout', 'from 0 to 0.9', ['--dataset', 'some/photos']],
  ] as const) {
    it(`--${flag} takes plain decimals only: no empty, hex, exponent, sign or Infinity`, () => {
      // 1.5 is a fine number of minutes; 9007199254740993 minutes too (plain decimal digits), if absurd.
      const bad = flag === 'holdout' ? BAD : BAD.filter((v) => v !== '1.5' && v !== '9007199254740993');
      for (const v of [...bad, '+1', '-0', '.', '1.2.3']) {
        expect(() => parseCli([`--${flag}`, v, ...extra]), v).toThrow(
          `--${flag} must be a decimal number ${range} (got ${quoted(v)})`,
        );
      }
      for (const v of ['0.5', '.5', '0.25']) expect(() => parseCli([`--${flag}`, v, ...extra])).not.toThrow();
    });
  }

  it('--steps -1 gives the whole message on the command line; a missing value is named', () => {
    const r = cli(['--steps', '-1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: --steps must be a whole number ≥ 0 (got "-1") (see --help)\n');
    expect(() => parseCli(['--steps'])).toThrow(/^--steps needs a value$/);
    expect(() => parseCli(['--steps', '--quiet'])).toThrow(
      '--steps needs a value (got the option "--quiet"; write --steps=VALUE for a value that starts with -)',
    );
    // A value with a dash still reaches string flags: a folder named -photos.
    expect(parseCli(['--dataset', '-photos/']).dataset).toEqual({ path: '-photos/' });
  });
});

describe('train CLI output paths (issue 16, item 4)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clim-outputs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'c.json');
  writeFileSync(cfg, JSON.stringify(TINY));
  const taken = join(dir, 'taken.txt');
  writeFileSync(taken, 'a file');
  const folder = join(dir, 'folder');
  mkdirSync(folder);
  // An export folder from before with a file where the export writes a folder, and one with a folder where it writes a file.
  const blockedModel = join(dir, 'old-export');
  mkdirSync(blockedModel);
  writeFileSync(join(blockedModel, 'model'), 'not a folder');
  const blockedCsv = join(dir, 'old-export-2');
  mkdirSync(join(blockedCsv, 'metrics.csv'), { recursive: true });
  const missing = join(dir, 'no-such-folder');

  const cases: Array<[string, string[], string]> = [
    [
      '--export onto an existing file',
      ['--export', taken],
      `--export ${taken}: it is a file; give a folder (it is created if missing)`,
    ],
    [
      '--export under a file',
      ['--export', join(taken, 'exp')],
      `--export ${join(taken, 'exp')}: ${taken} is a file, not a folder`,
    ],
    [
      '--export over a folder with a file named model',
      ['--export', blockedModel],
      `--export ${blockedModel}: model in it is a file, where the export writes a folder`,
    ],
    [
      '--export over a folder with a folder named metrics.csv',
      ['--export', blockedCsv],
      `--export ${blockedCsv}: metrics.csv in it is a folder, where the export writes a file`,
    ],
    ['--export ""', ['--export', ''], '--export needs a folder name (got "")'],
    [
      '--out under a file',
      ['--out', join(taken, 'r.json')],
      `--out ${join(taken, 'r.json')}: ${taken} is a file, not a folder`,
    ],
    ['--out onto a folder', ['--out', folder], `--out ${folder}: it is a folder; give a file name`],
    [
      '--out in a missing folder',
      ['--out', join(missing, 'r.json')],
      `--out ${join(missing, 'r.json')}: the folder ${missing} does not exist`,
    ],
    ['--out ""', ['--out', ''], '--out needs a file name (got "")'],
    [
      '--save-weights onto a folder',
      ['--save-weights', folder],
      `--save-weights ${folder}: it is a folder; give a file name`,
    ],
    [
      '--save-weights under a file',
      ['--save-weights', join(taken, 'w.climweights')],
      `--save-weights ${join(taken, 'w.climweights')}: ${taken} is a file, not a folder`,
    ],
    [
      '--ablation --csv in a missing folder',
      ['--ablation', '--csv', join(missing, 't.csv')],
      `--csv ${join(missing, 't.csv')}: the folder ${missing} does not exist`,
    ],
    [
      '--ablation --md onto a folder',
      ['--ablation', '--md', folder],
      `--md ${folder}: it is a folder; give a file name`,
    ],
    [
      '--ablation --out under a file',
      ['--ablation', '--out', join(taken, 'r.json')],
      `--out ${join(taken, 'r.json')}: ${taken} is a file, not a folder`,
    ],
  ];
  for (const [name, args, message] of cases) {
    it(`${name}: fails before the data is read or a step taken, with one specific line`, async () => {
      const lines: string[] = [];
      const warned: string[] = [];
      const t0 = Date.now();
      // 500 steps: had the check come after training, this would train for many seconds and print step lines.
      const e = await failure(
        run(
          [...args, '--steps', '500', '--backend', 'wasm', '--config', cfg],
          (l) => lines.push(l),
          (w) => warned.push(w),
        ),
      );
      expect(e).toBeInstanceOf(OutputPathError);
      expect((e as Error).message).toBe(message);
      expect([...lines, ...warned]).toEqual([]);
      // Well under the 500 steps' training time (tens of seconds), with margin for a busy machine.
      expect(Date.now() - t0).toBeLessThan(2000);
    });
  }

  it('from the command line: exit 2, one line, nothing on stdout, the file left alone', () => {
    const r = cli(['--export', taken, '--steps', '500', '--config', cfg]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: --export ${taken}: it is a file; give a folder (it is created if missing)\n`);
    expect(readFileSync(taken, 'utf8')).toBe('a file');
  });

  it('a folder the user cannot write (as an unprivileged user): exit 2 and one line for --out and for --export', () => {
    const ro = join(dir, 'read-only');
    mkdirSync(ro);
    chmodSync(dir, 0o755);
    chmodSync(ro, 0o555);
    // Root writes anywhere, so as root the runner runs as "nobody".
    const as = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const out = cli(['--out', join(ro, 'r.json'), '--steps', '500', '--config', cfg], as);
    expect([out.status, out.stdout, out.stderr]).toEqual([
      2,
      '',
      `error: --out ${join(ro, 'r.json')}: the folder ${ro} is not writable\n`,
    ]);
    const exp = cli(['--export', join(ro, 'exp'), '--steps', '500', '--config', cfg], as);
    expect([exp.status, exp.stdout, exp.stderr]).toEqual([
      2,
      '',
      `error: --export ${join(ro, 'exp')}: the folder ${ro} is not writable, so ${join(ro, 'exp')} cannot be created in it\n`,
    ]);
  });

  it('an export that fails at the end (its folder became a file during the run) is one line; --out is still written', async () => {
    const exp = join(dir, 'exp-late');
    const out = join(dir, 'late.json');
    const lines: string[] = [];
    const e = await failure(
      run(['--export', exp, '--out', out, '--steps', '1', '--backend', 'wasm', '--config', cfg], (l) => {
        lines.push(l);
        // After the checks passed: something else takes the path while the run trains.
        if (l.startsWith('step 1/1 ')) writeFileSync(exp, 'in the way');
      }),
    );
    expect(e).toBeInstanceOf(RunOutputError);
    const { failures, report } = e as RunOutputError;
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(
      new RegExp(`^--export ${exp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: E(NOTDIR|EXIST): [^\\n]+$`),
    );
    // The report: written, with the training in it and the failure named, without the export's file list.
    const written = JSON.parse(readFileSync(out, 'utf8')) as RunReport;
    expect(written).toEqual(JSON.parse(JSON.stringify(report)));
    expect(written.history).toHaveLength(1);
    expect(written.writeErrors).toEqual(failures);
    expect(written.exported).toBeUndefined();
    expect(lines[lines.length - 1]).toMatch(
      new RegExp(`^done: 1 steps .*; report ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    );
  });

  it.skipIf(!existsSync('/dev/full'))(
    'a write that fails at the end from the command line (disk full): exit 1, one line, the report kept',
    () => {
      const out = join(dir, 'full.json');
      const r = cli(['--save-weights', '/dev/full', '--out', out, '--steps', '1', '--config', cfg, '--quiet']);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe('error: --save-weights /dev/full: ENOSPC: no space left on device, write\n');
      const report = JSON.parse(readFileSync(out, 'utf8')) as RunReport;
      expect(report.history).toHaveLength(1);
      expect(report.writeErrors).toEqual(['--save-weights /dev/full: ENOSPC: no space left on device, write']);
      // And the report itself on a full disk: still one line.
      const r2 = cli(['--out', '/dev/full', '--steps', '0', '--config', cfg, '--quiet']);
      expect([r2.status, r2.stderr]).toEqual([1, 'error: --out /dev/full: ENOSPC: no space left on device, write\n']);
      expect(r2.stdout).toMatch(/^done: 0 steps .*→ [01]\.\d{4}\n$/);
    },
  );
});

describe('train CLI with control characters in file names (issue 16, item 6)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clim-names-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function solidPng(rgb: [number, number, number]): Uint8Array {
    const png = new PNG({ width: 8, height: 8 });
    for (let i = 0; i < 64; i++) png.data.set([...rgb, 255], 4 * i);
    return new Uint8Array(PNG.sync.write(png, { colorType: 2 }));
  }

  it('escapes them in the load report, the log, metadata.tsv and the JSON report, and keeps every line and cell whole', async () => {
    // The set's own folder name holds U+2028; the labels a tab and a newline; the files CR, U+202E and U+2028.
    const root = join(dir, 'se\u2028t');
    const tree: Record<string, Uint8Array> = {};
    for (let i = 0; i < 4; i++) {
      tree[`red\tone/${i}\r.png`] = solidPng([150 + 20 * i, 10 * i, 0]);
      tree[`blue\nfake line/x${i}\u202Egnp.png`] = solidPng([0, 10 * i, 150 + 20 * i]);
    }
    tree['blue\nfake line/copy\u2028.png'] = tree['blue\nfake line/x0\u202Egnp.png'];
    tree['notes\t1.txt'] = Buffer.from('not an image');
    for (const [p, b] of Object.entries(tree)) {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), b);
    }
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ ...TINY, resolutions: [8], clusters: 2, knnK: 3, evalK: 3 }));
    const out = join(dir, 'r.json');
    const exp = join(dir, 'exp');
    const lines: string[] = [];
    const warned: string[] = [];
    const r = (await run(
      ['--dataset', root, '--steps', '1', '--backend', 'wasm', '--config', cfg, '--out', out, '--export', exp],
      (l) => lines.push(l),
      (w) => warned.push(w),
    )) as RunReport;

    for (const l of [...lines, ...warned]) expect(l).not.toMatch(RAW_CONTROL);
    expect(warned.slice(0, 9)).toEqual([
      '8 images loaded from 10 files, 2 labels',
      '  blue\\nfake line: 4',
      '  red\\tone: 4',
      '2 skipped:',
      '  not an image file (1):',
      '    notes\\t1.txt: .txt is not an image type this app reads',
      '  duplicate content (kept once) (1):',
      '    blue\\nfake line/x0\\u202egnp.png: same bytes as blue\\nfake line/copy\\u2028.png',
      'decode: 9 image files read and decoded' + warned[8].slice('decode: 9 image files read and decoded'.length),
    ]);
    expect(lines[0]).toMatch(/^backend=wasm dataset=folder:se\\u2028t:8:s=8 train=\d+ test=\d+ kNN@0=/);
    expect(lines.join('\n')).toContain(`exported 9 files to ${exp}`);

    // metadata.tsv: a header and one row per point, three cells each, the labels escaped.
    const meta = readFileSync(join(exp, 'projector/metadata.tsv'), 'utf8').trimEnd().split('\n');
    expect(meta).toHaveLength(r.dataset.train + 1);
    expect(meta.every((row) => row.split('\t').length === 3)).toBe(true);
    expect(new Set(meta.slice(1).map((row) => row.split('\t')[0]))).toEqual(new Set(['red\\tone', 'blue\\nfake line']));

    // The JSON report: no raw separator or bidi character in the file, the exact path after parsing.
    const text = readFileSync(out, 'utf8');
    expect(text).not.toMatch(/[\u2028\u202e]/);
    expect((JSON.parse(text) as RunReport).load?.path).toBe(root);
  });

  it('escapes the path in the one-line error for a data set path that does not exist', () => {
    const bad = join(dir, 'no\nsuch\u202Efolder');
    const r = cli(['--dataset', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`error: ${join(dir, 'no\\nsuch\\u202efolder')}: no such file or folder\n`);
  });
});
