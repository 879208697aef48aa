import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { knnClassify, weightedVote } from './knn-monitor';
import { Rng } from '../rng';

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** Naive monitor: full sort of cosine similarities, weighted vote. */
function naive(
  train: number[][],
  labels: number[],
  test: number[][],
  k: number,
  tau: number,
  classes: number,
): number[] {
  return test.map((t) => {
    const sims = train
      .map((x, i) => ({ i, s: x.reduce((a, v, d) => a + v * t[d], 0) }))
      .sort((a, b) => b.s - a.s || a.i - b.i);
    const score = new Array(classes).fill(0);
    for (const { i, s } of sims.slice(0, k)) score[labels[i]] += Math.exp(s / tau);
    return score.indexOf(Math.max(...score));
  });
}

describe('kNN monitor', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('hand-worked vote: two close votes for class 1 beat one closer vote for class 0 at high τ, not at low τ', () => {
    // neighbours of one query: class 0 at s=0.9, class 1 at s=0.8 and s=0.8
    const idx = [0, 1, 2];
    const sims = [0.9, 0.8, 0.8];
    const labels = Int32Array.from([0, 1, 1]);
    // τ=1: e^0.9=2.46 < 2·e^0.8=4.45 → class 1
    expect(weightedVote(idx, sims, 1, 3, labels, 1, 2)[0]).toBe(1);
    // τ=0.01: e^90 ≫ 2·e^80 → class 0
    expect(weightedVote(idx, sims, 1, 3, labels, 0.01, 2)[0]).toBe(0);
  });

  it('matches a naive full-sort monitor on random features, k larger than the memory included', async () => {
    const rng = new Rng(5);
    const d = 6;
    const train = Array.from({ length: 40 }, () => unit(Array.from({ length: d }, () => rng.normal())));
    const labels = train.map(() => rng.int(3));
    const test = Array.from({ length: 15 }, () => unit(Array.from({ length: d }, () => rng.normal())));
    for (const k of [1, 5, 60]) {
      const got = await knnClassify(tf.tensor2d(train), Int32Array.from(labels), tf.tensor2d(test), k, 0.1, 3);
      expect(Array.from(got)).toEqual(naive(train, labels, test, Math.min(k, 40), 0.1, 3));
    }
  });
});
