/**
 * Browser benchmark (issue 3, items 1 and 5): the production build in
 * Debian's Chromium, per backend (wasm, webgl, webgpu — SwiftShader and
 * software WebGL are CPU emulations without a GPU):
 *
 * - ms per training step as the worker reports it (StepMetrics.ms, read
 *   through the page's `?bench=1` hook, src/ui/bench-hook.ts), median over
 *   `--steps` steps after `--warmup` steps, and images/s;
 * - the same with the threaded WASM build on 2 threads (`?wasmthreads=2`);
 * - main-thread long tasks (PerformanceObserver 'longtask', > 50 ms) while
 *   those steps run: count and longest, plus the scripts the Long Animation
 *   Frames API blames for the longest frames.
 *
 * Cases use the `shapes` data set and `?climwarmup=0`, as bench/run.ts does,
 * so every measured step does CLIM's selection and mixing. A case whose
 * backend the page cannot run is recorded with the reason, not measured;
 * measurement stops after `--case-seconds` (slow software backends then
 * report fewer steps).
 *
 *   npm run bench:browser [-- --no-build --steps 10 --warmup 2 --setup-seconds 180 --case-seconds 90
 *                            --only NAME --merge --extra 'n=128']
 * Writes bench/results/browser.json (or `--out`). Never downloads a browser:
 * `$CHROMIUM_PATH`, else /usr/bin/chromium.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright';
import type { StepMetrics } from '../src/core/api';
import type { ClimConfig } from '../src/core/config';
import type { ClimBenchHook } from '../src/ui/bench-hook';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../e2e/chromium';
import { freePort, startPreview, stopPreview } from './preview';

const { values } = parseArgs({
  options: {
    'no-build': { type: 'boolean', default: false },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    'case-seconds': { type: 'string', default: '90' },
    'setup-seconds': { type: 'string', default: '180' },
    only: { type: 'string' },
    /** Extra query string for every case, e.g. `config=tiny&n=128` while developing. */
    extra: { type: 'string', default: '' },
    out: { type: 'string', default: 'bench/results/browser.json' },
    /** Replace only the cases run now in an existing `--out` (e.g. one slow backend with a longer `--setup-seconds`). */
    merge: { type: 'boolean', default: false },
  },
});
const STEPS = Number(values.steps);
const WARMUP = Number(values.warmup);
const CASE_MS = Number(values['case-seconds']) * 1000;
const SETUP_MS = Number(values['setup-seconds']) * 1000;
const EXECUTABLE = CHROMIUM_EXECUTABLE;

interface Case {
  name: string;
  backend: 'wasm' | 'webgl' | 'webgpu';
  /** Query beyond backend, dataset, bench and climwarmup. */
  query: string;
}

const CASES: Case[] = [
  { name: 'wasm default', backend: 'wasm', query: '' },
  { name: 'wasm fast-demo-cpu', backend: 'wasm', query: 'preset=fast-demo-cpu&batch=32' },
  // The page's default on a CPU-only machine (src/core/presets.ts pageDefaultPreset).
  { name: 'wasm clim-cpu', backend: 'wasm', query: 'preset=clim-cpu' },
  // The threaded WASM build (page option wasmthreads, src/worker/backend.ts).
  { name: 'wasm default 2 threads', backend: 'wasm', query: 'wasmthreads=2' },
  { name: 'webgl default', backend: 'webgl', query: '' },
  { name: 'webgpu default', backend: 'webgpu', query: '' },
];

interface LongTaskEntry {
  start: number;
  duration: number;
}
interface LoafScript {
  invoker: string;
  source: string;
  duration: number;
}
interface LoafEntry {
  start: number;
  duration: number;
  blockingDuration: number;
  renderMs: number;
  styleLayoutMs: number;
  scripts: LoafScript[];
}

interface CaseResult {
  name: string;
  date: string;
  /** The set-up and measuring caps this case ran under (s). */
  setupSecondsCap: number;
  caseSecondsCap: number;
  backend: string;
  requestedBackend: string;
  url: string;
  ok: boolean;
  error?: string;
  adapter?: string;
  isFallbackAdapter?: boolean;
  config?: ClimConfig;
  batch?: number;
  resolutions?: number[];
  warmupSteps: number;
  stepsMeasured: number;
  medianMs?: number;
  minMs?: number;
  maxMs?: number;
  imagesPerSecond?: number;
  /** Worker-reported ms of the warm-up steps (the first includes kernel/shader compilation). */
  warmupMs: number[];
  stepMs: number[];
  /** StepMetrics.selectionMs of the measured steps (kNN + cluster filter + draw), its median and its median share of the step. */
  selectionMs?: number[];
  selectionMedianMs?: number;
  selectionShare?: number;
  /** Seconds from Start to the first reported step (model build, first bank pass, k-means). */
  setupSeconds?: number;
  longTasks?: { count: number; maxMs: number; totalMs: number; durations: number[] };
  /** Long tasks from Start to the end of the case (set-up and warm-up included). */
  longTasksWholeRun?: { count: number; maxMs: number };
  /** The longest animation frames in the measured window, with the scripts they ran. */
  longestFrames?: LoafEntry[];
  /** os.loadavg() (1, 5, 15 min) when the case started: other work on the machine slows every number. */
  loadAvg: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** Runs in the page before its scripts: records long tasks and long animation frames. */
function observeLongTasks(): void {
  const w = window as unknown as { __benchLongTasks: LongTaskEntry[]; __benchLoaf: LoafEntry[] };
  w.__benchLongTasks = [];
  w.__benchLoaf = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__benchLongTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // No Long Tasks API: the counts stay empty and the report says so.
  }
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as unknown as Array<{
        startTime: number;
        duration: number;
        blockingDuration: number;
        renderStart: number;
        styleAndLayoutStart: number;
        scripts: Array<{ invoker: string; sourceURL: string; sourceFunctionName: string; duration: number }>;
      }>) {
        const end = e.startTime + e.duration;
        w.__benchLoaf.push({
          start: e.startTime,
          duration: e.duration,
          blockingDuration: e.blockingDuration,
          renderMs: e.renderStart ? end - e.renderStart : 0,
          styleLayoutMs: e.styleAndLayoutStart ? end - e.styleAndLayoutStart : 0,
          scripts: (e.scripts ?? []).map((s) => ({
            invoker: s.invoker,
            source: `${s.sourceFunctionName || '(anonymous)'} @ ${String(s.sourceURL).replace(/^.*\//, '')}`,
            duration: s.duration,
          })),
        });
      }
    }).observe({ type: 'long-animation-frame', buffered: true });
  } catch {
    // Older Chromium: no frame attribution.
  }
}

type BenchWindow = Window & {
  __climPlayground?: ClimBenchHook;
  __benchLongTasks: LongTaskEntry[];
  __benchLoaf: LoafEntry[];
};

async function hookState(page: Page) {
  return page.evaluate(() => {
    const h = (window as unknown as BenchWindow).__climPlayground;
    if (!h) return null;
    return {
      steps: h.history().length,
      runState: h.runState(),
      error: h.error(),
      backend: h.backend(),
      now: performance.now(),
    };
  });
}

async function runCase(browser: Browser, base: string, c: Case): Promise<CaseResult> {
  const extra = [c.query, values.extra].filter(Boolean).join('&');
  const url = `${base}/?backend=${c.backend}&dataset=shapes&climwarmup=0&bench=1${extra ? `&${extra}` : ''}`;
  const r: CaseResult = {
    name: c.name,
    date: new Date().toISOString(),
    setupSecondsCap: SETUP_MS / 1000,
    caseSecondsCap: CASE_MS / 1000,
    backend: c.backend,
    requestedBackend: c.backend,
    url,
    ok: false,
    warmupSteps: WARMUP,
    stepsMeasured: 0,
    warmupMs: [],
    stepMs: [],
    loadAvg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const pageErrors: string[] = [];
  try {
    await context.addInitScript(observeLongTasks);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    // Wait until the worker has a backend and the run is idle.
    const readyBy = Date.now() + SETUP_MS;
    let s = await hookState(page);
    while (!s || s.runState !== 'idle' || !s.backend.backend) {
      if (Date.now() > readyBy)
        throw new Error(`page not ready after ${SETUP_MS / 1000} s (state ${s?.runState ?? 'no hook'})`);
      if (s?.error && !s.error.recoverable) throw new Error(s.error.message);
      await page.waitForTimeout(250);
      s = await hookState(page);
    }
    const b = s.backend;
    r.adapter = b.adapter;
    r.isFallbackAdapter = b.isFallbackAdapter;
    if (b.backend !== c.backend) {
      r.backend = b.backend ?? 'none';
      const why = b.failed.find((f) => f.backend === c.backend)?.error ?? s.error?.message ?? 'unavailable';
      throw new Error(`${c.backend} unavailable: ${why}`);
    }
    const config = await page.evaluate(() => (window as unknown as BenchWindow).__climPlayground!.config());
    r.config = config;
    r.batch = config.batchSize;
    r.resolutions = config.resolutions;

    const tStart = (await hookState(page))!.now;
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    // Set-up and warm-up.
    let t0 = 0;
    let tFirst = 0;
    const warmBy = Date.now() + SETUP_MS;
    for (;;) {
      s = (await hookState(page))!;
      if (s.error) throw new Error(`engine error: ${s.error.message}`);
      if (s.steps >= 1 && !tFirst) tFirst = s.now;
      if (s.steps >= WARMUP) {
        t0 = s.now;
        break;
      }
      if (Date.now() > warmBy) break;
      await page.waitForTimeout(100);
    }
    // Measured steps, or as many as fit in the case's time.
    let t1 = t0;
    if (t0) {
      const measureBy = Date.now() + CASE_MS;
      for (;;) {
        s = (await hookState(page))!;
        if (s.error) throw new Error(`engine error: ${s.error.message}`);
        t1 = s.now;
        if (s.steps >= WARMUP + STEPS || Date.now() > measureBy) break;
        await page.waitForTimeout(100);
      }
    }
    const { history, longTasks, loaf } = await page.evaluate(() => {
      const w = window as unknown as BenchWindow;
      return { history: w.__climPlayground!.history(), longTasks: w.__benchLongTasks, loaf: w.__benchLoaf };
    });
    await page
      .getByRole('button', { name: 'Pause', exact: true })
      .click()
      .catch(() => {});
    const ms = (m: StepMetrics) => m.ms;
    r.warmupMs = history.slice(0, WARMUP).map(ms);
    const measured = t0 ? history.slice(WARMUP, WARMUP + STEPS) : [];
    r.stepMs = measured.map(ms);
    r.stepsMeasured = measured.length;
    if (measured.length) {
      r.medianMs = median(r.stepMs);
      r.minMs = Math.min(...r.stepMs);
      r.maxMs = Math.max(...r.stepMs);
      r.imagesPerSecond = (config.batchSize * 1000) / r.medianMs;
      r.selectionMs = measured.map((m) => m.selectionMs);
      r.selectionMedianMs = median(r.selectionMs);
      r.selectionShare = median(measured.map((m) => m.selectionMs / m.ms));
    } else if (!t0) {
      r.error = `${history.length} of ${WARMUP} warm-up steps within ${SETUP_MS / 1000} s of Start (set-up included)`;
    } else {
      r.error = `no step after the warm-up within ${CASE_MS / 1000} s`;
    }
    // The first step is reported after set-up plus its own time (to the poll's 100 ms).
    if (tFirst && history.length) r.setupSeconds = Math.round(tFirst - tStart - history[0].ms) / 1000;
    const inWindow = longTasks.filter((t) => t.start >= t0 && t.start <= t1);
    const durations = inWindow.map((t) => Math.round(t.duration));
    r.longTasks = {
      count: inWindow.length,
      maxMs: durations.length ? Math.max(...durations) : 0,
      totalMs: durations.reduce((a, d) => a + d, 0),
      durations,
    };
    const whole = longTasks.filter((t) => t.start >= tStart);
    r.longTasksWholeRun = {
      count: whole.length,
      maxMs: whole.length ? Math.round(Math.max(...whole.map((t) => t.duration))) : 0,
    };
    r.longestFrames = loaf
      .filter((f) => f.start >= t0 && f.start <= t1)
      .sort((a, b) => b.duration - a.duration)
      .slice(0, 3)
      .map((f) => ({
        ...f,
        start: Math.round(f.start),
        duration: Math.round(f.duration),
        blockingDuration: Math.round(f.blockingDuration),
        renderMs: Math.round(f.renderMs),
        styleLayoutMs: Math.round(f.styleLayoutMs),
        scripts: f.scripts
          .sort((a, b) => b.duration - a.duration)
          .slice(0, 4)
          .map((x) => ({ ...x, duration: Math.round(x.duration) })),
      }));
    r.ok = measured.length > 0;
  } catch (e) {
    r.error = message(e);
  } finally {
    if (pageErrors.length) r.error = [r.error, `page errors: ${pageErrors.join('; ')}`].filter(Boolean).join('; ');
    await context.close().catch(() => {});
  }
  return r;
}

function fmt(v: number | undefined, d = 0): string {
  return v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d);
}

function printTable(results: CaseResult[]): void {
  const rows = [
    [
      'case',
      'backend',
      'adapter',
      'batch',
      'steps',
      'median ms',
      'img/s',
      'selection ms (share)',
      'long tasks',
      'max long ms',
    ],
    ...results.map((r) => [
      r.name,
      r.backend === r.requestedBackend ? r.backend : `${r.requestedBackend} ✗`,
      r.adapter ?? '',
      fmt(r.batch),
      String(r.stepsMeasured),
      fmt(r.medianMs),
      fmt(r.imagesPerSecond, 1),
      r.selectionMedianMs === undefined
        ? '—'
        : `${fmt(r.selectionMedianMs, 1)} (${fmt(100 * (r.selectionShare ?? NaN), 1)}%)`,
      r.longTasks ? String(r.longTasks.count) : '—',
      r.longTasks ? String(r.longTasks.maxMs) : '—',
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, j) => cell.padEnd(widths[j])).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  for (const r of results) if (r.error) console.log(`${r.name}: ${r.error}`);
}

async function main(): Promise<void> {
  if (!existsSync(EXECUTABLE)) {
    console.error(
      `Chromium not found at ${EXECUTABLE}: install Debian's chromium package or set CHROMIUM_PATH (this script never downloads a browser).`,
    );
    process.exit(1);
  }
  if (!values['no-build']) {
    const b = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
    if (b.status !== 0) process.exit(b.status ?? 1);
  }
  const port = await freePort();
  const preview = await startPreview(port);
  let browser: Browser | null = null;
  const results: CaseResult[] = [];
  try {
    browser = await chromium.launch({ executablePath: EXECUTABLE, args: [...CHROMIUM_ARGS] });
    const cases = values.only ? CASES.filter((c) => c.name.includes(values.only!)) : CASES;
    for (const c of cases) {
      const t = Date.now();
      console.error(`[bench:browser] ${c.name} …`);
      const r = await runCase(browser, `http://localhost:${port}`, c);
      console.error(
        `[bench:browser] ${c.name}: ${r.ok ? `${r.stepsMeasured} steps, median ${fmt(r.medianMs)} ms` : r.error} (${((Date.now() - t) / 1000).toFixed(0)} s)`,
      );
      results.push(r);
    }
    let all = results;
    if (values.merge && existsSync(values.out!)) {
      const old = JSON.parse(readFileSync(values.out!, 'utf8')) as { date: string; cases: CaseResult[] };
      const fresh = new Map(results.map((r) => [r.name, r]));
      // Kept cases carry the date of the run that measured them.
      all = old.cases.map((c) => fresh.get(c.name) ?? { ...c, date: c.date ?? old.date });
      for (const r of results) if (!old.cases.some((c) => c.name === r.name)) all.push(r);
    }
    const report = {
      date: new Date().toISOString(),
      chromium: browser.version(),
      chromiumArgs: CHROMIUM_ARGS,
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model.trim() ?? '',
      dataset: 'shapes',
      warmup: WARMUP,
      steps: STEPS,
      extraQuery: values.extra || undefined,
      longTaskBudgetMs: 50,
      cases: all,
    };
    mkdirSync(dirname(values.out!), { recursive: true });
    writeFileSync(values.out!, JSON.stringify(report, null, 1) + '\n');
    printTable(all);
    console.log(`wrote ${values.out}`);
  } finally {
    await browser?.close().catch(() => {});
    stopPreview(preview);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
