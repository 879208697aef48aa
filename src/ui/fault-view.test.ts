import { describe, expect, it } from 'vitest';
import { faultView } from './fault-view';

describe('faultView', () => {
  it('names the step, the term, the value and the offered rate after a NaN loss', () => {
    const v = faultView({
      kind: 'loss',
      step: 137,
      term: 'positive',
      value: 'NaN',
      lr: 0.06,
      saferLr: 0.03,
      checkpoint: { key: 'run-1', step: 100 },
    });
    expect(v.message).toBe(
      'Training paused at step 137: the positive InfoNCE term (mixed image against its positive’s key) became NaN at learning rate 0.06. Nothing after step 100 is saved. Restore that checkpoint and go on at half the rate?',
    );
    expect(v.action).toBe('Restore step 100 with learning rate 0.03');
  });

  it('offers to start over when nothing was saved', () => {
    const v = faultView({
      kind: 'loss',
      step: 12,
      term: 'anchor',
      value: 'Infinity',
      lr: 0.5,
      saferLr: 0.25,
      checkpoint: null,
    });
    expect(v.message).toContain(
      'step 12: the anchor InfoNCE term (query against its own key) became Infinity at learning rate 0.5.',
    );
    expect(v.action).toBe('Start over with learning rate 0.25');
  });

  it('reports a backend switch with where the run came back from', () => {
    expect(
      faultView({
        kind: 'device',
        message: 'GPU device was lost',
        from: 'webgpu',
        to: 'wasm',
        resumedFrom: 300,
        continued: true,
      }),
    ).toEqual({
      message:
        'The webgpu backend failed (GPU device was lost). Switched to wasm. The run was restored from its checkpoint at step 300 and training goes on.',
      action: null,
    });
    expect(
      faultView({
        kind: 'device',
        message: 'out of memory',
        from: 'webgl',
        to: 'cpu',
        resumedFrom: null,
        continued: false,
      }).message,
    ).toBe(
      'The webgl backend failed (out of memory). Switched to cpu. There was no checkpoint yet, so the run starts over from step 0 and is paused.',
    );
  });
});
