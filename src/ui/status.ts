/**
 * The status bar's arithmetic: epoch, time left, time spent training, and
 * how numbers are written. Plain functions, tested without a DOM.
 *
 * Elapsed time is summed from wall-clock deltas between the worker's events
 * (performance.now() on arrival), not counted by a timer: a hidden tab
 * throttles timers to once a second or less, while the deltas between
 * events stay true however late they are delivered. Time while paused,
 * idle or preparing (model build, first bank pass) is not counted.
 */

/** Passes over the training set: step × batch / training images; null before the set's size is known. */
export function epochOf(step: number, batchSize: number, trainSize: number | null): number | null {
  if (trainSize === null || !(trainSize > 0) || !(batchSize > 0)) return null;
  return (step * batchSize) / trainSize;
}

/** Seconds until `totalSteps` at the recent rate; 0 once reached; null without a rate. */
export function etaSeconds(step: number, totalSteps: number, stepsPerSecond: number | null): number | null {
  if (step >= totalSteps) return 0;
  if (stepsPerSecond === null || !(stepsPerSecond > 0) || !Number.isFinite(stepsPerSecond)) return null;
  return (totalSteps - step) / stepsPerSecond;
}

/** Images per second of the whole loop (steps, reports, messages), from the recent step rate. */
export function imagesPerSecond(stepsPerSecond: number | null, batchSize: number): number | null {
  return stepsPerSecond === null || !Number.isFinite(stepsPerSecond) ? null : stepsPerSecond * batchSize;
}

/**
 * Training time so far: `elapsedMs` of closed spans, plus the open span from
 * `since` (the time of the last event while running) when one is open.
 */
export interface RunClock {
  elapsedMs: number;
  since: number | null;
}

export const IDLE_CLOCK: RunClock = Object.freeze({ elapsedMs: 0, since: null });

/** A `state` event at time `t`: 'running' opens a span, anything else closes it; idle at step 0 is a new run. */
export function clockOnState(c: RunClock, state: string, step: number, t: number): RunClock {
  if (state === 'idle' && step === 0) return IDLE_CLOCK;
  if (state === 'running') return c.since === null ? { elapsedMs: c.elapsedMs, since: t } : c;
  return c.since === null ? c : { elapsedMs: c.elapsedMs + Math.max(0, t - c.since), since: null };
}

/**
 * A `progress` event at time `t`. While running, the time since the last
 * event is added. Outside a running span (single steps while paused) there is
 * no span to measure from, so the steps' own wall time (`stepMs`, the
 * worker's) is added instead.
 */
export function clockOnProgress(c: RunClock, t: number, stepMs: number): RunClock {
  if (c.since === null) return { elapsedMs: c.elapsedMs + Math.max(0, stepMs), since: null };
  const gap = t - c.since;
  // A laptop asleep (or a frozen tab) stops the worker too: such a gap is not training time.
  if (isSleepGap(gap, stepMs)) return { elapsedMs: c.elapsedMs + Math.max(0, stepMs), since: t };
  return { elapsedMs: c.elapsedMs + Math.max(0, gap), since: t };
}

/**
 * Longest wait between two progress events, beyond the steps' own time,
 * still counted as training: reports (snapshots, a held-out evaluation,
 * a checkpoint) take seconds, a machine's sleep takes minutes.
 */
export const SLEEP_GAP_MS = 30_000;

/** Whether `gapMs` between progress events carrying `stepMs` of steps means the machine slept. */
export function isSleepGap(gapMs: number, stepMs: number): boolean {
  return gapMs > Math.max(0, stepMs) + SLEEP_GAP_MS;
}

/** The clock of a run restored from a checkpoint: its steps' own time (mean step × step, as the history may be thinned). */
export function restoredClock(history: ReadonlyArray<{ ms: number }>, step: number): RunClock {
  if (!history.length) return IDLE_CLOCK;
  const mean = history.reduce((a, m) => a + Math.max(0, m.ms), 0) / history.length;
  return { elapsedMs: mean * step, since: null };
}

/** Training time at `now`: the open span counts up to now. */
export function elapsedAt(c: RunClock, now: number): number {
  return c.elapsedMs + (c.since === null ? 0 : Math.max(0, now - c.since));
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Binary units, one decimal from KiB on: 1536 → "1.5 KiB", 130562704 → "124.5 MiB". */
export function formatBytes(n: number | null): string {
  if (n === null || !Number.isFinite(n) || n < 0) return '—';
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}

/** A clock reading, seconds rounded down: 65 000 ms → "1:05", 3 723 000 → "1:02:03", 999 → "0:00". */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Epochs with one decimal, two below 1 (the first epoch takes many steps): 7.8976 → "7.9", 0.0064 → "0.01". */
export function formatEpoch(e: number | null): string {
  if (e === null || !Number.isFinite(e)) return '—';
  return e < 1 ? e.toFixed(2) : e.toFixed(1);
}

/** Integers with thousands separators, whatever the page's locale: 1234 → "1,234". */
const COUNT_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export function formatCount(n: number): string {
  return COUNT_FORMAT.format(Math.round(n));
}

/** Chrome's non-standard `performance.memory.usedJSHeapSize`; null where the browser lacks it. */
export function pageHeapBytes(perf: Performance | undefined): number | null {
  const m = (perf as (Performance & { memory?: { usedJSHeapSize?: unknown } }) | undefined)?.memory;
  const v = m?.usedJSHeapSize;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
