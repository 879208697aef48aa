import { describe, expect, it } from 'vitest';
import { encoderHint, encoderLabel, openedModelNote } from './encoder-view';
import { NEW_RUN_REQUESTS, isRunScoped, requestTransferables } from '../worker/protocol';

describe('encoder-view', () => {
  it('names the starting weights', () => {
    expect(encoderLabel(null)).toBe('Encoder: random init');
    expect(encoderLabel({ source: 'builtin', name: 'fashion-mnist-encoder', steps: 400 })).toBe(
      'Encoder: trained (fashion-mnist-encoder, 400 steps)',
    );
    expect(encoderLabel({ source: 'builtin', name: 'fashion-mnist-encoder' })).toBe(
      'Encoder: trained (fashion-mnist-encoder)',
    );
    expect(encoderLabel({ source: 'file', name: 'mine.climweights', steps: 90 })).toBe(
      'Encoder: mine.climweights (90 steps)',
    );
    expect(encoderLabel({ source: 'file', name: 'mine.climweights' })).toBe('Encoder: mine.climweights');
  });

  it('says the steps and accuracy in the hint once known', () => {
    expect(encoderHint({ steps: 400, knnTop1: 0.7695 })).toMatch(
      /^A small encoder trained for 400 steps on this set \(kNN top-1 77\.0%\); the bank and clusters are built with it as soon as it is chosen/,
    );
    expect(encoderHint(null)).toMatch(/^A small encoder trained on this set; /);
    expect(encoderHint({ steps: 60, knnTop1: null })).toMatch(/^A small encoder trained for 60 steps on this set; /);
  });
});

describe('openedModelNote', () => {
  const file = { source: 'file' as const, name: 'big.climweights' };
  it('says the views show the opened model at step 0, and while it is being embedded', () => {
    expect(openedModelNote(file, { runState: 'preparing', step: 0, shown: false })).toMatch(/^Embedding the bank/);
    expect(openedModelNote(file, { runState: 'paused', step: 0, shown: true })).toMatch(
      /^Positives and Clusters show this model as opened: step 0, .*Start trains on from it\.$/,
    );
    expect(openedModelNote({ source: 'builtin', name: 'x' }, { runState: 'running', step: 0, shown: true })).toMatch(
      /show this model as opened/,
    );
  });
  it('says nothing for random init, before the views are filled, or once training moved on', () => {
    expect(openedModelNote(null, { runState: 'paused', step: 0, shown: true })).toBeNull();
    expect(openedModelNote(file, { runState: 'idle', step: 0, shown: false })).toBeNull();
    expect(openedModelNote(file, { runState: 'paused', step: 3, shown: true })).toBeNull();
  });
});

describe('protocol: setInitWeights', () => {
  it('starts a new run, moves a file’s bytes, and its answer is never dropped', () => {
    expect(NEW_RUN_REQUESTS.has('setInitWeights')).toBe(true);
    const bytes = Uint8Array.from([1, 2]);
    expect(
      requestTransferables({
        type: 'setInitWeights',
        runId: 1,
        source: { kind: 'file', bytes, fileName: 'a.climweights' },
      }),
    ).toEqual([bytes.buffer]);
    expect(
      requestTransferables({ type: 'setInitWeights', runId: 1, source: { kind: 'builtin', name: 'fashion-mnist' } }),
    ).toEqual([]);
    expect(requestTransferables({ type: 'setInitWeights', runId: 1, source: null })).toEqual([]);
    expect(isRunScoped({ type: 'initWeights', runId: 1, source: null, name: null, info: null })).toBe(false);
  });
});
