/**
 * Saved runs in IndexedDB (issue 6, "Checkpoints"), through `idb`. The
 * engine worker writes here itself: a checkpoint is ~10–30 MB, and posting it
 * to the page first would copy it for nothing.
 *
 * Two object stores written in one transaction: `runs` (key → encoded run
 * file bytes) and `info` (key → SavedRunInfo, small, for the resume offer).
 * A transaction is atomic, so a save that fails (quota, tab closed mid-way)
 * leaves the previous checkpoint of that run exactly as it was.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

export const RUN_DB_NAME = 'clim-playground';
const DB_VERSION = 1;
/** Saved runs kept; the oldest go when a new run saves for the first time. */
export const MAX_SAVED_RUNS = 3;
/** Headroom asked of the quota estimate beyond the file itself: the old copy lives until the transaction commits. */
const QUOTA_HEADROOM = 1.1;

/** What the resume offer shows without reading the run's bytes. */
export interface SavedRunInfo {
  key: string;
  step: number;
  totalSteps: number;
  savedAt: string;
  datasetId: string;
  /** Human name of the data set (built-in name or the upload's folder name). */
  datasetLabel: string;
  /** Bytes of the stored run file. */
  bytes: number;
  /** The last loss, for the offer's one line. */
  loss: number | null;
}

interface RunDb extends DBSchema {
  runs: { key: string; value: Uint8Array };
  info: { key: string; value: SavedRunInfo };
}

export type SaveOutcome = { ok: true; ms: number } | { ok: false; reason: 'quota' | 'error'; message: string };

/** navigator.storage.estimate where it exists (workers and pages; not Node). */
export type QuotaEstimate = () => Promise<{ usage?: number; quota?: number } | null>;

export const browserEstimate: QuotaEstimate = async () => {
  const nav = (
    globalThis as { navigator?: { storage?: { estimate?: () => Promise<{ usage?: number; quota?: number }> } } }
  ).navigator;
  return nav?.storage?.estimate ? nav.storage.estimate() : null;
};

const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2 ** 31 - 1;
const isShortText = (v: unknown, max: number): boolean => typeof v === 'string' && v.length <= max;

/**
 * An info record as saveRun writes it. The store belongs to the page's
 * origin, but its records can be edited from the browser's developer tools
 * or left by another version of the app, and the resume offer formats every
 * field (loss.toFixed, Date.parse(savedAt)): a record that is not one of ours
 * is not offered.
 */
export function isSavedRunInfo(v: unknown): v is SavedRunInfo {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    isShortText(r.key, 256) &&
    isCount(r.step) &&
    isCount(r.totalSteps) &&
    isShortText(r.savedAt, 40) &&
    Number.isFinite(Date.parse(r.savedAt as string)) &&
    isShortText(r.datasetId, 1024) &&
    isShortText(r.datasetLabel, 1024) &&
    typeof r.bytes === 'number' &&
    Number.isSafeInteger(r.bytes) &&
    r.bytes >= 0 &&
    (r.loss === null || (typeof r.loss === 'number' && Number.isFinite(r.loss)))
  );
}

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name ?? '';
  return name === 'QuotaExceededError' || /quota/i.test(String((e as Error)?.message ?? e));
}

export class RunStore {
  private constructor(
    private readonly db: IDBPDatabase<RunDb>,
    private readonly estimate: QuotaEstimate,
  ) {}

  static async open(opts: { name?: string; estimate?: QuotaEstimate; indexedDB?: IDBFactory } = {}): Promise<RunStore> {
    const db = await openDB<RunDb>(opts.name ?? RUN_DB_NAME, DB_VERSION, {
      upgrade(d) {
        d.createObjectStore('runs');
        d.createObjectStore('info');
      },
    });
    return new RunStore(db, opts.estimate ?? browserEstimate);
  }

  /**
   * Writes the run under `info.key`, replacing its previous checkpoint only
   * if the whole write succeeds. Checks the quota estimate first; on a quota
   * error (estimated or thrown) nothing is written and the message says the
   * previous checkpoint is kept.
   */
  async save(bytes: Uint8Array, info: SavedRunInfo, prevStep: number | null): Promise<SaveOutcome> {
    const t0 = performance.now();
    const kept =
      prevStep === null ? 'There is no earlier checkpoint of this run.' : `The checkpoint of step ${prevStep} is kept.`;
    const est = await this.estimate().catch(() => null);
    if (est && typeof est.quota === 'number' && typeof est.usage === 'number') {
      const free = est.quota - est.usage;
      if (free < bytes.length * QUOTA_HEADROOM) {
        return {
          ok: false,
          reason: 'quota',
          message: `Not saved: the browser's storage for this site has ${mb(Math.max(0, free))} free and the checkpoint needs ${mb(bytes.length)}. ${kept} Export the run to a file, or free space by discarding saved runs.`,
        };
      }
    }
    try {
      const tx = this.db.transaction(['runs', 'info'], 'readwrite');
      await Promise.all([
        tx.objectStore('runs').put(bytes, info.key),
        tx.objectStore('info').put(info, info.key),
        tx.done,
      ]);
    } catch (e) {
      if (isQuotaError(e))
        return {
          ok: false,
          reason: 'quota',
          message: `Not saved: the browser refused the space (${(e as Error).message || 'quota exceeded'}). ${kept} Export the run to a file instead.`,
        };
      return { ok: false, reason: 'error', message: `Not saved: ${(e as Error).message || String(e)}. ${kept}` };
    }
    await this.prune(info.key);
    return { ok: true, ms: performance.now() - t0 };
  }

  /** Keeps the MAX_SAVED_RUNS most recently saved runs, never dropping `keep`. */
  private async prune(keep: string): Promise<void> {
    const all = await this.list();
    const drop = all.filter((r) => r.key !== keep).slice(MAX_SAVED_RUNS - 1);
    for (const r of drop) await this.remove(r.key);
  }

  /** Saved runs, most recent first; records that are not well-formed infos are left out (see isSavedRunInfo). */
  async list(): Promise<SavedRunInfo[]> {
    const all = ((await this.db.getAll('info')) as unknown[]).filter(isSavedRunInfo);
    return all.sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : 0));
  }

  /** The stored bytes under `key`; null when none. Anything stored there that is not bytes reads as an empty file, which the reader refuses as not a run file. */
  async load(key: string): Promise<Uint8Array | null> {
    const v: unknown = await this.db.get('runs', key);
    if (v === undefined || v === null) return null;
    if (v instanceof Uint8Array) return v;
    if (v instanceof ArrayBuffer) return new Uint8Array(v);
    return new Uint8Array(0);
  }

  async remove(key: string): Promise<void> {
    const tx = this.db.transaction(['runs', 'info'], 'readwrite');
    await Promise.all([tx.objectStore('runs').delete(key), tx.objectStore('info').delete(key), tx.done]);
  }

  close(): void {
    this.db.close();
  }
}
