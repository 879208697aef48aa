/**
 * The engine's fault recovery: a lost GPU device (or its memory) moves the
 * run to the next backend and its last checkpoint; a loss that stops being
 * a number pauses the run before anything is saved; the test hooks that
 * cause these faults (and a hang or a crash) on request.
 */
import { fill as tfFill } from '@tensorflow/tfjs';
import type { RequestOf } from './protocol';
import { chartsOf, loadSaved } from './engine-persistence';
import type { Engine } from './engine';
import type { Trainer } from '../core/train';
import type { StepMetrics } from '../core/api';
import { lossFault, saferLearningRate } from './faults';
import { message } from './engine-shared';

/** The device-lost test hook: the step about to run throws as a lost device does (once). */
export function takeTestDeviceLoss(eng: Engine): void {
  if (eng.loseDeviceAtNextStep) {
    eng.loseDeviceAtNextStep = false;
    throw new Error('GPU device was lost (test hook)');
  }
}

/**
 * A step whose loss is not a number: stops the run before the metrics reach
 * the charts or a save (the weights are ruined from this step), offers the
 * last checkpoint and a safer learning rate, and says 'paused'. True when
 * it stopped the run.
 */
export function stopOnLossFault(eng: Engine, t: Trainer, id: number, m: StepMetrics): boolean {
  const fault = lossFault(m);
  if (!fault) return false;
  eng.running = false;
  eng.faultedAt = m.step;
  eng.flush(id);
  const checkpoint = eng.runKey !== null && eng.savedStep !== null ? { key: eng.runKey, step: eng.savedStep } : null;
  // Half the base rate the user set (the step's own rate is that one through warm-up and cosine).
  eng.post({
    type: 'fault',
    runId: id,
    fault: { kind: 'loss', ...fault, saferLr: saferLearningRate(t.config.lr), checkpoint },
  });
  eng.setState('paused', id);
  return true;
}

/**
 * After a lost GPU device or an out-of-memory error: leave that backend for
 * the next one that works (it is not tried again in this page), rebuild the
 * run from its last checkpoint (or from scratch when it has none), tell the
 * page what happened, and go on training if it was training. Inside the queue.
 */
export async function recoverFromDevice(eng: Engine, e: unknown, wasRunning: boolean): Promise<void> {
  const id = eng.runId;
  const from = eng.backendName ?? 'cpu';
  if (!eng.failedBackends.includes(from)) eng.failedBackends.push(from);
  const old = eng.trainer;
  const key = eng.runKey;
  eng.trainer = null;
  try {
    old?.dispose();
  } catch {
    // The device is gone; its buffers went with it.
  }
  const choice = await eng.deps.setUpBackend(eng.initOpts.backend === from ? null : eng.initOpts.backend, {
    wasmThreads: eng.initOpts.wasmThreads,
    exclude: eng.failedBackends,
  });
  eng.backendName = choice.backend;
  eng.post({ type: 'ready', runId: eng.runId, ...choice });
  const saved = key ? await loadSaved(eng, key) : null;
  let resumedFrom: number | null = null;
  if (saved) {
    const { ck, data } = saved;
    eng.trainer = saved.trainer;
    eng.dataset = data;
    ({ history: eng.history, evals: eng.evals } = chartsOf(ck));
    eng.runKey = key;
    eng.savedStep = ck.meta.step;
    resumedFrom = ck.meta.step;
    eng.post({
      type: 'restored',
      runId: id,
      step: eng.trainer.step,
      config: eng.config,
      dataset: eng.datasetName,
      history: eng.history,
      evals: eng.evals,
      source: 'saved',
    });
  } else {
    // Nothing saved yet: the same run from step 0 (what was trained is lost with the device).
    eng.history = [];
    eng.evals = [];
    eng.trainer = await eng.createFresh(await eng.currentDataset());
    eng.post({
      type: 'restored',
      runId: id,
      step: 0,
      config: eng.config,
      dataset: eng.datasetName,
      history: [],
      evals: [],
      source: 'saved',
    });
  }
  eng.post({
    type: 'fault',
    runId: id,
    fault: { kind: 'device', message: message(e), from, to: choice.backend, resumedFrom, continued: wasRunning },
  });
  if (wasRunning && id === eng.runId) {
    eng.running = true;
    const token = ++eng.loop;
    eng.lastFlush = performance.now();
    eng.setState('running', id);
    eng.scheduleNext(id, token);
  } else {
    eng.setState(eng.restingState(), id);
  }
}

/** The testFault request, on receipt. */
export function onTestFault(eng: Engine, r: RequestOf<'testFault'>): void {
  if (!eng.testHooks) {
    eng.post({
      type: 'error',
      runId: eng.runId,
      message: 'Test hooks are off (open the page with ?testhooks=1).',
      recoverable: true,
    });
    return;
  }
  if (r.kind === 'hang') {
    // Stuck with no error, as an endless loop is: only the page's watchdog can tell. Atomics.wait sleeps
    // without a busy core where the page is cross-origin isolated; elsewhere this spins until the page ends the worker.
    if (typeof SharedArrayBuffer === 'function' && eng.deps.crossOriginIsolated)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    const end = performance.now() + 600_000;
    while (performance.now() < end) {
      // spinning
    }
    return;
  }
  if (r.kind === 'crash') {
    // Outside the queue and every handler: the page sees the worker's error event, as for a real crash.
    eng.deps.setTimeout(() => {
      throw new Error('the engine crashed (test hook)');
    }, 0);
    return;
  }
  if (r.kind === 'device-lost') {
    eng.loseDeviceAtNextStep = true;
    return;
  }
  void eng.enqueue(() => {
    const t = eng.trainer;
    if (!t) throw new Error('No run to inject a NaN into: start or step it first.');
    const stem = t.query.params[0].variable;
    const nan = tfFill(stem.shape, NaN);
    stem.assign(nan);
    nan.dispose();
  });
}
