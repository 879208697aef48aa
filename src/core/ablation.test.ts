/**
 * The ablation engine against independent computations: arm configs field
 * by field, an arm's row against the same config trained by hand, the
 * raw-pixel baseline against a plain-JS kNN, and the table texts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  ABLATION_CSV_HEADER,
  ABLATION_IDS,
  ABLATION_VARIANTS,
  AblationAbortedError,
  ablationBaseConfig,
  ablationConfigs,
  ablationCsv,
  ablationMarkdown,
  multiResolutions,
  rawPixelKnn,
  runAblationArm,
  type AblationRow,
} from './ablation';
import { MIX_MODES, SELECTION_MODES, defaultConfig, tinyConfig, validateConfig, type ClimConfig } from './config';
import { presetConfig } from './presets';
import { makeShapesDataset } from './data/shapes';
import { Trainer } from './train';
import type { StepMetrics } from './api';
import type { Dataset } from './data/dataset';
import { Rng } from './rng';

describe('ablationConfigs', () => {
  const varying = new Set<keyof ClimConfig>(['selection', 'mix', 'resolutions']);

  for (const [name, base] of [
    ['defaults', defaultConfig()],
    ['ablation base (fast-demo-cpu)', ablationBaseConfig()],
    ['tiny', tinyConfig({ seed: 4, totalSteps: 37 })],
  ] as const) {
    it(`${name}: every arm is valid and differs from the base only in selection, mix and resolutions`, () => {
      const arms = ablationConfigs(base);
      expect(arms.map((a) => a.id)).toEqual([...ABLATION_IDS]);
      for (const a of arms) {
        expect(validateConfig(a.config)).toEqual([]);
        for (const key of Object.keys(base) as Array<keyof ClimConfig>) {
          if (!varying.has(key)) expect(a.config[key], `${a.id}.${key}`).toEqual(base[key]);
        }
        const v = ABLATION_VARIANTS.find((x) => x.id === a.id)!;
        expect([a.config.selection, a.config.mix]).toEqual([v.selection, v.mix]);
        expect(a.config.resolutions).toEqual(
          v.resolutions === 'multi' ? multiResolutions(base) : [base.resolutions[0]],
        );
        // Fresh arrays: editing one arm cannot reach the base or another arm.
        expect(a.config.resolutions).not.toBe(base.resolutions);
      }
    });
  }

  it('covers the 4 selection × 2 mixing grid at one resolution, plus CLIM at two resolutions', () => {
    const arms = ablationConfigs(ablationBaseConfig());
    const single = arms.filter((a) => a.config.resolutions.length === 1);
    const grid = single.map((a) => `${a.config.selection}/${a.config.mix}`).sort();
    const want = SELECTION_MODES.flatMap((s) => MIX_MODES.filter((m) => m !== 'mixup').map((m) => `${s}/${m}`)).sort();
    expect(grid).toEqual(want);
    const multi = arms.filter((a) => a.config.resolutions.length > 1);
    expect(multi.map((a) => [a.config.selection, a.config.mix, a.config.resolutions])).toEqual([
      ['center-wise', 'cutmix', [24, 16]],
    ]);
    // Its one-resolution twin is in the grid with the same first resolution.
    expect(single.find((a) => a.id === 'center-wise+cutmix')!.config.resolutions).toEqual([24]);
  });

  it('second resolution ≈ r·160/224 on the encoder grid', () => {
    expect(multiResolutions(defaultConfig())).toEqual([32, 24]); // step 8: 22.9 → 24
    expect(multiResolutions(presetConfig('fast-demo-cpu'))).toEqual([24, 16]); // 17.1 → 16
    expect(multiResolutions(tinyConfig())).toEqual([16, 12]); // step 2: 11.4 → 12
    expect(multiResolutions({ ...defaultConfig(), resolutions: [8] })).toEqual([8, 16]); // nothing smaller fits: next larger
  });

  it('picks a subset in the given order and names unknown ids', () => {
    expect(ablationConfigs(tinyConfig(), ['center-wise', 'moco-v2']).map((a) => a.id)).toEqual([
      'center-wise',
      'moco-v2',
    ]);
    expect(() => ablationConfigs(tinyConfig(), ['knn', 'nnclr'])).toThrow(
      /unknown ablation arm "nnclr"; known: moco-v2, moco-v2\+cutmix, knn/,
    );
    expect(() => ablationConfigs(tinyConfig(), ['knn', 'knn'])).toThrow(/repeat/);
    expect(() => ablationConfigs(tinyConfig(), [])).toThrow(/no ablation arm/);
  });
});

/** Plain-JS raw-pixel kNN (METHOD §6): cosine of flattened pixels, k nearest, each votes exp(sim/τ); first class wins ties. */
function naiveRawKnn(d: Dataset, k: number, tau: number, classes: number): number {
  const dim = d.size * d.size * 3;
  const vec = (imgs: Uint8Array, i: number) => {
    const v = Array.from(imgs.subarray(i * dim, (i + 1) * dim), (x) => x / 255);
    const n = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
    return v.map((x) => x / n);
  };
  const train = Array.from({ length: d.train.n }, (_, i) => vec(d.train.images, i));
  let right = 0;
  for (let t = 0; t < d.test.n; t++) {
    const q = vec(d.test.images, t);
    const sims = train.map((x, j) => ({ j, s: x.reduce((a, xv, c) => a + xv * q[c], 0) }));
    sims.sort((a, b) => b.s - a.s);
    const score = new Array<number>(classes).fill(0);
    for (const { j, s } of sims.slice(0, k)) score[d.train.labels![j]] += Math.exp(s / tau);
    let best = 0;
    for (let c = 1; c < classes; c++) if (score[c] > score[best]) best = c;
    if (best === d.test.labels![t]) right++;
  }
  return right / d.test.n;
}

/** `classes` random S×S RGB templates; each image is its class's template plus uniform noise of ±`noise` levels, labels round-robin. */
function templateSet(rng: Rng, classes: number, size: number, nTrain: number, nTest: number, noise = 110): Dataset {
  const dim = size * size * 3;
  const templates = Array.from({ length: classes }, () => Array.from({ length: dim }, () => rng.int(256)));
  const split = (n: number) => {
    const images = new Uint8Array(n * dim);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % classes;
      for (let j = 0; j < dim; j++)
        images[i * dim + j] = Math.max(
          0,
          Math.min(255, templates[labels[i]][j] + Math.round(rng.uniform(-noise, noise))),
        );
    }
    return { n, images, labels };
  };
  return {
    id: 'templates',
    name: 'templates',
    size,
    train: split(nTrain),
    test: split(nTest),
    classNames: Array.from({ length: classes }, (_, c) => `t${c}`),
  };
}

describe('on the wasm backend', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('rawPixelKnn equals a plain double loop over the pixels', async () => {
    // Shapes at 8 px: raw pixels are near chance (1/8).
    const d = makeShapesDataset({ seed: 3, nTrain: 64, nTest: 40, size: 8 });
    for (const [k, tau] of [
      [1, 0.1],
      [5, 0.1],
      [9, 0.5],
    ] as const) {
      const want = naiveRawKnn(d, k, tau, 8);
      const got = await rawPixelKnn(d, k, tau);
      expect(got, `k=${k} τ=${tau}`).toBe(want);
      expect(want).toBeGreaterThan(0);
    }
    // Three noisy class templates: pixels carry the class, so the vote matters.
    const noisy = templateSet(new Rng(8), 3, 3, 90, 60, 250);
    const accs: number[] = [];
    for (const [k, tau] of [
      [1, 0.1],
      [7, 0.05],
      [15, 1],
    ] as const) {
      const want = naiveRawKnn(noisy, k, tau, 3);
      expect(await rawPixelKnn(noisy, k, tau), `templates k=${k} τ=${tau}`).toBe(want);
      accs.push(want);
    }
    expect(Math.min(...accs)).toBeGreaterThan(0.5);
    expect(new Set(accs).size).toBeGreaterThan(1);
    const before = tf.memory().numTensors;
    await rawPixelKnn(d, 5, 0.1);
    expect(tf.memory().numTensors).toBe(before);
    expect(
      await rawPixelKnn({ ...d, test: { n: 0, images: new Uint8Array(0), labels: new Int32Array(0) } }, 5, 0.1),
    ).toBeNull();
    expect(await rawPixelKnn({ ...d, train: { ...d.train, labels: null } }, 5, 0.1)).toBeNull();
  });

  it('a 2-arm ablation gives the rows of the same configs trained by hand', async () => {
    const data = makeShapesDataset({ seed: 2, nTrain: 96, nTest: 32, size: 16 });
    const steps = 6;
    const base = tinyConfig({ seed: 11, climWarmupSteps: 2, totalSteps: steps });
    const arms = ablationConfigs(base, ['knn', 'center-wise+cutmix+multires']);
    expect(arms[1].config.resolutions).toEqual([16, 12]);
    for (const arm of arms) {
      const before = tf.memory().numTensors;
      const seen: number[] = [];
      const row = await runAblationArm(arm, data, steps, { onStep: (m) => seen.push(m.step) });
      expect(tf.memory().numTensors, `${arm.id} leaks`).toBe(before);
      expect(seen).toEqual([1, 2, 3, 4, 5, 6]);

      // By hand: the same config, the same number of steps, the metrics kept here.
      const t = await Trainer.create(arm.config, data);
      const ms: StepMetrics[] = [];
      for (let s = 0; s < steps; s++) ms.push(await t.trainStep());
      const e = await t.evaluate({ full: true });
      t.dispose();
      // Steps 3..6 ran selection (the first 2 are the CLIM warm-up).
      const win = ms.slice(2);
      const precs = win.map((m) => m.precision).filter((p): p is number => p !== null);
      expect(precs.length).toBeGreaterThan(0);
      let sum = 0;
      for (const p of precs) sum += p;
      let cov = 0;
      for (const m of win) cov += m.coverage;
      let loss = 0;
      for (const m of ms) loss += m.loss;

      expect(row.id).toBe(arm.id);
      expect(row.label).toBe(arm.label);
      expect(row.steps).toBe(steps);
      expect(row.knnTop1).toBe(e.knnTop1);
      expect(row.knnTop1).not.toBeNull();
      expect(row.linearTop1).toBeCloseTo(e.linearTop1!, 6);
      expect(row.precision).toBeCloseTo(sum / precs.length, 12);
      expect(row.coverage).toBeCloseTo(cov / win.length, 12);
      expect(row.finalLoss).toBeCloseTo(loss / ms.length, 5); // all 6 steps are within the last 20
      expect(row.alignment).toBeCloseTo(e.alignment!, 5);
      expect(row.uniformity).toBeCloseTo(e.uniformity!, 5);
      expect(row.clusterNmi).toBeCloseTo(e.clusterNmi!, 10);
      expect(row.seconds).toBeGreaterThan(0);
    }
  });

  it('selection none has no precision and no coverage; an aborted arm throws and frees its tensors', async () => {
    const data = makeShapesDataset({ seed: 2, nTrain: 48, nTest: 16, size: 16 });
    const [moco] = ablationConfigs(tinyConfig({ seed: 1, climWarmupSteps: 1, totalSteps: 3 }), ['moco-v2']);
    const row = await runAblationArm(moco, data, 3);
    expect([row.precision, row.coverage]).toEqual([null, null]);
    expect(row.finalLoss).not.toBeNull();

    const before = tf.memory().numTensors;
    const signal = { aborted: false };
    let steps = 0;
    const p = runAblationArm(moco, data, 10, {
      signal,
      onStep: () => {
        if (++steps === 2) signal.aborted = true;
      },
    });
    await expect(p).rejects.toThrow(AblationAbortedError);
    await expect(p).rejects.toThrow('ablation arm moco-v2 aborted at step 2');
    expect(steps).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('table text', () => {
  const rows: AblationRow[] = [
    {
      id: 'moco-v2',
      label: 'MoCo v2',
      knnTop1: 0.5,
      linearTop1: 0.625,
      precision: null,
      coverage: null,
      finalLoss: 4.56789,
      alignment: 0.25,
      uniformity: -1.5,
      clusterNmi: 0.3333333,
      knnRulePrecision: 0.6,
      centerWiseRulePrecision: null,
      seconds: 12.34,
      steps: 100,
    },
    {
      id: 'center-wise+cutmix',
      label: 'CLIM, "1 res", a|b',
      knnTop1: 0.71875,
      linearTop1: null,
      precision: 0.8125,
      coverage: 0.96875,
      finalLoss: 4.1,
      alignment: null,
      uniformity: null,
      clusterNmi: null,
      knnRulePrecision: 0.65,
      centerWiseRulePrecision: 0.6875,
      seconds: 20,
      steps: 100,
    },
  ];

  it('CSV: the header, one line per arm, empty cells for missing values, quoted labels', () => {
    expect(ablationCsv(rows)).toBe(
      [
        ABLATION_CSV_HEADER,
        'moco-v2,MoCo v2,100,0.5,0.625,,,4.56789,0.25,-1.5,0.333333,0.6,,12.3',
        'center-wise+cutmix,"CLIM, ""1 res"", a|b",100,0.71875,,0.8125,0.96875,4.1,,,,0.65,0.6875,20',
        '',
      ].join('\n'),
    );
    expect(ABLATION_CSV_HEADER.split(',')).toEqual([
      'id',
      'label',
      'steps',
      'knn_top1',
      'linear_top1',
      'precision',
      'coverage',
      'final_loss',
      'alignment',
      'uniformity',
      'cluster_nmi',
      'knn_rule_precision',
      'center_wise_rule_precision',
      'seconds',
    ]);
  });

  it('Markdown: percentages, dashes for missing values, and the baseline line', () => {
    const md = ablationMarkdown(rows, { knnTop1: 0.8061, k: 20, tau: 0.1 }).split('\n');
    expect(md[0]).toBe(
      '| arm | kNN top-1 | linear top-1 | selection precision | coverage | final loss | alignment | uniformity | cluster NMI | kNN rule precision | center-wise rule precision | time |',
    );
    expect(md[2]).toBe(
      '| MoCo v2 (`moco-v2`) | 50.0% | 62.5% | — | — | 4.568 | 0.250 | -1.500 | 0.333 | 60.0% | — | 12 s |',
    );
    expect(md[3]).toBe(
      '| CLIM, "1 res", a\\|b (`center-wise+cutmix`) | 71.9% | — | 81.3% | 96.9% | 4.100 | — | — | — | 65.0% | 68.8% | 20 s |',
    );
    expect(md[5]).toBe('Raw-pixel kNN baseline (same split, k = 20, τ = 0.1): 80.6% top-1.');
    expect(ablationMarkdown(rows, null).trimEnd().split('\n')).toHaveLength(4);
  });
});
