import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Watchdog, WATCHDOG_LONG_CALL_TIMEOUT_MS, WATCHDOG_TIMEOUT_MS } from './heartbeat';

/** The page's clock, moved with the fake timers (or alone, to stand for a page that did not run). */
let clock: number;
let fired: Array<{ silent: number; limit: number }>;
let dog: Watchdog;

function advance(ms: number, beatEvery: number | null = null, busy = false): void {
  for (let t = 0; t < ms; t += 100) {
    clock += 100;
    vi.advanceTimersByTime(100);
    if (beatEvery !== null && clock % beatEvery === 0) dog.heard(busy);
  }
}

beforeEach(() => {
  vi.useFakeTimers();
  clock = 0;
  fired = [];
  dog = new Watchdog((silent, limit) => fired.push({ silent, limit }), { now: () => clock });
});
afterEach(() => {
  dog.stop();
  vi.useRealTimers();
});

describe('heartbeat watchdog', () => {
  it('reports a worker silent for the timeout once, and stops', () => {
    dog.heard(false);
    advance(WATCHDOG_TIMEOUT_MS - 1000);
    expect(fired).toEqual([]);
    advance(1000);
    expect(fired).toEqual([{ silent: WATCHDOG_TIMEOUT_MS, limit: WATCHDOG_TIMEOUT_MS }]);
    advance(60_000);
    expect(fired).toHaveLength(1);
  });

  it('stays quiet while heartbeats come, for as long as they come', () => {
    dog.heard(false);
    advance(10 * 60_000, 1000);
    expect(fired).toEqual([]);
  });

  it('any event is a sign of life, and keeps the last heartbeat’s busy word', () => {
    dog.heard(true);
    // Progress events (no busy word) every 2 s: alive, and still under the long limit.
    advance(WATCHDOG_LONG_CALL_TIMEOUT_MS * 2, 2000);
    expect(fired).toEqual([]);
  });

  it('a busy heartbeat (a long call) allows the long limit, and a hang inside it is still noticed', () => {
    dog.heard(false);
    advance(3000, 1000);
    dog.heard(true);
    // A first bank pass or shader compile holding the thread for a minute is not a hang.
    advance(60_000);
    expect(fired).toEqual([]);
    advance(WATCHDOG_LONG_CALL_TIMEOUT_MS - 60_000);
    expect(fired).toEqual([{ silent: WATCHDOG_LONG_CALL_TIMEOUT_MS, limit: WATCHDOG_LONG_CALL_TIMEOUT_MS }]);
  });

  it('the short limit is back once a heartbeat says the long call ended', () => {
    dog.heard(true);
    advance(5000);
    dog.heard(false);
    advance(WATCHDOG_TIMEOUT_MS);
    expect(fired).toEqual([{ silent: WATCHDOG_TIMEOUT_MS, limit: WATCHDOG_TIMEOUT_MS }]);
  });

  it('before the first message the worker is loading: the long limit applies', () => {
    advance(WATCHDOG_TIMEOUT_MS * 3);
    expect(fired).toEqual([]);
    advance(WATCHDOG_LONG_CALL_TIMEOUT_MS - WATCHDOG_TIMEOUT_MS * 3);
    expect(fired).toHaveLength(1);
  });

  it('does not blame the worker for time the page itself did not run (sleep, a frozen tab)', () => {
    dog.heard(false);
    advance(2000);
    // The machine slept for 5 minutes: the page's clock jumped, its timers did not run.
    clock += 5 * 60_000;
    advance(1000);
    expect(fired).toEqual([]);
    // Counted again from the wake-up: a worker that stays silent is still reported.
    advance(WATCHDOG_TIMEOUT_MS - 1000);
    expect(fired).toEqual([]);
    advance(1000);
    expect(fired).toEqual([{ silent: WATCHDOG_TIMEOUT_MS, limit: WATCHDOG_TIMEOUT_MS }]);
  });

  it('takes shorter limits for tests, and never fires once stopped', () => {
    dog.stop();
    dog = new Watchdog((silent, limit) => fired.push({ silent, limit }), {
      now: () => clock,
      timeoutMs: 2000,
      longCallTimeoutMs: 4000,
    });
    dog.heard(false);
    advance(2000);
    expect(fired).toEqual([{ silent: 2000, limit: 2000 }]);
    dog = new Watchdog((silent, limit) => fired.push({ silent, limit }), { now: () => clock, timeoutMs: 2000 });
    dog.stop();
    advance(WATCHDOG_LONG_CALL_TIMEOUT_MS * 2);
    expect(fired).toHaveLength(1);
  });
});
