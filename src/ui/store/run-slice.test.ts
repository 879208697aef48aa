/**
 * Over 500 lines: the run slice is the store's largest (start, pause, step,
 * reports, restore, starting weights, the page's default preset), and each
 * describe drives it through the fake worker of store.test-util.ts.
 */
import { describe, expect, it } from 'vitest';
import type { RuleComparison } from '../rule-names';
import { UmapClient } from '../../worker/umap-client';
import { defaultConfig, tinyConfig } from '../../core/config';
import { presetConfig } from '../../core/presets';
import { EngineClient } from '../../worker/client';
import { createClimStore, MAX_HISTORY, MAX_RULE_HISTORY, stepsPerSecond } from '../store';
import { parseParams } from '../params';
import { FakeWorker } from '../fake-worker.test-util';
import { metric, clusterSnap, knnEval, storeHarness } from './store.test-util';

const h = storeHarness();
const { st, ready } = h;

describe('store', () => {
  it('starts disconnected and connects once', () => {
    expect(st().runState).toBe('connecting');
    st().connect({ backend: 'webgpu', config: tinyConfig() });
    st().connect({ backend: 'cpu' });
    expect(h.worker.sent.map((m) => m.type)).toEqual(['init', 'configure']);
    expect(h.worker.sent[0]).toMatchObject({ type: 'init', backend: 'webgpu' });
    // Each new-run request gets a larger run id.
    expect(h.worker.sent[1].runId).toBeGreaterThan(h.worker.sent[0].runId);
    expect(st().config.batchSize).toBe(tinyConfig().batchSize);
  });

  it('uses fashion-mnist by default and switches data set as a new run, keeping the page sizes', () => {
    expect(st().dataset).toBe('fashion-mnist');
    st().connect({ dataset: { seed: 1, nTrain: 64, nTest: 32 } });
    expect(h.worker.sent[h.worker.sent.length - 1]).toMatchObject({
      type: 'setDataset',
      dataset: 'fashion-mnist',
      nTrain: 64,
      nTest: 32,
    });
    ready();
    const id = h.worker.lastRunId;
    h.worker.emit({ type: 'progress', runId: id, metrics: [metric(1)] });
    expect(st().step).toBe(1);
    st().setDataset('shapes');
    const req = h.worker.sent[h.worker.sent.length - 1];
    expect(req).toMatchObject({ type: 'setDataset', dataset: 'shapes', seed: 1, nTrain: 64, nTest: 32 });
    expect(req.runId).toBeGreaterThan(id);
    expect(st()).toMatchObject({ dataset: 'shapes', step: 0, metrics: [], datasetId: null });
    // Choosing the data set in use sends nothing.
    const n = h.worker.sent.length;
    st().setDataset('shapes');
    expect(h.worker.sent).toHaveLength(n);
  });

  it('an upload becomes the data set as a new run, its pixels transferred; switching back to it sends no pixels', () => {
    st().connect({});
    ready();
    const id = h.worker.lastRunId;
    const images = new Uint8Array(2 * 4 * 4 * 3);
    const labels = Int32Array.from([0, 1]);
    const report = {
      files: 2,
      loaded: 2,
      perLabel: [],
      labelled: true,
      evaluation: true,
      hiddenCount: 0,
      skipped: [],
      countsByKind: {
        'not-image': 0,
        empty: 0,
        duplicate: 0,
        'too-large': 0,
        corrupt: 0,
        unsupported: 0,
        encrypted: 0,
        'unpack-limit': 0,
        symlink: 0,
      },
      notes: [],
    };
    st().loadUpload({ name: 'pets', size: 4, images, labels, classNames: ['a', 'b'], fraction: 0.1, seed: 1 }, report);
    const req = h.worker.sent[h.worker.sent.length - 1];
    expect(req).toMatchObject({ type: 'setUpload', upload: { name: 'pets', size: 4, classNames: ['a', 'b'] } });
    expect(req.runId).toBeGreaterThan(id);
    expect(h.worker.transfers[h.worker.transfers.length - 1]).toEqual([images.buffer, labels.buffer]);
    expect(st()).toMatchObject({ dataset: 'upload', upload: { name: 'pets', size: 4 }, step: 0 });
    st().setDataset('shapes');
    st().setDataset('upload');
    expect(h.worker.sent[h.worker.sent.length - 1]).toMatchObject({ type: 'setDataset', dataset: 'upload' });
    expect(h.worker.transfers[h.worker.transfers.length - 1]).toBeUndefined();
  });

  it('connects with ?dataset=shapes and no sizes', () => {
    st().connect(parseParams('?dataset=shapes'));
    expect(h.worker.sent.map((m) => m.type)).toEqual(['init', 'configure', 'setDataset']);
    expect(h.worker.sent[2]).toMatchObject({ type: 'setDataset', dataset: 'shapes' });
    expect(st().dataset).toBe('shapes');
  });

  it('shows the backend and run state the worker reports', () => {
    st().connect();
    ready();
    expect(st()).toMatchObject({ backend: 'wasm', adapter: 'WebAssembly SIMD, 2 threads', runState: 'idle', step: 0 });
  });

  it('keeps a ready event from before a reconfigure (the backend is worker-wide)', () => {
    st().connect({ config: tinyConfig() });
    h.worker.emit({
      type: 'ready',
      runId: 1,
      backend: 'webgpu',
      adapter: 'google swiftshader',
      isFallbackAdapter: true,
      failed: [],
    });
    expect(st().backend).toBe('webgpu');
    expect(st().isFallbackAdapter).toBe(true);
  });

  it('keeps the status bar data: data set sizes, tensor memory, training time without pauses', () => {
    st().connect();
    ready();
    st().start();
    const id = h.worker.lastRunId;
    h.clock = 500;
    h.worker.emit({ type: 'state', runId: id, state: 'preparing', step: 0, datasetId: null });
    expect(st().trainSize).toBeNull();
    h.clock = 4000;
    const mem = { numBytes: 130_562_704, numTensors: 875 };
    h.worker.emit({
      type: 'state',
      runId: id,
      state: 'running',
      step: 0,
      datasetId: 'fashion-mnist:10000+2000',
      trainSize: 10_000,
      testSize: 2000,
      memory: mem,
    });
    expect([st().trainSize, st().testSize]).toEqual([10_000, 2000]);
    expect(st().workerMemory).toEqual(mem);
    h.clock = 4600;
    h.worker.emit({
      type: 'progress',
      runId: id,
      metrics: [metric(1, 5, 600)],
      memory: { numBytes: 1000, numTensors: 900 },
    });
    expect(st().workerMemory).toEqual({ numBytes: 1000, numTensors: 900 });
    h.clock = 5200;
    h.worker.emit({ type: 'progress', runId: id, metrics: [metric(2, 5, 600)] });
    // Preparation (0.5–4 s) not counted; two steps of 600 ms are.
    expect(st().clock.elapsedMs).toBe(1200);
    h.clock = 5210;
    h.worker.emit({
      type: 'state',
      runId: id,
      state: 'paused',
      step: 2,
      datasetId: 'fashion-mnist:10000+2000',
      trainSize: 10_000,
      testSize: 2000,
    });
    // A minute's pause, then one more step.
    h.clock = 65_210;
    h.worker.emit({
      type: 'state',
      runId: id,
      state: 'running',
      step: 2,
      datasetId: 'fashion-mnist:10000+2000',
      trainSize: 10_000,
      testSize: 2000,
    });
    h.clock = 65_810;
    h.worker.emit({ type: 'progress', runId: id, metrics: [metric(3, 5, 600)] });
    expect(st().clock.elapsedMs).toBe(1810);
    // Reset: a new run's clock; the worker's memory is kept until it reports again.
    st().reset();
    expect(st().clock).toEqual({ elapsedMs: 0, since: null });
    expect(st().workerMemory).toEqual({ numBytes: 1000, numTensors: 900 });
  });

  it('a finished run: the clock stops, no rate; Train N more steps sends extendRun and takes the new schedule', () => {
    st().connect();
    ready();
    const config = tinyConfig({ totalSteps: 30 });
    st().configure(config);
    st().start();
    const id = h.worker.lastRunId;
    h.clock = 1000;
    h.worker.emit({ type: 'state', runId: id, state: 'running', step: 0, datasetId: 'shapes' });
    h.clock = 4000;
    h.worker.emit({ type: 'progress', runId: id, metrics: [metric(29, 5, 100), metric(30, 5, 100)] });
    h.clock = 4100;
    h.worker.emit({ type: 'state', runId: id, state: 'finished', step: 30, datasetId: 'shapes' });
    expect(st()).toMatchObject({ runState: 'finished', step: 30, rateSamples: [] });
    expect(st().clock.since).toBeNull();
    expect(st().clock.elapsedMs).toBe(3100);
    st().extendRun(20);
    expect(h.worker.last).toMatchObject({ type: 'extendRun', steps: 20, runId: id });
    const extended = { ...config, scheduleStart: 30, totalSteps: 50 };
    h.worker.emit({ type: 'extended', runId: id, config: extended, from: 30, to: 50 });
    expect(st().config).toEqual(extended);
    // The form follows, so no setting is left waiting to be applied.
    expect(st().draft).toEqual(extended);
    expect(st().draftIssues).toEqual([]);
    h.worker.emit({ type: 'state', runId: id, state: 'running', step: 30, datasetId: 'shapes' });
    expect(st().runState).toBe('running');
  });

  it('accumulates progress: history, step, first losses, steps per second', () => {
    st().connect();
    ready();
    st().start();
    expect(h.worker.sent[h.worker.sent.length - 1].type).toBe('start');
    const id = h.worker.lastRunId;
    h.worker.emit({ type: 'state', runId: id, state: 'running', step: 0, datasetId: null });
    h.clock = 1000;
    h.worker.emit({ type: 'progress', runId: id, metrics: [1, 2, 3].map((s) => metric(s)) });
    // One batch: the rate comes from the step's own time (100 ms).
    expect(st().stepsPerSecond).toBeCloseTo(10);
    h.clock = 2000;
    h.worker.emit({ type: 'progress', runId: id, metrics: [4, 5, 6, 7, 8].map((s) => metric(s)) });
    expect(st().step).toBe(8);
    expect(st().metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Five steps in one second of wall time.
    expect(st().stepsPerSecond).toBeCloseTo(5);
    h.worker.emit({ type: 'progress', runId: id, metrics: Array.from({ length: 30 }, (_, i) => metric(9 + i)) });
    expect(st().firstLosses).toHaveLength(20);
    expect(st().firstLosses[0]).toBeCloseTo(4.99);
  });

  it('drops events of a run that was reset, and clears at once', () => {
    st().connect();
    ready();
    st().start();
    const old = h.worker.lastRunId;
    h.worker.emit({ type: 'progress', runId: old, metrics: [metric(1), metric(2)] });
    expect(st().step).toBe(2);
    st().reset();
    expect(st().metrics).toEqual([]);
    expect(st().step).toBe(0);
    expect(h.worker.lastRunId).toBeGreaterThan(old);
    // The step that was in flight at Reset reports late: ignored.
    h.worker.emit({ type: 'progress', runId: old, metrics: [metric(3)] });
    h.worker.emit({ type: 'state', runId: old, state: 'paused', step: 3, datasetId: null });
    h.worker.emit({ type: 'error', runId: old, message: 'late', recoverable: true });
    expect(st().metrics).toEqual([]);
    expect(st().runState).not.toBe('paused');
    expect(st().error).toBeNull();
    // The new run's events are accepted.
    h.worker.emit({ type: 'state', runId: h.worker.lastRunId, state: 'idle', step: 0, datasetId: null });
    h.worker.emit({ type: 'progress', runId: h.worker.lastRunId, metrics: [metric(1, 4.2)] });
    expect(st().metrics.map((m) => m.loss)).toEqual([4.2]);
  });

  it('shows errors, including fatal ones from an old run id', () => {
    st().connect();
    ready();
    h.worker.emit({ type: 'error', runId: 0, message: 'no backend', recoverable: false });
    expect(st().error).toEqual({ message: 'no backend', recoverable: false });
    st().dismissError();
    expect(st().error).toBeNull();
    h.worker.emit({ type: 'error', runId: h.worker.lastRunId, message: 'NaN loss', recoverable: true });
    expect(st().error?.message).toBe('NaN loss');
  });

  it('reports a worker that fails to load', () => {
    st().connect();
    h.worker.onerror?.({ message: 'SyntaxError', preventDefault() {} } as ErrorEvent);
    expect(st().error).toEqual({ message: 'Engine worker failed: SyntaxError', recoverable: false });
  });

  it('keeps snapshots and eval results of the current run', () => {
    st().connect();
    ready();
    const id = h.worker.lastRunId;
    const snap = clusterSnap();
    h.worker.emit({ type: 'clusters', runId: id, snapshot: snap });
    h.worker.emit({
      type: 'selection',
      runId: id,
      snapshot: { step: 25, mode: 'center-wise', anchors: [], rules: null },
      thumbs: { size: 2, index: Int32Array.from([3]), pixels: new Uint8Array(12) },
      classNames: ['a', 'b'],
    });
    const result = knnEval(100, 0.5);
    h.worker.emit({ type: 'eval', runId: id, result });
    expect(st().clusters?.sizes).toEqual(new Int32Array([1, 2]));
    expect(st().selection?.mode).toBe('center-wise');
    expect(Array.from(st().thumbs!.index)).toEqual([3]);
    expect(st().classNames).toEqual(['a', 'b']);
    expect(st().evals).toEqual([result]);
    // The raw-pixel level arrives after the first evaluation and goes with the run.
    expect(st().rawBaseline).toBeNull();
    h.worker.emit({ type: 'baseline', runId: id, knnTop1: 0.806, k: 20, tau: 0.1 });
    expect(st().rawBaseline).toEqual({ knnTop1: 0.806, k: 20, tau: 0.1 });
    st().reset();
    expect(st().rawBaseline).toBeNull();
  });

  it('keeps a history of rule comparisons: appends newer steps, ignores a repeated step, clears on a new run', () => {
    st().connect();
    ready();
    const rules = (step: number, p: number): RuleComparison => ({
      step,
      anchors: 512,
      k: 10,
      clusters: 8,
      rules: [{ rule: 'knn', precision: p, keptPerAnchor: 10, coverage: 1 }],
    });
    const select = (runId: number, step: number, r: RuleComparison | null) =>
      h.worker.emit({
        type: 'selection',
        runId,
        snapshot: { step, mode: 'center-wise', anchors: [], rules: r },
        thumbs: { size: 2, index: Int32Array.from([]), pixels: new Uint8Array(0) },
        classNames: [],
      });
    const id = h.worker.lastRunId;
    select(id, 25, null);
    expect(st().ruleHistory).toEqual([]);
    select(id, 25, rules(25, 0.5));
    select(id, 50, rules(50, 0.6));
    expect(st().ruleHistory.map((r) => r.step)).toEqual([25, 50]);
    // The same step again (or an older one) is not a new point.
    select(id, 50, rules(50, 0.9));
    select(id, 50, rules(25, 0.9));
    expect(st().ruleHistory.map((r) => r.rules[0].precision)).toEqual([0.5, 0.6]);
    // A snapshot without rules keeps the history.
    select(id, 75, null);
    expect(st().ruleHistory).toHaveLength(2);
    // Capped: the older half thinned, the newest kept.
    for (let s = 75; s < 75 + 25 * MAX_RULE_HISTORY; s += 25) select(id, s, rules(s, 0.5));
    expect(st().ruleHistory.length).toBeLessThanOrEqual(MAX_RULE_HISTORY);
    expect(st().ruleHistory[0].step).toBe(25);
    expect(st().ruleHistory[st().ruleHistory.length - 1].step).toBe(50 + 25 * MAX_RULE_HISTORY);
    // A new run starts an empty history, and the old run's late snapshots are dropped.
    st().reset();
    expect(st().ruleHistory).toEqual([]);
    select(id, 100, rules(100, 0.7));
    expect(st().ruleHistory).toEqual([]);
    select(h.worker.lastRunId, 25, rules(25, 0.4));
    expect(st().ruleHistory.map((r) => r.step)).toEqual([25]);
  });

  it('switches tabs through the store', () => {
    expect(st().activeTab).toBe('training');
    st().setActiveTab('positives');
    expect(st().activeTab).toBe('positives');
  });

  it('pins anchors newest first, at most 12, and sends the list; a new data set clears them', () => {
    st().connect();
    ready();
    for (let i = 0; i < 14; i++) st().pinAnchor(i);
    st().pinAnchor(5);
    expect(st().pinned).toEqual([5, 13, 12, 11, 10, 9, 8, 7, 6, 4, 3, 2]);
    expect(h.worker.sent.at(-1)).toMatchObject({
      type: 'pinAnchors',
      indices: [5, 13, 12, 11, 10, 9, 8, 7, 6, 4, 3, 2],
    });
    st().unpinAnchor(13);
    expect(h.worker.sent.at(-1)).toMatchObject({ type: 'pinAnchors', indices: [5, 12, 11, 10, 9, 8, 7, 6, 4, 3, 2] });
    st().setDataset('shapes');
    expect(st().pinned).toEqual([]);
  });

  it('thins a long history instead of growing without bound', () => {
    st().connect();
    ready();
    const id = h.worker.lastRunId;
    for (let b = 0; b < 30; b++) {
      h.worker.emit({
        type: 'progress',
        runId: id,
        metrics: Array.from({ length: 500 }, (_, i) => metric(b * 500 + i + 1)),
      });
    }
    const m = st().metrics;
    expect(m.length).toBeLessThanOrEqual(MAX_HISTORY);
    expect(m[m.length - 1].step).toBe(15000);
    expect(m[0].step).toBe(1);
    for (let i = 1; i < m.length; i++) expect(m[i].step).toBeGreaterThan(m[i - 1].step);
  });

  it('pauses do not count as slow steps', () => {
    st().connect();
    ready();
    const id = h.worker.lastRunId;
    h.clock = 0;
    h.worker.emit({ type: 'progress', runId: id, metrics: [metric(1)] });
    h.worker.emit({ type: 'state', runId: id, state: 'paused', step: 1, datasetId: null });
    h.clock = 60_000;
    h.worker.emit({ type: 'progress', runId: id, metrics: [metric(2, 1, 50)] });
    expect(st().stepsPerSecond).toBeCloseTo(20);
  });

  it('disconnect disposes the worker and restores the initial state', () => {
    st().connect();
    ready();
    st().disconnect();
    expect(h.worker.sent[h.worker.sent.length - 1].type).toBe('dispose');
    expect(st().backend).toBeNull();
    expect(st().runState).toBe('connecting');
  });
});

describe('stepsPerSecond', () => {
  it('is null before any step', () => {
    expect(stepsPerSecond([], undefined)).toBeNull();
  });
});

describe('store: a machine that slept', () => {
  it('drops the rate samples across the gap, so the rate (and time left) is the current one', () => {
    st().connect();
    ready();
    const id = h.worker.lastRunId;
    h.worker.emit({ type: 'state', runId: id, state: 'running', step: 0, datasetId: 'x' });
    h.clock = 1000;
    h.worker.emit({ type: 'progress', runId: id, metrics: [metric(1, 5, 500), metric(2, 5, 500)] });
    h.clock = 2000;
    h.worker.emit({ type: 'progress', runId: id, metrics: [metric(3, 5, 500), metric(4, 5, 500)] });
    expect(st().stepsPerSecond).toBeCloseTo(2, 6);
    h.clock = 602_000; // asleep for ten minutes
    h.worker.emit({ type: 'progress', runId: id, metrics: [metric(5, 5, 500), metric(6, 5, 500)] });
    // Only the new sample: the rate is the step's own time, not 2 steps over 600 s.
    expect(st().rateSamples.length).toBe(1);
    expect(st().stepsPerSecond).toBeCloseTo(2, 6);
    expect(st().clock.elapsedMs).toBe(1000 + 1000 + 1000);
  });
});

describe('store: starting weights', () => {
  const trainedInfo = {
    steps: 400,
    knnTop1: 0.77,
    trainedOn: { id: 'fashion-mnist:10000+2000', train: 10000, test: 2000 },
  };

  it('the trained encoder: sends the built-in choice as a new run, shows what the worker took, and keeps it across new runs', () => {
    st().connect();
    ready();
    const id0 = h.worker.lastRunId;
    h.worker.emit({ type: 'progress', runId: id0, metrics: [metric(1), metric(2)] });
    st().startFromTrainedEncoder(true);
    const req = h.worker.last;
    expect(req).toMatchObject({ type: 'setInitWeights', source: { kind: 'builtin', name: 'fashion-mnist' } });
    expect(req.runId).toBeGreaterThan(id0);
    expect(h.worker.transfers[h.worker.transfers.length - 1]).toBeUndefined();
    expect(st().initWeightsPending).toBe(true);
    // Nothing cleared until the worker answers: it may refuse and keep the run.
    expect(st().metrics).toHaveLength(2);
    expect(st().initWeights).toBeNull();
    h.worker.emit({
      type: 'initWeights',
      runId: req.runId,
      source: 'builtin',
      name: 'fashion-mnist-encoder',
      info: trainedInfo,
    });
    h.worker.emit({ type: 'state', runId: req.runId, state: 'idle', step: 0, datasetId: 'fashion-mnist:512+128' });
    expect(st().initWeights).toEqual({ source: 'builtin', name: 'fashion-mnist-encoder', ...trainedInfo });
    expect(st().trainedEncoderInfo).toEqual(trainedInfo);
    expect(st().initWeightsPending).toBe(false);
    expect(st().metrics).toEqual([]);
    // Reset, a new config, a new data set: new runs, same starting weights (until the worker says otherwise).
    st().reset();
    st().configure({ ...defaultConfig(), seed: 9 });
    st().setDataset('shapes');
    h.worker.emit({ type: 'state', runId: h.worker.lastRunId, state: 'idle', step: 0, datasetId: null });
    expect(st().initWeights?.source).toBe('builtin');
    // Back to random init.
    st().startFromTrainedEncoder(false);
    expect(h.worker.last).toMatchObject({ type: 'setInitWeights', source: null });
    h.worker.emit({ type: 'initWeights', runId: h.worker.lastRunId, source: null, name: null, info: null });
    expect(st().initWeights).toBeNull();
    // The hint still knows what the trained encoder is.
    expect(st().trainedEncoderInfo?.steps).toBe(400);
  });

  it('a weights file: its buffer moves to the worker; a refusal says why and keeps the run and the choice', async () => {
    st().connect();
    ready();
    h.worker.emit({
      type: 'initWeights',
      runId: h.worker.lastRunId,
      source: 'builtin',
      name: 'fashion-mnist-encoder',
      info: trainedInfo,
    });
    h.worker.emit({ type: 'progress', runId: h.worker.lastRunId, metrics: [metric(1)] });
    const file = new File([Uint8Array.from([1, 2, 3, 4])], 'other.climweights');
    await st().openModel(file);
    const req = h.worker.last;
    expect(req).toMatchObject({ type: 'setInitWeights', source: { kind: 'file', fileName: 'other.climweights' } });
    const bytes = (req as { source: { bytes: Uint8Array } }).source.bytes;
    expect(Array.from(bytes)).toEqual([1, 2, 3, 4]);
    expect(h.worker.transfers[h.worker.transfers.length - 1]).toEqual([bytes.buffer]);
    h.worker.emit({
      type: 'error',
      runId: req.runId,
      message:
        'Model file “other.climweights” not loaded: The weights are for another encoder: width 8 (this run: 16). The current run is unchanged.',
      recoverable: true,
    });
    h.worker.emit({ type: 'state', runId: req.runId, state: 'paused', step: 1, datasetId: 'fashion-mnist:512+128' });
    expect(st().error?.message).toContain('another encoder');
    expect(st().initWeightsPending).toBe(false);
    expect(st().initWeights?.source).toBe('builtin');
    expect(st().metrics).toHaveLength(1);
    // Taken: the file's name is the choice.
    await st().openModel(new File([Uint8Array.from([5])], 'mine.climweights'));
    h.worker.emit({
      type: 'initWeights',
      runId: h.worker.lastRunId,
      source: 'file',
      name: 'mine.climweights',
      info: { steps: 90 },
    });
    expect(st().initWeights).toEqual({ source: 'file', name: 'mine.climweights', steps: 90 });
  });

  it('an opened model is shown at step 0: the old run is cleared, then its snapshots and evaluation fill the views, paused', async () => {
    st().connect();
    ready();
    h.worker.emit({ type: 'progress', runId: h.worker.lastRunId, metrics: [metric(1), metric(2)] });
    await st().openModel(new File([Uint8Array.from([5])], 'big.climweights'));
    const id = h.worker.lastRunId;
    // What engine-setup.ts showOpenedModel sends after the weights are taken.
    h.worker.emit({ type: 'initWeights', runId: id, source: 'file', name: 'big.climweights', info: null });
    h.worker.emit({ type: 'state', runId: id, state: 'idle', step: 0, datasetId: 'shapes:seed=1' });
    expect(st().metrics).toEqual([]);
    h.worker.emit({ type: 'state', runId: id, state: 'preparing', step: 0, datasetId: 'shapes:seed=1' });
    h.worker.emit({
      type: 'selection',
      runId: id,
      snapshot: { step: 0, mode: 'center-wise', anchors: [], rules: null },
      thumbs: { size: 2, index: Int32Array.from([3]), pixels: new Uint8Array(12) },
      classNames: ['a', 'b'],
    });
    h.worker.emit({ type: 'clusters', runId: id, snapshot: { ...clusterSnap(), step: 0 } });
    const result = knnEval(0, 0.7);
    h.worker.emit({ type: 'eval', runId: id, result });
    h.worker.emit({ type: 'state', runId: id, state: 'paused', step: 0, datasetId: 'shapes:seed=1' });
    expect(st()).toMatchObject({ runState: 'paused', step: 0, evals: [result], initWeightsPending: false });
    expect(st().selection?.step).toBe(0);
    expect(st().clusters?.step).toBe(0);
    expect(st().initWeights).toEqual({ source: 'file', name: 'big.climweights' });
  });

  it('hears the worker drop the weights even when the report carries an older run id', () => {
    st().connect();
    ready();
    h.worker.emit({
      type: 'initWeights',
      runId: h.worker.lastRunId,
      source: 'builtin',
      name: 'fashion-mnist-encoder',
      info: trainedInfo,
    });
    const old = h.worker.lastRunId;
    st().reset();
    st().reset();
    // e.g. a configure that changed the encoder's width, answered after two Resets were sent.
    h.worker.emit({ type: 'initWeights', runId: old, source: null, name: null, info: null });
    expect(st().initWeights).toBeNull();
  });

  it('a restarted engine is asked for the trained encoder again; a file must be opened again', () => {
    const workers: FakeWorker[] = [];
    const s = createClimStore({
      makeClient: () => {
        workers.push(new FakeWorker());
        return new EngineClient(workers[workers.length - 1]);
      },
    });
    s.getState().connect({ backend: 'wasm' });
    workers[0].emit({
      type: 'initWeights',
      runId: 1,
      source: 'builtin',
      name: 'fashion-mnist-encoder',
      info: trainedInfo,
    });
    workers[0].onerror?.({ message: 'crashed', preventDefault() {} } as ErrorEvent);
    s.getState().restartEngine();
    expect(workers[1].last).toMatchObject({
      type: 'setInitWeights',
      source: { kind: 'builtin', name: 'fashion-mnist' },
    });
    expect(s.getState().initWeights).toBeNull();
    workers[1].emit({
      type: 'initWeights',
      runId: workers[1].lastRunId,
      source: 'file',
      name: 'mine.climweights',
      info: null,
    });
    workers[1].onerror?.({ message: 'crashed', preventDefault() {} } as ErrorEvent);
    s.getState().restartEngine();
    expect(workers[2].types()).not.toContain('setInitWeights');
    expect(s.getState().notices.join(' ')).toContain('mine.climweights');
  });
});

describe('the page default preset (autoPreset)', () => {
  const readyOn = (backend: 'wasm' | 'webgpu' | 'webgl', isFallbackAdapter = false) =>
    h.worker.emit({ type: 'ready', runId: h.worker.lastRunId, backend, adapter: 'x', isFallbackAdapter, failed: [] });

  it('swaps in the CPU-sized CLIM when the backend is WASM, once, with a notice', () => {
    st().connect({ config: presetConfig('clim-paper'), preset: 'clim-paper', autoPreset: true });
    readyOn('wasm');
    expect(st().preset).toBe('clim-cpu');
    expect(st().config).toEqual(presetConfig('clim-cpu'));
    expect(h.worker.sent.filter((m) => m.type === 'configure').pop()).toMatchObject({
      config: presetConfig('clim-cpu'),
    });
    expect(st().presetNote).toMatch(/^Chosen for this machine: training runs on the CPU here \(WASM\)/);
    expect(st().notices).toEqual([]);
    // A later ready (a restarted engine) does not apply it again over the user's choice.
    st().choosePreset('clim-paper');
    expect(st().presetNote).toBeNull();
    readyOn('wasm');
    expect(st().config).toEqual(presetConfig('clim-paper'));
  });

  it('keeps the paper preset on a hardware GPU and takes the CPU one on a software adapter', () => {
    st().connect({ config: presetConfig('clim-paper'), preset: 'clim-paper', autoPreset: true });
    readyOn('webgpu');
    expect([st().preset, st().config]).toEqual(['clim-paper', presetConfig('clim-paper')]);
    const other = createClimStore({
      makeClient: () => new EngineClient(h.worker),
      makeUmapClient: (on) => new UmapClient(on, () => h.umapWorker),
      now: () => h.clock,
    });
    other.getState().connect({ config: presetConfig('clim-paper'), preset: 'clim-paper', autoPreset: true });
    h.worker.emit({
      type: 'ready',
      runId: h.worker.lastRunId,
      backend: 'webgpu',
      adapter: 'google swiftshader',
      isFallbackAdapter: true,
      failed: [],
    });
    expect(other.getState().preset).toBe('clim-cpu');
  });

  it('leaves a link-chosen run, a changed config and a started run alone', () => {
    st().connect({ config: presetConfig('clim-paper'), preset: 'clim-paper' });
    readyOn('wasm');
    expect(st().preset).toBe('clim-paper');
    const changed = createClimStore({
      makeClient: () => new EngineClient(h.worker),
      makeUmapClient: (on) => new UmapClient(on, () => h.umapWorker),
      now: () => h.clock,
    });
    changed
      .getState()
      .connect({ config: { ...presetConfig('clim-paper'), seed: 7 }, preset: 'clim-paper', autoPreset: true });
    h.worker.emit({
      type: 'ready',
      runId: h.worker.lastRunId,
      backend: 'wasm',
      adapter: 'x',
      isFallbackAdapter: false,
      failed: [],
    });
    expect(changed.getState().config.seed).toBe(7);
    expect(changed.getState().preset).toBe('clim-paper');
  });
});
