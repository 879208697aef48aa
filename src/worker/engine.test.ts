/// <reference types="vite/client" />
// engine.ts reaches datasets.ts and models.ts (import.meta.env) and backend.ts (?url imports): Vite types, as the app has.
// Over 500 lines: one case per request sequence the page relies on (run, pause, save, restore, open model, finish,
// extend, faults), each checking the exact events the Engine posts through the fake globals.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Engine, type EngineDeps } from './engine';
import { RunStore } from './run-store';
import { tinyConfig } from '../core/config';
import { architectureOf, encodeWeights } from '../core/weights-file';
import type { WorkerEvent, WorkerRequest } from './protocol';

/** Small enough for the cpu backend: a step is a few tens of milliseconds. */
const CONFIG = tinyConfig({ totalSteps: 20 });
const SHAPES = { dataset: 'shapes' as const, seed: 2, nTrain: 48, nTest: 16 };

type EventOf<T extends WorkerEvent['type']> = Extract<WorkerEvent, { type: T }>;
/** A request as the tests write it: the run id is the harness's unless given. */
type Send = WorkerRequest extends infer R
  ? R extends WorkerRequest
    ? Omit<R, 'runId'> & { runId?: number }
    : never
  : never;

let dbCount = 0;

/** An Engine on the tfjs cpu backend with a fake post (recording events), a fresh in-memory run store and a captured heartbeat timer. */
function harness(opts: { openStore?: EngineDeps['openStore'] } = {}) {
  const events: WorkerEvent[] = [];
  const intervals: Array<() => void> = [];
  let closed = false;
  const engine = new Engine({
    post: (e) => events.push(e),
    setUpBackend: async () => {
      await tf.setBackend('cpu');
      return { backend: 'cpu', adapter: '', isFallbackAdapter: false, failed: [] };
    },
    openStore:
      opts.openStore ?? (() => RunStore.open({ name: `engine-test-${++dbCount}`, estimate: async () => null })),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    setInterval: (fn) => {
      intervals.push(fn);
      return intervals.length;
    },
    close: () => {
      closed = true;
    },
    crossOriginIsolated: false,
  });
  let runId = 1;
  const send = (r: Send) => engine.handle({ runId, ...r } as WorkerRequest);
  const of = <T extends WorkerEvent['type']>(type: T): EventOf<T>[] =>
    events.filter((e): e is EventOf<T> => e.type === type);
  const last = <T extends WorkerEvent['type']>(type: T): EventOf<T> | undefined => of(type).at(-1);
  /** Resolves once `pred` holds (polling; the engine's work is behind timers and promises). */
  async function until(pred: () => boolean, what: string, ms = 60_000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end)
        throw new Error(`timed out waiting for ${what}; events: ${events.map((e) => e.type).join(', ')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  /** Resolves once every op queued so far has run (and whatever they queued). */
  async function settle(): Promise<void> {
    let q: Promise<void>;
    do {
      q = engine.queue;
      await q;
      await new Promise((r) => setTimeout(r, 0));
    } while (q !== engine.queue);
  }
  /** The page's start-up: the data set first (as the client does), then init and the config. */
  async function boot(
    init: Partial<EventOf<'ready'>> & { testHooks?: boolean; autosaveEvery?: number } = {},
  ): Promise<void> {
    send({ type: 'setDataset', ...SHAPES });
    send({ type: 'init', backend: null, autosaveEvery: init.autosaveEvery ?? 0, testHooks: init.testHooks });
    send({ type: 'configure', config: CONFIG });
    await settle();
  }
  return {
    engine,
    events,
    intervals,
    send,
    of,
    last,
    until,
    settle,
    boot,
    closed: () => closed,
    newRun: () => ++runId,
    get runId() {
      return runId;
    },
  };
}

let current: ReturnType<typeof harness> | null = null;
function make(opts?: Parameters<typeof harness>[0]) {
  current = harness(opts);
  return current;
}

afterEach(async () => {
  // Frees the run's tensors: the cpu backend is shared by the whole file.
  if (!current) return;
  current.send({ type: 'dispose' });
  await current.settle();
  current = null;
});

describe('Engine (driven through its requests, fake post, tfjs cpu)', () => {
  it('init → configure → step: ready, then state and progress events with the run id and the step', async () => {
    const h = make();
    await h.boot();
    expect(h.last('ready')).toMatchObject({ runId: 1, backend: 'cpu' });
    expect(h.last('state')).toMatchObject({ runId: 1, state: 'idle', step: 0 });
    h.send({ type: 'step' });
    await h.settle();
    const states = h.of('state').map((e) => e.state);
    expect(states.slice(-2)).toEqual(['preparing', 'paused']);
    expect(h.last('state')).toMatchObject({
      runId: 1,
      state: 'paused',
      step: 1,
      datasetId: expect.any(String),
      trainSize: 48,
      testSize: 16,
    });
    const progress = h.of('progress');
    expect(progress.flatMap((p) => p.metrics.map((m) => m.step))).toEqual([1]);
    expect(progress.every((p) => p.runId === 1)).toBe(true);
    // A second Step goes on from the same model.
    h.send({ type: 'step' });
    await h.settle();
    expect(h.last('state')).toMatchObject({ state: 'paused', step: 2 });
    expect(h.of('progress').flatMap((p) => p.metrics.map((m) => m.step))).toEqual([1, 2]);
  });

  it('start runs the loop until pause; pause answers paused at a final step and saves the run', async () => {
    const h = make();
    await h.boot();
    h.send({ type: 'start' });
    await h.until(() => h.of('state').some((e) => e.state === 'running'), 'running');
    await h.until(() => (h.engine.trainer?.step ?? 0) >= 2, 'two steps');
    h.send({ type: 'pause' });
    await h.settle();
    const paused = h.last('state')!;
    expect(paused).toMatchObject({ runId: 1, state: 'paused' });
    expect(h.engine.running).toBe(false);
    // No step after the pause was seen: the reported step is the model's.
    expect(paused.step).toBe(h.engine.trainer!.step);
    const steps = h.of('progress').flatMap((p) => p.metrics.map((m) => m.step));
    expect(steps).toEqual(Array.from({ length: paused.step }, (_, i) => i + 1));
    const ck = h.last('checkpoint')!;
    expect(ck).toMatchObject({ runId: 1, step: paused.step, ok: true, trigger: 'pause' });
    expect(h.last('saved')!.entries.map((e) => e.step)).toEqual([paused.step]);
    // Nothing runs on while paused.
    await new Promise((r) => setTimeout(r, 50));
    await h.settle();
    expect(h.engine.trainer!.step).toBe(paused.step);
  });

  it('reset drops the model: idle at step 0, and the next step starts a fresh run', async () => {
    const h = make();
    await h.boot();
    h.send({ type: 'step' });
    h.send({ type: 'step' });
    await h.settle();
    expect(h.last('state')).toMatchObject({ state: 'paused', step: 2 });
    h.send({ type: 'reset', runId: h.newRun() });
    await h.settle();
    expect(h.engine.trainer).toBeNull();
    expect(h.last('state')).toMatchObject({ runId: 2, state: 'idle', step: 0 });
    h.send({ type: 'step' });
    await h.settle();
    expect(h.last('state')).toMatchObject({ runId: 2, state: 'paused', step: 1 });
  });

  it("a request overtaken by a newer run id does nothing, and an older id never lowers the engine's", async () => {
    const h = make();
    await h.boot();
    // The Step is received under run 1, but a Reset of run 2 arrives before it runs.
    h.send({ type: 'step' });
    h.send({ type: 'reset', runId: h.newRun() });
    await h.settle();
    expect(h.of('progress')).toEqual([]);
    expect(h.engine.trainer).toBeNull();
    expect(h.last('state')).toMatchObject({ runId: 2, state: 'idle', step: 0 });
    // A late request still carrying run 1 is tagged with run 2.
    h.send({ type: 'step', runId: 1 });
    await h.settle();
    expect(h.engine.runId).toBe(2);
    expect(h.last('state')).toMatchObject({ runId: 2, state: 'paused', step: 1 });
    expect(h.of('progress').every((p) => p.runId === 2)).toBe(true);
  });

  it('an import of a bad run file posts the error and keeps the current run', async () => {
    const h = make();
    await h.boot();
    h.send({ type: 'step' });
    await h.settle();
    const before = h.engine.trainer;
    h.send({
      type: 'prepareRestore',
      token: 7,
      from: 'file',
      bytes: Uint8Array.from([1, 2, 3, 4, 5]),
      fileName: 'junk.clim',
    });
    await h.settle();
    const err = h.last('error')!;
    expect(err.runId).toBe(1);
    expect(err.recoverable).toBe(true);
    expect(err.message).toMatch(/^Run file “junk\.clim” not imported: .*The current run is unchanged\.$/);
    expect(h.of('restoreReady')).toEqual([]);
    // Committing the failed token is refused, and the run goes on from its step.
    h.send({ type: 'commitRestore', token: 7, runId: h.newRun() });
    await h.settle();
    expect(h.last('error')!.message).toMatch(/Nothing to resume/);
    expect(h.engine.trainer).toBe(before);
    h.send({ type: 'step' });
    await h.settle();
    expect(h.last('state')).toMatchObject({ state: 'paused', step: 2 });
  });

  it('exports a run file and imports it back: restored at its step with its charts', async () => {
    const h = make();
    await h.boot();
    h.send({ type: 'step' });
    h.send({ type: 'step' });
    h.send({ type: 'exportRun' });
    await h.settle();
    const file = h.last('runFile')!;
    expect(file.fileName).toMatch(/^clim-.*-step2-.*\.clim/);
    h.send({ type: 'reset', runId: h.newRun() });
    h.send({ type: 'prepareRestore', token: 1, from: 'file', bytes: file.bytes, fileName: file.fileName });
    await h.settle();
    expect(h.last('restoreReady')).toMatchObject({ runId: 2, token: 1, step: 2, source: 'file' });
    h.send({ type: 'commitRestore', token: 1, runId: h.newRun() });
    await h.settle();
    const restored = h.last('restored')!;
    expect(restored).toMatchObject({ runId: 3, step: 2, source: 'file', dataset: 'shapes' });
    expect(restored.history.map((m) => m.step)).toEqual([1, 2]);
    expect(h.last('state')).toMatchObject({ runId: 3, state: 'paused', step: 2 });
    h.send({ type: 'step' });
    await h.settle();
    expect(h.last('state')).toMatchObject({ state: 'paused', step: 3 });
  });

  it('a saved run resumes from the run store by key', async () => {
    const h = make();
    await h.boot();
    h.send({ type: 'step' });
    h.send({ type: 'saveNow' });
    await h.settle();
    expect(h.last('checkpoint')).toMatchObject({ ok: true, step: 1, trigger: 'manual' });
    const key = h.last('saved')!.entries[0].key;
    h.send({ type: 'reset', runId: h.newRun() });
    h.send({ type: 'prepareRestore', token: 3, from: 'saved', key });
    h.send({ type: 'commitRestore', token: 3, runId: h.newRun() });
    await h.settle();
    expect(h.last('restored')).toMatchObject({ runId: 3, step: 1, source: 'saved' });
    expect(h.engine.runKey).toBe(key);
  });

  it('without IndexedDB a save says so and training goes on', async () => {
    const h = make({ openStore: () => Promise.reject(new Error('no IndexedDB here')) });
    await h.boot();
    h.send({ type: 'step' });
    h.send({ type: 'saveNow' });
    h.send({ type: 'step' });
    await h.settle();
    expect(h.last('checkpoint')).toMatchObject({ ok: false, trigger: 'manual' });
    expect(h.last('checkpoint')!.message).toMatch(/no IndexedDB \(no IndexedDB here\)/);
    expect(h.last('state')).toMatchObject({ state: 'paused', step: 2 });
  });

  it('posts heartbeats from its timer, busy through the long first step', async () => {
    const h = make();
    expect(h.intervals).toHaveLength(1);
    h.intervals[0]();
    expect(h.last('heartbeat')).toEqual({ type: 'heartbeat', runId: 0, busy: false });
    await h.boot();
    h.send({ type: 'step' });
    await h.settle();
    const beats = h.of('heartbeat');
    expect(beats.some((b) => b.busy && b.runId === 1)).toBe(true);
    expect(beats.at(-1)!.busy).toBe(false);
  });

  it('test hooks: refused unless init asked for them; a NaN loss pauses with a loss fault', async () => {
    const off = make();
    await off.boot();
    off.send({ type: 'testFault', kind: 'nan' });
    expect(off.last('error')!.message).toMatch(/Test hooks are off/);
    off.send({ type: 'dispose' });
    await off.settle();

    const h = make();
    await h.boot({ testHooks: true });
    h.send({ type: 'step' });
    h.send({ type: 'testFault', kind: 'nan' });
    h.send({ type: 'step' });
    await h.settle();
    const fault = h.last('fault')!;
    expect(fault).toMatchObject({ runId: 1, fault: { kind: 'loss', checkpoint: null } });
    expect(h.last('state')).toMatchObject({ state: 'paused', step: 2 });
    // The faulted step's metrics never reach the charts; saving and exporting refuse.
    expect(h.of('progress').flatMap((p) => p.metrics.map((m) => m.step))).toEqual([1]);
    h.send({ type: 'saveNow' });
    h.send({ type: 'exportRun' });
    await h.settle();
    expect(h.last('checkpoint')).toMatchObject({ ok: false });
    expect(h.last('error')!.message).toMatch(/^Not exported: the loss stopped being a number at step 2/);
  });

  it('a lost device moves the run to another backend and rebuilds it from its last save', async () => {
    const h = make();
    await h.boot({ testHooks: true });
    h.send({ type: 'step' });
    h.send({ type: 'saveNow' });
    // The hook is taken on receipt: after the save, so the step that follows it is the one that fails.
    await h.settle();
    h.send({ type: 'testFault', kind: 'device-lost' });
    h.send({ type: 'step' });
    await h.settle();
    const fault = h.last('fault')!;
    expect(fault).toMatchObject({
      runId: 1,
      fault: { kind: 'device', from: 'cpu', to: 'cpu', resumedFrom: 1, continued: false },
    });
    expect(h.last('restored')).toMatchObject({ step: 1, source: 'saved' });
    expect(h.last('state')).toMatchObject({ state: 'paused', step: 1 });
    expect(h.engine.failedBackends).toEqual(['cpu']);
  });

  it('setInitWeights shows the opened model at step 0: snapshots and an evaluation, paused; Start trains on from it', async () => {
    const h = make();
    await h.boot();
    h.send({ type: 'step' });
    await h.settle();
    const bytes = encodeWeights(await h.engine.trainer!.weightsFile());
    const run = h.newRun();
    const from = h.events.length;
    h.send({ type: 'setInitWeights', source: { kind: 'file', bytes, fileName: 'trained.climweights' } });
    await h.settle();
    const after = h.events.slice(from).filter((e) => e.type !== 'heartbeat');
    expect(after.every((e) => e.runId === run)).toBe(true);
    expect(after.map((e) => (e.type === 'state' ? `state:${e.state}:${e.step}` : e.type))).toEqual([
      'initWeights',
      'state:idle:0',
      'state:preparing:0',
      'selection',
      'clusters',
      'projection',
      'eval',
      'baseline',
      'state:paused:0',
    ]);
    expect(h.last('initWeights')).toMatchObject({ source: 'file', name: 'trained.climweights' });
    expect(h.last('selection')!.snapshot.anchors.length).toBeGreaterThan(0);
    expect(h.last('clusters')!.snapshot.assignments.length).toBe(48);
    expect(h.last('eval')!.result).toMatchObject({ step: 0, knnTop1: expect.any(Number) });
    expect(h.engine.trainer!.step).toBe(0);

    // A file for another encoder is refused with the reason; the shown run stays, paused at step 0.
    const shown = h.engine.trainer;
    const other = encodeWeights({
      architecture: { ...architectureOf(CONFIG), width: 4 },
      info: { savedAt: new Date().toISOString() },
      params: [{ name: 'stem.conv', shape: [1], data: Float32Array.from([0]) }],
    });
    h.send({
      type: 'setInitWeights',
      runId: h.newRun(),
      source: { kind: 'file', bytes: other, fileName: 'w4.climweights' },
    });
    await h.settle();
    expect(h.last('error')!.message).toMatch(/^Model file “w4\.climweights” not loaded: .*width 4 \(this run: 8\)/);
    expect(h.engine.trainer).toBe(shown);
    expect(h.last('state')).toMatchObject({ state: 'paused', step: 0 });

    // New settings that leave the encoder alone: the opened model is shown again under them.
    const again = h.newRun();
    h.send({ type: 'configure', config: { ...CONFIG, knnK: 3 } });
    await h.settle();
    expect(h.last('selection')!.runId).toBe(again);
    expect(h.last('state')).toMatchObject({ runId: again, state: 'paused', step: 0 });

    // Start goes on from the opened model.
    const shownAgain = h.engine.trainer;
    h.send({ type: 'start' });
    await h.until(() => (h.engine.trainer?.step ?? 0) >= 2, 'two steps');
    h.send({ type: 'pause' });
    await h.settle();
    expect(h.engine.trainer).toBe(shownAgain);
    expect(h.of('progress').at(-1)!.metrics.at(-1)!.step).toBe(h.engine.trainer!.step);

    // Random init builds nothing: idle at step 0 until a step.
    h.send({ type: 'setInitWeights', runId: h.newRun(), source: null });
    await h.settle();
    expect(h.engine.trainer).toBeNull();
    expect(h.last('state')).toMatchObject({ state: 'idle', step: 0 });
  });

  it('refuses an invalid config and an unknown request with a recoverable error', async () => {
    const h = make();
    await h.boot();
    h.send({ type: 'configure', config: { ...CONFIG, batchSize: -1 } });
    expect(h.last('error')!.message).toMatch(/^Invalid config:/);
    h.send({ type: 'nonsense' } as unknown as Send);
    expect(h.last('error')).toMatchObject({ message: 'Unknown request nonsense', recoverable: true });
    h.send({ type: 'dispose' });
    await h.settle();
    expect(h.closed()).toBe(true);
    current = null;
  });
});

/** The engine's events from index `from` on, as `type` or `type:state` / `type:trigger`, for order checks. */
function trail(events: WorkerEvent[], from = 0): string[] {
  return events
    .slice(from)
    .filter((e) => !['heartbeat', 'progress', 'baseline', 'selection', 'clusters', 'projection'].includes(e.type))
    .map((e) =>
      e.type === 'state' ? `state:${e.state}` : e.type === 'checkpoint' ? `checkpoint:${e.trigger}` : e.type,
    );
}

describe('A run ends at totalSteps (issue 19)', () => {
  const FINISH = { ...CONFIG, totalSteps: 6, warmupSteps: 2 };
  const stepsOf = (h: ReturnType<typeof harness>) => h.of('progress').flatMap((p) => p.metrics);

  it('finishes at totalSteps: full evaluation, save, finished; Start and Step then do nothing', async () => {
    const h = make();
    await h.boot();
    h.send({ type: 'configure', config: FINISH });
    await h.settle();
    const from = h.events.length;
    h.send({ type: 'start' });
    await h.until(() => h.last('state')?.state === 'finished', 'finished');
    await h.settle();
    expect(stepsOf(h).map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(h.engine.running).toBe(false);
    expect(trail(h.events, from)).toEqual([
      'state:preparing',
      'state:running',
      'eval',
      'checkpoint:finished',
      'saved',
      'state:finished',
    ]);
    const ev = h.last('eval')!.result;
    expect(ev.step).toBe(6);
    expect(ev.knnTop1).not.toBeNull();
    expect(ev.linearTop1).not.toBeNull();
    expect(h.last('checkpoint')).toMatchObject({ ok: true, step: 6, trigger: 'finished' });
    expect(h.last('saved')!.entries[0]).toMatchObject({ step: 6, totalSteps: 6 });
    expect(h.last('state')).toMatchObject({ state: 'finished', step: 6 });
    // Nothing steps on, and Start / Step only say 'finished' again.
    await new Promise((r) => setTimeout(r, 100));
    h.send({ type: 'start' });
    h.send({ type: 'step' });
    await h.settle();
    expect(h.engine.trainer!.step).toBe(6);
    expect(stepsOf(h)).toHaveLength(6);
    expect(h.last('state')).toMatchObject({ state: 'finished', step: 6 });
    expect(h.engine.running).toBe(false);
  });

  it('extendRun trains N more steps on a new warm-up and cosine segment and finishes again', async () => {
    const h = make();
    await h.boot();
    h.send({ type: 'configure', config: FINISH });
    // Single Steps reach the end as well.
    for (let i = 0; i < 6; i++) h.send({ type: 'step' });
    await h.settle();
    expect(h.last('state')).toMatchObject({ state: 'finished', step: 6 });
    // Refused: a step count out of range (nothing changes).
    h.send({ type: 'extendRun', steps: 0 });
    await h.settle();
    expect(h.last('error')!.message).toMatch(/^Not extended: the number of steps must be a whole number from 1/);
    const from = h.events.length;
    h.send({ type: 'extendRun', steps: 4 });
    await h.until(() => h.last('state')?.state === 'finished' && h.last('state')!.step === 10, 'finished at 10');
    await h.settle();
    expect(trail(h.events, from)).toEqual([
      'extended',
      'state:running',
      'eval',
      'checkpoint:finished',
      'saved',
      'state:finished',
    ]);
    expect(h.last('extended')).toMatchObject({ from: 6, to: 10, config: { scheduleStart: 6, totalSteps: 10 } });
    expect(h.engine.config).toMatchObject({ scheduleStart: 6, totalSteps: 10 });
    const after = stepsOf(h).filter((m) => m.step > 6);
    expect(after.map((m) => m.step)).toEqual([7, 8, 9, 10]);
    // By hand (warmupCosine over the 4-step segment, warm-up 2, base 0.06): 0-based steps 6..9 are the segment's
    // 0..3: 0.06·1/2, 0.06·2/2, then the cosine over 2 steps: t = 0 → 0.06, t = 0.5 → 0.03.
    const want = [0.03, 0.06, 0.06, 0.03];
    after.forEach((m, i) => expect(m.lr).toBeCloseTo(want[i], 12));
    expect(h.last('eval')!.result).toMatchObject({ step: 10 });
    expect(h.last('eval')!.result.linearTop1).not.toBeNull();
  });

  it('a finished run restored from its save (or a file) is finished, and a longer schedule makes it paused', async () => {
    const h = make();
    await h.boot();
    h.send({ type: 'configure', config: { ...FINISH, totalSteps: 3 } });
    h.send({ type: 'start' });
    await h.until(() => h.last('state')?.state === 'finished', 'finished');
    h.send({ type: 'exportRun' });
    await h.settle();
    const key = h.last('saved')!.entries[0].key;
    const file = h.last('runFile')!;
    h.send({ type: 'reset', runId: h.newRun() });
    h.send({ type: 'prepareRestore', token: 1, from: 'saved', key });
    h.send({ type: 'commitRestore', token: 1, runId: h.newRun() });
    await h.settle();
    expect(h.last('restored')).toMatchObject({ step: 3, source: 'saved' });
    expect(h.last('state')).toMatchObject({ state: 'finished', step: 3 });
    h.send({ type: 'reset', runId: h.newRun() });
    h.send({ type: 'prepareRestore', token: 2, from: 'file', bytes: file.bytes, fileName: file.fileName });
    h.send({ type: 'commitRestore', token: 2, runId: h.newRun() });
    await h.settle();
    expect(h.last('state')).toMatchObject({ state: 'finished', step: 3 });
    // Lengthening the schedule in the settings (setLive totalSteps) reopens it, paused.
    h.send({ type: 'setLive', patch: { totalSteps: 5 } });
    await h.settle();
    expect(h.last('state')).toMatchObject({ state: 'paused', step: 3 });
    // Only a finished run takes more steps.
    h.send({ type: 'extendRun', steps: 2 });
    await h.settle();
    expect(h.last('error')!.message).toMatch(/^Not extended: only a finished run can train more steps/);
    expect(h.engine.config.totalSteps).toBe(5);
  });
});
