import { describe, expect, it } from 'vitest';
import {
  IDLE_CLOCK,
  clockOnProgress,
  isSleepGap,
  restoredClock,
  SLEEP_GAP_MS,
  clockOnState,
  elapsedAt,
  epochOf,
  etaSeconds,
  formatBytes,
  formatCount,
  formatDuration,
  formatEpoch,
  imagesPerSecond,
  pageHeapBytes,
} from './status';

describe('epochOf', () => {
  it('is step × batch / training images', () => {
    // 1,234 × 64 = 78,976 images seen of 10,000.
    expect(epochOf(1234, 64, 10_000)).toBeCloseTo(7.8976, 10);
    expect(formatEpoch(epochOf(1234, 64, 10_000))).toBe('7.9');
    // One step of 64 over 10,000: 0.0064 epochs, shown with two decimals.
    expect(formatEpoch(epochOf(1, 64, 10_000))).toBe('0.01');
    expect(epochOf(0, 64, 10_000)).toBe(0);
  });
  it('is unknown before the data set size is', () => {
    expect(epochOf(10, 64, null)).toBeNull();
    expect(epochOf(10, 64, 0)).toBeNull();
    expect(formatEpoch(null)).toBe('—');
  });
});

describe('etaSeconds', () => {
  it('is remaining steps over the recent rate', () => {
    // 750 steps left at 1.6 steps/s: 468.75 s.
    expect(etaSeconds(250, 1000, 1.6)).toBeCloseTo(468.75, 10);
    expect(formatDuration(etaSeconds(250, 1000, 1.6)! * 1000)).toBe('7:48');
    // 9,000 left at 2.5/s: one hour.
    expect(formatDuration(etaSeconds(1000, 10_000, 2.5)! * 1000)).toBe('1:00:00');
  });
  it('is 0 once the total is reached and unknown without a rate', () => {
    expect(etaSeconds(1000, 1000, 1.6)).toBe(0);
    expect(etaSeconds(1200, 1000, null)).toBe(0);
    expect(etaSeconds(10, 1000, null)).toBeNull();
    expect(etaSeconds(10, 1000, 0)).toBeNull();
  });
});

describe('imagesPerSecond', () => {
  it('is the step rate times the batch', () => {
    expect(imagesPerSecond(1.6, 64)).toBeCloseTo(102.4, 10);
    expect(imagesPerSecond(null, 64)).toBeNull();
  });
});

describe('run clock', () => {
  it('counts running time between events and leaves out a pause', () => {
    let c = clockOnState(IDLE_CLOCK, 'preparing', 0, 0);
    c = clockOnState(c, 'running', 0, 1000); // model built at t = 1 s: preparation not counted
    c = clockOnProgress(c, 1600, 600);
    c = clockOnProgress(c, 2200, 600);
    expect(c.elapsedMs).toBe(1200);
    c = clockOnState(c, 'paused', 2, 2210);
    expect(c).toEqual({ elapsedMs: 1210, since: null });
    // Paused for a minute: the clock stands still.
    expect(elapsedAt(c, 62_210)).toBe(1210);
    c = clockOnState(c, 'running', 2, 62_210);
    c = clockOnProgress(c, 62_810, 600);
    expect(c.elapsedMs).toBe(1810);
    // Between events the open span counts up to now.
    expect(elapsedAt(c, 63_000)).toBe(2000);
  });
  it('stays true when events arrive late (hidden tab): the wall-clock delta counts, not the number of events', () => {
    let c = clockOnState(IDLE_CLOCK, 'running', 0, 1000);
    // One batched event 9 s later, as a throttled page might receive it.
    c = clockOnProgress(c, 10_000, 620);
    expect(c.elapsedMs).toBe(9000);
  });
  it('adds the worker’s step time for single steps while paused', () => {
    let c: typeof IDLE_CLOCK = { elapsedMs: 5000, since: null };
    c = clockOnProgress(c, 99_999, 620);
    expect(c).toEqual({ elapsedMs: 5620, since: null });
  });
  it('starts over with a new run (idle at step 0), but not on a second running event', () => {
    let c = clockOnState(IDLE_CLOCK, 'running', 0, 1000);
    c = clockOnState(c, 'running', 0, 5000);
    expect(c.since).toBe(1000);
    expect(clockOnState(c, 'idle', 0, 6000)).toEqual(IDLE_CLOCK);
    // Idle with steps (never sent after steps, but harmless): just closes the span.
    expect(clockOnState(c, 'idle', 3, 6000)).toEqual({ elapsedMs: 5000, since: null });
  });
});

describe('formatting', () => {
  it('writes bytes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    // 130,562,704 B / 1,048,576 = 124.51 MiB (tf.memory() of the fast-demo-cpu preset).
    expect(formatBytes(130_562_704)).toBe('124.5 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(-1)).toBe('—');
  });
  it('writes durations as a clock, seconds rounded down', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(999)).toBe('0:00');
    expect(formatDuration(59_999)).toBe('0:59');
    expect(formatDuration(65_000)).toBe('1:05');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
  });
  it('writes counts with separators', () => {
    expect(formatCount(1234)).toBe('1,234');
    expect(formatCount(10_000_000)).toBe('10,000,000');
  });
});

describe('pageHeapBytes', () => {
  it('reads Chrome’s performance.memory and is null elsewhere', () => {
    expect(pageHeapBytes({ memory: { usedJSHeapSize: 47_185_920 } } as unknown as Performance)).toBe(47_185_920);
    expect(pageHeapBytes({} as Performance)).toBeNull();
    expect(pageHeapBytes(undefined)).toBeNull();
  });
});

describe('sleep and restore', () => {
  it('a gap longer than the steps plus SLEEP_GAP_MS counts only the steps’ own time', () => {
    let c = clockOnState(IDLE_CLOCK, 'running', 10, 0);
    c = clockOnProgress(c, 1000, 900); // 1 s of training
    // The lid closed for 10 minutes: the next event arrives 600 s later carrying a 1 s step.
    c = clockOnProgress(c, 601_000, 1000);
    expect(c.elapsedMs).toBe(2000);
    // Reports up to SLEEP_GAP_MS beyond the steps still count in full.
    c = clockOnProgress(c, 601_000 + 1000 + SLEEP_GAP_MS, 1000);
    expect(c.elapsedMs).toBe(2000 + 1000 + SLEEP_GAP_MS);
    expect(isSleepGap(SLEEP_GAP_MS + 1001, 1000)).toBe(true);
    expect(isSleepGap(SLEEP_GAP_MS + 1000, 1000)).toBe(false);
  });

  it('a restored run’s clock is its mean step time × steps, and closed', () => {
    expect(restoredClock([{ ms: 100 }, { ms: 300 }], 50)).toEqual({ elapsedMs: 10_000, since: null });
    expect(restoredClock([], 50)).toBe(IDLE_CLOCK);
  });
});
