import { describe, expect, it } from 'vitest';
import { defaultConfig, tinyConfig } from '../core/config';
import { presetConfig } from '../core/presets';
import { EngineClient } from '../worker/client';
import { createClimStore } from './store';
import { encodeHash } from './url-state';
import { initialRun, installUrlSync, type UrlWindow } from './url-sync';
import { FakeWorker } from './fake-worker.test-util';

describe('initialRun', () => {
  it('without a hash: the ?query options as before, the paper preset for the defaults, the data seed left to the config', () => {
    expect(initialRun('', '')).toEqual({
      backend: null,
      config: defaultConfig(),
      preset: 'clim-paper',
      notices: [],
      autoPreset: true,
    });
    const r = initialRun('?backend=wasm&config=tiny&seed=7&n=64&dataset=shapes&wasmthreads=2', '');
    expect(r).toEqual({
      backend: 'wasm',
      config: { ...tinyConfig(), seed: 7 },
      preset: null,
      notices: [],
      wasmThreads: 2,
      dataset: { name: 'shapes', nTrain: 64, nTest: undefined },
    });
    expect(initialRun('?preset=fast-demo-cpu&batch=16', '').preset).toBe('fast-demo-cpu');
    // Only an address that chose nothing about the run lets the backend pick the preset.
    expect(initialRun('?backend=wasm&n=64', '').autoPreset).toBe(true);
    for (const q of ['?preset=clim-paper', '?config=tiny', '?seed=2', '?batch=8', '?climwarmup=0'])
      expect(initialRun(q, '').autoPreset, q).toBeUndefined();
    expect(initialRun('', '#preset=clim-paper').autoPreset).toBeUndefined();
  });

  it('a hash with a preset replaces the whole query config; its data set and backend win too; sizes still apply', () => {
    const config = { ...presetConfig('fast-demo-cpu'), seed: 5, lr: 0.02 };
    const hash = encodeHash({ config, preset: 'fast-demo-cpu', dataset: 'shapes', backend: 'cpu' });
    const r = initialRun('?config=tiny&batch=8&seed=3&backend=wasm&dataset=fashion-mnist&n=128&ntest=32', hash);
    expect(r).toEqual({
      backend: 'cpu',
      config,
      preset: 'fast-demo-cpu',
      notices: [],
      dataset: { name: 'shapes', nTrain: 128, nTest: 32 },
    });
  });

  it('a hash without a preset overrides only the fields it names, on top of the query config', () => {
    const r = initialRun('?config=tiny&batch=8&seed=3', '#seed=9&lr=0.5');
    expect(r.config).toEqual({ ...tinyConfig(), batchSize: 8, seed: 9, lr: 0.5 });
    expect(r.preset).toBeNull();
    expect(r.dataset).toBeUndefined();
    expect(initialRun('?preset=moco-v2', '#bs=16').config).toEqual({ ...presetConfig('moco-v2'), batchSize: 16 });
  });

  it("reports the hash's problems as notices", () => {
    const r = initialRun('', '#preset=nope&bs=0&ds=cifar');
    expect(r.notices).toEqual([
      'preset=nope is not a known preset (clim-paper, clim-cpu, moco-v2, knn-only, cluster-only, fast-demo-cpu, lesson-center-vs-knn, lesson-knn-same-k); started from the defaults.',
      'ds=cifar is not a known data set (fashion-mnist, shapes); using the default data set.',
      'bs=0 was rejected: batchSize must be a whole number from 1 to 1024 (got 0); kept 64.',
    ]);
    expect(r.config).toEqual(defaultConfig());
    expect(r.dataset).toBeUndefined();
  });
});

class FakeWindow implements UrlWindow {
  location = { hash: '' };
  history = {
    state: null,
    writes: [] as string[],
    replaceState: (_d: unknown, _u: string, url?: string) => {
      this.history.writes.push(url ?? '');
      this.location.hash = url ?? '';
    },
  };
  listener: (() => void) | null = null;
  addEventListener(_t: 'hashchange', fn: () => void) {
    this.listener = fn;
  }
  removeEventListener() {
    this.listener = null;
  }
  /** What the browser does when the user edits the address bar's hash. */
  paste(hash: string) {
    this.location.hash = hash;
    this.listener?.();
  }
}

describe('installUrlSync', () => {
  function setUp(search: string, hash: string) {
    const worker = new FakeWorker();
    const store = createClimStore({ makeClient: () => new EngineClient(worker) });
    const win = new FakeWindow();
    win.location.hash = hash;
    const run = initialRun(search, hash);
    store.getState().connect(run);
    const stop = installUrlSync(store, win, run.backend ?? null);
    return { worker, store, win, stop };
  }

  it('writes the run into the hash at once and after each applied change, without a write for unrelated state', () => {
    const { store, win } = setUp('?backend=wasm&config=tiny', '');
    expect(win.history.writes).toEqual([
      encodeHash({ config: tinyConfig(), preset: null, dataset: 'fashion-mnist', backend: 'wasm' }),
    ]);
    store.getState().setActiveTab('clusters');
    store.getState().editDraft({ batchSize: 0 });
    expect(win.history.writes).toHaveLength(1);
    store.getState().editDraft({ batchSize: 16 });
    store.getState().setDataset('shapes');
    expect(win.history.writes).toHaveLength(3);
    expect(win.location.hash).toBe(
      encodeHash({ config: { ...tinyConfig(), batchSize: 16 }, preset: null, dataset: 'shapes', backend: 'wasm' }),
    );
    expect(win.location.hash).toContain('bs=16');
  });

  it('a pasted hash becomes a new run with its preset, config and data set; its problems become notices', () => {
    const { worker, store, win } = setUp('', '');
    const n = worker.sent.length;
    win.paste('#preset=moco-v2&ds=shapes&seed=3&q=100&be=webgl');
    expect(worker.sent.slice(n).map((m) => m.type)).toEqual(['setDataset', 'configure']);
    expect(store.getState()).toMatchObject({
      preset: 'moco-v2',
      dataset: 'shapes',
      config: { ...presetConfig('moco-v2'), seed: 3, queueSize: 100 },
    });
    expect(store.getState().notices).toEqual([
      'The backend (be=webgl) is chosen when the page loads; reload the page to use it.',
    ]);
    // Written back in canonical form (be is not ours to write: the page was not opened with one).
    expect(win.location.hash).toBe('#preset=moco-v2&ds=shapes&seed=3&q=100');
  });

  it('stops listening when uninstalled', () => {
    const { worker, win, stop } = setUp('', '');
    stop();
    const n = worker.sent.length;
    win.paste('#seed=4');
    expect(worker.sent).toHaveLength(n);
  });
});
