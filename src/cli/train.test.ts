import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { zipSync } from 'fflate';
import '@tensorflow/tfjs-backend-wasm';
import { run, type RunReport } from './train';
import { parseCli } from './args';
import { DEFAULT_CONFIG, bankDim } from '../core/config';
import { decodeWeights } from '../core/weights-file';

import { TINY } from './cli.test-util';

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
      // Finished: the run reached the end of its schedule (issue 19), however the budget cut it.
      expect(r.finished).toBe(r.history.length >= r.config.totalSteps);
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
    // Step 0 of a 1-step schedule (--steps 0 sets totalSteps 1): not finished.
    expect(report?.finished).toBe(false);
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

describe('train CLI --export', () => {
  it('writes the same exports as the app, with CSVs that match the report, and ends with the full evaluation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clim-run-export-'));
    try {
      const cfg = {
        ...TINY,
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
      // --steps 3 sets totalSteps 3 and the run reached it: finished, as the app says of such a run (issue 19).
      expect(r.finished).toBe(true);
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
