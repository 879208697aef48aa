/**
 * The ablation report (src/core/ablation.ts) in the engine: requests to run
 * and stop it, and the job itself, run on the engine's queue.
 */
import {
  ABLATION_MAX_STEPS,
  AblationAbortedError,
  ablationConfigs,
  rawPixelKnn,
  runAblationArm,
  type AblationBaseline,
  type AblationRow,
} from '../core/ablation';
import type { RequestOf } from './protocol';
import type { Engine } from './engine';
import { PROGRESS_EVERY_MS, message } from './engine-shared';

/**
 * The ablation report (src/core/ablation.ts) in the worker: the current data
 * set and settings as the base, each chosen arm trained from scratch for
 * `steps` steps and evaluated in full, one after another, with the raw-pixel
 * kNN baseline first. The current run is paused and kept; the arms' trainers
 * are their own and disposed after each arm. Inside the queue, so nothing
 * else uses the backend meanwhile; `between` yields so Stop is heard.
 */
export async function runAblationJob(
  eng: Engine,
  r: RequestOf<'runAblation'>,
  signal: { aborted: boolean },
): Promise<void> {
  const id = eng.runId;
  if (eng.state === 'running') {
    eng.flush(id);
    eng.setState(eng.trainer ? 'paused' : 'idle', id);
  }
  const rows: AblationRow[] = [];
  let baseline: AblationBaseline | null = null;
  let armsInfo: Array<{ id: string; label: string }> = [];
  const steps = r.steps;
  const report = (
    status: 'running' | 'done' | 'stopped' | 'failed',
    current: { index: number; id: string; step: number } | null,
    msg: string | null = null,
  ) =>
    eng.post({
      type: 'ablation',
      runId: id,
      status,
      arms: armsInfo,
      steps,
      rows: [...rows],
      baseline,
      current,
      message: msg,
    });
  if (!Number.isInteger(steps) || steps < 1 || steps > ABLATION_MAX_STEPS) {
    report('failed', null, `Steps per arm must be a whole number from 1 to ${ABLATION_MAX_STEPS} (got ${steps}).`);
    return;
  }
  let arms: ReturnType<typeof ablationConfigs>;
  try {
    // The cosine schedule ends with each arm's budget, as in the runner; each arm is a fresh run with one segment.
    const base = { ...eng.config, resolutions: [...eng.config.resolutions], totalSteps: steps, scheduleStart: 0 };
    arms = ablationConfigs(base, r.arms);
  } catch (e) {
    report('failed', null, message(e));
    return;
  }
  armsInfo = arms.map((a) => ({ id: a.id, label: a.label }));
  const data = await eng.currentDataset();
  report('running', null);
  baseline = {
    knnTop1: await rawPixelKnn(data, eng.config.evalK, eng.config.evalTemperature),
    k: eng.config.evalK,
    tau: eng.config.evalTemperature,
  };
  report('running', null);
  for (const [index, arm] of arms.entries()) {
    let last = 0;
    try {
      const row = await runAblationArm(arm, data, steps, {
        signal,
        between: eng.yieldToMessages,
        onStep: (m) => {
          const now = performance.now();
          if (now - last < PROGRESS_EVERY_MS && m.step !== 1) return;
          last = now;
          report('running', { index, id: arm.id, step: m.step });
        },
      });
      rows.push(row);
      report('running', null);
    } catch (e) {
      if (e instanceof AblationAbortedError) {
        report(
          'stopped',
          null,
          `Stopped in arm “${arm.id}” at step ${e.step}; ${rows.length} of ${arms.length} arms finished.`,
        );
        return;
      }
      report('failed', null, `Arm “${arm.id}” failed: ${message(e)}. ${rows.length} of ${arms.length} arms finished.`);
      return;
    }
  }
  report('done', null);
}

/** The runAblation request, on receipt. */
export function onRunAblation(eng: Engine, r: RequestOf<'runAblation'>): void {
  if (eng.ablationSignal) {
    eng.post({
      type: 'error',
      runId: eng.runId,
      message: 'An ablation is already running: stop it first.',
      recoverable: true,
    });
    return;
  }
  // Training and the ablation share the one backend: the run pauses (and is kept).
  eng.running = false;
  const signal = { aborted: false };
  eng.ablationSignal = signal;
  void eng.enqueue(async () => {
    try {
      await eng.longCall(() => runAblationJob(eng, r, signal));
    } finally {
      if (eng.ablationSignal === signal) eng.ablationSignal = null;
    }
  });
}

/** The stopAblation request, on receipt. */
export function onStopAblation(eng: Engine): void {
  // On receipt: the arm checks the flag before its next step.
  if (eng.ablationSignal) eng.ablationSignal.aborted = true;
}
