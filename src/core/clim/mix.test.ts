import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { MIXERS, getMixer, type MixPlan } from './mix';
import { MIX_MODES, type MixMode } from '../config';
import { Rng } from '../rng';

/** Anchor pixels in [0, 0.5), positive pixels in [0.5, 1): every output pixel tells where it came from. */
function views(b: number, r: number, seed: number): { a: Float32Array; p: Float32Array } {
  const rng = new Rng(seed);
  const n = b * r * r * 3;
  const a = new Float32Array(n);
  const p = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = 0.5 * rng.next();
    p[i] = 0.5 + 0.5 * rng.next();
  }
  return { a, p };
}

async function applyMix(mode: MixMode, plan: MixPlan, a: Float32Array, p: Float32Array, b: number, r: number) {
  const at = tf.tensor4d(a, [b, r, r, 3]);
  const pt = tf.tensor4d(p, [b, r, r, 3]);
  const before = tf.memory().numTensors;
  const { mixed, lambda } = getMixer(mode).apply(plan, at, pt);
  expect(tf.memory().numTensors).toBe(before + 1); // only the result survives
  expect(mixed.shape).toEqual([b, r, r, 3]);
  const out = (await mixed.data()) as Float32Array;
  tf.dispose([at, pt, mixed]);
  return { out, lambda };
}

describe('mix (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('cutmix: pasted pixels come from the positive, the rest from the anchor, λ = kept share at 32 and 24', async () => {
    const b = 64;
    const plan = MIXERS.cutmix.plan(b, 0.8, 1, new Rng(3));
    let mixedImages = 0;
    const lambdas: Record<number, Float32Array> = {};
    for (const r of [32, 24]) {
      const { a, p } = views(b, r, r);
      const { out, lambda } = await applyMix('cutmix', plan, a, p, b, r);
      lambdas[r] = lambda;
      let ambiguous = 0; // pixels that are not exactly one of the two inputs
      for (let i = 0; i < b; i++) {
        let pasted = 0;
        let [ymin, ymax, xmin, xmax] = [r, -1, r, -1];
        for (let y = 0; y < r; y++) {
          for (let x = 0; x < r; x++) {
            const k = ((i * r + y) * r + x) * 3;
            const fromP = out[k] === p[k] && out[k + 1] === p[k + 1] && out[k + 2] === p[k + 2];
            const fromA = out[k] === a[k] && out[k + 1] === a[k + 1] && out[k + 2] === a[k + 2];
            if (fromP === fromA) ambiguous++;
            if (fromP) {
              pasted++;
              [ymin, ymax, xmin, xmax] = [Math.min(ymin, y), Math.max(ymax, y), Math.min(xmin, x), Math.max(xmax, x)];
            }
          }
        }
        expect(lambda[i]).toBeCloseTo(1 - pasted / (r * r), 6);
        if (!plan.applied[i]) {
          expect(pasted).toBe(0);
          expect(lambda[i]).toBe(1);
          continue;
        }
        if (r === 32 && pasted > 0) mixedImages++;
        if (pasted === 0) continue;
        // The pasted set is a full rectangle …
        expect((ymax - ymin + 1) * (xmax - xmin + 1)).toBe(pasted);
        // … whose edges are the plan's fractional edges rounded to pixels (±½ px).
        const [cy, cx, h, w] = plan.boxes.subarray(i * 4, i * 4 + 4);
        expect(Math.abs(ymin - (cy - h / 2) * r)).toBeLessThanOrEqual(0.5 + 1e-4);
        expect(Math.abs(ymax + 1 - (cy + h / 2) * r)).toBeLessThanOrEqual(0.5 + 1e-4);
        expect(Math.abs(xmin - (cx - w / 2) * r)).toBeLessThanOrEqual(0.5 + 1e-4);
        expect(Math.abs(xmax + 1 - (cx + w / 2) * r)).toBeLessThanOrEqual(0.5 + 1e-4);
      }
      expect(ambiguous).toBe(0);
    }
    expect(mixedImages).toBeGreaterThan(30);
    // The same plan at both resolutions: λ agrees up to pixel rounding of the edges.
    for (let i = 0; i < b; i++) expect(Math.abs(lambdas[32][i] - lambdas[24][i])).toBeLessThan(2 / 24 + 1 / 24 ** 2);
  });

  it('cutmix plan: side √(1 − λ) with a uniform centre, clipped to the image', () => {
    const n = 4000;
    const plan = MIXERS.cutmix.plan(n, 1, 1, new Rng(4));
    let interior = 0;
    let cxSum = 0;
    let outside = 0; // boxes leaving the image
    let tooBig = 0; // sides above √(1 − λ)
    let interiorOff = 0; // unclipped boxes whose side is not √(1 − λ)
    for (let i = 0; i < n; i++) {
      const [cy, cx, h, w] = plan.boxes.subarray(i * 4, i * 4 + 4);
      const side = Math.sqrt(1 - plan.lambda[i]);
      const edges = [cy - h / 2, cy + h / 2, cx - w / 2, cx + w / 2];
      if (Math.min(...edges) < -1e-6 || Math.max(...edges) > 1 + 1e-6) outside++;
      if (h > side + 1e-6 || w > side + 1e-6) tooBig++;
      if (edges.every((e) => e > 1e-6 && e < 1 - 1e-6)) {
        interior++;
        if (Math.abs(h - side) > 1e-5 || Math.abs(w - side) > 1e-5) interiorOff++;
      }
      cxSum += cx;
    }
    expect([outside, tooBig, interiorOff]).toEqual([0, 0, 0]);
    expect(interior).toBeGreaterThan(100);
    expect(cxSum / n).toBeCloseTo(0.5, 1);
  });

  it('mixup equals the naive blend λ·anchor + (1 − λ)·positive; unmixed images are the anchor', async () => {
    const b = 16;
    const r = 24;
    const plan = MIXERS.mixup.plan(b, 0.7, 0.5, new Rng(5));
    expect(plan.applied.some((v) => v === 0)).toBe(true);
    const { a, p } = views(b, r, 6);
    const { out, lambda } = await applyMix('mixup', plan, a, p, b, r);
    const per = r * r * 3;
    for (let i = 0; i < b; i++) {
      const lam = plan.applied[i] ? plan.lambda[i] : 1;
      expect(lambda[i]).toBe(Math.fround(lam));
      let err = 0;
      for (let k = i * per; k < (i + 1) * per; k++)
        err = Math.max(err, Math.abs(out[k] - (lam * a[k] + (1 - lam) * p[k])));
      expect(err).toBeLessThan(1e-6);
      if (!plan.applied[i]) expect(out.subarray(i * per, (i + 1) * per)).toEqual(a.subarray(i * per, (i + 1) * per));
    }
  });

  it('probability 0 leaves every anchor exactly and λ = 1 (cutmix and mixup)', async () => {
    const b = 8;
    const r = 16;
    const { a, p } = views(b, r, 7);
    for (const mode of ['cutmix', 'mixup'] as const) {
      const plan = MIXERS[mode].plan(b, 0, 1, new Rng(8));
      expect(Array.from(plan.applied)).toEqual(new Array(b).fill(0));
      const { out, lambda } = await applyMix(mode, plan, a, p, b, r);
      expect(out).toEqual(a);
      expect(Array.from(lambda)).toEqual(new Array(b).fill(1));
    }
  });

  it('λ ~ Beta(α, α): mean ½, variance 1/(4(2α + 1)); mixed with probability p', () => {
    for (const alpha of [1, 0.5, 2]) {
      const n = 20000;
      const plan = MIXERS.mixup.plan(n, 0.8, alpha, new Rng(9));
      let count = 0;
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        if (!plan.applied[i]) {
          expect(plan.lambda[i]).toBe(1);
          continue;
        }
        count++;
        sum += plan.lambda[i];
        sq += plan.lambda[i] ** 2;
      }
      const mean = sum / count;
      expect(count / n).toBeCloseTo(0.8, 1);
      expect(mean).toBeCloseTo(0.5, 1);
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
      expect(Math.abs(sq / count - mean * mean - 1 / (4 * (2 * alpha + 1)))).toBeLessThan(0.01);
    }
  });

  it('none returns the anchor (as a tensor of its own) and λ = 1', async () => {
    const b = 4;
    const r = 8;
    const { a, p } = views(b, r, 10);
    const plan = getMixer('none').plan(b, 1, 1, new Rng(1));
    const { out, lambda } = await applyMix('none', plan, a, p, b, r);
    expect(out).toEqual(a);
    expect(Array.from(lambda)).toEqual([1, 1, 1, 1]);
  });

  it('looks mixers up by name and refuses mismatched plans and bad arguments', () => {
    expect(Object.keys(MIXERS).sort()).toEqual([...MIX_MODES].sort());
    for (const m of MIX_MODES) expect(getMixer(m).name).toBe(m);
    expect(() => getMixer('blend' as MixMode)).toThrow(/unknown mix mode/);
    expect(() => getMixer('toString' as MixMode)).toThrow(/unknown mix mode/);
    const plan = MIXERS.mixup.plan(2, 1, 1, new Rng(1));
    const x = tf.zeros([2, 4, 4, 3]) as tf.Tensor4D;
    expect(() => MIXERS.cutmix.apply(plan, x, x)).toThrow(/mixup plan/);
    expect(() => MIXERS.cutmix.plan(2, 1.5, 1, new Rng(1))).toThrow(/probability/);
    expect(() => MIXERS.cutmix.plan(2, 1, 0, new Rng(1))).toThrow(/α/);
    x.dispose();
  });
});

describe('mix (wasm against cpu)', () => {
  it('cutmix and mixup give the same pixels and λ on wasm as on cpu', async () => {
    const b = 12;
    const r = 24;
    const { a, p } = views(b, r, 11);
    const results: Record<string, Float32Array[]> = {};
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      await tf.ready();
      expect(tf.getBackend()).toBe(backend);
      for (const mode of ['cutmix', 'mixup'] as const) {
        const plan = MIXERS[mode].plan(b, 0.8, 1, new Rng(12));
        const { out, lambda } = await applyMix(mode, plan, a, p, b, r);
        (results[mode] ??= []).push(out, lambda);
      }
    }
    await tf.setBackend('cpu');
    expect(results.cutmix[2]).toEqual(results.cutmix[0]); // cutmix is an exact 0/1 blend
    expect(results.cutmix[3]).toEqual(results.cutmix[1]);
    let err = 0;
    for (let k = 0; k < results.mixup[0].length; k++)
      err = Math.max(err, Math.abs(results.mixup[0][k] - results.mixup[2][k]));
    expect(err).toBeLessThan(1e-6);
  });
});
