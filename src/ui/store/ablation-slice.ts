/**
 * The ablation slice: the ablation in progress or last finished, as the
 * worker reports it, and its table as a CSV download.
 */
import { ablationCsv } from '../../core/ablation-table';
import type { EngineClient } from '../../worker/client';
import type { GetState, SetState } from './state';
import type { Slice, StoreCtx } from './shared';

export type AblationActions = 'runAblation' | 'stopAblation' | 'downloadAblationCsv';

export function ablationSlice(set: SetState, get: GetState, ctx: StoreCtx): Slice<AblationActions> {
  const wire = (c: EngineClient) => [
    c.on('ablation', (e) => {
      const { type: _t, runId: _r, ...ablation } = e;
      set({ ablation });
    }),
  ];

  const actions: Slice<AblationActions>['actions'] = {
    runAblation(arms, steps) {
      const client = ctx.client;
      if (!client || get().ablation?.status === 'running') return;
      // Shown at once; the worker's first report replaces it.
      set({
        ablation: { status: 'running', arms: [], steps, rows: [], baseline: null, current: null, message: null },
        error: null,
      });
      client.runAblation(arms, steps);
    },
    stopAblation() {
      ctx.client?.stopAblation();
    },
    downloadAblationCsv() {
      const a = get().ablation;
      if (!a || a.rows.length === 0) return;
      set({
        download: {
          bytes: new TextEncoder().encode(ablationCsv(a.rows)),
          fileName: `clim-ablation-${a.steps}steps.csv`,
        },
      });
    },
  };

  return { actions, wire };
}
