/**
 * --save-run and --resume (issue 18): a run stopped and resumed from its
 * .climrun file trains on exactly as the uninterrupted run, the file is the
 * app's own format (readRunFile passes it; a file built as the app builds
 * one resumes here), and a wrong data set, a refused flag or a bad file is
 * one line and exit code 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { run, type RunReport } from './train';
import { parseCli } from './args';
import { RunFileUseError } from './save-run';
import { TINY, cli, failure } from './cli.test-util';
import { readRunFile } from '../core/run-file-check';
import { chartsFromApp } from '../core/run-file-app';
import { datasetFingerprint } from '../core/data/dataset';
import { makeShapesDataset } from '../core/data/shapes';
import { encodeCheckpoint } from '../core/checkpoint';
import { Trainer } from '../core/train';
import { defaultConfig } from '../core/config';
import { segmentLr } from '../core/schedule';
import type { StepMetrics } from '../core/api';

/**
 * Past the LR warm-up, the CLIM warm-up and two k-means runs inside the
 * 10 steps, so the resumed part depends on the schedule, the selection, the
 * clusters and the optimiser's momentum all being restored.
 */
const RUN = { ...TINY, warmupSteps: 2, climWarmupSteps: 3, kmeansEvery: 4 };

let dir: string;
const at = (name: string) => join(dir, name);
const quiet = () => {};
/** TINY leaves the learning rate at its default. */
const DEFAULT_LR = defaultConfig().lr;
/** The file as readFileSync gives it (a Node Buffer, which decodeCheckpoint must read like any Uint8Array). */
const fileBytes = (path: string) => readFileSync(path);
const read = (name: string) => JSON.parse(readFileSync(at(name), 'utf8')) as RunReport;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'clim-save-run-'));
  // The whole run's length in the first part's config: both parts follow one cosine schedule.
  writeFileSync(at('part.json'), JSON.stringify({ ...RUN, totalSteps: 10 }));
  writeFileSync(at('whole.json'), JSON.stringify(RUN));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--save-run then --resume', () => {
  let whole: RunReport;
  let resumed: RunReport;

  beforeAll(async () => {
    const common = ['--backend', 'wasm', '--quiet'];
    whole = (await run(['--config', at('whole.json'), '--steps', '10', ...common], quiet)) as RunReport;
    // --save-every on the way: the copies it writes read the state without drawing from any stream.
    await run(
      ['--config', at('part.json'), '--steps', '6', '--save-run', at('a.climrun'), '--save-every', '2', ...common],
      quiet,
    );
    // In its own process: one that only ever restores must step on the same kernels as one that created the run.
    const r = cli(['--resume', at('a.climrun'), '--steps', '10', '--out', at('b.json'), '--save-run', at('b.climrun')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    resumed = read('b.json');
  }, 120_000);

  it('gives steps 7–10 the same losses, bit for bit, and the same final kNN top-1 as the uninterrupted run', () => {
    const losses = (r: RunReport) => r.history.map((h) => h.loss);
    expect(whole.history.map((h) => h.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(losses(resumed).slice(6)).toEqual(losses(whole).slice(6));
    // The report's history is the whole run's: the file's six steps, then the four trained now.
    expect(losses(resumed)).toEqual(losses(whole));
    expect(resumed.history.map((h) => h.lr)).toEqual(whole.history.map((h) => h.lr));
    expect(resumed.eval.step).toBe(10);
    expect(resumed.eval.knnTop1).toBe(whole.eval.knnTop1);
    expect(resumed.eval.initialKnnTop1).toBe(whole.eval.initialKnnTop1);
    expect(resumed.evals.map((e) => e.step)).toEqual([0, 6, 10]);
    expect(resumed.config).toEqual(whole.config);
  });

  it('writes a file every reader accepts, with the history, the evaluations and the data set the app needs', () => {
    for (const [name, step, steps] of [
      ['a.climrun', 6, 6],
      ['b.climrun', 10, 10],
    ] as const) {
      const ck = readRunFile(fileBytes(at(name)));
      expect(ck.meta.step).toBe(step);
      const { history, evals } = chartsFromApp(ck.meta.app);
      expect(history.map((h) => h.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
      expect(history.map((h) => h.loss)).toEqual(whole.history.slice(0, steps).map((h) => h.loss));
      expect(evals.map((e) => e.step)).toEqual(step === 6 ? [0, 6] : [0, 6, 10]);
      // What the page's import does with it (engine-persistence.ts datasetFor): the built-in set by its recipe.
      expect(ck.meta.dataset.source).toEqual({ kind: 'builtin', name: 'shapes', seed: 1 });
      expect(datasetFingerprint(makeShapesDataset({ seed: 1 }))).toBe(ck.meta.dataset.fingerprint);
    }
  });

  it("--steps at or below the file's step trains nothing and reports the saved run as it was", async () => {
    const r = (await run(
      ['--resume', at('b.climrun'), '--steps', '7', '--backend', 'wasm', '--quiet'],
      quiet,
    )) as RunReport;
    expect(r.history.map((h) => h.loss)).toEqual(whole.history.map((h) => h.loss));
    expect(r.eval.step).toBe(10);
    expect(r.eval.knnTop1).toBe(whole.eval.knnTop1);
    expect(r.config.totalSteps).toBe(10);
  });

  it("--steps past a finished run trains a new schedule segment, as the page's Train N more steps", async () => {
    const r = (await run(
      ['--resume', at('b.climrun'), '--steps', '14', '--backend', 'wasm', '--quiet'],
      quiet,
    )) as RunReport;
    expect(whole.finished).toBe(true);
    expect([r.config.scheduleStart, r.config.totalSteps, r.finished]).toEqual([10, 14, true]);
    expect(r.history.slice(0, 10).map((h) => h.loss)).toEqual(whole.history.map((h) => h.loss));
    // Steps 11–14 (0-based 10–13) warm up again and decay to 0 at 14, not on the old schedule's rate of 0.
    const want = [10, 11, 12, 13].map((s) => segmentLr(s, DEFAULT_LR, RUN.warmupSteps, 10, 14));
    expect(r.history.slice(10).map((h) => h.lr)).toEqual(want);
    expect(want[0]).toBeGreaterThan(0);
  });

  it("without --steps trains to the file's totalSteps, on the data set the file names", async () => {
    const r = (await run(['--resume', at('a.climrun'), '--backend', 'wasm', '--quiet'], quiet)) as RunReport;
    expect(r.history.map((h) => h.loss)).toEqual(whole.history.map((h) => h.loss));
    expect(r.eval.knnTop1).toBe(whole.eval.knnTop1);
  });

  it('refuses another data set with one line naming what differs, exit code 2', async () => {
    const e = await failure(run(['--resume', at('a.climrun'), '--dataset', 'fashion-mnist', '--quiet'], quiet));
    expect(e).toBeInstanceOf(RunFileUseError);
    expect((e as Error).message).toMatch(
      /^--resume .*a\.climrun: the run was trained on another data set than --dataset fashion-mnist: it is "shapes:seed=1:n=2400\+600:s=32", not "fashion-mnist.*"; 2400 \+ 600 images, not 10000 \+ 2000; 32 px, not 28 \(fingerprint 32:2400\+600:[0-9a-f]{8}, not 28:10000\+2000:[0-9a-f]{8}\)$/,
    );
    const r = cli(['--resume', at('a.climrun'), '--dataset', 'fashion-mnist', '--out', at('never.json')]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^error: --resume .*: the run was trained on another data set than --dataset fashion-mnist/,
    );
  });
});

describe('--resume of a file built as the app builds one', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it("finds the built-in set by the file's recipe (a subset, its own data seed) and trains on exactly as the app would", async () => {
    // engine-persistence.ts encodeRun: the trainer's checkpoint with the charts and the data set's recipe.
    const source = { kind: 'builtin', name: 'shapes', seed: 5, nTrain: 96, nTest: 32 };
    const data = makeShapesDataset({ seed: 5, nTrain: 96, nTest: 32 });
    const cfg = { ...defaultConfig(), ...RUN, seed: 2, totalSteps: 8 };
    const t = await Trainer.create(cfg, data);
    const history: StepMetrics[] = [];
    for (let i = 0; i < 4; i++) history.push(await t.trainStep());
    const evals = [await t.evaluate()];
    const file = at('app.climrun');
    writeFileSync(file, encodeCheckpoint(await t.checkpoint({ app: { history, evals }, datasetSource: source })));
    const ahead: number[] = [];
    for (let i = 0; i < 4; i++) ahead.push((await t.trainStep()).loss);
    const knn = (await t.evaluate()).knnTop1;
    t.dispose();

    const r = (await run(['--resume', file, '--backend', 'wasm', '--quiet', '--save-run', file], quiet)) as RunReport;
    expect(r.dataset).toMatchObject({ train: 96, test: 32 });
    expect(r.history.map((h) => h.loss)).toEqual([...history.map((h) => h.loss), ...ahead]);
    expect(r.eval.knnTop1).toBe(knn);
    // Written back with the file's own recipe, so the page finds the same subset again.
    expect(readRunFile(fileBytes(file)).meta.dataset.source).toEqual(source);
  });
});

describe('--resume flags and bad files', () => {
  for (const [flag, value, why] of [
    ['config', 'c.json', 'the run goes on with the settings it was saved with'],
    ['selection', 'knn', 'the run goes on with the settings it was saved with'],
    ['mix', 'none', 'the run goes on with the settings it was saved with'],
    ['threshold', 'anchor', 'the run goes on with the settings it was saved with'],
    ['seed', '2', 'the run file carries its random streams'],
    ['init-weights', 'w.climweights', 'the run file carries its own weights'],
  ] as const) {
    it(`refuses --${flag} with the reason`, () => {
      expect(() => parseCli(['--resume', 'a.climrun', `--${flag}`, value])).toThrow(
        new RegExp(`^--${flag} cannot be used with --resume: ${why}`),
      );
    });
  }

  it('refuses --resume and --save-run with --ablation, and --save-every without --save-run', () => {
    expect(() => parseCli(['--ablation', '--resume', 'a.climrun'])).toThrow(/^--resume cannot be used with --ablation/);
    expect(() => parseCli(['--ablation', '--save-run', 'a.climrun'])).toThrow(
      /^--save-run cannot be used with --ablation/,
    );
    expect(() => parseCli(['--save-every', '5'])).toThrow(/^--save-every applies with --save-run only/);
    expect(() => parseCli(['--save-run', 'a.climrun', '--save-every', '0'])).toThrow(
      /^--save-every must be a whole number ≥ 1/,
    );
  });

  it('a truncated, damaged, empty or missing file is one line and exit code 2, before any training', () => {
    const good = readFileSync(at('app.climrun'));
    copyFileSync(at('app.climrun'), at('cut.climrun'));
    truncateSync(at('cut.climrun'), good.length - 100);
    const flipped = Uint8Array.from(good);
    flipped[flipped.length - 5] ^= 1;
    writeFileSync(at('flipped.climrun'), flipped);
    writeFileSync(at('empty.climrun'), '');
    writeFileSync(at('text.climrun'), 'not a run');
    for (const [name, msg] of [
      ['cut.climrun', /The run file is truncated: \d+ bytes of the \d+ it was written with\.$/],
      ['flipped.climrun', /The run file is damaged: its contents do not match the checksum written with them\.$/],
      ['empty.climrun', /The file is empty \(0 bytes\), so it is not a run file\.$/],
      ['text.climrun', /This is not a CLIM Playground run file/],
      ['missing.climrun', /ENOENT: no such file or directory/],
    ] as const) {
      const r = cli(['--resume', at(name), '--out', at('never.json')]);
      expect(r.status, name).toBe(2);
      expect(r.stdout, name).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, name).toHaveLength(1);
      expect(lines[0], name).toMatch(
        new RegExp(`^error: --resume ${at(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `),
      );
      expect(lines[0], name).toMatch(msg);
    }
  });

  it('checks the --save-run path before training', () => {
    const r = cli(['--steps', '1', '--save-run', dir]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd()).toBe(`error: --save-run ${dir}: it is a folder; give a file name`);
  });
});
