/**
 * The run slice: the engine's lifecycle (connect, restart, disconnect), the
 * run and its data set, its progress, selection and evaluations, pinned
 * anchors, the active view and the weights fresh runs start from.
 */
import { validateConfig } from '../../core/config';
import type { StepMetrics } from '../../core/api';
import { getPreset, pageDefaultPreset, presetConfig } from '../../core/presets';
import type { EngineClient } from '../../worker/client';
import { DEFAULT_DATASET, MAX_PINNED, type BackendName, type DatasetName } from '../../worker/protocol';
import { pendingRestart } from '../settings-store';
import { clockOnProgress, clockOnState, isSleepGap } from '../status';
import { appendCapped, initialState, runFields, type Slice, type StoreCtx } from './shared';
import {
  MAX_RULE_HISTORY,
  RATE_WINDOW_MS,
  type ClimState,
  type ConnectOptions,
  type DatasetSizes,
  type GetState,
  type RateSample,
  type SetState,
} from './state';

export type RunActions =
  | 'connect'
  | 'start'
  | 'pause'
  | 'stepOnce'
  | 'extendRun'
  | 'reset'
  | 'configure'
  | 'setDataset'
  | 'loadUpload'
  | 'dismissError'
  | 'pinAnchor'
  | 'unpinAnchor'
  | 'setActiveTab'
  | 'evaluateNow'
  | 'restartEngine'
  | 'startFromTrainedEncoder'
  | 'openModel'
  | 'disconnect';

export function stepsPerSecond(samples: RateSample[], last: StepMetrics | undefined): number | null {
  if (samples.length >= 2) {
    const a = samples[0];
    const b = samples[samples.length - 1];
    if (b.t > a.t && b.step > a.step) return ((b.step - a.step) * 1000) / (b.t - a.t);
  }
  // One batch so far (or steps slower than the window): the step's own time.
  return last && last.ms > 0 ? 1000 / last.ms : null;
}

export function runSlice(
  set: SetState,
  get: GetState,
  ctx: StoreCtx,
  makeClient: () => EngineClient,
  now: () => number,
): Slice<RunActions> {
  let unsubscribe: Array<() => void> = [];
  let sizes: DatasetSizes = {};
  /** What connect was given, for restartEngine. */
  let connected: ConnectOptions = {};

  /**
   * The first `ready` of a page whose link chose no run: a CPU-only backend
   * gets the CPU-sized CLIM, whose default run passes the raw pixels there
   * (the paper preset's 1,000 steps did not; docs/BENCHMARKS.md). Only while
   * nothing has run and the settings are still the page's.
   */
  const applyPageDefaultPreset = (backend: BackendName, isFallbackAdapter: boolean) => {
    if (!connected.autoPreset) return;
    connected = { ...connected, autoPreset: false };
    const s = get();
    const id = pageDefaultPreset(backend, isFallbackAdapter);
    if (
      id === s.preset ||
      s.step > 0 ||
      s.restoring ||
      s.preset !== 'clim-paper' ||
      JSON.stringify(s.config) !== JSON.stringify(presetConfig('clim-paper'))
    )
      return;
    s.configure(presetConfig(id));
    set({
      preset: id,
      presetNote: `Chosen for this machine: training runs on the CPU here (${backend === 'webgpu' ? 'a software GPU adapter' : backend.toUpperCase()}), so the page starts with the same method at one 24-px resolution, about four times faster per step than “${getPreset('clim-paper').label}”, which stays one choice away.`,
    });
  };
  /**
   * A new run id without clearing the run: the worker keeps it (paused) if
   * it refuses the weights, and says 'idle' at step 0 (which clears it
   * here) if it takes them, then builds the run from them at once and sends
   * its snapshots, an evaluation and 'paused' at step 0, which fill the views
   * (engine-setup.ts showOpenedModel). What the old id still had in flight is
   * dropped, so nothing may wait for it: image requests and a UMAP job.
   */
  const sendInitWeights = (c: EngineClient, source: Parameters<EngineClient['setInitWeights']>[0]) => {
    ctx.caches.dropInFlight();
    set({ initWeightsPending: true, error: null });
    c.setInitWeights(source);
  };

  const wire = (c: EngineClient) => [
    c.on('ready', (e) => {
      set({ backend: e.backend, adapter: e.adapter, isFallbackAdapter: e.isFallbackAdapter, failedBackends: e.failed });
      applyPageDefaultPreset(e.backend, e.isFallbackAdapter);
      // What this browser has saved: the page offers to resume the latest.
      c.listSaved();
    }),
    c.on('state', (e) => {
      const patch: Partial<ClimState> = {
        runState: e.state,
        step: e.step,
        datasetId: e.datasetId,
        trainSize: e.trainSize ?? null,
        testSize: e.testSize ?? null,
      };
      if (e.memory) patch.workerMemory = e.memory;
      patch.clock = clockOnState(get().clock, e.state, e.step, now());
      // Pauses must not count as slow steps in the rate.
      if (e.state !== 'running') patch.rateSamples = [];
      if (e.state === 'idle' && e.step === 0) {
        Object.assign(patch, runFields());
        ctx.caches.clearRunCaches();
      }
      set(patch);
    }),
    c.on('progress', (e) => {
      if (!e.metrics.length) return;
      const s = get();
      const last = e.metrics[e.metrics.length - 1];
      const t = now();
      const stepMs = e.metrics.reduce((a, m) => a + m.ms, 0);
      const prev = s.rateSamples[s.rateSamples.length - 1];
      // After a sleep the old samples would average the gap into the rate (and the time left).
      const samples = [...(prev && isSleepGap(t - prev.t, stepMs) ? [] : s.rateSamples), { t, step: last.step }];
      while (samples.length > 2 && t - samples[0].t > RATE_WINDOW_MS) samples.shift();
      const firstLosses =
        s.firstLosses.length >= 20 ? s.firstLosses : s.firstLosses.concat(e.metrics.map((m) => m.loss)).slice(0, 20);
      set({
        metrics: appendCapped(s.metrics, e.metrics),
        firstLosses,
        step: Math.max(s.step, last.step),
        rateSamples: samples,
        stepsPerSecond: stepsPerSecond(samples, last),
        clock: clockOnProgress(s.clock, t, stepMs),
        ...(e.memory ? { workerMemory: e.memory } : {}),
      });
    }),
    c.on('selection', (e) => {
      const rules = e.snapshot.rules;
      const history = get().ruleHistory;
      const last = history[history.length - 1];
      const ruleHistory =
        rules && (!last || rules.step > last.step) ? appendCapped(history, [rules], MAX_RULE_HISTORY) : history;
      set({ selection: e.snapshot, ruleHistory, thumbs: e.thumbs, classNames: e.classNames });
    }),
    c.on('eval', (e) => set({ evals: [...get().evals, e.result], evaluating: false })),
    // "Train N more steps" was taken: the applied settings (and the form's) carry the new schedule segment.
    c.on('extended', (e) => {
      const { scheduleStart, totalSteps } = e.config;
      const draft = { ...get().draft, scheduleStart, totalSteps };
      set({ config: e.config, draft, draftIssues: validateConfig(draft) });
    }),
    c.on('baseline', (e) => set({ rawBaseline: { knnTop1: e.knnTop1, k: e.k, tau: e.tau } })),
    c.on('initWeights', (e) => {
      const initWeights = e.source && e.name !== null ? { source: e.source, name: e.name, ...(e.info ?? {}) } : null;
      set({
        initWeights,
        initWeightsPending: false,
        ...(e.source === 'builtin' && e.info ? { trainedEncoderInfo: e.info } : {}),
      });
    }),
    // A failed restore check ends the restore (the worker says why; the current run is untouched); a refused weights file likewise.
    c.on('error', (e) =>
      set({
        error: { message: e.message, recoverable: e.recoverable },
        restoring: null,
        exporting: false,
        evaluating: false,
        initWeightsPending: false,
      }),
    ),
  ];

  const actions: Slice<RunActions>['actions'] = {
    connect(opts = {}) {
      // Idempotent: StrictMode and hot reload may call it twice.
      if (ctx.client) return;
      connected = opts;
      const client = makeClient();
      ctx.client = client;
      unsubscribe = ctx.wire(client);
      const initOpts: { wasmThreads?: number; autosaveEvery?: number; testHooks?: boolean } = {};
      if (opts.wasmThreads !== undefined) initOpts.wasmThreads = opts.wasmThreads;
      if (opts.autosaveEvery !== undefined) initOpts.autosaveEvery = opts.autosaveEvery;
      if (opts.testHooks) initOpts.testHooks = true;
      client.init(opts.backend ?? null, initOpts);
      if (opts.preset !== undefined) set({ preset: opts.preset });
      if (opts.notices?.length) set({ notices: opts.notices });
      if (opts.config) {
        // An invalid config from the URL waits in the form, explained, instead of reaching the worker.
        const draftIssues = validateConfig(opts.config);
        if (draftIssues.length) set({ draft: opts.config, draftIssues });
        else {
          set({ config: opts.config, draft: opts.config, draftIssues: [] });
          client.configure(opts.config);
        }
      }
      if (opts.dataset) {
        const { name, ...rest } = opts.dataset;
        sizes = rest;
        const dataset = name ?? DEFAULT_DATASET;
        set({ dataset });
        client.setDataset(dataset, rest);
      }
    },
    start() {
      set({ error: null, rateSamples: [], resumeOffered: false });
      ctx.client?.start();
    },
    pause() {
      ctx.client?.pause();
    },
    stepOnce() {
      set({ error: null });
      ctx.client?.step();
    },
    extendRun(steps) {
      set({ error: null, rateSamples: [] });
      ctx.client?.extendRun(steps);
    },
    reset() {
      const s = get();
      // Reset starts a new run, which is what settings waiting for one were waiting for.
      if (s.draftIssues.length === 0 && pendingRestart(s).length > 0) {
        s.configure(s.draft);
        return;
      }
      // Cleared at once: the client drops whatever the old run still sends.
      ctx.caches.clearRunCaches();
      set({ ...runFields(), error: null });
      ctx.client?.reset();
    },
    configure(config) {
      const draftIssues = validateConfig(config);
      if (draftIssues.length) {
        set({ draft: config, draftIssues });
        return;
      }
      ctx.caches.clearRunCaches();
      set({ config, draft: config, draftIssues: [], ...runFields(), error: null });
      ctx.client?.configure(config);
    },
    setDataset(name) {
      if (name === get().dataset) return;
      set({ dataset: name, datasetId: null, ...runFields(), error: null, pinned: [], classNames: [] });
      ctx.client?.setDataset(name, sizes);
    },
    loadUpload(data, report) {
      set({
        dataset: 'upload',
        upload: { name: data.name, size: data.size, report },
        datasetId: null,
        ...runFields(),
        error: null,
        pinned: [],
        classNames: [],
      });
      ctx.client?.setUpload(data);
    },
    dismissError() {
      set({ error: null });
    },
    pinAnchor(index) {
      const pinned = [index, ...get().pinned.filter((i) => i !== index)].slice(0, MAX_PINNED);
      set({ pinned });
      ctx.client?.pinAnchors(pinned);
    },
    unpinAnchor(index) {
      const pinned = get().pinned.filter((i) => i !== index);
      set({ pinned });
      ctx.client?.pinAnchors(pinned);
    },
    setActiveTab(id) {
      set({ activeTab: id });
    },
    evaluateNow(full) {
      const client = ctx.client;
      if (!client) return;
      set({ evaluating: true });
      client.evaluate(full);
    },
    restartEngine() {
      const s = get();
      for (const u of unsubscribe) u();
      unsubscribe = [];
      ctx.client?.terminate();
      ctx.client = null;
      ctx.caches.clearRunCaches();
      // The same page options with the run's current settings; an upload lived in the dead worker and must be loaded again.
      const upload = s.dataset === 'upload';
      const name: DatasetName = s.dataset === 'upload' ? DEFAULT_DATASET : s.dataset;
      const opts: ConnectOptions = {
        ...connected,
        config: s.config,
        preset: s.preset,
        notices: upload
          ? [
              'The engine restarted: load your folder or zip again to train on it; the built-in data set is in use meanwhile.',
            ]
          : [],
        dataset: { ...sizes, name },
      };
      // The trained encoder the app ships is asked for again; a weights file lived in the dead worker.
      const builtin = s.initWeights?.source === 'builtin';
      if (s.initWeights && !builtin)
        opts.notices = [
          ...(opts.notices ?? []),
          `The engine restarted: open the model file “${s.initWeights.name}” again to start from it; runs start from random weights meanwhile.`,
        ];
      set({
        ...runFields(),
        runState: 'connecting',
        backend: null,
        error: null,
        restoring: null,
        exporting: false,
        evaluating: false,
        resumeOffered: true,
        savedRuns: [],
        upload: upload ? null : s.upload,
        initWeights: null,
        initWeightsPending: false,
      });
      get().connect(opts);
      if (builtin) get().startFromTrainedEncoder(true);
    },
    startFromTrainedEncoder(on) {
      const client = ctx.client;
      if (!client) return;
      sendInitWeights(client, on ? { kind: 'builtin', name: 'fashion-mnist' } : null);
    },
    async openModel(file) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const client = ctx.client;
      if (!client) return;
      sendInitWeights(client, { kind: 'file', bytes, fileName: file.name });
    },
    disconnect() {
      for (const u of unsubscribe) u();
      unsubscribe = [];
      ctx.client?.dispose();
      ctx.client = null;
      ctx.caches.clearRunCaches();
      ctx.caches.disposeUmap();
      sizes = {};
      set(initialState());
    },
  };

  return { actions, wire };
}
