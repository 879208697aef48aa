/**
 * The upload slice: files chosen or dropped → scan (memory estimate) →
 * decode with progress and Cancel → the engine trains on them. Owns the
 * decode worker's client; components read this state and call its actions.
 *
 * Nothing here replaces the current data set until a load has finished with
 * at least one image: a cancelled load, or a folder with nothing decodable,
 * leaves the previous data set in place and says so.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { SKIP_KINDS, SKIP_TITLES, type UploadReport } from '../core/data/upload';
import type { DecodeEvent, ScanSummary, UploadFile } from '../worker/decode-protocol';
import { DecodeClient } from '../worker/decode-client';
import type { UploadData } from '../worker/protocol';
import type { LoadProgress, Fit } from '../io/load-images';

export type { ScanSummary, UploadReport, LoadProgress, Fit };

export type UploadPhase = 'idle' | 'scanning' | 'confirm' | 'decoding' | 'done' | 'error';

/** Default memory budget for an upload: the pixels are held twice (host copy and device tensor). */
export const DEFAULT_BUDGET_MB = 512;
/** Default pixel limit per image (see DEFAULT_MAX_PIXELS in src/io). */
export const DEFAULT_MAX_MP = 40;

export interface UploadSettings {
  fit: Fit;
  /** Held-out share per label, 0–0.9 (labelled uploads only). */
  holdOut: number;
  budgetMB: number;
  maxMegapixels: number;
}

export interface UploadState {
  phase: UploadPhase;
  name: string;
  summary: ScanSummary | null;
  /** Bytes the whole upload would take at the training side. */
  estimateBytes: number;
  /** Images that fit the budget (the subset offered when over it). */
  budgetImages: number;
  progress: LoadProgress | null;
  report: UploadReport | null;
  /** Images per second of the last finished load. */
  rate: number | null;
  error: string | null;
  settings: UploadSettings;

  /** Starts a new upload (any running one is cancelled). */
  pick(files: UploadFile[], name: string): void;
  /** Over budget: load the seeded random subset that fits. */
  loadSubset(): void;
  cancel(): void;
  setSettings(patch: Partial<UploadSettings>): void;
  dismiss(): void;
}

export interface UploadTarget {
  /** Side S to store images at (the largest training resolution). */
  size(): number;
  seed(): number;
  /** Hands the decoded set to the engine (buffers move). */
  use(data: UploadData, report: UploadReport): void;
  /** Name of the data set that stays loaded when an upload fails. */
  currentName(): string;
}

export interface UploadDeps {
  makeClient?: (onEvent: (e: DecodeEvent) => void) => DecodeClient;
  now?: () => number;
}

const bytesPerImage = (s: number) => 2 * s * s * 3;

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(0)} KiB`;
  return `${n} B`;
}

export function createUploadStore(target: UploadTarget, deps: UploadDeps = {}): StoreApi<UploadState> {
  const now = deps.now ?? (() => performance.now());
  let client: DecodeClient | null = null;
  let started = 0;

  return createStore<UploadState>()((set, get) => {
    const decode = (subset?: { count: number; seed: number }) => {
      const s = get().settings;
      started = now();
      set({
        phase: 'decoding',
        progress: { done: 0, total: subset ? subset.count : (get().summary?.candidates ?? 0), loaded: 0, skipped: 0 },
      });
      client?.decode({
        size: target.size(),
        fit: s.fit,
        maxPixels: Math.round(s.maxMegapixels * 1e6),
        ...(subset ? { subset } : {}),
      });
    };

    const onEvent = (e: DecodeEvent) => {
      const st = get();
      if (e.type === 'error') {
        set({
          phase: 'error',
          error: `${e.message} The data set in use (${target.currentName()}) is unchanged.`,
          progress: null,
        });
        return;
      }
      if (e.type === 'scanned') {
        const size = target.size();
        const estimate = e.summary.candidates * bytesPerImage(size);
        const fits = Math.floor((st.settings.budgetMB * 2 ** 20) / bytesPerImage(size));
        set({ summary: e.summary, estimateBytes: estimate, budgetImages: fits });
        if (e.summary.candidates === 0) {
          // No report comes for a scan that ends here, so the files refused while listing (links, encrypted entries, ...) are named in the message.
          const refused = SKIP_KINDS.filter((k) => (e.summary.skipped[k] ?? 0) > 0)
            .map((k) => `${SKIP_TITLES[k]}: ${e.summary.skipped[k]}`)
            .join('; ');
          const seen = `${e.summary.files} file${e.summary.files === 1 ? '' : 's'} seen${refused ? `; skipped: ${refused}` : ''}`;
          set({
            phase: 'error',
            error: `${st.name} has no image files (${seen}). The data set in use (${target.currentName()}) is unchanged.`,
          });
        } else if (e.summary.candidates > fits) {
          set({ phase: 'confirm' });
        } else decode();
        return;
      }
      if (e.type === 'progress') {
        set({ progress: { done: e.done, total: e.total, loaded: e.loaded, skipped: e.skipped } });
        return;
      }
      // decoded
      const secs = Math.max(now() - started, 1) / 1000;
      if (e.report.loaded === 0) {
        set({
          phase: 'error',
          report: e.report,
          progress: null,
          error: `No image in ${e.name} could be decoded (${e.report.skipped.length} skipped, listed below). The data set in use (${target.currentName()}) is unchanged.`,
        });
        return;
      }
      target.use(
        {
          name: e.name,
          size: e.size,
          images: e.images,
          labels: e.labels,
          classNames: e.classNames,
          fraction: st.settings.holdOut,
          seed: target.seed(),
        },
        e.report,
      );
      set({ phase: 'done', report: e.report, progress: null, rate: e.report.loaded / secs, error: null });
    };

    return {
      phase: 'idle',
      name: '',
      summary: null,
      estimateBytes: 0,
      budgetImages: 0,
      progress: null,
      report: null,
      rate: null,
      error: null,
      settings: { fit: 'crop', holdOut: 0.1, budgetMB: DEFAULT_BUDGET_MB, maxMegapixels: DEFAULT_MAX_MP },

      pick(files, name) {
        if (files.length === 0) {
          set({
            phase: 'error',
            error: `Nothing to load: the selection had no files. The data set in use (${target.currentName()}) is unchanged.`,
          });
          return;
        }
        client ??= deps.makeClient ? deps.makeClient(onEvent) : new DecodeClient(onEvent);
        set({ phase: 'scanning', name, summary: null, report: null, progress: null, error: null, rate: null });
        client.scan(files, name, get().settings.budgetMB * 2 ** 20);
      },
      loadSubset() {
        if (get().phase !== 'confirm') return;
        decode({ count: get().budgetImages, seed: target.seed() });
      },
      cancel() {
        client?.cancel();
        set({ phase: 'idle', progress: null, summary: null, error: null });
      },
      setSettings(patch) {
        set({ settings: { ...get().settings, ...patch } });
      },
      dismiss() {
        set({ phase: 'idle', error: null, report: get().phase === 'done' ? get().report : null });
      },
    };
  });
}

export function useUploadStore<T>(store: StoreApi<UploadState>, selector: (s: UploadState) => T): T {
  return useStore(store, selector);
}
