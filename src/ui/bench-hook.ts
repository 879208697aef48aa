/**
 * Read-only window hook for bench/browser.ts, installed only with `?bench=1`
 * (src/main.tsx): `window.__climPlayground.history()` returns the step
 * metrics the worker reported (StepMetrics, with `ms` = the worker's wall
 * time of the step), `backend()` what the page runs on. Copies only: nothing
 * here can change the run.
 */
import type { StoreApi } from 'zustand/vanilla';
import type { ClimConfig } from '../core/config';
import type { StepMetrics } from '../core/api';
import type { BackendAttempt, BackendName } from '../worker/protocol';
import type { ClimState, EngineError, UiRunState } from './store';

export interface BenchBackendInfo {
  backend: BackendName | null;
  adapter: string;
  isFallbackAdapter: boolean;
  failed: BackendAttempt[];
}

export interface ClimBenchHook {
  history(): StepMetrics[];
  backend(): BenchBackendInfo;
  config(): ClimConfig;
  runState(): UiRunState;
  error(): EngineError | null;
}

export const BENCH_HOOK_NAME = '__climPlayground';

export function createBenchHook(store: StoreApi<ClimState>): ClimBenchHook {
  const s = () => store.getState();
  return Object.freeze({
    history: () => s().metrics.map((m) => ({ ...m })),
    backend: () => {
      const { backend, adapter, isFallbackAdapter, failedBackends } = s();
      return { backend, adapter, isFallbackAdapter, failed: failedBackends.map((f) => ({ ...f })) };
    },
    config: () => structuredClone(s().config),
    runState: () => s().runState,
    error: () => {
      const e = s().error;
      return e ? { ...e } : null;
    },
  });
}

export function installBenchHook(target: object, store: StoreApi<ClimState>): ClimBenchHook {
  const hook = createBenchHook(store);
  Object.defineProperty(target, BENCH_HOOK_NAME, {
    value: hook,
    writable: false,
    configurable: true,
    enumerable: false,
  });
  return hook;
}
