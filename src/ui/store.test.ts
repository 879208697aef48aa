import { beforeEach, describe, expect, it } from 'vitest';
import { UmapClient } from '../worker/umap-client';
import { defaultConfig, tinyConfig } from '../core/config';
import { presetConfig } from '../core/presets';
import { EngineClient } from '../worker/client';
import type { WorkerEvent } from '../worker/protocol';
import { transferablesOf } from '../worker/protocol';
import { createClimStore, type ClimState } from './store';
import { benchHookRequested, parseParams } from './params';
import { BENCH_HOOK_NAME, installBenchHook, type ClimBenchHook } from './bench-hook';
import type { StoreApi } from 'zustand/vanilla';
import { FakeWorker } from './fake-worker.test-util';
import { metric, clusterSnap, FakeUmapWorker } from './store/store.test-util';

let umapWorker: FakeUmapWorker;
let worker: FakeWorker;
let clock: number;
let store: StoreApi<ClimState>;
const st = () => store.getState();

beforeEach(() => {
  // A fresh worker, clock and store per test: nothing leaks between tests.
  worker = new FakeWorker();
  clock = 0;
  umapWorker = new FakeUmapWorker();
  store = createClimStore({
    makeClient: () => new EngineClient(worker),
    makeUmapClient: (on) => new UmapClient(on, () => umapWorker),
    now: () => clock,
  });
});

function ready(runId = worker.lastRunId) {
  worker.emit({
    type: 'ready',
    runId,
    backend: 'wasm',
    adapter: 'WebAssembly SIMD, 2 threads',
    isFallbackAdapter: false,
    failed: [],
  });
  worker.emit({ type: 'state', runId, state: 'idle', step: 0, datasetId: 'shapes:seed=1' });
}

describe('transferablesOf', () => {
  it('lists each cluster buffer once and nothing for other events', () => {
    const a = new Int32Array(4);
    const e: WorkerEvent = { type: 'clusters', runId: 1, snapshot: { ...clusterSnap(), assignments: a, nearest: a } };
    expect(transferablesOf(e)).toHaveLength(4);
    expect(transferablesOf({ type: 'state', runId: 1, state: 'idle', step: 0, datasetId: null })).toEqual([]);
  });
});

describe('parseParams', () => {
  it('reads backend, tiny config, seed and data size', () => {
    const p = parseParams('?backend=webgpu&config=tiny&seed=7&n=64');
    expect(p.backend).toBe('webgpu');
    expect(p.config).toEqual({ ...tinyConfig(), seed: 7 });
    expect(p.dataset).toEqual({ seed: 7, nTrain: 64, nTest: undefined });
  });
  it('ignores unknown or malformed values', () => {
    const p = parseParams('?backend=metal&seed=-3&n=abc');
    expect(p.backend).toBeNull();
    expect(p.config?.seed).toBe(1);
    expect(p.dataset).toBeUndefined();
    expect(parseParams('?dataset=cifar').dataset).toBeUndefined();
  });
  it('reads the data set name', () => {
    expect(parseParams('?dataset=shapes').dataset).toEqual({
      name: 'shapes',
      seed: 1,
      nTrain: undefined,
      nTest: undefined,
    });
    expect(parseParams('?dataset=fashion-mnist&n=128').dataset).toEqual({
      name: 'fashion-mnist',
      seed: 1,
      nTrain: 128,
      nTest: undefined,
    });
  });
  it('reads a preset, batch size and CLIM warm-up (preset wins over config=tiny)', () => {
    expect(parseParams('?preset=fast-demo-cpu').config).toEqual(presetConfig('fast-demo-cpu'));
    expect(parseParams('?preset=fast-demo-cpu&config=tiny&batch=16&seed=3').config).toEqual({
      ...presetConfig('fast-demo-cpu'),
      batchSize: 16,
      seed: 3,
    });
    expect(parseParams('?batch=32').config).toEqual({ ...defaultConfig(), batchSize: 32 });
    expect(parseParams('?preset=nope&batch=0').config).toEqual(defaultConfig());
    expect(parseParams('?climwarmup=0').config).toEqual({ ...defaultConfig(), climWarmupSteps: 0 });
    expect(parseParams('?climwarmup=7&batch=8').config).toEqual({
      ...defaultConfig(),
      climWarmupSteps: 7,
      batchSize: 8,
    });
    expect(parseParams('?climwarmup=-1').config).toEqual(defaultConfig());
  });
  it('reads the WASM thread count and sends it with init', () => {
    expect(parseParams('?wasmthreads=2').wasmThreads).toBe(2);
    expect(parseParams('?wasmthreads=0').wasmThreads).toBeUndefined();
    st().connect(parseParams('?backend=wasm&wasmthreads=2'));
    expect(worker.sent[0]).toMatchObject({ type: 'init', backend: 'wasm', wasmThreads: 2 });
  });
  it('asks for the bench hook only with bench=1', () => {
    expect(benchHookRequested('?bench=1')).toBe(true);
    expect(benchHookRequested('?bench=0')).toBe(false);
    expect(benchHookRequested('')).toBe(false);
  });
});

describe('bench hook', () => {
  it('reads copies of the history and backend, and cannot be overwritten', () => {
    const target: Record<string, unknown> = {};
    installBenchHook(target, store);
    const hook = target[BENCH_HOOK_NAME] as ClimBenchHook;
    st().connect();
    ready();
    const id = worker.lastRunId;
    worker.emit({ type: 'progress', runId: id, metrics: [metric(1, 4, 250), metric(2, 3.9, 240)] });
    const h = hook.history();
    expect(h.map((m) => m.ms)).toEqual([250, 240]);
    h[0].ms = 1;
    expect(st().metrics[0].ms).toBe(250);
    expect(hook.backend()).toMatchObject({ backend: 'wasm', adapter: 'WebAssembly SIMD, 2 threads', failed: [] });
    expect(hook.runState()).toBe('idle');
    expect(hook.config().batchSize).toBe(st().config.batchSize);
    expect(hook.error()).toBeNull();
    expect(() => {
      'use strict';
      target[BENCH_HOOK_NAME] = null;
    }).toThrow();
  });
});
