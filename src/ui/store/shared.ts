/**
 * What the store's slices share besides the state: the engine client of the
 * moment, restore tokens, the run caches the maps slice keeps, and the fields
 * a new run (and a new store) starts from.
 */
import type { EvalResult, ProjectionSnapshot, StepMetrics } from '../../core/api';
import type { EngineClient } from '../../worker/client';
import type { RuleComparison } from '../rule-names';
import { IDLE_CLOCK } from '../status';
import { defaultConfig } from '../../core/config';
import { initialSettings } from '../settings-store';
import {
  DEFAULT_DATASET,
  thinHistory,
  type FaultReport,
  type BackendAttempt,
  type DatasetChoice,
  type InitWeightsInfo,
  type SavedRunInfo,
  type TensorMemory,
} from '../../worker/protocol';
import {
  MAX_HISTORY,
  type AblationState,
  type ClimState,
  type ImageCache,
  type InitWeightsState,
  type LastSave,
  type MapMethod,
  type PaneId,
  type RateSample,
  type UiRunState,
  type UmapState,
} from './state';

/** The run caches of the maps slice that other slices must clear. */
export interface RunCaches {
  /** Drops the UMAP job in flight (its result is ignored) and cancels it in the UMAP worker. */
  stopUmap(): void;
  /** A new run (or none): the UMAP job and the image requests in flight are dropped. */
  clearRunCaches(): void;
  /** A new run id with the run kept: nothing may wait for what the old id had in flight (image requests, a UMAP job). */
  dropInFlight(): void;
  /** The UMAP worker goes (disconnect). */
  disposeUmap(): void;
}

/** The closure state the slices share; one per store. */
export interface StoreCtx {
  client: EngineClient | null;
  /** A new restore token; only the latest one's answer is acted on. */
  nextRestoreToken(): number;
  caches: RunCaches;
  /** Subscribes every slice's event handlers to `c`; returns the unsubscribers. */
  wire(c: EngineClient): Array<() => void>;
}

export const idleUmap = (): UmapState => ({ status: 'idle', epoch: 0, epochs: 0, points: 0, ms: null, message: null });

/** The fields of a run: a new run (or none) starts from these. */
export const runFields = () => ({
  step: 0,
  metrics: [] as StepMetrics[],
  firstLosses: [] as number[],
  stepsPerSecond: null,
  clock: IDLE_CLOCK,
  selection: null,
  ruleHistory: [] as RuleComparison[],
  thumbs: null,
  clusters: null,
  projection: null as ProjectionSnapshot | null,
  umapMap: null as ProjectionSnapshot | null,
  umap: idleUmap(),
  mapMethod: 'pca' as MapMethod,
  images: { size: 0, pixels: new Map<number, Uint8Array>() } as ImageCache,
  evals: [] as EvalResult[],
  rawBaseline: null as { knnTop1: number; k: number; tau: number } | null,
  rateSamples: [] as RateSample[],
  fault: null as FaultReport | null,
});

/** The state of a store with no engine yet (and after disconnect). */
export function initialState() {
  return {
    runState: 'connecting' as UiRunState,
    backend: null,
    adapter: '',
    isFallbackAdapter: false,
    failedBackends: [] as BackendAttempt[],
    config: defaultConfig(),
    dataset: DEFAULT_DATASET as DatasetChoice,
    upload: null as ClimState['upload'],
    classNames: [] as string[],
    pinned: [] as number[],
    datasetId: null,
    trainSize: null as number | null,
    testSize: null as number | null,
    workerMemory: null as TensorMemory | null,
    error: null,
    savedRuns: [] as SavedRunInfo[],
    lastSave: null as LastSave | null,
    resumeOffered: true,
    restoring: null as ClimState['restoring'],
    exporting: false,
    evaluating: false,
    download: null as ClimState['download'],
    ablation: null as AblationState | null,
    initWeights: null as InitWeightsState | null,
    initWeightsPending: false,
    trainedEncoderInfo: null as InitWeightsInfo | null,
    activeTab: 'training' as PaneId,
    ...initialSettings(defaultConfig()),
    ...runFields(),
  };
}

/** Appends, then keeps every other point of the older half while over `max` (thinHistory), so long runs stay chartable. */
export function appendCapped<T>(history: T[], more: T[], max = MAX_HISTORY): T[] {
  return thinHistory(history.concat(more), max);
}

/** What a slice adds to the store: its actions, and its handlers of the engine's events. */
export interface Slice<K extends keyof ClimState> {
  actions: Pick<ClimState, K>;
  wire(c: EngineClient): Array<() => void>;
}
