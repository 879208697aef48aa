import { beforeEach, describe, expect, it } from 'vitest';
import type { StoreApi } from 'zustand/vanilla';
import { DecodeClient, type DecodeWorkerLike } from '../worker/decode-client';
import type { DecodeEvent, DecodeRequest } from '../worker/decode-protocol';
import type { UploadData } from '../worker/protocol';
import type { UploadReport } from '../core/data/upload';
import { createUploadStore, formatBytes, type UploadState } from './upload-store';

class FakeDecodeWorker implements DecodeWorkerLike {
  sent: DecodeRequest[] = [];
  onmessage: ((ev: MessageEvent<DecodeEvent>) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  terminated = false;
  postMessage(m: DecodeRequest) {
    this.sent.push(m);
  }
  terminate() {
    this.terminated = true;
  }
  emit(e: DecodeEvent) {
    this.onmessage?.({ data: e } as MessageEvent<DecodeEvent>);
  }
}

const report = (loaded: number): UploadReport => ({
  files: loaded + 1,
  loaded,
  perLabel: [{ name: 'all images', count: loaded }],
  labelled: false,
  evaluation: false,
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
});

const SIZE = 32;
const blob = new Blob([new Uint8Array([1])]);

let worker: FakeDecodeWorker;
let used: { data: UploadData; report: UploadReport }[];
let store: StoreApi<UploadState>;

beforeEach(() => {
  worker = new FakeDecodeWorker();
  used = [];
  store = createUploadStore(
    {
      size: () => SIZE,
      seed: () => 7,
      use: (data, r) => used.push({ data, report: r }),
      currentName: () => 'fashion-mnist',
    },
    { makeClient: (on) => new DecodeClient(on, () => worker), now: () => 0 },
  );
});

const lastJob = () => worker.sent[worker.sent.length - 1].jobId;
/** Requests other than the file-list slices, in order. */
const control = () => worker.sent.filter((m) => m.type !== 'files');
/** The list goes over in slices behind a promise: let them finish. */
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('upload store', () => {
  it('scan within budget → decode at once at the training side → the upload becomes the data set', async () => {
    store.getState().pick([{ path: 'a/1.png', file: blob }], 'a');
    expect(store.getState().phase).toBe('scanning');
    await flush();
    expect(worker.sent[0]).toEqual({ type: 'files', jobId: 1, files: [{ path: 'a/1.png', file: blob }] });
    // The budget goes with the scan: it sets the zip unpack caps (src/io/zip.ts).
    expect(worker.sent[1]).toEqual({ type: 'scan', jobId: 1, name: 'a', budgetBytes: 512 * 2 ** 20 });
    const job = lastJob();
    worker.emit({
      type: 'scanned',
      jobId: job,
      summary: { files: 3, candidates: 2, labelled: false, classNames: [], skipped: {} },
    });
    expect(store.getState().estimateBytes).toBe(2 * 2 * SIZE * SIZE * 3);
    expect(control()[1]).toEqual({ type: 'decode', jobId: job, size: SIZE, fit: 'crop', maxPixels: 40_000_000 });
    expect(store.getState().phase).toBe('decoding');
    worker.emit({ type: 'progress', jobId: job, done: 1, total: 2, loaded: 1, skipped: 0 });
    expect(store.getState().progress).toEqual({ done: 1, total: 2, loaded: 1, skipped: 0 });
    const images = new Uint8Array(2 * SIZE * SIZE * 3);
    worker.emit({
      type: 'decoded',
      jobId: job,
      name: 'a',
      size: SIZE,
      images,
      labels: null,
      classNames: [],
      report: report(2),
      ms: 5,
      cancelled: false,
    });
    expect(store.getState().phase).toBe('done');
    expect(used).toHaveLength(1);
    expect(used[0].data).toMatchObject({ name: 'a', size: SIZE, labels: null, fraction: 0.1, seed: 7 });
    expect(used[0].data.images).toBe(images);
  });

  it('over the budget: asks first, then decodes the seeded subset that fits', async () => {
    store.getState().setSettings({ budgetMB: 1 });
    store.getState().pick([{ path: 'x.zip', file: blob }], 'x');
    await flush();
    const fits = Math.floor(2 ** 20 / (2 * SIZE * SIZE * 3)); // 170
    worker.emit({
      type: 'scanned',
      jobId: lastJob(),
      summary: { files: 500, candidates: 500, labelled: true, classNames: ['a', 'b'], skipped: {} },
    });
    expect(store.getState().phase).toBe('confirm');
    expect(store.getState().budgetImages).toBe(fits);
    expect(control()).toHaveLength(1);
    store.getState().loadSubset();
    expect(control()[1]).toMatchObject({ type: 'decode', subset: { count: fits, seed: 7 } });
  });

  it('nothing decodable, or no image files: an error naming the data set still in use; nothing handed over', async () => {
    store.getState().pick([{ path: 'j/a.png', file: blob }], 'j');
    await flush();
    worker.emit({
      type: 'scanned',
      jobId: lastJob(),
      summary: { files: 1, candidates: 1, labelled: false, classNames: [], skipped: {} },
    });
    worker.emit({
      type: 'decoded',
      jobId: lastJob(),
      name: 'j',
      size: SIZE,
      images: new Uint8Array(0),
      labels: null,
      classNames: [],
      report: report(0),
      ms: 1,
      cancelled: false,
    });
    expect(store.getState().phase).toBe('error');
    expect(store.getState().error).toBe(
      'No image in j could be decoded (0 skipped, listed below). The data set in use (fashion-mnist) is unchanged.',
    );
    expect(used).toHaveLength(0);

    store.getState().pick([{ path: 't/a.txt', file: blob }], 't');
    await flush();
    worker.emit({
      type: 'scanned',
      jobId: lastJob(),
      summary: { files: 1, candidates: 0, labelled: false, classNames: [], skipped: {} },
    });
    expect(store.getState().error).toBe(
      't has no image files (1 file seen). The data set in use (fashion-mnist) is unchanged.',
    );
    store.getState().pick([], 'none');
    expect(store.getState().error).toMatch(/^Nothing to load: the selection had no files/);
  });

  it('Cancel stops the job and drops whatever it still sends; a new pick cancels the old one', async () => {
    store.getState().pick([{ path: 'a/1.png', file: blob }], 'a');
    await flush();
    const first = lastJob();
    worker.emit({
      type: 'scanned',
      jobId: first,
      summary: { files: 1, candidates: 1, labelled: false, classNames: [], skipped: {} },
    });
    store.getState().cancel();
    expect(worker.sent.at(-1)).toEqual({ type: 'cancel', jobId: first });
    expect(store.getState().phase).toBe('idle');
    worker.emit({
      type: 'decoded',
      jobId: first,
      name: 'a',
      size: SIZE,
      images: new Uint8Array(SIZE * SIZE * 3),
      labels: null,
      classNames: [],
      report: report(1),
      ms: 1,
      cancelled: true,
    });
    expect(used).toHaveLength(0);
    expect(store.getState().phase).toBe('idle');

    store.getState().pick([{ path: 'b/1.png', file: blob }], 'b');
    await flush();
    const second = lastJob();
    store.getState().pick([{ path: 'c/1.png', file: blob }], 'c');
    await flush();
    expect(worker.sent.filter((m) => m.type === 'cancel').map((m) => m.jobId)).toContain(second);
    worker.emit({
      type: 'scanned',
      jobId: second,
      summary: { files: 1, candidates: 1, labelled: false, classNames: [], skipped: {} },
    });
    expect(store.getState().summary).toBeNull();
  });

  it('nothing left to decode after listing: the message names what was refused, per kind (links, encrypted entries, bombs)', async () => {
    store.getState().setSettings({ budgetMB: 64 });
    store.getState().pick([{ path: 'l/a.png', file: blob }], 'l');
    await flush();
    expect(control()[0]).toEqual({ type: 'scan', jobId: lastJob(), name: 'l', budgetBytes: 64 * 2 ** 20 });
    worker.emit({
      type: 'scanned',
      jobId: lastJob(),
      summary: {
        files: 4,
        candidates: 0,
        labelled: false,
        classNames: [],
        skipped: { symlink: 2, encrypted: 1, 'unpack-limit': 1 },
      },
    });
    expect(store.getState().phase).toBe('error');
    expect(store.getState().error).toBe(
      'l has no image files (4 files seen; skipped: encrypted zip entry (password-protected): 1; over the unpack limits (zip bomb guard): 1; symbolic link (not followed): 2). The data set in use (fashion-mnist) is unchanged.',
    );
    expect(control()).toHaveLength(1);
  });

  it('formats byte estimates', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(3 * 2 ** 20)).toBe('3.0 MiB');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.5 GiB');
  });
});
