/**
 * The end of a run's schedule (issue 19, docs/METHOD.md §1.5): finishing at
 * config.totalSteps, and "Train N more steps", which gives a finished run a
 * new learning-rate segment.
 */
import type { Trainer } from '../core/train';
import { validateConfig } from '../core/config';
import type { Engine } from './engine';
import { saveRun } from './engine-persistence';
import { MAX_EXTEND_STEPS, type RequestOf } from './protocol';

/**
 * The run reached config.totalSteps (issue 19): the loop stops, the final
 * views are sent, the encoder is evaluated in full (kNN, linear probe,
 * alignment/uniformity, cluster agreement: the numbers a finished run is
 * judged by, docs/METHOD.md §6), the run is saved and the page told
 * 'finished'. Past the end the cosine has brought the rate to 0 (§1.5),
 * so a further step would spend a core and change nothing. Inside the queue.
 */
export async function finishRun(eng: Engine, t: Trainer, id: number, snapshotsSent: boolean): Promise<void> {
  eng.running = false;
  eng.flush(id);
  if (!snapshotsSent) await eng.sendSnapshots(t, id);
  if (id !== eng.runId) return;
  const ds = eng.dataset;
  if (ds && ds.test.n > 0) {
    await eng.evaluateAndPost(t, id, true, ds);
    if (id !== eng.runId) return;
  }
  await saveRun(eng, t, id, 'finished');
  if (id !== eng.runId) return;
  eng.setState('finished', id);
}

/**
 * "Train N more steps" (issue 19, docs/METHOD.md §1.5): a finished run gets a
 * new learning-rate segment, a warm-up and cosine from the step it finished
 * at (config.scheduleStart) to that step + N (config.totalSteps), and trains
 * on to it, where it finishes again. From the step rather than the old
 * totalSteps: runs saved before runs finished may stand past their end. Both
 * fields are live-safe (the schedule reads them at every step), so the
 * model, optimiser state, queues and bank carry on, and a checkpoint saved
 * in the extension holds them, so a resume replays it exactly.
 */
export function onExtendRun(eng: Engine, r: RequestOf<'extendRun'>): void {
  const id = eng.runId;
  void eng.enqueue(() => {
    const t = eng.trainer;
    if (id !== eng.runId) return;
    const refuse = (why: string) =>
      eng.post({ type: 'error', runId: id, message: `Not extended: ${why}`, recoverable: true });
    if (!t || eng.running || !eng.isFinished(t))
      return refuse('only a finished run can train more steps, and this one has not reached its last step.');
    if (!Number.isInteger(r.steps) || r.steps < 1 || r.steps > MAX_EXTEND_STEPS)
      return refuse(
        `the number of steps must be a whole number from 1 to ${MAX_EXTEND_STEPS} (got ${String(r.steps)}).`,
      );
    const patch = { scheduleStart: t.step, totalSteps: t.step + r.steps };
    const problems = validateConfig({ ...eng.config, ...patch });
    if (problems.length) return refuse(problems.map((i) => i.message).join(' '));
    eng.config = { ...eng.config, ...patch };
    t.updateLive(patch);
    eng.post({ type: 'extended', runId: id, config: eng.config, from: t.step, to: patch.totalSteps });
    eng.running = true;
    const token = ++eng.loop;
    eng.lastFlush = performance.now();
    eng.setState('running', id);
    eng.scheduleNext(id, token);
  });
}
