import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { zipSync } from 'fflate';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { RunOutputError, run, type RunReport } from './train';
import { parseCli } from './args';
import { OutputPathError } from './output-paths';
import { DEFAULT_CONFIG, bankDim, defaultConfig } from '../core/config';
import { decodeWeights } from '../core/weights-file';
import { ABLATION_CSV_HEADER, ABLATION_DEFAULT_STEPS, ablationBaseConfig, rawPixelKnn } from '../core/ablation';
import { makeShapesDataset } from '../core/data/shapes';
import type { AblationReport } from './ablation';

/** The smallest config the runner tests train: a 4-wide, 2-stage encoder on 16 px, steps in milliseconds. */
const TINY = {
  width: 4,
  stemStride: 1,
  stages: 2,
  groups: 4,
  resolutions: [16],
  projHidden: 16,
  projDim: 8,
  queueSize: 16,
  batchSize: 8,
  clusters: 4,
};

describe('train CLI', () => {
  it('resolves flags onto the default config', () => {
    const o = parseCli(['--steps', '7', '--seed', '3', '--selection', 'knn', '--mix', 'mixup', '--backend', 'cpu']);
    expect(o.steps).toBe(7);
    expect(o.backend).toBe('cpu');
    expect(o.config.seed).toBe(3);
    expect(o.config.selection).toBe('knn');
    expect(o.config.mix).toBe('mixup');
    expect(o.config.totalSteps).toBe(7);
    expect(o.config.temperature).toBe(DEFAULT_CONFIG.temperature);
  });

  for (const [args, msg] of [
    [['--selection', 'nearest'], /--selection must be one of none, knn, cluster, center-wise/],
    [['--steps=-1'], /--steps must be a whole number/],
    [['--steps', '2.5'], /--steps must be a whole number/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--backend', 'webgpu'], /--backend must be one of wasm, cpu/],
    [
      ['--dataset', 'mnist'],
      /--dataset must be one of shapes, fashion-mnist, or a path to a folder or \.zip \(got "mnist"\)/,
    ],
    [['--fit', 'pad'], /--fit applies to a folder or \.zip data set, not the built-in shapes/],
    [['--dataset', './photos', '--fit', 'stretch'], /--fit must be one of crop, pad \(got "stretch"\)/],
    [
      ['--dataset', './photos', '--holdout', '0.95'],
      /--holdout must be a decimal number from 0 to 0\.9 \(got "0\.95"\)/,
    ],
  ] as const) {
    it(`rejects ${args.join(' ')} with a specific message`, () => {
      expect(() => parseCli([...args])).toThrow(msg);
    });
  }

  it('exits with code 2 and a one-line error on a bad flag', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/train.ts', '--mix', 'blend'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: --mix must be one of none, cutmix, mixup \(got "blend"\)/);
  });

  it('--minutes stops on training time, sizes the schedule from the first steps, and --eval-minutes evaluates along the way', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clim-minutes-'));
    try {
      writeFileSync(join(dir, 'c.json'), JSON.stringify(TINY));
      const lines: string[] = [];
      // 60 steps of a tiny model take well under 0.1 min here; the budget (0.1 min = 6 s) then still stops it.
      const r = (await run(
        ['--minutes', '0.1', '--eval-minutes', '0.02', '--backend', 'wasm', '--config', join(dir, 'c.json')],
        (l) => lines.push(l),
      )) as RunReport;
      const trained = r.history.reduce((a, h) => a + h.ms, 0);
      // Stops at whichever comes first: the first step that reaches 6 s of training time, or the
      // calibrated schedule's last step (when later steps ran faster than the first 50).
      if (trained >= 6000) expect(trained - r.history[r.history.length - 1].ms).toBeLessThan(6000);
      else expect(r.history.length).toBe(r.config.totalSteps);
      expect(trained).toBeGreaterThan(3000);
      // The schedule was sized after 50 steps: totalSteps from the mean step time, reported in config.
      expect(r.history.length).toBeGreaterThan(50);
      const calibrated = lines.find((l) => l.startsWith('calibrated:')) ?? '';
      expect(calibrated).toMatch(new RegExp(`→ totalSteps ${r.config.totalSteps} for 0.1 min$`));
      const mean = r.history.slice(1, 50).reduce((a, h) => a + h.ms, 0) / 49;
      const used = r.history.slice(0, 50).reduce((a, h) => a + h.ms, 0);
      expect(r.config.totalSteps).toBe(Math.max(51, 50 + Math.round((6000 - used) / mean)));
      // Evaluations every 0.02 min (1.2 s) of training time, with the full probe, and the final one.
      const mid = r.evals.slice(1, -1);
      expect(mid.length).toBeGreaterThanOrEqual(2);
      mid.forEach((e, i) => {
        expect(e.seconds).toBeGreaterThanOrEqual(1.2 * (i + 1) - 1e-9);
        expect(e.linearTop1).not.toBeNull();
      });
      expect(r.evals[r.evals.length - 1].step).toBe(r.history.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('--save-weights writes the encoder; --init-weights --steps 0 reports the same kNN top-1; a bad file is one line and code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clim-weights-'));
    try {
      writeFileSync(join(dir, 'c.json'), JSON.stringify({ ...TINY, climWarmupSteps: 1 }));
      const w = join(dir, 'enc.climweights');
      const a = (await run(
        [
          '--steps',
          '4',
          '--seed',
          '3',
          '--backend',
          'wasm',
          '--config',
          join(dir, 'c.json'),
          '--save-weights',
          w,
          '--quiet',
        ],
        () => {},
      )) as RunReport;
      const file = decodeWeights(readFileSync(w));
      expect(file.info.knnTop1).toBe(a.eval.knnTop1);
      expect(file.info.steps).toBe(4);
      // The same seed (the shapes set depends on it); the untrained encoder of that seed measured a.eval.initialKnnTop1.
      const b = (await run(
        [
          '--steps',
          '0',
          '--seed',
          '3',
          '--backend',
          'wasm',
          '--config',
          join(dir, 'c.json'),
          '--init-weights',
          w,
          '--quiet',
        ],
        () => {},
      )) as RunReport;
      expect(b.eval.knnTop1).toBe(a.eval.knnTop1);
      writeFileSync(join(dir, 'bad.climweights'), 'not weights');
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/cli/train.ts', '--init-weights', join(dir, 'bad.climweights'), '--steps', '0'],
        { encoding: 'utf8' },
      );
      expect(r.status).toBe(2);
      expect(r.stderr.trim()).toMatch(
        /^error: --init-weights .*bad\.climweights: This is not a CLIM Playground weights file \(\.climweights\)/,
      );
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      // Weights of another encoder: refused with the reason.
      const wide = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/train.ts',
          '--init-weights',
          w,
          '--steps',
          '0',
          '--config',
          join(dir, 'c.json'),
          '--dataset',
          'shapes',
        ],
        { encoding: 'utf8' },
      );
      expect(wide.status).toBe(0);
      await expect(
        run(['--steps', '0', '--backend', 'wasm', '--init-weights', w, '--quiet'], () => {}),
      ).rejects.toThrow(/another encoder: width 4 \(this run: 16\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('--steps 0 evaluates the untrained encoder and writes an empty history', async () => {
    const cfg = { ...DEFAULT_CONFIG, width: 4, projHidden: 16, projDim: 8, queueSize: 16, batchSize: 8, clusters: 4 };
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'clim-'));
    writeFileSync(
      join(dir, 'c.json'),
      JSON.stringify({
        width: cfg.width,
        projHidden: cfg.projHidden,
        projDim: cfg.projDim,
        queueSize: cfg.queueSize,
        batchSize: cfg.batchSize,
        clusters: cfg.clusters,
      }),
    );
    const lines: string[] = [];
    const report = await run(['--steps', '0', '--backend', 'wasm', '--config', join(dir, 'c.json'), '--quiet'], (s) =>
      lines.push(s),
    );
    expect(report?.history).toEqual([]);
    expect(report?.eval.knnTop1).toBe(report?.eval.initialKnnTop1);
    expect(report?.eval.knnTop1).toBeGreaterThan(0);
    expect(report?.config.width).toBe(4);
    expect(report?.backend).toBe('wasm');
  });

  it('--dataset fashion-mnist --steps 0 reads the committed file and evaluates on 10000 + 2000 labelled images', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'clim-'));
    // Tiny model: the cost is the bank pass and kNN over all 12,000 images.
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ ...TINY, stemStride: 2 }));
    const lines: string[] = [];
    const t0 = Date.now();
    const report = await run(
      ['--dataset', 'fashion-mnist', '--steps', '0', '--backend', 'wasm', '--config', join(dir, 'c.json'), '--quiet'],
      (s) => lines.push(s),
    );
    console.log(`fashion-mnist --steps 0: ${((Date.now() - t0) / 1000).toFixed(1)} s, kNN ${report?.eval.knnTop1}`);
    expect(report?.dataset).toEqual({ id: 'fashion-mnist:10000+2000', train: 10000, test: 2000, labelled: true });
    expect(report?.history).toEqual([]);
    // Ten classes: an untrained encoder is well above chance (0.1) on Fashion-MNIST.
    expect(report?.eval.knnTop1).toBeGreaterThan(0.2);
  });
  it('reads --dataset as a path when it has a slash or ends in .zip, and takes --fit and --holdout for it', () => {
    expect(parseCli(['--dataset', 'fashion-mnist']).dataset).toEqual({ name: 'fashion-mnist' });
    expect(parseCli([]).dataset).toEqual({ name: 'shapes' });
    const o = parseCli(['--dataset', 'some/photos', '--fit', 'pad', '--holdout', '0.25']);
    expect(o.dataset).toEqual({ path: 'some/photos' });
    expect([o.fit, o.holdout]).toEqual(['pad', 0.25]);
    expect(parseCli(['--dataset', 'PHOTOS.ZIP']).dataset).toEqual({ path: 'PHOTOS.ZIP' });
    expect(parseCli(['--dataset', 'C:\\pics']).dataset).toEqual({ path: 'C:\\pics' });
    const d = parseCli(['--dataset', 'x/y']);
    expect([d.fit, d.holdout]).toEqual(['crop', 0.1]);
  });

  describe('on an image folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clim-folder-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    // Tiny model at 8 px: the runner stores images at max(resolutions).
    const cfgPath = join(dir, 'c.json');
    writeFileSync(
      cfgPath,
      JSON.stringify({ ...TINY, resolutions: [8], clusters: 2, knnK: 3, evalK: 3, climWarmupSteps: 0 }),
    );

    function solidPng(rgb: [number, number, number]): Uint8Array {
      const png = new PNG({ width: 8, height: 8 });
      for (let i = 0; i < 64; i++) png.data.set([...rgb, 255], 4 * i);
      return new Uint8Array(PNG.sync.write(png, { colorType: 2 }));
    }

    /** 2 labels × 6 solid 8×8 PNGs (shades of red and of blue), a duplicate, a text file and a hidden file. */
    function labelledTree(): Record<string, Uint8Array> {
      const t: Record<string, Uint8Array> = {};
      for (let i = 0; i < 6; i++) {
        t[`red/0${i}.png`] = solidPng([150 + 20 * i, 10 * i, 0]);
        t[`blue/0${i}.png`] = solidPng([0, 10 * i, 150 + 20 * i]);
      }
      t['blue/dup.png'] = t['blue/00.png'];
      t['readme.txt'] = Buffer.from('two classes');
      t['.DS_Store'] = new Uint8Array([1]);
      return t;
    }

    function writeTree(root: string, t: Record<string, Uint8Array>): void {
      for (const [p, b] of Object.entries(t)) {
        mkdirSync(join(root, p, '..'), { recursive: true });
        writeFileSync(join(root, p), b);
      }
    }

    it('trains on it from the command line, with the load report on stderr and the sizes in the JSON', () => {
      const root = join(dir, 'set');
      writeTree(root, labelledTree());
      const out = join(dir, 'run.json');
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/train.ts',
          '--dataset',
          root,
          '--steps',
          '2',
          '--backend',
          'wasm',
          '--config',
          cfgPath,
          '--out',
          out,
        ],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(readFileSync(out, 'utf8')) as RunReport;
      // 12 loaded; per label round(0.1·6) = 1 held out (at least one), so 10 + 2.
      expect(report.dataset).toEqual({ id: 'folder:set:12:s=8', train: 10, test: 2, labelled: true });
      expect(report.load).toMatchObject({
        path: root,
        fit: 'crop',
        files: 15,
        loaded: 12,
        hidden: 1,
        skipped: { 'not-image': 1, duplicate: 1, empty: 0, 'too-large': 0, corrupt: 0, unsupported: 0 },
      });
      expect(report.history.map((h) => h.step)).toEqual([1, 2]);
      expect(report.eval.knnTop1).not.toBeNull();
      const err = r.stderr.trim().split('\n');
      expect(err.slice(0, 9)).toEqual([
        '12 images loaded from 15 files, 2 labels',
        '  blue: 6',
        '  red: 6',
        '2 skipped:',
        '  not an image file (1):',
        '    readme.txt: .txt is not an image type this app reads',
        '  duplicate content (kept once) (1):',
        '    blue/dup.png: same bytes as blue/00.png',
        '1 hidden or system file ignored',
      ]);
      // 13 candidates went through read + decode (the 12 and the duplicate).
      expect(err[9]).toMatch(
        /^decode: 13 image files read and decoded in \d+\.\d\d s, \d+ images\/s \(8×8, fit crop\)$/,
      );
      expect(err).toHaveLength(10);
      expect(r.stdout).toMatch(/^backend=wasm dataset=folder:set:12:s=8 train=10 test=2 kNN@0=[01]\.\d{4}$/m);
    });

    it('trains unlabelled on a zip of loose images, holding nothing out and skipping evaluation', async () => {
      const t: Record<string, Uint8Array> = {};
      for (let i = 0; i < 6; i++) t[`img${i}.png`] = solidPng([40 * i, 100, 200 - 30 * i]);
      const zip = join(dir, 'loose.zip');
      writeFileSync(zip, zipSync(t));
      const warned: string[] = [];
      const report = await run(
        ['--dataset', zip, '--steps', '1', '--backend', 'wasm', '--config', cfgPath, '--fit', 'pad', '--quiet'],
        () => {},
        (s) => warned.push(s),
      );
      expect(report?.dataset).toEqual({ id: 'folder:loose:6:s=8', train: 6, test: 0, labelled: false });
      expect(report?.eval).toEqual({
        step: 1,
        knnTop1: null,
        initialKnnTop1: null,
        linearTop1: null,
        alignment: null,
        uniformity: null,
        clusterPurity: null,
        clusterNmi: null,
        clusterAri: null,
      });
      expect(warned.slice(0, 3)).toEqual([
        '6 images loaded from 6 files, unlabelled',
        '  all images: 6',
        'note: no class folders (<label>/<image>): the images train unlabelled and evaluation is off',
      ]);
      expect(warned[3]).toMatch(/^decode: 6 image files .* \(8×8, fit pad\)$/);
    });

    it('exits with code 2, the report and "no decodable image in <path>" when nothing decodes', () => {
      const root = join(dir, 'bad');
      writeTree(root, {
        'a/x.png': Buffer.from('not a png'),
        'b/y.jpg': new Uint8Array(0),
        'notes.txt': Buffer.from('hi'),
      });
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/cli/train.ts', '--dataset', root, '--steps', '1'],
        { encoding: 'utf8' },
      );
      expect(r.status).toBe(2);
      const err = r.stderr.trim().split('\n');
      expect(err[0]).toBe('0 images loaded from 3 files, unlabelled');
      expect(err).toContain(
        '    a/x.png: could not be decoded (not a PNG or JPEG, and no other image format recognised in its first bytes)',
      );
      expect(err).toContain('    b/y.jpg: the file has 0 bytes');
      expect(err[err.length - 1]).toBe(`error: no decodable image in ${root}`);
      expect(r.stdout).toBe('');
    });

    it('exits with code 2 and names a path that does not exist', () => {
      const missing = join(dir, 'nope', 'photos');
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/train.ts', '--dataset', missing], {
        encoding: 'utf8',
      });
      expect(r.status).toBe(2);
      expect(r.stderr.trim()).toBe(`error: ${missing}: no such file or folder`);
    });
  });
});

describe('train CLI --ablation', () => {
  it('parses --ablation, --ablation-arms, --csv and --md over the ablation base config', () => {
    const o = parseCli([
      '--ablation',
      '--ablation-arms',
      'moco-v2, center-wise+cutmix',
      '--csv',
      't.csv',
      '--md',
      't.md',
      '--out',
      'r.json',
      '--seed',
      '5',
    ]);
    expect(o.ablation).toBe(true);
    expect(o.ablationArms).toEqual(['moco-v2', 'center-wise+cutmix']);
    expect([o.csv, o.md, o.out]).toEqual(['t.csv', 't.md', 'r.json']);
    expect(o.steps).toBe(ABLATION_DEFAULT_STEPS);
    expect(o.config).toEqual({ ...ablationBaseConfig(), seed: 5 });
    const d = parseCli(['--ablation', '--steps', '30', '--threshold', 'cluster-mean']);
    expect(d.ablationArms).toBeUndefined();
    expect([d.steps, d.config.totalSteps, d.config.centerThreshold, d.config.resolutions]).toEqual([
      30,
      30,
      'cluster-mean',
      [24],
    ]);
    const plain = parseCli([]);
    expect([plain.ablation, plain.ablationArms, plain.csv, plain.md]).toEqual([false, undefined, undefined, undefined]);
    expect(plain.config).toEqual(DEFAULT_CONFIG);
  });

  for (const [args, msg] of [
    [['--csv', 't.csv'], /^--csv applies to --ablation only$/],
    [['--md', 't.md'], /^--md applies to --ablation only$/],
    [['--ablation-arms', 'knn'], /^--ablation-arms applies to --ablation only$/],
    [['--ablation', '--selection', 'knn'], /^--selection cannot be used with --ablation: each arm sets it$/],
    [['--ablation', '--mix', 'none'], /^--mix cannot be used with --ablation: each arm sets it$/],
    [
      ['--ablation', '--eval-every', '5'],
      /^--eval-every cannot be used with --ablation: each arm is evaluated once, at the end$/,
    ],
    [
      ['--ablation', '--ablation-arms', 'knn,simclr'],
      /^--ablation-arms: unknown arm "simclr"; known: moco-v2, moco-v2\+cutmix, knn, knn\+cutmix, cluster, cluster\+cutmix, center-wise, center-wise\+cutmix, center-wise\+cutmix\+multires$/,
    ],
    [['--ablation', '--ablation-arms', ','], /^--ablation-arms needs at least one arm id$/],
    [['--ablation', '--ablation-arms', 'knn,knn'], /^--ablation-arms: an arm is listed twice$/],
  ] as const) {
    it(`rejects ${args.join(' ')}`, () => {
      expect(() => parseCli([...args])).toThrow(msg);
    });
  }

  it('runs 2 arms on shapes and writes JSON, CSV and Markdown that agree with each other and with the per-step curves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clim-ablation-'));
    try {
      // Tiny model at 16 px; CLIM warm-up of 1 step so 3 of the 4 steps select.
      const cfg = {
        width: 4,
        stemStride: 1,
        stages: 2,
        groups: 4,
        resolutions: [16],
        projHidden: 16,
        projDim: 8,
        queueSize: 32,
        batchSize: 16,
        clusters: 8,
        knnK: 5,
        climWarmupSteps: 1,
        kmeansEvery: 2,
      };
      writeFileSync(join(dir, 'c.json'), JSON.stringify(cfg));
      const [out, csv, md] = ['r.json', 't.csv', 't.md'].map((f) => join(dir, f));
      const lines: string[] = [];
      const t0 = Date.now();
      const r = await run(
        [
          '--ablation',
          '--ablation-arms',
          'knn,center-wise',
          '--steps',
          '4',
          '--seed',
          '3',
          '--backend',
          'wasm',
          '--config',
          join(dir, 'c.json'),
          '--out',
          out,
          '--csv',
          csv,
          '--md',
          md,
          '--quiet',
        ],
        (s) => lines.push(s),
      );
      console.log(`--ablation 2 arms × 4 steps on shapes: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      expect(r).toBeNull();
      const report = JSON.parse(readFileSync(out, 'utf8')) as AblationReport;
      expect(report.kind).toBe('ablation');
      expect(report.backend).toBe('wasm');
      expect(report.dataset).toEqual({ id: 'shapes:seed=3:n=2400+600:s=32', train: 2400, test: 600, labelled: true });
      expect(report.steps).toBe(4);
      expect(report.config).toEqual({ ...ablationBaseConfig(), ...cfg, seed: 3, totalSteps: 4 });
      expect(report.arms.map((a) => [a.id, a.config.selection, a.config.mix])).toEqual([
        ['knn', 'knn', 'none'],
        ['center-wise', 'center-wise', 'none'],
      ]);
      for (const a of report.arms)
        expect({ ...a.config, selection: report.config.selection, mix: report.config.mix }).toEqual(report.config);
      expect(report.rows.map((x) => [x.id, x.steps])).toEqual([
        ['knn', 4],
        ['center-wise', 4],
      ]);

      // Baseline: the raw-pixel kNN on the same split with the monitor's k and τ.
      expect(report.baseline).toMatchObject({ k: DEFAULT_CONFIG.evalK, tau: DEFAULT_CONFIG.evalTemperature });
      await tf.setBackend('wasm');
      expect(report.baseline.knnTop1).toBe(
        await rawPixelKnn(makeShapesDataset({ seed: 3 }), DEFAULT_CONFIG.evalK, DEFAULT_CONFIG.evalTemperature),
      );

      for (const row of report.rows) {
        const c = report.curves[row.id];
        expect(c.loss).toHaveLength(4);
        // Precision and coverage: means over steps 2..4 of the logged per-step values.
        const prec = c.precision.slice(1).filter((p): p is number => p !== null);
        expect(row.precision).toBeCloseTo(prec.reduce((a, b) => a + b, 0) / prec.length, 12);
        expect(row.coverage).toBeCloseTo(c.coverage.slice(1).reduce((a, b) => a + b, 0) / 3, 12);
        expect(row.finalLoss).toBeCloseTo(c.loss.reduce((a, b) => a + b, 0) / 4, 12);
        expect(row.knnTop1).toBeGreaterThan(0);
        expect(row.linearTop1).toBeGreaterThan(0);
      }

      // CSV: the header, then the JSON rows' numbers (6 decimals).
      const csvLines = readFileSync(csv, 'utf8').trimEnd().split('\n');
      expect(csvLines[0]).toBe(ABLATION_CSV_HEADER);
      expect(csvLines).toHaveLength(3);
      for (const [i, row] of report.rows.entries()) {
        const cells = csvLines[i + 1].split(',');
        expect(cells[0]).toBe(row.id);
        expect(Number(cells[3])).toBeCloseTo(row.knnTop1!, 6);
        expect(Number(cells[4])).toBeCloseTo(row.linearTop1!, 6);
        expect(Number(cells[5])).toBeCloseTo(row.precision!, 6);
      }

      // Markdown: a row per arm with its percentages, the baseline, and the same table in the log.
      const mdText = readFileSync(md, 'utf8');
      for (const row of report.rows) {
        expect(mdText).toContain(
          `(\`${row.id}\`) | ${(100 * row.knnTop1!).toFixed(1)}% | ${(100 * row.linearTop1!).toFixed(1)}% | ${(100 * row.precision!).toFixed(1)}% |`,
        );
      }
      expect(mdText).toContain(
        `Raw-pixel kNN baseline (same split, k = 20, τ = 0.1): ${(100 * report.baseline.knnTop1!).toFixed(1)}% top-1.`,
      );
      expect(lines.join('\n')).toContain(mdText.trimEnd());
      expect(lines.filter((l) => /^\[\d\/2\] /.test(l))).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('train CLI --export', () => {
  it('writes the same exports as the app, with CSVs that match the report, and ends with the full evaluation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clim-run-export-'));
    try {
      const cfg = {
        width: 4,
        stemStride: 1,
        stages: 2,
        groups: 4,
        resolutions: [16],
        projHidden: 16,
        projDim: 12,
        queueSize: 32,
        batchSize: 16,
        clusters: 8,
        climWarmupSteps: 1,
        kmeansEvery: 2,
      };
      writeFileSync(join(dir, 'c.json'), JSON.stringify(cfg));
      const out = join(dir, 'r.json');
      const exp = join(dir, 'export');
      const r = (await run(
        [
          '--steps',
          '3',
          '--seed',
          '2',
          '--backend',
          'wasm',
          '--config',
          join(dir, 'c.json'),
          '--export',
          exp,
          '--out',
          out,
          '--quiet',
        ],
        () => {},
      )) as RunReport;
      const rel = r.exported!.map((p) => p.slice(exp.length + 1)).sort();
      expect(rel).toEqual([
        'config.json',
        'evals.csv',
        'metrics.csv',
        'model/model.json',
        'model/weights.bin',
        'projector/metadata.tsv',
        'projector/projector_config.json',
        'projector/sprite.png',
        'projector/vectors.tsv',
      ]);
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(JSON.parse(JSON.stringify(r)));

      // metrics.csv: one row per step, the report's losses.
      const [mHead, ...mRows] = readFileSync(join(exp, 'metrics.csv'), 'utf8').trimEnd().split('\n');
      const lossCol = mHead.split(',').indexOf('loss');
      expect(mRows.map((l) => Number(l.split(',')[lossCol]))).toEqual(r.history.map((h) => h.loss));
      // evals.csv: the untrained and the final evaluation; the final one is full.
      const [eHead, ...eRows] = readFileSync(join(exp, 'evals.csv'), 'utf8').trimEnd().split('\n');
      const col = (name: string) => eHead.split(',').indexOf(name);
      expect(eRows.map((l) => Number(l.split(',')[col('step')]))).toEqual([0, 3]);
      expect(eRows[0].split(',')[col('linearTop1')]).toBe('');
      expect(Number(eRows[1].split(',')[col('linearTop1')])).toBe(r.eval.linearTop1);
      expect(Number(eRows[1].split(',')[col('knnTop1')])).toBe(r.eval.knnTop1);
      expect(r.eval.linearTop1).toBeGreaterThan(0);
      expect(r.eval.clusterNmi).not.toBeNull();
      expect(JSON.parse(readFileSync(join(exp, 'config.json'), 'utf8'))).toEqual(r.config);
      // The projector set: a row per point in vectors and metadata (plus its header), projDim values each.
      const vectors = readFileSync(join(exp, 'projector/vectors.tsv'), 'utf8').trimEnd().split('\n');
      // Bank rows: the backbone's F = 8 features by default, not the projection's d = 12.
      expect(vectors.every((l) => l.split('\t').length === bankDim({ ...DEFAULT_CONFIG, ...cfg }))).toBe(true);
      expect(bankDim({ ...DEFAULT_CONFIG, ...cfg })).toBe(8);
      // The rule comparison: one entry per rule, the center-wise set inside kNN ∩ cluster inside kNN.
      const rc = Object.fromEntries((r.ruleComparison ?? []).map((x) => [x.rule, x]));
      expect(Object.keys(rc)).toEqual(['knn', 'knn-cluster', 'center-wise', 'center-wise-mean', 'cluster']);
      expect(rc.knn.keptPerAnchor).toBe(DEFAULT_CONFIG.knnK);
      expect(rc['knn-cluster'].keptPerAnchor).toBeLessThanOrEqual(rc.knn.keptPerAnchor);
      expect(rc['center-wise'].keptPerAnchor).toBeLessThanOrEqual(rc['knn-cluster'].keptPerAnchor);
      for (const x of Object.values(rc)) if (x.precision !== null) expect(x.precision).toBeGreaterThanOrEqual(0);
      // Every evaluation with the training time it ran at: step 0 at 0 s, the final one after 3 steps.
      expect(r.evals.map((e) => e.step)).toEqual([0, 3]);
      expect(r.evals[0].seconds).toBe(0);
      expect(r.evals[1].seconds).toBeCloseTo(r.history.reduce((a, h) => a + h.ms, 0) / 1000, 6);
      expect(r.evals[1].linearTop1).toBe(r.eval.linearTop1);
      expect(readFileSync(join(exp, 'projector/metadata.tsv'), 'utf8').trimEnd().split('\n')).toHaveLength(
        vectors.length + 1,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--export and --full-eval are refused with --ablation', () => {
    expect(() => parseCli(['--ablation', '--export', 'x'])).toThrow(/^--export cannot be used with --ablation/);
    expect(() => parseCli(['--ablation', '--full-eval'])).toThrow(/^--full-eval cannot be used with --ablation/);
    expect(parseCli(['--export', 'x'])).toMatchObject({ exportDir: 'x', fullEval: true });
    expect(parseCli(['--full-eval'])).toMatchObject({ exportDir: undefined, fullEval: true });
    expect(parseCli([])).toMatchObject({ fullEval: false });
  });
});

/** The runner as a user runs it: its exit code, stdout and stderr. */
function cli(args: string[], opts: { uid?: number; gid?: number } = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/train.ts', ...args], { encoding: 'utf8', ...opts });
}

/** A tiny model on the default shapes set: a step takes tens of ms, so the output tests stay fast. */
/** Any character escapeControl (src/core/text.ts) escapes. */
// eslint-disable-next-line no-control-regex -- the characters a printed name must not hold
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** What `run` threw, or null. */
async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

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
