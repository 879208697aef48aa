/**
 * The engine's persistence: autosave and manual saves to the IndexedDB run
 * store, saved runs (list, discard, resume), run files (export, import) and
 * the export bundle. Functions of the Engine (its state lives there); a
 * restore is checked and built aside (prepareRestore) before it replaces
 * the current run (commitRestore).
 */
import { Trainer } from '../core/train';
import { truncateText, validateConfig } from '../core/config';
import { escapeControl } from '../core/text';
import { SHAPES_DEFAULTS } from '../core/data/shapes';
import { isLiveKey } from '../core/config-fields';
import type { Dataset } from '../core/data/dataset';
import type { EvalResult, StepMetrics } from '../core/api';
import { RUN_FILE_EXTENSION, encodeCheckpoint, CheckpointError, type Checkpoint } from '../core/checkpoint';
import { readRunFile } from '../core/run-file-check';
import { chartsFromApp } from '../core/run-file-app';
import { datasetFingerprint } from '../core/data/dataset';
import type { RunStore, SavedRunInfo } from './run-store';
import { runExportFiles, SPRITE_PATH } from '../core/export/bundle';
import type { Sprite } from '../core/export/projector';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { loadDataset } from './datasets';
import type { DatasetName, RequestOf, SaveTrigger } from './protocol';
import type { Engine, Restored } from './engine';
import { postInitWeights } from './engine-setup';
import { message } from './engine-shared';

/** How the current data set is found again on resume or on another machine. */
export type DatasetSource =
  | { kind: 'builtin'; name: DatasetName; seed: number; nTrain?: number; nTest?: number }
  | { kind: 'upload'; name: string };

export function sourceLabel(src: unknown, fallback: string): string {
  const s = src as DatasetSource | undefined;
  if (s?.kind === 'builtin') return s.name;
  if (s?.kind === 'upload') return `upload “${s.name}”`;
  return fallback;
}

/**
 * The chart history and evaluations a checkpoint carries (encodeRun's `app`);
 * empty when absent. Entries that do not hold up are dropped, not passed on:
 * the page formats every field of them (readRunFile has refused such files
 * already; this keeps the page safe whatever the caller).
 */
export function chartsOf(ck: Checkpoint): { history: StepMetrics[]; evals: EvalResult[] } {
  return chartsFromApp(ck.meta.app);
}

/** The projector sprite as PNG bytes, encoded by the browser (OffscreenCanvas). */
export async function spritePng(s: Sprite): Promise<Uint8Array> {
  const canvas = new OffscreenCanvas(s.width, s.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('This browser gives workers no 2-D canvas to draw the projector sprite.');
  ctx.putImageData(new ImageData(new Uint8ClampedArray(s.rgba), s.width, s.height), 0, 0);
  return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
}

/** IndexedDB, opened once; where it is unavailable (private mode, old browsers) saving says so once and training goes on. */
export async function runStore(eng: Engine): Promise<RunStore | null> {
  if (eng.store || eng.storeFailed) return eng.store;
  try {
    eng.store = await eng.deps.openStore();
  } catch (e) {
    eng.storeFailed = message(e);
  }
  return eng.store;
}

export function currentSource(eng: Engine): DatasetSource {
  if (eng.datasetName === 'upload') return { kind: 'upload', name: eng.uploaded?.name ?? 'upload' };
  return {
    kind: 'builtin',
    name: eng.datasetName,
    seed: eng.datasetOpts.seed ?? eng.config.seed,
    nTrain: eng.datasetOpts.nTrain,
    nTest: eng.datasetOpts.nTest,
  };
}

export async function encodeRun(eng: Engine, t: Trainer): Promise<Uint8Array> {
  const ck = await t.checkpoint({ app: { history: eng.history, evals: eng.evals }, datasetSource: currentSource(eng) });
  return encodeCheckpoint(ck);
}

/** Checkpoints the current run to IndexedDB; reports the outcome (a failure keeps the previous save and says so). Inside the queue. */
export async function saveRun(eng: Engine, t: Trainer, id: number, trigger: SaveTrigger): Promise<void> {
  if (eng.faultedAt !== null) {
    const kept = eng.savedStep === null ? 'There is no earlier save.' : `The save of step ${eng.savedStep} is kept.`;
    eng.post({
      type: 'checkpoint',
      runId: id,
      step: t.step,
      ok: false,
      bytes: 0,
      ms: 0,
      message: `Not saved: the loss stopped being a number at step ${eng.faultedAt}, so the weights since are not worth keeping. ${kept}`,
      trigger,
    });
    return;
  }
  const db = await runStore(eng);
  if (!db) {
    eng.post({
      type: 'checkpoint',
      runId: id,
      step: t.step,
      ok: false,
      bytes: 0,
      ms: 0,
      message: `Not saved: this browser gives the page no IndexedDB (${eng.storeFailed}). Export the run to a file to keep it.`,
      trigger,
    });
    return;
  }
  const t0 = performance.now();
  const bytes = await encodeRun(eng, t);
  eng.runKey ??= `run-${Date.now()}`;
  const last = eng.history[eng.history.length - 1];
  const info: SavedRunInfo = {
    key: eng.runKey,
    step: t.step,
    totalSteps: t.config.totalSteps,
    savedAt: new Date().toISOString(),
    datasetId: t.data.id,
    datasetLabel: sourceLabel(currentSource(eng), t.data.id),
    bytes: bytes.length,
    loss: last ? last.loss : null,
  };
  const r = await db.save(bytes, info, eng.savedStep);
  if (r.ok) eng.savedStep = t.step;
  if (id !== eng.runId) return;
  eng.post({
    type: 'checkpoint',
    runId: id,
    step: t.step,
    ok: r.ok,
    bytes: bytes.length,
    ms: performance.now() - t0,
    message: r.ok ? null : r.message,
    trigger,
  });
  eng.post({ type: 'saved', runId: id, entries: await db.list() });
}

/** The data set a checkpoint names, loaded without touching the current run's (a built-in by its recipe, an upload only if it is the one loaded). */
export async function datasetFor(eng: Engine, ck: Checkpoint): Promise<Dataset> {
  const src = ck.meta.dataset.source as DatasetSource | undefined;
  const { train, test } = ck.meta.dataset;
  if (src?.kind === 'builtin' && src.name === 'shapes') {
    // Generated to the recipe's sizes: ones that disagree with the run's own could only make a set of the wrong (or a huge) size.
    const [n, nt] = [src.nTrain ?? SHAPES_DEFAULTS.nTrain, src.nTest ?? SHAPES_DEFAULTS.nTest];
    if (n !== train || nt !== test)
      throw new CheckpointError(
        'invalid',
        `The run file's data set recipe asks for ${n} + ${nt} shapes images, but the run was trained on ${train} + ${test}.`,
      );
  }
  if (src?.kind === 'builtin' && (src.name === 'fashion-mnist' || src.name === 'shapes')) {
    return loadDataset(src.name, { seed: src.seed, nTrain: src.nTrain, nTest: src.nTest });
  }
  if (src?.kind === 'builtin')
    throw new CheckpointError(
      'dataset',
      `This run was trained on a built-in data set this version of the app does not have (“${truncateText(escapeControl(String(src.name)), 40)}”).`,
    );
  if (eng.uploaded && datasetFingerprint(eng.uploaded) === ck.meta.dataset.fingerprint) return eng.uploaded;
  const what =
    src?.kind === 'upload'
      ? `the folder or zip “${truncateText(escapeControl(src.name), 80)}”`
      : `the data set “${truncateText(escapeControl(ck.meta.dataset.id), 80)}”`;
  throw new CheckpointError(
    'dataset',
    `This run was trained on ${what} (${ck.meta.dataset.train} training + ${ck.meta.dataset.test} held-out images). Load it with the upload panel, then resume or import the run again.`,
  );
}

/** A checkpoint decoded, its data set found and a trainer rebuilt from it; nothing of the current run is touched. */
export async function restoreFrom(eng: Engine, bytes: Uint8Array): Promise<Restored> {
  // Checked whole before the data set it names is loaded: its sizes and seed come from the file.
  const ck = readRunFile(bytes);
  const data = await datasetFor(eng, ck);
  return { ck, data, trainer: await Trainer.restore(ck, data) };
}

/** A run saved in this browser's storage under `key`, as restoreFrom; null when it is not stored (or there is no storage). */
export async function loadSaved(eng: Engine, key: string): Promise<Restored | null> {
  const db = await runStore(eng);
  const bytes = db ? await db.load(key) : null;
  return bytes ? restoreFrom(eng, bytes) : null;
}

/** The listSaved request, on receipt. */
export function onListSaved(eng: Engine): void {
  const id = eng.runId;
  void eng.enqueue(async () => {
    const db = await runStore(eng);
    eng.post({ type: 'saved', runId: id, entries: db ? await db.list() : [] });
  });
}

/** The discardSaved request, on receipt. */
export function onDiscardSaved(eng: Engine, r: RequestOf<'discardSaved'>): void {
  const id = eng.runId;
  void eng.enqueue(async () => {
    const db = await runStore(eng);
    if (!db) return;
    await db.remove(r.key);
    if (r.key === eng.runKey) {
      eng.runKey = null;
      eng.savedStep = null;
    }
    eng.post({ type: 'saved', runId: id, entries: await db.list() });
  });
}

/** The saveNow request, on receipt. */
export function onSaveNow(eng: Engine): void {
  const id = eng.runId;
  void eng.enqueue(async () => {
    if (eng.trainer && id === eng.runId) await saveRun(eng, eng.trainer, id, 'manual');
  });
}

/** The prepareRestore request, on receipt. */
export function onPrepareRestore(eng: Engine, r: RequestOf<'prepareRestore'>): void {
  const id = eng.runId;
  void eng.enqueue(async () => {
    eng.prepared?.trainer.dispose();
    eng.prepared = null;
    if (!eng.backendReady) throw new Error('The engine has no backend yet.');
    const key = r.from === 'saved' ? r.key : null;
    try {
      let got: Restored;
      if (r.from === 'saved') {
        const saved = await loadSaved(eng, r.key);
        if (!saved)
          throw new CheckpointError('not-a-run-file', 'That saved run is no longer in this browser’s storage.');
        got = saved;
      } else {
        if (r.bytes.length === 0)
          throw new CheckpointError('not-a-run-file', 'The file is empty (0 bytes), so it is not a run file.');
        got = await restoreFrom(eng, r.bytes);
      }
      const { ck, data, trainer: t } = got;
      eng.prepared = { token: r.token, trainer: t, data, ck, source: r.from, key, live: r.live };
      eng.post({
        type: 'restoreReady',
        runId: id,
        token: r.token,
        step: ck.meta.step,
        datasetId: ck.meta.dataset.id,
        source: r.from,
      });
    } catch (e) {
      // Reported with what it was, and nothing of the current run touched.
      const what =
        r.from === 'file'
          ? `Run file “${truncateText(escapeControl(String(r.fileName)), 80)}” not imported`
          : 'Saved run not resumed';
      const why = e instanceof CheckpointError ? e.message : `it could not be read (${message(e)})`;
      eng.post({
        type: 'error',
        runId: id,
        message: `${what}: ${why} The current run is unchanged.`,
        recoverable: true,
      });
    }
  });
}

/** The commitRestore request, on receipt. */
export function onCommitRestore(eng: Engine, r: RequestOf<'commitRestore'>): void {
  eng.stopNow();
  const id = eng.runId;
  void eng.enqueue(async () => {
    const p = eng.prepared;
    if (!p || p.token !== r.token) {
      eng.post({
        type: 'error',
        runId: id,
        message: 'Nothing to resume: the prepared run was replaced or discarded.',
        recoverable: true,
      });
      return;
    }
    eng.prepared = null;
    eng.disposeTrainer();
    // A restored run carries its own weights; a later fresh run starts from random ones unless asked again.
    eng.initWeights = null;
    postInitWeights(eng);
    const src = p.ck.meta.dataset.source as DatasetSource | undefined;
    eng.config = structuredClone(p.ck.meta.config);
    // A restore after a loss fault comes with a safer learning rate (live-safe fields only).
    const live =
      p.live && Object.keys(p.live).every(isLiveKey) && validateConfig({ ...eng.config, ...p.live }).length === 0
        ? p.live
        : null;
    if (live) {
      eng.config = { ...eng.config, ...live };
      p.trainer.updateLive(live);
    }
    if (src?.kind === 'builtin') {
      eng.datasetName = src.name;
      eng.requestedDataset = src.name;
      eng.datasetOpts = {
        seed: src.seed === eng.config.seed ? undefined : src.seed,
        nTrain: src.nTrain,
        nTest: src.nTest,
      };
    } else {
      eng.datasetName = 'upload';
    }
    eng.dataset = p.data;
    eng.pinned = [];
    eng.trainer = p.trainer;
    ({ history: eng.history, evals: eng.evals } = chartsOf(p.ck));
    // Resuming a saved run keeps saving under its key; an imported file starts its own.
    eng.runKey = p.key;
    eng.savedStep = p.key ? p.ck.meta.step : null;
    eng.post({
      type: 'restored',
      runId: id,
      step: eng.trainer.step,
      config: eng.config,
      dataset: eng.datasetName,
      history: eng.history,
      evals: eng.evals,
      source: p.source,
    });
    // A run saved at (or, from before runs finished, past) its last step is restored finished (issue 19).
    eng.setState(eng.restingState(), id);
    await eng.sendSnapshots(eng.trainer, id);
  });
}

/** The exportRun request, on receipt. */
export function onExportRun(eng: Engine): void {
  const id = eng.runId;
  void eng.enqueue(async () => {
    if (!eng.trainer) throw new Error('There is no run to export yet: start or step it first.');
    if (eng.faultedAt !== null)
      throw new Error(
        `Not exported: the loss stopped being a number at step ${eng.faultedAt}. Restore the last checkpoint first.`,
      );
    const bytes = await encodeRun(eng, eng.trainer);
    const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
    eng.post({
      type: 'runFile',
      runId: id,
      bytes,
      fileName: `clim-${eng.trainer.data.name}-step${eng.trainer.step}-${stamp}${RUN_FILE_EXTENSION}`,
    });
  });
}

/** The exportBundle request, on receipt. */
export function onExportBundle(eng: Engine): void {
  const id = eng.runId;
  void eng.enqueue(async () => {
    if (!eng.trainer || !eng.dataset)
      throw new Error('There is no trained encoder to export yet: start or step the run first.');
    if (eng.faultedAt !== null)
      throw new Error(
        `Not exported: the loss stopped being a number at step ${eng.faultedAt}, so the encoder's weights are not numbers either. Restore the last checkpoint first.`,
      );
    const t0 = performance.now();
    const { files, sprite } = await runExportFiles({
      trainer: eng.trainer,
      data: eng.dataset,
      history: eng.history,
      evals: eng.evals,
    });
    // Weights and PNG barely compress: stored as they are; the text is deflated.
    const zipped: Zippable = {};
    for (const f of files)
      zipped[f.path] = typeof f.content === 'string' ? strToU8(f.content) : [f.content, { level: 0 }];
    zipped[SPRITE_PATH] = [await spritePng(sprite), { level: 0 }];
    const bytes = zipSync(zipped, { level: 6 });
    const name = `clim-${eng.trainer.data.name}-step${eng.trainer.step}-export.zip`;
    if (id === eng.runId)
      eng.post({
        type: 'bundle',
        runId: id,
        bytes,
        fileName: name,
        files: Object.keys(zipped),
        ms: performance.now() - t0,
      });
  });
}
