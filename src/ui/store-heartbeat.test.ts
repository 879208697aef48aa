import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StoreApi } from 'zustand/vanilla';
import { tinyConfig } from '../core/config';
import { EngineClient } from '../worker/client';
import { WATCHDOG_LONG_CALL_TIMEOUT_MS, WATCHDOG_TIMEOUT_MS } from '../worker/heartbeat';
import { createClimStore, type ClimState } from './store';
import { FakeWorker } from './fake-worker.test-util';

/**
 * The heartbeat watchdog through the store (issue 16): a worker that goes
 * silent without an error event takes the crash path (a fatal error with the
 * restart, which offers the last save), as a worker's `onerror` does.
 */
let workers: FakeWorker[];
let store: StoreApi<ClimState>;
const st = () => store.getState();
const w = (i = workers.length - 1) => workers[i];

function connect(): void {
  st().connect({
    backend: 'wasm',
    autosaveEvery: 5,
    config: tinyConfig(),
    dataset: { name: 'shapes', seed: 1, nTrain: 64, nTest: 32 },
  });
  const id = w().lastRunId;
  w().emit({ type: 'heartbeat', runId: id, busy: false });
  w().emit({
    type: 'ready',
    runId: id,
    backend: 'wasm',
    adapter: 'WebAssembly SIMD',
    isFallbackAdapter: false,
    failed: [],
  });
  w().emit({ type: 'state', runId: id, state: 'idle', step: 0, datasetId: 'shapes:seed=1' });
}

/** Moves the fake clock in 1 s ticks, the worker beating each tick while `beating` says so. */
function seconds(n: number, beating: false | { busy: boolean } = false): void {
  for (let i = 0; i < n; i++) {
    vi.advanceTimersByTime(1000);
    if (beating) w().emit({ type: 'heartbeat', runId: 0, busy: beating.busy });
  }
}

beforeEach(() => {
  vi.useFakeTimers();
  workers = [];
  store = createClimStore({
    makeClient: () => {
      workers.push(new FakeWorker());
      return new EngineClient(w(), { watchdog: { now: () => Date.now() } });
    },
  });
});
afterEach(() => {
  st().disconnect();
  vi.useRealTimers();
});

describe('store: engine heartbeat', () => {
  it('a worker silent for the timeout takes the crash path: a fatal error, the worker ended, and Restart offers the last save', () => {
    connect();
    st().start();
    seconds(5, { busy: false });
    seconds(WATCHDOG_TIMEOUT_MS / 1000 - 1);
    expect(st().error).toBeNull();
    seconds(1);
    expect(st().error).toEqual({
      message: `Engine worker stopped responding: no heartbeat for ${WATCHDOG_TIMEOUT_MS / 1000} s, so it was stopped.`,
      recoverable: false,
    });
    expect(w(0).terminated).toBe(true);
    // What the stuck worker may still say is not heard, and nothing is sent to it.
    const sent = w(0).sent.length;
    w(0).emit({ type: 'progress', runId: w(0).lastRunId, metrics: [] });
    st().pause();
    expect(w(0).sent).toHaveLength(sent);
    st().restartEngine();
    expect(workers).toHaveLength(2);
    expect(w(1).sent[0]).toMatchObject({ type: 'init', backend: 'wasm', autosaveEvery: 5 });
    expect(st()).toMatchObject({ runState: 'connecting', error: null, resumeOffered: true });
    // The new worker has a watchdog of its own.
    w(1).emit({ type: 'heartbeat', runId: 0, busy: false });
    seconds(WATCHDOG_TIMEOUT_MS / 1000);
    expect(st().error).toMatchObject({ recoverable: false });
    expect(w(1).terminated).toBe(true);
  });

  it('heartbeats keep an idle worker that sends nothing else alive', () => {
    connect();
    seconds(600, { busy: false });
    expect(st().error).toBeNull();
    expect(w().terminated).toBe(false);
  });

  it('a long call the worker announced (busy) is not taken for a hang, up to the long limit', () => {
    connect();
    st().start();
    // A trainer's first bank pass or a first WebGL step: the worker said busy, then its thread is held.
    w().emit({ type: 'heartbeat', runId: 0, busy: true });
    seconds((WATCHDOG_TIMEOUT_MS / 1000) * 6);
    expect(st().error).toBeNull();
    // It returns, and beats again: the short limit is back.
    seconds(3, { busy: false });
    seconds(WATCHDOG_TIMEOUT_MS / 1000);
    expect(st().error).toMatchObject({
      recoverable: false,
      message: expect.stringMatching(/stopped responding/) as unknown,
    });
  });

  it('a hang inside a long call is still noticed at the long limit', () => {
    connect();
    w().emit({ type: 'heartbeat', runId: 0, busy: true });
    seconds(WATCHDOG_LONG_CALL_TIMEOUT_MS / 1000 - 1);
    expect(st().error).toBeNull();
    seconds(1);
    expect(st().error?.message).toBe(
      `Engine worker stopped responding: no heartbeat for ${WATCHDOG_LONG_CALL_TIMEOUT_MS / 1000} s, so it was stopped.`,
    );
  });

  it('a worker that crashed (onerror) is reported once: the watchdog does not overwrite the crash', () => {
    connect();
    w().onerror?.({ message: 'Uncaught Error: the engine crashed (test hook)', preventDefault() {} } as ErrorEvent);
    const error = st().error;
    expect(error?.message).toMatch(/^Engine worker failed/);
    seconds((WATCHDOG_LONG_CALL_TIMEOUT_MS / 1000) * 2);
    expect(st().error).toBe(error);
  });

  it('disconnect stops the watchdog: no timer is left running', () => {
    connect();
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    st().disconnect();
    // The dispose backstop (terminate after 1 s) runs out; nothing else is left.
    seconds(2);
    expect(vi.getTimerCount()).toBe(0);
  });
});
