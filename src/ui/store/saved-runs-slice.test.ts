import { describe, expect, it } from 'vitest';
import { tinyConfig } from '../../core/config';
import { metric, storeHarness } from './store.test-util';

const h = storeHarness();
const { st, ready } = h;

describe('store: saved runs, resume and import', () => {
  const saved = (key: string, step: number) => ({
    key,
    step,
    totalSteps: 1000,
    savedAt: '2026-11-28T10:00:00Z',
    datasetId: 'shapes:1',
    datasetLabel: 'shapes',
    bytes: 1234,
    loss: 4.2,
  });

  it('asks for the saved runs once ready and offers the latest until a run starts', () => {
    st().connect();
    ready();
    expect(h.worker.types()).toContain('listSaved');
    h.worker.emit({ type: 'saved', runId: h.worker.lastRunId, entries: [saved('b', 300), saved('a', 100)] });
    expect(st().savedRuns.map((r) => r.key)).toEqual(['b', 'a']);
    expect(st().resumeOffered).toBe(true);
    st().start();
    expect(st().resumeOffered).toBe(false);
  });

  it('resume: prepare aside, commit on the matching token only, then take the run’s settings and history', () => {
    st().connect();
    ready();
    h.worker.emit({ type: 'saved', runId: h.worker.lastRunId, entries: [saved('b', 300)] });
    h.worker.emit({ type: 'progress', runId: h.worker.lastRunId, metrics: [metric(1), metric(2)] });
    st().resumeSaved('b');
    const prep = h.worker.last;
    expect(prep).toMatchObject({ type: 'prepareRestore', from: 'saved', key: 'b' });
    const token = (prep as { token: number }).token;
    expect(st().restoring?.label).toBe('step 300 on shapes');
    // The current run goes on until the worker says the saved one checks out.
    expect(st().metrics.length).toBe(2);
    h.worker.emit({
      type: 'restoreReady',
      runId: h.worker.lastRunId,
      token: token + 1,
      step: 300,
      datasetId: 'shapes:1',
      source: 'saved',
    });
    expect(h.worker.types()).not.toContain('commitRestore');
    h.worker.emit({
      type: 'restoreReady',
      runId: h.worker.lastRunId,
      token,
      step: 300,
      datasetId: 'shapes:1',
      source: 'saved',
    });
    expect(h.worker.last).toMatchObject({ type: 'commitRestore', token });
    const id = h.worker.lastRunId;
    const cfg = { ...tinyConfig(), seed: 77 };
    const history = [metric(299, 3.1), metric(300, 3.0)];
    h.worker.emit({
      type: 'restored',
      runId: id,
      step: 300,
      config: cfg,
      dataset: 'shapes',
      history,
      evals: [],
      source: 'saved',
    });
    expect(st().step).toBe(300);
    expect(st().config.seed).toBe(77);
    expect(st().draft.seed).toBe(77);
    expect(st().dataset).toBe('shapes');
    expect(st().metrics.map((m) => m.step)).toEqual([299, 300]);
    expect(st().firstLosses).toEqual([3.1, 3.0]);
    expect(st().restoring).toBeNull();
    expect(st().resumeOffered).toBe(false);
  });

  it('import: the file’s buffer moves to the worker; a refusal clears the check and keeps the run', () => {
    st().connect();
    ready();
    h.worker.emit({ type: 'progress', runId: h.worker.lastRunId, metrics: [metric(1)] });
    const bytes = Uint8Array.from([1, 2, 3]);
    st().importRunFile(bytes, 'x.climrun');
    expect(h.worker.last).toMatchObject({ type: 'prepareRestore', from: 'file', fileName: 'x.climrun' });
    expect(h.worker.transfers[h.worker.transfers.length - 1]).toEqual([bytes.buffer]);
    expect(st().restoring?.source).toBe('file');
    h.worker.emit({
      type: 'error',
      runId: h.worker.lastRunId,
      message:
        'Run file “x.climrun” not imported: This is not a CLIM Playground run file. The current run is unchanged.',
      recoverable: true,
    });
    expect(st().restoring).toBeNull();
    expect(st().error?.message).toContain('not imported');
    expect(st().metrics.length).toBe(1);
  });

  it('a failed save raises its message; a good one is only recorded', () => {
    st().connect();
    ready();
    const id = h.worker.lastRunId;
    h.worker.emit({
      type: 'checkpoint',
      runId: id,
      step: 100,
      ok: true,
      bytes: 9e6,
      ms: 120,
      message: null,
      trigger: 'autosave',
    });
    expect(st().lastSave).toMatchObject({ step: 100, ok: true });
    expect(st().error).toBeNull();
    h.worker.emit({
      type: 'checkpoint',
      runId: id,
      step: 200,
      ok: false,
      bytes: 9e6,
      ms: 5,
      message: 'Not saved: … The checkpoint of step 100 is kept.',
      trigger: 'autosave',
    });
    expect(st().error?.message).toContain('step 100 is kept');
  });
});
