/**
 * The faults slice: the last fault the worker caught (NaN/Inf loss, lost
 * device) and what it did, the recovery it offers, and test-only fault injection.
 */
import type { EngineClient } from '../../worker/client';
import type { GetState, SetState } from './state';
import type { Slice, StoreCtx } from './shared';

export type FaultsActions = 'recoverFromFault' | 'dismissFault' | 'injectTestFault';

export function faultsSlice(set: SetState, get: GetState, ctx: StoreCtx): Slice<FaultsActions> {
  const wire = (c: EngineClient) => [c.on('fault', (e) => set({ fault: e.fault }))];

  const actions: Slice<FaultsActions>['actions'] = {
    recoverFromFault() {
      const f = get().fault;
      const client = ctx.client;
      if (!f || f.kind !== 'loss' || !client) return;
      if (f.checkpoint) {
        const token = ctx.nextRestoreToken();
        set({
          fault: null,
          error: null,
          restoring: { token, source: 'saved', label: `step ${f.checkpoint.step}, learning rate ${f.saferLr}` },
        });
        client.prepareRestore(token, { from: 'saved', key: f.checkpoint.key }, { lr: f.saferLr });
      } else {
        // Nothing saved before the fault: the same run again from step 0, with the lower rate.
        get().configure({ ...get().config, lr: f.saferLr });
      }
    },
    dismissFault() {
      set({ fault: null });
    },
    injectTestFault(kind) {
      ctx.client?.testFault(kind);
    },
  };

  return { actions, wire };
}
