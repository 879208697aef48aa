/**
 * The page's state. The store owns the engine client: components read state
 * and call actions here, and never touch tfjs or the worker themselves.
 *
 * It is built from slices (zustand's slices pattern), one module each under
 * store/: the run (run-slice.ts), the maps (maps-slice.ts: projection, UMAP,
 * images), saved runs (saved-runs-slice.ts), faults (faults-slice.ts), the
 * ablation (ablation-slice.ts) and the settings form (settings-store.ts).
 * The state type they share, ClimState, lives in store/state.ts.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { settingsActions } from './settings-store';
import { UmapClient } from '../worker/umap-client';
import type { UmapEvent } from '../worker/umap-protocol';
import { EngineClient } from '../worker/client';
import {
  DATASETS,
  DEFAULT_DATASET,
  WEIGHTS_FILE_EXTENSION,
  type DatasetChoice,
  type DatasetName,
  type Thumbnails,
} from '../worker/protocol';
import type { ClimState, StoreDeps } from './store/state';
import { initialState, type StoreCtx } from './store/shared';
import { runSlice } from './store/run-slice';
import { mapsSlice } from './store/maps-slice';
import { savedRunsSlice } from './store/saved-runs-slice';
import { faultsSlice } from './store/faults-slice';
import { ablationSlice } from './store/ablation-slice';

export { DATASETS, DEFAULT_DATASET, WEIGHTS_FILE_EXTENSION, type DatasetName, type DatasetChoice, type Thumbnails };
export {
  IMAGE_CACHE_MAX,
  MAX_HISTORY,
  MAX_RULE_HISTORY,
  UMAP_MAX_POINTS,
  type AblationState,
  type ClimState,
  type ConnectOptions,
  type EngineError,
  type ImageCache,
  type InitWeightsState,
  type LastSave,
  type MapMethod,
  type PaneId,
  type StoreDeps,
  type UiRunState,
  type UmapState,
} from './store/state';
export { stepsPerSecond } from './store/run-slice';

export function createClimStore(deps: StoreDeps = {}): StoreApi<ClimState> {
  const makeClient = deps.makeClient ?? (() => new EngineClient());
  const now = deps.now ?? (() => performance.now());
  const makeUmap = deps.makeUmapClient ?? ((onEvent: (e: UmapEvent) => void) => new UmapClient(onEvent));

  return createStore<ClimState>()((set, get) => {
    /** Tokens of restore requests; only the latest one's answer is acted on. */
    let restoreToken = 0;
    const engine: Pick<StoreCtx, 'client'> = { client: null };
    // The maps slice owns the run caches the others clear.
    const maps = mapsSlice(set, get, engine, makeUmap);
    const ctx: StoreCtx = Object.assign(engine, {
      nextRestoreToken: () => ++restoreToken,
      caches: maps.caches,
      wire: (c: EngineClient) => slices.flatMap((s) => s.wire(c)),
    });
    const run = runSlice(set, get, ctx, makeClient, now);
    const saved = savedRunsSlice(set, get, ctx);
    const faults = faultsSlice(set, get, ctx);
    const ablation = ablationSlice(set, get, ctx);
    const slices = [run, maps, saved, faults, ablation];

    return {
      ...initialState(),
      ...run.actions,
      ...settingsActions(set, get, () => ctx.client),
      ...maps.actions,
      ...saved.actions,
      ...faults.actions,
      ...ablation.actions,
    };
  });
}

/** The app's one store; the worker starts on connect(), not on import. */
export const climStore = createClimStore();

export function useClim<T>(selector: (s: ClimState) => T): T {
  return useStore(climStore, selector);
}
