/**
 * The saved-runs slice: runs saved in this browser (IndexedDB), the last
 * checkpoint, resuming or importing a run (checked aside by the worker
 * first, then committed), and the files the page offers (run file, export zip).
 */
import type { EngineClient } from '../../worker/client';
import { MAX_HISTORY, type GetState, type SetState } from './state';
import { restoredClock } from '../status';
import { runFields, type Slice, type StoreCtx } from './shared';

export type SavedRunsActions =
  | 'resumeSaved'
  | 'discardSaved'
  | 'dismissResumeOffer'
  | 'saveNow'
  | 'importRunFile'
  | 'exportRun'
  | 'exportBundle'
  | 'takeDownload';

export function savedRunsSlice(set: SetState, get: GetState, ctx: StoreCtx): Slice<SavedRunsActions> {
  const wire = (c: EngineClient) => [
    c.on('saved', (e) => set({ savedRuns: e.entries })),
    c.on('checkpoint', (e) => {
      const { type: _t, runId: _r, ...save } = e;
      set({ lastSave: save });
      // A failed save is worth an interruption: the user may be about to close the tab.
      if (!e.ok && e.message) set({ error: { message: e.message, recoverable: true } });
    }),
    c.on('restoreReady', (e) => {
      const r = get().restoring;
      if (!r || r.token !== e.token) return;
      ctx.caches.clearRunCaches();
      c.commitRestore(e.token);
    }),
    c.on('restored', (e) => {
      const firstLosses = e.history.slice(0, 20).map((m) => m.loss);
      set({
        ...runFields(),
        config: e.config,
        draft: e.config,
        draftIssues: [],
        preset: null,
        dataset: e.dataset,
        pinned: [],
        metrics: e.history.slice(-MAX_HISTORY),
        firstLosses,
        evals: e.evals,
        step: e.step,
        clock: restoredClock(e.history, e.step),
        restoring: null,
        resumeOffered: false,
        error: null,
      });
    }),
    c.on('runFile', (e) => set({ download: { bytes: e.bytes, fileName: e.fileName } })),
    c.on('bundle', (e) => set({ download: { bytes: e.bytes, fileName: e.fileName }, exporting: false })),
  ];

  const actions: Slice<SavedRunsActions>['actions'] = {
    resumeSaved(key) {
      const client = ctx.client;
      if (!client) return;
      const info = get().savedRuns.find((r) => r.key === key);
      const token = ctx.nextRestoreToken();
      set({
        restoring: { token, source: 'saved', label: info ? `step ${info.step} on ${info.datasetLabel}` : 'saved run' },
        resumeOffered: false,
        error: null,
      });
      client.prepareRestore(token, { from: 'saved', key });
    },
    discardSaved(key) {
      ctx.client?.discardSaved(key);
    },
    dismissResumeOffer() {
      set({ resumeOffered: false });
    },
    saveNow() {
      ctx.client?.saveNow();
    },
    importRunFile(bytes, fileName) {
      const client = ctx.client;
      if (!client) return;
      const token = ctx.nextRestoreToken();
      set({ restoring: { token, source: 'file', label: fileName }, resumeOffered: false, error: null });
      client.prepareRestore(token, { from: 'file', bytes, fileName });
    },
    exportRun() {
      ctx.client?.exportRun();
    },
    exportBundle() {
      const client = ctx.client;
      if (!client) return;
      set({ exporting: true });
      client.exportBundle();
    },
    takeDownload() {
      set({ download: null });
    },
  };

  return { actions, wire };
}
