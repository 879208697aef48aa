import { describe, expect, it } from 'vitest';
import { defaultConfig, tinyConfig } from '../../core/config';
import { EngineClient } from '../../worker/client';
import { createClimStore } from '../store';
import { FakeWorker } from '../fake-worker.test-util';
import { metric, storeHarness } from './store.test-util';

const h = storeHarness();
const { st, ready } = h;

describe('store: faults', () => {
  it('shows a NaN fault; recovering restores its checkpoint with the safer rate', () => {
    st().connect({ config: tinyConfig() });
    ready();
    const id = h.worker.lastRunId;
    h.worker.emit({ type: 'progress', runId: id, metrics: [metric(1), metric(2)] });
    const fault = {
      kind: 'loss',
      step: 3,
      term: 'anchor',
      value: 'NaN',
      lr: 0.06,
      saferLr: 0.03,
      checkpoint: { key: 'run-7', step: 2 },
    } as const;
    h.worker.emit({ type: 'fault', runId: id, fault });
    expect(st().fault).toEqual(fault);
    st().recoverFromFault();
    expect(st().fault).toBeNull();
    expect(h.worker.last).toMatchObject({ type: 'prepareRestore', from: 'saved', key: 'run-7', live: { lr: 0.03 } });
    const token = (h.worker.last as { token: number }).token;
    expect(st().restoring).toMatchObject({ token, source: 'saved' });
    // The worker checks it, the store commits, and the restored run clears the banner state.
    h.worker.emit({ type: 'restoreReady', runId: id, token, step: 2, datasetId: 'shapes:seed=1', source: 'saved' });
    expect(h.worker.last).toMatchObject({ type: 'commitRestore', token });
    const cfg = { ...tinyConfig(), lr: 0.03 };
    h.worker.emit({
      type: 'restored',
      runId: h.worker.lastRunId,
      step: 2,
      config: cfg,
      dataset: 'shapes',
      history: [metric(1), metric(2)],
      evals: [],
      source: 'saved',
    });
    expect(st()).toMatchObject({ step: 2, restoring: null, fault: null });
    expect(st().config.lr).toBe(0.03);
  });

  it('with no checkpoint, recovering starts the run over at the safer rate', () => {
    st().connect({ config: tinyConfig() });
    ready();
    h.worker.emit({
      type: 'fault',
      runId: h.worker.lastRunId,
      fault: { kind: 'loss', step: 3, term: 'total', value: 'Infinity', lr: 0.2, saferLr: 0.1, checkpoint: null },
    });
    st().recoverFromFault();
    expect(h.worker.last).toMatchObject({ type: 'configure', config: { ...tinyConfig(), lr: 0.1 } });
    expect(st()).toMatchObject({ fault: null, step: 0 });
  });

  it('a device fault is shown after the restored run, and dismissed', () => {
    st().connect();
    ready();
    const id = h.worker.lastRunId;
    h.worker.emit({
      type: 'restored',
      runId: id,
      step: 100,
      config: defaultConfig(),
      dataset: 'fashion-mnist',
      history: [metric(100)],
      evals: [],
      source: 'saved',
    });
    h.worker.emit({
      type: 'ready',
      runId: id,
      backend: 'cpu',
      adapter: 'plain JavaScript',
      isFallbackAdapter: false,
      failed: [],
    });
    h.worker.emit({
      type: 'fault',
      runId: id,
      fault: {
        kind: 'device',
        message: 'GPU device was lost',
        from: 'webgpu',
        to: 'cpu',
        resumedFrom: 100,
        continued: true,
      },
    });
    expect(st()).toMatchObject({ backend: 'cpu', step: 100, fault: { kind: 'device', to: 'cpu' } });
    st().dismissFault();
    expect(st().fault).toBeNull();
  });

  it('restarts a crashed worker with the same page options and the run settings, offering the last save', () => {
    const workers: FakeWorker[] = [];
    const s = createClimStore({
      makeClient: () => {
        workers.push(new FakeWorker());
        return new EngineClient(workers[workers.length - 1]);
      },
    });
    s.getState().connect({
      backend: 'wasm',
      autosaveEvery: 5,
      testHooks: true,
      config: tinyConfig(),
      dataset: { name: 'shapes', seed: 1, nTrain: 64, nTest: 32 },
    });
    const w0 = workers[0];
    w0.onerror?.({ message: 'Uncaught Error: the engine crashed (test hook)', preventDefault() {} } as ErrorEvent);
    expect(s.getState().error).toMatchObject({ recoverable: false });
    s.getState().restartEngine();
    expect(w0.terminated).toBe(true);
    expect(workers).toHaveLength(2);
    const w1 = workers[1];
    expect(w1.sent[0]).toMatchObject({ type: 'init', backend: 'wasm', autosaveEvery: 5, testHooks: true });
    expect(w1.sent.find((m) => m.type === 'setDataset')).toMatchObject({ dataset: 'shapes', nTrain: 64, nTest: 32 });
    expect(w1.sent.find((m) => m.type === 'configure')).toMatchObject({ config: tinyConfig() });
    expect(s.getState()).toMatchObject({ runState: 'connecting', error: null, resumeOffered: true, step: 0 });
    // The old worker's late events are not heard.
    w0.emit({ type: 'progress', runId: 99, metrics: [metric(5)] });
    expect(s.getState().step).toBe(0);
  });
});
