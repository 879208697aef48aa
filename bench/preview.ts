/**
 * The production build served by `vite preview` on a free port, and the
 * long-task recorder, for the browser benchmarks (bench/browser.ts,
 * bench/upload-browser.ts, bench/map-20k.ts, bench/first-run.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { chromium, type Page } from 'playwright';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../e2e/chromium';

/** `vite build` unless the command line has `--no-build` (a build already in dist/). */
export function buildApp(argv: readonly string[] = process.argv): void {
  if (argv.includes('--no-build')) return;
  const b = spawnSync('npx', ['vite', 'build'], { stdio: 'inherit' });
  if (b.status !== 0) throw new Error('vite build failed');
}

export interface LongTask {
  /** performance.now() time in the page. */
  start: number;
  duration: number;
}

/** Records the page's main-thread long tasks (> 50 ms) from before its scripts run; read them with longTasksSince. */
export async function recordLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __lt: { start: number; duration: number }[] };
    w.__lt = [];
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) w.__lt.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
}

/** Long tasks that started at or after page time `t` (performance.now()). */
export async function longTasksSince(page: Page, t: number): Promise<LongTask[]> {
  return page.evaluate((since) => (window as unknown as { __lt: LongTask[] }).__lt.filter((e) => e.start >= since), t);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startPreview(port: number): Promise<ChildProcess> {
  const child = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`vite preview exited (${child.exitCode}): ${log}`);
    try {
      const r = await fetch(`http://localhost:${port}/`);
      if (r.ok) return child;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stopPreview(child);
  throw new Error(`vite preview did not answer on port ${port} within 60 s: ${log}`);
}

export function stopPreview(child: ChildProcess): void {
  // npx starts vite as a child: end the whole group this script started.
  if (child.pid && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
  }
}

/**
 * The app built (unless --no-build), served on a free port, and one
 * 1280×900 page of Debian's Chromium handed to `use` with the origin; the
 * browser and the server are closed afterwards, however `use` ends.
 */
export async function withPreviewPage(use: (page: Page, origin: string) => Promise<void>): Promise<void> {
  buildApp();
  const port = await freePort();
  const preview = await startPreview(port);
  const browser = await chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args: [...CHROMIUM_ARGS] });
  try {
    await use(await browser.newPage({ viewport: { width: 1280, height: 900 } }), `http://localhost:${port}`);
  } finally {
    await browser.close();
    stopPreview(preview);
  }
}

/** Runs a benchmark's main, exiting non-zero with the error printed if it fails. */
export function runBench(main: () => Promise<void>): void {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
