import { beforeEach, describe, expect, it } from 'vitest';
import type { StoreApi } from 'zustand/vanilla';
import { configJson, tinyConfig } from '../core/config';
import { presetConfig } from '../core/presets';
import { EngineClient } from '../worker/client';
import type { RunState } from '../worker/protocol';
import { isFreshRun, pendingRestart, pytorchConfigJson, startBlocker } from './settings-store';
import { createClimStore, type ClimState } from './store';
import { FakeWorker } from './fake-worker.test-util';

let worker: FakeWorker;
let store: StoreApi<ClimState>;
const st = () => store.getState();

beforeEach(() => {
  worker = new FakeWorker();
  store = createClimStore({ makeClient: () => new EngineClient(worker) });
  st().connect({ backend: 'wasm', config: tinyConfig(), preset: null });
  state('idle', 0);
});

function state(s: RunState, step: number) {
  worker.emit({ type: 'state', runId: worker.last.runId, state: s, step, datasetId: 'shapes:seed=1' });
}

/** A run paused after `steps` steps, as the worker reports it. */
function pausedAfter(steps: number) {
  st().start();
  state('running', 0);
  worker.emit({
    type: 'progress',
    runId: worker.last.runId,
    metrics: Array.from({ length: steps }, (_, i) => ({
      step: i + 1,
      loss: 5,
      lossAnchor: 5,
      lossPositive: 5,
      lr: 0.06,
      ms: 100,
      imagesPerSecond: 80,
      coverage: 1,
      precision: null,
      lambdaMean: 1,
      selectionMs: 0,
      kmeansMs: 0,
      refreshMs: 0,
    })),
  });
  state('paused', steps);
}

describe('settings draft', () => {
  it('an invalid batch size is explained, blocks Start and is never sent; fixing it applies at once on a fresh run', () => {
    const before = worker.sent.length;
    st().editDraft({ batchSize: 0 });
    expect(st().draftIssues).toEqual([
      { field: 'batchSize', message: 'batchSize must be a whole number from 1 to 1024 (got 0).' },
    ]);
    expect(startBlocker(st())).toBe(
      'Fix the invalid setting first: batchSize must be a whole number from 1 to 1024 (got 0).',
    );
    expect(worker.sent).toHaveLength(before);
    expect(st().config.batchSize).toBe(tinyConfig().batchSize);

    st().editDraft({ batchSize: 16 });
    expect(startBlocker(st())).toBeNull();
    expect(worker.last).toMatchObject({ type: 'configure', config: { batchSize: 16 } });
    expect(st().config.batchSize).toBe(16);
    expect(st().draft).toBe(st().config);
  });

  it('counts several problems in the Start reason', () => {
    st().editDraft({ batchSize: 0, lr: Number.NaN });
    expect(startBlocker(st())).toMatch(/^Fix 2 invalid settings first: /);
  });

  it('a live edit while paused sends setLive with only the live keys and keeps the run and its step', () => {
    pausedAfter(2);
    const runId = worker.last.runId;
    expect(isFreshRun(st())).toBe(false);
    st().editDraft({ lr: 0.2, batchSize: 16 });
    const live = worker.sent.filter((m) => m.type === 'setLive');
    expect(live).toEqual([{ type: 'setLive', runId, patch: { lr: 0.2 } }]);
    expect(worker.types()).not.toContain('reset');
    expect(worker.types().filter((t) => t === 'configure')).toHaveLength(1);
    expect(st().step).toBe(2);
    expect(st().metrics).toHaveLength(2);
    expect(st().config.lr).toBe(0.2);
    // The batch size waits for a new run.
    expect(st().config.batchSize).toBe(tinyConfig().batchSize);
    expect(pendingRestart(st())).toEqual(['batchSize']);
  });

  it('a non-live edit while paused sends nothing until Apply and restart, which starts a new run', () => {
    pausedAfter(3);
    const n = worker.sent.length;
    st().editDraft({ batchSize: 4 });
    expect(worker.sent).toHaveLength(n);
    expect(pendingRestart(st())).toEqual(['batchSize']);
    expect(st().step).toBe(3);
    st().applyDraft();
    expect(worker.last).toMatchObject({ type: 'configure', config: { ...tinyConfig(), batchSize: 4 } });
    expect(worker.last.runId).toBeGreaterThan(worker.sent[n - 1].runId);
    expect(st().step).toBe(0);
    expect(pendingRestart(st())).toEqual([]);
  });

  it('a live edit is sent while another field is invalid, but an invalid live value is not', () => {
    pausedAfter(1);
    st().editDraft({ batchSize: 0 });
    st().editDraft({ temperature: 0 });
    expect(worker.types()).not.toContain('setLive');
    expect(st().draftIssues.map((i) => i.field)).toEqual(['batchSize', 'temperature']);
    st().editDraft({ temperature: 0.1 });
    expect(worker.last).toMatchObject({ type: 'setLive', patch: { temperature: 0.1 } });
    // Apply and restart stays off while the batch size is wrong.
    const n = worker.sent.length;
    st().applyDraft();
    expect(worker.sent).toHaveLength(n);
  });

  it('ignores edits while a step may be running', () => {
    st().start();
    state('running', 0);
    st().editDraft({ lr: 0.3 });
    expect(st().draft.lr).toBe(tinyConfig().lr);
    expect(worker.types()).not.toContain('setLive');
  });

  it('Discard returns to the applied config; Reset applies a valid pending draft as the new run', () => {
    pausedAfter(2);
    st().editDraft({ knnK: 2, clusters: 2 });
    expect(pendingRestart(st())).toEqual(['clusters']);
    st().discardDraft();
    expect(st().draft).toEqual(st().config);
    expect(st().config.knnK).toBe(2);

    st().editDraft({ clusters: 2 });
    st().reset();
    expect(worker.last).toMatchObject({ type: 'configure', config: { clusters: 2, knnK: 2 } });
    expect(pendingRestart(st())).toEqual([]);
  });

  it('a preset replaces the config as a new run and keeps the seed', () => {
    st().editDraft({ seed: 42 });
    st().choosePreset('moco-v2');
    expect(st().preset).toBe('moco-v2');
    expect(worker.last).toMatchObject({ type: 'configure', config: { ...presetConfig('moco-v2'), seed: 42 } });
    expect(st().draft).toEqual({ ...presetConfig('moco-v2'), seed: 42 });
  });

  it('an invalid config from the page URL waits in the form instead of reaching the worker', () => {
    const w = new FakeWorker();
    const s = createClimStore({ makeClient: () => new EngineClient(w) });
    s.getState().connect({
      config: { ...tinyConfig(), batchSize: 5000 },
      notices: ['seed=x is not a number; kept 1.'],
    });
    expect(w.sent.map((m) => m.type)).toEqual(['init']);
    expect(s.getState().draftIssues[0].message).toBe('batchSize must be a whole number from 1 to 1024 (got 5000).');
    expect(s.getState().notices).toEqual(['seed=x is not a number; kept 1.']);
    s.getState().dismissNotices();
    expect(s.getState().notices).toEqual([]);
  });

  it('a link for the run already shown sends nothing; another one starts a new run on its data set', () => {
    const n = worker.sent.length;
    st().applyLink({ config: tinyConfig(), preset: null, dataset: null, notices: [] });
    expect(worker.sent).toHaveLength(n);
    st().applyLink({ config: presetConfig('knn-only'), preset: 'knn-only', dataset: 'shapes', notices: ['x'] });
    expect(worker.sent.slice(n).map((m) => m.type)).toEqual(['setDataset', 'configure']);
    expect(st()).toMatchObject({
      preset: 'knn-only',
      dataset: 'shapes',
      notices: ['x'],
      config: presetConfig('knn-only'),
    });
  });

  it("pytorchConfigJson: the form's settings as the export zip's config.json, none while one is invalid", () => {
    st().editDraft({ knnK: 7, clusters: 12 });
    const text = pytorchConfigJson(st());
    expect(text).toBe(configJson(st().draft));
    expect(JSON.parse(text!)).toMatchObject({ ...tinyConfig(), knnK: 7, clusters: 12 });
    st().editDraft({ batchSize: 0 });
    expect(pytorchConfigJson(st())).toBeNull();
  });
});
