/**
 * Requests that set up what the next run trains: the backend, the config,
 * the data set (built-in or uploaded), the weights fresh runs start from,
 * and the settings that may change mid-run. Each ends the current run where
 * it must (a new encoder or data set) and runs on the engine's queue; with
 * an opened model the new run is built at step 0 at once (showOpenedModel).
 */
import { validateConfig } from '../core/config';
import { isLiveKey } from '../core/config-fields';
import { assembleDataset } from '../core/data/folder';
import { ARCHITECTURE_FIELDS, WeightsFileError, decodeWeights, weightsMismatch } from '../core/weights-file';
import { builtinWeights } from './models';
import { builtinModelLabel, type RequestOf } from './protocol';
import type { Engine, InitWeights } from './engine';
import { message } from './engine-shared';

/** Sets up the backend the page asked for (or the best that works) and says which, then preloads the data set. */
export function onInit(eng: Engine, r: RequestOf<'init'>): void {
  void eng.enqueue(async () => {
    if (r.autosaveEvery !== undefined && Number.isInteger(r.autosaveEvery) && r.autosaveEvery >= 0)
      eng.autosaveEvery = r.autosaveEvery;
    eng.testHooks = r.testHooks === true;
    eng.initOpts = { backend: r.backend ?? null, wasmThreads: r.wasmThreads };
    const choice = await eng.deps.setUpBackend(r.backend ?? null, { wasmThreads: r.wasmThreads });
    eng.backendName = choice.backend;
    eng.backendReady = true;
    if (r.backend && choice.backend !== r.backend) {
      const why = choice.failed.find((f) => f.backend === r.backend)?.error ?? 'unavailable';
      eng.post({
        type: 'error',
        runId: eng.runId,
        message: `Backend ${r.backend} failed (${why}); using ${choice.backend}.`,
        recoverable: true,
      });
    }
    eng.post({ type: 'ready', runId: eng.runId, ...choice });
    eng.setState('idle');
    // After set-up, by when a setDataset sent with init has been received.
    eng.preload(eng.requestedDataset);
  }, false);
}

/** A new config: checked first (a bad one is reported and changes nothing), then the current run ends (an opened model that still fits is shown again). */
export function onConfigure(eng: Engine, r: RequestOf<'configure'>): void {
  const issues = validateConfig(r.config);
  if (issues.length) {
    eng.post({
      type: 'error',
      runId: eng.runId,
      message: `Invalid config: ${issues.map((i) => i.message).join(' ')}`,
      recoverable: true,
    });
    return;
  }
  eng.stopNow();
  const id = eng.runId;
  void eng.enqueue(async () => {
    eng.disposeTrainer();
    const seedChanged = r.config.seed !== eng.config.seed && eng.datasetOpts.seed === undefined;
    eng.config = structuredClone(r.config);
    if (seedChanged) eng.dataset = null;
    dropInitWeightsIfUnfit(eng);
    eng.setState('idle');
    // An opened model that still fits stays on view under the new settings (k, C, the bank's space…).
    await showOpenedModel(eng, id);
  });
}

/** A built-in data set: preloaded on receipt, chosen inside the queue; the current run ends (an opened model is shown on the new set). */
export function onSetDataset(eng: Engine, r: RequestOf<'setDataset'>): void {
  eng.stopNow();
  if (r.dataset !== 'upload') {
    eng.requestedDataset = r.dataset;
    if (eng.backendReady) eng.preload(r.dataset);
  }
  const id = eng.runId;
  void eng.enqueue(async () => {
    eng.disposeTrainer();
    eng.datasetName = r.dataset;
    eng.datasetOpts = { seed: r.seed, nTrain: r.nTrain, nTest: r.nTest };
    eng.dataset = null;
    eng.pinned = [];
    eng.setState('idle');
    // An opened model is shown on the new set: its bank re-embedded there.
    await showOpenedModel(eng, id);
  });
}

/** An uploaded image set, split into train and held-out as the page asked; the current run ends (an opened model is shown on it). */
export function onSetUpload(eng: Engine, r: RequestOf<'setUpload'>): void {
  eng.stopNow();
  const id = eng.runId;
  void eng.enqueue(async () => {
    eng.disposeTrainer();
    const u = r.upload;
    eng.uploaded = assembleDataset({
      name: u.name,
      size: u.size,
      images: u.images,
      labels: u.labels,
      classNames: u.classNames,
      fraction: u.labels ? u.fraction : 0,
      seed: u.seed,
    });
    eng.datasetName = 'upload';
    eng.dataset = null;
    eng.pinned = [];
    eng.setState('idle');
    await showOpenedModel(eng, id);
  });
}

/** The weights fresh runs start from (a built-in model or a file), checked against the encoder before anything is discarded; null for random init. */
export function onSetInitWeights(eng: Engine, r: RequestOf<'setInitWeights'>): void {
  eng.stopNow();
  const id = eng.runId;
  void eng.enqueue(async () => {
    const src = r.source;
    let next: InitWeights | null = null;
    if (src) {
      try {
        if (src.kind === 'file' && src.bytes.length === 0)
          throw new WeightsFileError('not-a-weights-file', 'The file is empty (0 bytes), so it is not a weights file.');
        const file = src.kind === 'builtin' ? await builtinWeights(src.name) : decodeWeights(src.bytes);
        // Against the architecture fields (and finiteness) before anything is discarded; Trainer.create checks each parameter.
        const why = weightsMismatch(file, eng.config, file.params);
        if (why) throw new WeightsFileError('mismatch', why);
        next = {
          file,
          source: src.kind,
          name: src.kind === 'builtin' ? builtinModelLabel(src.name) : src.fileName,
        };
      } catch (e) {
        // Reported with what it was; the run and the weights choice stay (paused: the new run id ended its loop).
        const what =
          src.kind === 'file' ? `Model file “${src.fileName}” not loaded` : 'The trained encoder could not be loaded';
        const why = e instanceof WeightsFileError ? e.message : `it could not be read (${message(e)}).`;
        const kept =
          eng.state === 'running' ? 'The current run is kept, paused at its step.' : 'The current run is unchanged.';
        eng.post({ type: 'error', runId: eng.runId, message: `${what}: ${why} ${kept}`, recoverable: true });
        if (id === eng.runId) eng.setState(eng.restingState(), id);
        return;
      }
    }
    eng.disposeTrainer();
    eng.initWeights = next;
    postInitWeights(eng);
    // 'idle' at step 0 first: the page clears the old run's views, then fills them with the opened model's.
    eng.setState('idle', id);
    await showOpenedModel(eng, id);
  });
}

/**
 * Opening a model shows it at once (issue 18): the run is built at step 0
 * from the stored weights (the bank of the page's data set embedded with
 * them, k-means run), and the page is sent the selection, cluster and map
 * snapshots, a held-out evaluation (kNN top-1, when the set has labels) and
 * 'paused' at step 0. So a model trained elsewhere, at a scale the browser
 * cannot reach, can be inspected in Positives and Clusters without a single
 * step; Start then trains on from it as from any paused run. Without stored
 * weights (random init) nothing is built: there is nothing to inspect until
 * training starts. Inside the queue; a newer run id stops it between parts.
 */
export async function showOpenedModel(eng: Engine, id: number): Promise<void> {
  if (!eng.initWeights || !eng.backendReady || id !== eng.runId || eng.trainer) return;
  const t = await eng.ensureTrainer(id);
  if (!t || id !== eng.runId) return;
  await eng.sendSnapshots(t, id);
  if (id !== eng.runId) return;
  const ds = eng.dataset;
  if (ds && ds.test.n > 0 && ds.test.labels) {
    await eng.evaluateAndPost(t, id, false, ds);
    if (id !== eng.runId) return;
  }
  eng.setState('paused', id);
}

/** Settings that may change mid-run (config-fields.ts liveSafe); any other field is refused with the reason. */
export function onSetLive(eng: Engine, r: RequestOf<'setLive'>): void {
  // In the queue, after any configure received earlier has replaced `config`.
  void eng.enqueue(() => {
    const fixed = Object.keys(r.patch).filter((k) => !isLiveKey(k));
    const next = { ...eng.config, ...r.patch };
    const problems = fixed.length
      ? [`${fixed.join(', ')} cannot change during a run: start a new run.`]
      : validateConfig(next).map((i) => i.message);
    // Reported, not thrown: a throw would also stop a running loop.
    if (problems.length) {
      eng.post({
        type: 'error',
        runId: eng.runId,
        message: `Setting not applied: ${problems.join(' ')}`,
        recoverable: true,
      });
      return;
    }
    eng.config = next;
    const t = eng.trainer;
    t?.updateLive(r.patch);
    // A longer schedule takes a finished run back to paused; a shorter one than the step reached finishes it.
    if (!t || eng.running || (eng.state !== 'paused' && eng.state !== 'finished')) return;
    const rest = eng.restingState();
    if (rest === 'finished' && eng.state === 'paused') return eng.finish(t, eng.runId, false);
    if (rest !== eng.state) eng.setState(rest);
  });
}

/** Tells the page which weights fresh runs start from (never dropped by the client: see isRunScoped). */
export function postInitWeights(eng: Engine): void {
  const w = eng.initWeights;
  const info = w ? { steps: w.file.info.steps, knnTop1: w.file.info.knnTop1, trainedOn: w.file.info.trainedOn } : null;
  eng.post({ type: 'initWeights', runId: eng.runId, source: w?.source ?? null, name: w?.name ?? null, info });
}

/**
 * After the config changed: the stored weights are dropped, and the page
 * told which fields parted them, when they no longer fit its encoder.
 * Inside the queue.
 */
export function dropInitWeightsIfUnfit(eng: Engine): void {
  const w = eng.initWeights;
  if (!w) return;
  const diff = ARCHITECTURE_FIELDS.filter((k) => w.file.architecture[k] !== eng.config[k]);
  if (!diff.length) return;
  eng.initWeights = null;
  postInitWeights(eng);
  const fields = diff.map((k) => `${k} ${String(w.file.architecture[k])} → ${String(eng.config[k])}`).join(', ');
  eng.post({
    type: 'error',
    runId: eng.runId,
    message: `The ${initWeightsLabel(w)} was dropped because the encoder settings changed (${fields}): its weights fit only the encoder they were trained with. The run starts from random weights.`,
    recoverable: true,
  });
}

/** The stored weights as a sentence's subject. */
export function initWeightsLabel(w: InitWeights): string {
  return w.source === 'builtin' ? `trained encoder (${w.name})` : `model file “${w.name}”`;
}
