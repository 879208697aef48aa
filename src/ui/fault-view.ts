/**
 * Words for the fault banner (issue 6, "Faults"): what happened, at which
 * step, which loss term, and what the offered action will do. Pure, so the
 * wording is unit-tested; FaultBanner.tsx only lays it out.
 */
import type { FaultReport } from '../worker/protocol';

export interface FaultView {
  message: string;
  /** The recovery button's label, or null when there is nothing to do but read and dismiss. */
  action: string | null;
}

const TERM: Record<Extract<FaultReport, { kind: 'loss' }>['term'], string> = {
  anchor: 'the anchor InfoNCE term (query against its own key)',
  positive: 'the positive InfoNCE term (mixed image against its positive’s key)',
  'anchor and positive': 'both InfoNCE terms (anchor and positive)',
  total: 'the mixed total (each term alone was finite)',
};

export function faultView(f: FaultReport): FaultView {
  if (f.kind === 'loss') {
    const what = `Training paused at step ${f.step}: ${TERM[f.term]} became ${f.value} at learning rate ${f.lr}.`;
    if (f.checkpoint) {
      return {
        message: `${what} Nothing after step ${f.checkpoint.step} is saved. Restore that checkpoint and go on at half the rate?`,
        action: `Restore step ${f.checkpoint.step} with learning rate ${f.saferLr}`,
      };
    }
    return {
      message: `${what} No checkpoint was saved before it, so the run can only start over.`,
      action: `Start over with learning rate ${f.saferLr}`,
    };
  }
  const where =
    f.resumedFrom === null
      ? 'There was no checkpoint yet, so the run starts over from step 0'
      : `The run was restored from its checkpoint at step ${f.resumedFrom}`;
  return {
    message: `The ${f.from} backend failed (${f.message}). Switched to ${f.to}. ${where}${f.continued ? ' and training goes on.' : ' and is paused.'}`,
    action: null,
  };
}
