/**
 * Noticing an engine worker that went quiet (issue 16). A worker that hangs
 * in a loop, or is ended by the browser without an error event, never
 * answers again, and before this nothing told the page: the run simply
 * stopped moving. The worker posts a heartbeat every HEARTBEAT_EVERY_MS from
 * a timer (protocol.ts); the page's watchdog takes a silence longer than its
 * limit for a crash.
 *
 * Limits: a timer only fires when the worker's thread is free, so a call
 * that holds the thread (a trainer's first bank pass, WebGL linking every
 * shader of a first step) is silence too. The worker marks such calls
 * (`busy` heartbeats) and the longer limit applies while they run; a hang
 * inside one is still noticed, later. Time the page itself did not run is
 * not counted against the worker, so a tab whose timers the browser runs
 * once a minute (hidden for long) notices a hang once it is shown again.
 */

export interface WatchdogOptions {
  /** Silence taken for a hang: ten missed heartbeats. */
  timeoutMs?: number;
  /**
   * Silence allowed while the worker says it is busy, and before its first
   * message (the engine script is 2.5 MB to fetch and compile on a slow machine).
   */
  longCallTimeoutMs?: number;
  /** How often the page looks. */
  checkEveryMs?: number;
  now?: () => number;
}

export const WATCHDOG_TIMEOUT_MS = 10_000;
export const WATCHDOG_LONG_CALL_TIMEOUT_MS = 120_000;
const CHECK_EVERY_MS = 1000;
/** A check this many periods late means the page itself was not running. */
const STALL_PERIODS = 3;

export class Watchdog {
  private readonly timeoutMs: number;
  private readonly longMs: number;
  private readonly checkMs: number;
  private readonly now: () => number;
  private lastHeard: number;
  private lastCheck: number;
  /** Until the first heartbeat says otherwise, the worker is loading: the long limit applies. */
  private busy = true;
  private timer: ReturnType<typeof setInterval> | null;

  /** `onSilent` runs once, with how long the worker was silent and the limit it passed; the watchdog is stopped by then. */
  constructor(
    private readonly onSilent: (silentMs: number, limitMs: number) => void,
    opts: WatchdogOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? WATCHDOG_TIMEOUT_MS;
    this.longMs = Math.max(this.timeoutMs, opts.longCallTimeoutMs ?? WATCHDOG_LONG_CALL_TIMEOUT_MS);
    this.checkMs = opts.checkEveryMs ?? CHECK_EVERY_MS;
    this.now = opts.now ?? (() => performance.now());
    this.lastHeard = this.lastCheck = this.now();
    this.timer = setInterval(() => this.check(), this.checkMs);
  }

  /**
   * Any message proves the worker alive. `busy` comes with heartbeats only;
   * other events (undefined) leave the last heartbeat's word in force.
   */
  heard(busy?: boolean): void {
    this.lastHeard = this.now();
    if (busy !== undefined) this.busy = busy;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private check(): void {
    const t = this.now();
    const sinceCheck = t - this.lastCheck;
    this.lastCheck = t;
    // The page did not run (a long task, a frozen or hidden tab, a machine
    // asleep): the worker's messages may be queued behind this very check,
    // so its silence is unknown. Count again from now rather than blame it.
    if (sinceCheck > STALL_PERIODS * this.checkMs) {
      this.lastHeard = t;
      return;
    }
    const limit = this.busy ? this.longMs : this.timeoutMs;
    const silent = t - this.lastHeard;
    if (silent < limit) return;
    this.stop();
    this.onSilent(silent, limit);
  }
}
