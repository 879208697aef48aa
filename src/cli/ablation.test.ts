import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { run } from './train';
import { TINY } from './cli.test-util';
import { parseCli } from './args';
import { DEFAULT_CONFIG } from '../core/config';
import { ABLATION_CSV_HEADER, ABLATION_DEFAULT_STEPS, ablationBaseConfig, rawPixelKnn } from '../core/ablation';
import { makeShapesDataset } from '../core/data/shapes';
import type { AblationReport } from './ablation';

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
      const cfg = { ...TINY, queueSize: 32, batchSize: 16, clusters: 8, knnK: 5, climWarmupSteps: 1, kmeansEvery: 2 };
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
