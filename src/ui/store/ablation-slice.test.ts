import { describe, expect, it } from 'vitest';
import { storeHarness } from './store.test-util';

const h = storeHarness();
const { st, ready } = h;

describe('store: ablation', () => {
  it('asks the worker for the arms, shows its reports, blocks Start meanwhile and downloads the rows as CSV', async () => {
    const { startBlocker } = await import('../settings-store');
    const { ABLATION_CSV_HEADER } = await import('../../core/ablation-table');
    st().connect();
    ready();
    st().runAblation(['knn', 'center-wise'], 30);
    expect(h.worker.last).toMatchObject({ type: 'runAblation', arms: ['knn', 'center-wise'], steps: 30 });
    expect(st().ablation?.status).toBe('running');
    expect(startBlocker(st())).toMatch(/ablation is training/);
    // A second request while one runs is not sent.
    const n = h.worker.sent.length;
    st().runAblation(['knn'], 30);
    expect(h.worker.sent).toHaveLength(n);
    const row = {
      id: 'knn',
      label: 'kNN positives',
      knnTop1: 0.5,
      linearTop1: 0.625,
      precision: 0.4,
      coverage: 0.9,
      finalLoss: 4.2,
      alignment: 0.5,
      uniformity: -2,
      clusterNmi: 0.3,
      knnRulePrecision: 0.55,
      centerWiseRulePrecision: 0.5625,
      seconds: 12.3,
      steps: 30,
    };
    const arms = [
      { id: 'knn', label: 'kNN positives' },
      { id: 'center-wise', label: 'center-wise positives' },
    ];
    // Ablation events are heard even from an older run id (a Reset during it).
    h.worker.emit({
      type: 'ablation',
      runId: 0,
      status: 'running',
      arms,
      steps: 30,
      rows: [row],
      baseline: { knnTop1: 0.3, k: 20, tau: 0.1 },
      current: { index: 1, id: 'center-wise', step: 7 },
      message: null,
    });
    expect(st().ablation).toMatchObject({ status: 'running', rows: [row], current: { index: 1, step: 7 } });
    st().stopAblation();
    expect(h.worker.last.type).toBe('stopAblation');
    h.worker.emit({
      type: 'ablation',
      runId: 0,
      status: 'stopped',
      arms,
      steps: 30,
      rows: [row],
      baseline: { knnTop1: 0.3, k: 20, tau: 0.1 },
      current: null,
      message: 'Stopped',
    });
    expect(startBlocker(st())).toBeNull();
    st().downloadAblationCsv();
    const d = st().download!;
    expect(d.fileName).toBe('clim-ablation-30steps.csv');
    expect(new TextDecoder().decode(d.bytes)).toBe(
      `${ABLATION_CSV_HEADER}\nknn,kNN positives,30,0.5,0.625,0.4,0.9,4.2,0.5,-2,0.3,0.55,0.5625,12.3\n`,
    );
  });
});
