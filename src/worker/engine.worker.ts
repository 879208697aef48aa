/// <reference lib="webworker" />
/**
 * The engine worker: wires the page's messages to the Engine (engine.ts) and
 * the Engine to this worker's globals: postMessage with the events'
 * transferables, timers, the tfjs backend set-up and the IndexedDB run store.
 */
import { Engine } from './engine';
import { setUpBackend } from './backend';
import { RunStore } from './run-store';
import { transferablesOf, type WorkerRequest } from './protocol';

const scope = globalThis as unknown as DedicatedWorkerGlobalScope;

const engine = new Engine({
  post: (e) => scope.postMessage(e, transferablesOf(e)),
  setUpBackend,
  openStore: () => RunStore.open(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  setInterval: (fn, ms) => setInterval(fn, ms),
  close: () => scope.close(),
  crossOriginIsolated: scope.crossOriginIsolated,
});

scope.onmessage = (ev: MessageEvent<WorkerRequest>) => engine.handle(ev.data);

// Errors thrown outside the queue (e.g. inside tfjs callbacks) still reach the page.
scope.addEventListener('unhandledrejection', (ev) => engine.reportUnhandled(ev.reason));
