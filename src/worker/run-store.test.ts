import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { MAX_SAVED_RUNS, RunStore, isSavedRunInfo, type SavedRunInfo } from './run-store';

let dbCount = 0;
const fresh = (estimate?: () => Promise<{ usage?: number; quota?: number } | null>) =>
  RunStore.open({ name: `test-${++dbCount}`, estimate: estimate ?? (async () => null) });

const info = (key: string, step: number, savedAt: string, bytes = 4): SavedRunInfo => ({
  key,
  step,
  totalSteps: 1000,
  savedAt,
  datasetId: 'shapes:1',
  datasetLabel: 'shapes',
  bytes,
  loss: 4.5,
});

describe('RunStore (IndexedDB through idb)', () => {
  it('saves, lists most recent first, loads the bytes back, removes', async () => {
    const s = await fresh();
    expect(await s.list()).toEqual([]);
    expect((await s.save(Uint8Array.from([1, 2, 3, 4]), info('a', 10, '2026-11-28T10:00:00Z'), null)).ok).toBe(true);
    expect((await s.save(Uint8Array.from([9, 9]), info('b', 20, '2026-11-28T11:00:00Z', 2), null)).ok).toBe(true);
    expect((await s.list()).map((r) => r.key)).toEqual(['b', 'a']);
    expect(Array.from((await s.load('a'))!)).toEqual([1, 2, 3, 4]);
    // A later save of the same run replaces it.
    await s.save(Uint8Array.from([5, 6, 7, 8]), info('a', 30, '2026-11-28T12:00:00Z'), 10);
    expect((await s.list()).map((r) => [r.key, r.step])).toEqual([
      ['a', 30],
      ['b', 20],
    ]);
    expect(Array.from((await s.load('a'))!)).toEqual([5, 6, 7, 8]);
    await s.remove('a');
    expect(await s.load('a')).toBeNull();
    expect((await s.list()).map((r) => r.key)).toEqual(['b']);
    s.close();
  });

  it(`keeps the ${MAX_SAVED_RUNS} most recent runs`, async () => {
    const s = await fresh();
    for (let i = 0; i < MAX_SAVED_RUNS + 2; i++)
      await s.save(Uint8Array.from([i]), info(`r${i}`, i, `2026-11-28T1${i}:00:00Z`), null);
    const keys = (await s.list()).map((r) => r.key);
    expect(keys).toEqual(Array.from({ length: MAX_SAVED_RUNS }, (_, j) => `r${MAX_SAVED_RUNS + 1 - j}`));
    expect(await s.load('r0')).toBeNull();
    s.close();
  });

  it('refuses a save the quota estimate cannot hold, naming the sizes, and keeps the previous checkpoint', async () => {
    let free = 100;
    const s = await fresh(async () => ({ usage: 1000 - free, quota: 1000 }));
    expect((await s.save(new Uint8Array(50), info('a', 10, '2026-11-28T10:00:00Z', 50), null)).ok).toBe(true);
    free = 60; // 60 bytes free < 1.1 × 80
    const r = await s.save(new Uint8Array(80).fill(7), info('a', 20, '2026-11-28T11:00:00Z', 80), 10);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe('quota');
      expect(r.message).toContain('The checkpoint of step 10 is kept.');
      expect(r.message).toMatch(/0\.0 MB free and the checkpoint needs 0\.0 MB/);
    }
    expect((await s.list())[0].step).toBe(10);
    expect((await s.load('a'))!.length).toBe(50);
    s.close();
  });

  it('a write the browser refuses (QuotaExceededError) leaves the previous checkpoint intact', async () => {
    const s = await fresh();
    await s.save(Uint8Array.from([1, 1]), info('a', 10, '2026-11-28T10:00:00Z', 2), null);
    // Make the next transaction's put throw as a full disk would.
    const db = (s as unknown as { db: { transaction: (...a: unknown[]) => unknown } }).db;
    const real = db.transaction.bind(db);
    db.transaction = () => {
      throw Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError' });
    };
    const r = await s.save(Uint8Array.from([2, 2, 2]), info('a', 20, '2026-11-28T11:00:00Z', 3), 10);
    db.transaction = real;
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe('quota');
      expect(r.message).toContain('step 10 is kept');
    }
    expect(Array.from((await s.load('a'))!)).toEqual([1, 1]);
    s.close();
  });

  it('records edited in the store (issue 16): malformed infos are not offered, non-bytes read as an empty file', async () => {
    const name = `test-${++dbCount}`;
    const s = await RunStore.open({ name, estimate: async () => null });
    await s.save(Uint8Array.from([1, 2]), info('good', 10, '2026-11-28T10:00:00Z', 2), null);
    // Written around RunStore, as the browser's developer tools could.
    const raw = await openDB(name, 1);
    const bad: Array<[string, unknown]> = [
      ['text-loss', { ...info('text-loss', 5, '2026-11-28T09:00:00Z'), loss: '4.5' }],
      ['no-step', { ...info('no-step', 5, '2026-11-28T09:00:00Z'), step: undefined }],
      ['bad-date', info('bad-date', 5, 'yesterday')],
      ['huge-label', { ...info('huge-label', 5, '2026-11-28T09:00:00Z'), datasetLabel: 'x'.repeat(100_000) }],
      ['not-an-object', 42],
    ];
    for (const [key, value] of bad) await raw.put('info', value, key);
    await raw.put('runs', 'not bytes', 'good-text');
    await raw.put('runs', Uint8Array.from([7]).buffer, 'good-buffer');
    raw.close();
    expect((await s.list()).map((r) => r.key)).toEqual(['good']);
    expect(bad.every(([, v]) => !isSavedRunInfo(v))).toBe(true);
    expect(isSavedRunInfo(info('ok', 1, '2026-11-28T09:00:00Z'))).toBe(true);
    expect(isSavedRunInfo({ ...info('ok', 1, '2026-11-28T09:00:00Z'), loss: null })).toBe(true);
    expect(await s.load('good-text')).toEqual(new Uint8Array(0));
    expect(Array.from((await s.load('good-buffer'))!)).toEqual([7]);
    s.close();
  });
});
