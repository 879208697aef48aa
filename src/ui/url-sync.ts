/**
 * The page URL and the run: what the page starts with (`initialRun`, pure),
 * and keeping the hash in step with the applied settings afterwards
 * (`installUrlSync`), so copying the address reproduces the run.
 *
 * Precedence: the hash describes a run and the `?query` options are for
 * tests and benchmarks, so the hash wins where both speak. A preset in the
 * hash replaces the query's whole config (`?preset`, `?config=tiny`,
 * `?batch`, `?seed`, `?climwarmup`); without one, each config field the hash
 * names overrides the query's value. `ds` wins over `?dataset`, `be` over
 * `?backend`. `?n`, `?ntest`, `?wasmthreads` and `?bench` have no hash form
 * and always apply.
 */
import { validateConfig, type ClimConfig } from '../core/config';
import { CONFIG_FIELDS } from '../core/config-fields';
import { PRESETS } from '../core/presets';
import type { StoreApi } from 'zustand/vanilla';
import type { BackendName } from '../worker/protocol';
import { parseParams } from './params';
import type { ClimState, ConnectOptions } from './store';
import { decodeHash, encodeHash, RESERVED_HASH_KEYS } from './url-state';

/** The preset a query names: `?preset` if known; the paper's (= the defaults) unless `?config=tiny` asks for a non-preset config. */
function queryPreset(q: URLSearchParams): string | null {
  const p = q.get('preset');
  if (p !== null && PRESETS.some((x) => x.id === p)) return p;
  return q.get('config') === 'tiny' ? null : 'clim-paper';
}

/** Query options that choose the run's config; with none of them (and no hash) the page's default preset applies. */
const CONFIG_QUERY_KEYS = ['preset', 'config', 'seed', 'batch', 'climwarmup'] as const;

function hashParams(hash: string): URLSearchParams {
  return new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
}

/** What store.connect gets on page load, from `location.search` and `location.hash`. */
export function initialRun(search: string, hash: string): ConnectOptions {
  const fromQuery = parseParams(search);
  const q = new URLSearchParams(search);
  const h = hashParams(hash);
  // No seed for the data: it follows the config's seed, so a link that names the seed also names the data.
  const sizes = { nTrain: fromQuery.dataset?.nTrain, nTest: fromQuery.dataset?.nTest };
  const hasSizes = sizes.nTrain !== undefined || sizes.nTest !== undefined;
  const queryName = fromQuery.dataset?.name;

  if ([...h.keys()].length === 0) {
    const out: ConnectOptions = { ...fromQuery, preset: queryPreset(q), notices: [] };
    // Nothing in the address chose the run: the store picks the preset that suits the backend once it is known.
    if (!CONFIG_QUERY_KEYS.some((k) => q.has(k))) out.autoPreset = true;
    if (queryName !== undefined || hasSizes)
      out.dataset = { ...sizes, ...(queryName !== undefined ? { name: queryName } : {}) };
    else delete out.dataset;
    return out;
  }

  const d = decodeHash(hash);
  const notices = [...d.problems];
  let config: ClimConfig = d.config;
  let preset = d.preset;
  if (!h.has(RESERVED_HASH_KEYS.preset) && fromQuery.config) {
    const merged = { ...fromQuery.config, resolutions: [...fromQuery.config.resolutions] } as Record<string, unknown>;
    for (const f of CONFIG_FIELDS) if (h.has(f.hash)) merged[f.key] = d.config[f.key];
    // Today's query options cannot make a valid hash invalid (a cross-field rule), but a
    // new one could; the link's own config is valid by construction.
    if (validateConfig(merged as unknown as ClimConfig).length === 0) {
      config = merged as unknown as ClimConfig;
      preset = queryPreset(q);
    } else notices.push("The link's settings do not fit the page's ?query options; used the link's settings alone.");
  }
  const name = d.dataset ?? queryName;
  const out: ConnectOptions = { backend: d.backend ?? fromQuery.backend ?? null, config, preset, notices };
  if (fromQuery.wasmThreads !== undefined) out.wasmThreads = fromQuery.wasmThreads;
  if (fromQuery.autosaveEvery !== undefined) out.autosaveEvery = fromQuery.autosaveEvery;
  if (fromQuery.testHooks) out.testHooks = true;
  if (name !== undefined || hasSizes) out.dataset = { ...sizes, ...(name !== undefined ? { name } : {}) };
  return out;
}

/** What installUrlSync needs of `window`; tests pass a fake. */
export interface UrlWindow {
  location: { readonly hash: string };
  history: { readonly state: unknown; replaceState(data: unknown, unused: string, url?: string): void };
  addEventListener(type: 'hashchange', fn: () => void): void;
  removeEventListener(type: 'hashchange', fn: () => void): void;
}

function hashOf(s: ClimState, backend: BackendName | null): string {
  return encodeHash({ config: s.config, preset: s.preset, dataset: s.dataset, backend });
}

/**
 * Writes the hash now and whenever the applied config, preset or data set
 * changes (replaceState: no reload, no history entry per edit), and applies
 * a hash the user pastes (a new run). `backend` is the one the URL asked for:
 * an auto-picked backend is not written, so a link stays portable.
 */
export function installUrlSync(store: StoreApi<ClimState>, win: UrlWindow, backend: BackendName | null): () => void {
  let written = '';
  const write = (s: ClimState) => {
    const next = hashOf(s, backend);
    written = next;
    if (next !== win.location.hash) win.history.replaceState(win.history.state, '', next);
  };
  write(store.getState());
  const unsubscribe = store.subscribe((s, prev) => {
    if (s.config !== prev.config || s.preset !== prev.preset || s.dataset !== prev.dataset) write(s);
  });
  const onHashChange = () => {
    const hash = win.location.hash;
    if (hash === written) return;
    const d = decodeHash(hash);
    const notices = [...d.problems];
    if (d.backend !== null && d.backend !== backend) {
      notices.push(`The backend (be=${d.backend ?? 'auto'}) is chosen when the page loads; reload the page to use it.`);
    }
    store.getState().applyLink({ config: d.config, preset: d.preset, dataset: d.dataset, notices });
    // Back to the canonical form (also when nothing changed, e.g. reordered keys).
    write(store.getState());
  };
  win.addEventListener('hashchange', onHashChange);
  return () => {
    unsubscribe();
    win.removeEventListener('hashchange', onHashChange);
  };
}
