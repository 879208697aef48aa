import { expect, test, type Page, type TestInfo } from '@playwright/test';

/**
 * Responsiveness while training at full speed (issue 5): the default config
 * on the default Fashion-MNIST set, on WASM in the worker, must leave the
 * page's main thread without a task over 50 ms, through snapshots and tab
 * switches; Pause must answer within one step; the layout must hold from a
 * 1280 px desktop down to a 768 px tablet without scrolling sideways.
 * Timings are for a 2-core machine where the worker keeps one core busy.
 */

/** The long-task budget (RAIL): one frame's work plus input handling. */
const LONG_TASK_MS = 50;

interface LongTask {
  start: number;
  duration: number;
  name: string;
}

declare global {
  interface Window {
    __longTasks?: LongTask[];
  }
}

/** Runs in the page before its own scripts: every long task from navigation on. */
async function observeLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const tasks: LongTask[] = [];
    window.__longTasks = tasks;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) tasks.push({ start: e.startTime, duration: e.duration, name: e.name });
    }).observe({ type: 'longtask', buffered: true });
  });
}

const stepOf = async (page: Page) => Number(await page.getByTestId('step').textContent());

interface Snapshots {
  selection: { step: number; anchors: number } | null;
  clusters: { step: number; clusters: number } | null;
}
const snapshotsOf = async (page: Page): Promise<Snapshots> =>
  JSON.parse((await page.getByTestId('snapshots').textContent()) || '{}') as Snapshots;

async function openIdle(page: Page, url: string): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 90_000 });
  return errors;
}

async function waitForStep(page: Page, n: number, timeout = 180_000): Promise<void> {
  await expect
    .poll(
      async () => {
        const err = page.getByTestId('error');
        if (await err.count()) throw new Error(`engine error: ${await err.textContent()}`);
        return stepOf(page);
      },
      { timeout, intervals: [200, 250, 500] },
    )
    .toBeGreaterThanOrEqual(n);
}

/** A full-page screenshot kept in the test's output folder (also after a pass) and attached to the report. */
async function attachShot(page: Page, info: TestInfo, file: string): Promise<void> {
  const path = info.outputPath(file);
  await page.screenshot({ path, fullPage: true });
  await info.attach(file, { path, contentType: 'image/png' });
}

const PANES = ['Training', 'Positives', 'Clusters', 'About'] as const;

/**
 * Runs in the page: for each tab id, marks `tab <id>`, clicks the tab, waits for it to be
 * selected (and, on Positives, for a card) and for two more steps. Polls every 100 ms with
 * a few DOM reads, so the measured window holds the app's work and not the harness's.
 */
async function switchTabsWhileTraining(ids: string[]): Promise<void> {
  const q = (sel: string) => document.querySelector(sel);
  const step = () => Number(q('[data-testid="step"]')?.textContent);
  const until = (what: string, ok: () => boolean, ms = 120_000) =>
    new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      const tick = () => {
        const err = q('[data-testid="error"]');
        if (err) reject(new Error(`engine error: ${err.textContent}`));
        else if (ok()) resolve();
        else if (performance.now() - t0 > ms) reject(new Error(`timed out waiting for ${what}`));
        else setTimeout(tick, 100);
      };
      tick();
    });
  for (const id of ids) {
    performance.mark(`tab ${id}`);
    const tab = q(`#tab-${id}`) as HTMLButtonElement;
    tab.click();
    await until(`tab ${id} selected`, () => tab.getAttribute('aria-selected') === 'true');
    if (id === 'positives') await until('an anchor card', () => q('[data-testid="anchor-card"]') !== null);
    const s = step();
    await until(`step ${s + 2}`, () => step() >= s + 2);
  }
}

// Playwright's trace takes a DOM snapshot in the page around every action and
// assertion poll (50–90 ms each on the settings form): the harness's own long
// tasks, not the app's. Screenshots are attached by the test itself.
test.use({ trace: 'off', screenshot: 'off' });

// Two retries, for a machine busier than any measured: after the tab switches
// were cut (thumbnails and the cluster map as images, not canvases; fonts
// warmed at load; the map drawn when the page is idle) and the harness's own
// work moved out of the measured window, 2026-11-29 runs here gave 0 long
// tasks in 6 of 6 quiet runs, 3 of 3 beside a busy process and 3 of 3 with
// the page's CPU throttled 1.5× (before: 3 of 4 quiet runs had one of 53–87
// ms). E2E_RETRIES overrides, E2E_CPU_THROTTLE slows the page to check the
// margin (2×: 1–2 tasks of 55–59 ms).
test.describe.configure({ retries: Number(process.env.E2E_RETRIES ?? 2) });

test('no main-thread task over 50 ms while training at full speed, through snapshots and tab switches', async ({
  page,
  browser,
}, info) => {
  await observeLongTasks(page);
  // E2E_TRACE=1: a Chrome trace of the run (timeline + JS samples), to find what a long task was.
  const trace = process.env.E2E_TRACE ? info.outputPath('trace.json') : null;
  if (trace)
    await browser.startTracing(page, {
      path: trace,
      categories: [
        'devtools.timeline',
        'disabled-by-default-devtools.timeline',
        'v8.execute',
        'disabled-by-default-v8.cpu_profiler',
        'blink.user_timing',
      ],
    });
  // E2E_CPU_THROTTLE=N: the page's main thread N× slower (CDP), to reproduce a slower CI machine here.
  const throttle = Number(process.env.E2E_CPU_THROTTLE ?? 0);
  if (throttle > 1)
    await (await page.context().newCDPSession(page)).send('Emulation.setCPUThrottlingRate', { rate: throttle });
  const errors = await openIdle(page, '/?backend=wasm');
  await expect(page.getByTestId('backend')).toHaveText('wasm');
  if (process.env.E2E_CSS) await page.addStyleTag({ content: process.env.E2E_CSS });

  const t0 = await page.evaluate(() => performance.mark('start').startTime);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await waitForStep(page, 10);
  // The first 25-step snapshot (selection + clusters + projection) has reached the page.
  await expect
    .poll(async () => (await snapshotsOf(page)).clusters?.step ?? 0, { timeout: 120_000 })
    .toBeGreaterThanOrEqual(25);
  expect((await snapshotsOf(page)).selection?.step).toBeGreaterThanOrEqual(25);

  // Every view while training: each renders the latest data and keeps updating for a few progress events.
  // The switches and the waits run inside the page, and cost it next to nothing: Playwright's own
  // injected-script work also runs on the page's main thread and shows up as long tasks there
  // (measured in a Chrome trace: a role query over the whole DOM took 44 ms, and an expect whose
  // first poll finds no element builds an ARIA snapshot of the page, 126 ms).
  await page.evaluate(
    switchTabsWhileTraining,
    PANES.slice(1)
      .concat(PANES[0])
      .map((p) => p.toLowerCase()),
  );
  await expect(page.getByTestId('run-state')).toHaveText('running');
  const steps = await stepOf(page);
  const tasks = (await page.evaluate(() => window.__longTasks ?? [])).filter((t) => t.start >= t0);
  const longest = tasks.reduce((m, t) => Math.max(m, t.duration), 0);
  const over = tasks.filter((t) => t.duration > LONG_TASK_MS);
  if (trace) await browser.stopTracing();
  const marks = await page.evaluate(() =>
    performance.getEntriesByType('mark').map((m) => `${m.name}@${m.startTime.toFixed(0)}`),
  );
  const summary = `${steps} steps; ${tasks.length} long tasks from Start on, longest ${longest.toFixed(0)} ms; durations ${tasks.map((t) => `${t.duration.toFixed(0)}@${t.start.toFixed(0)}`).join(', ') || '—'}; marks ${marks.join(' ')}`;
  console.log(`[long tasks] ${summary}`);
  info.annotations.push({ type: 'long tasks while training', description: summary });

  // Screenshots after the measurement: capturing a full page is not the page's own work.
  for (const name of PANES) {
    await page.getByRole('tab', { name }).click();
    if (name === 'Training') await expect(page.getByTestId('chart-loss').locator('svg.line-chart')).toBeVisible();
    await attachShot(page, info, `pane-${name.toLowerCase()}.png`);
  }
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  expect(errors).toEqual([]);
  expect(over, summary).toEqual([]);
});

test('Pause answers within one step, even when the step in flight is due a snapshot', async ({ page }, info) => {
  // ?bench=1: the read-only hook gives each step's wall time in the worker.
  const errors = await openIdle(page, '/?backend=wasm&bench=1');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  // Step 25 reports a snapshot (cluster + selection + PCA map): click while it runs.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="step"]')?.textContent) >= 24, null, {
    polling: 'raf',
    timeout: 180_000,
  });
  const r = await page.evaluate(
    () =>
      new Promise<{ before: number; atPaused: number; ms: number }>((resolve) => {
        const stepEl = document.querySelector('[data-testid="step"]')!;
        const stateEl = document.querySelector('[data-testid="run-state"]')!;
        const before = Number(stepEl.textContent);
        const t0 = performance.now();
        const done = () => {
          if (stateEl.textContent !== 'paused') return false;
          resolve({ before, atPaused: Number(stepEl.textContent), ms: performance.now() - t0 });
          return true;
        };
        const mo = new MutationObserver(() => {
          if (done()) mo.disconnect();
        });
        mo.observe(stateEl, { childList: true, characterData: true, subtree: true });
        (document.querySelector('[data-testid="pause"]') as HTMLButtonElement).click();
      }),
  );
  // Nothing runs after 'paused': the count is final.
  await page.waitForTimeout(1500);
  const final = await stepOf(page);
  const ms = await page.evaluate(() =>
    (window as unknown as { __climPlayground: { history(): { step: number; ms: number }[] } }).__climPlayground
      .history()
      .map((m) => m.ms),
  );
  const stepMs = Math.max(...ms.slice(-10));
  const summary = `clicked at step ${r.before}; paused at step ${r.atPaused} (final ${final}) after ${r.ms.toFixed(0)} ms; longest of the last 10 steps ${stepMs.toFixed(0)} ms`;
  console.log(`[pause] ${summary}`);
  info.annotations.push({ type: 'pause latency', description: summary });
  expect(final).toBe(r.atPaused);
  // At most the step that was in flight completes.
  expect(final - r.before, summary).toBeLessThanOrEqual(1);
  // Within the rest of that step plus message and render time; the step's snapshot does not hold Pause up.
  expect(r.ms, summary).toBeLessThanOrEqual(stepMs + 250);
  // The snapshot of the last step still comes, so the paused views show it.
  if (final % 25 === 0) await expect.poll(async () => (await snapshotsOf(page)).selection?.step).toBe(final);
  expect(errors).toEqual([]);
});

/** Form controls and other focusable widgets without an accessible name (aria-label, aria-labelledby, <label>, text or title). */
async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const text = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
    const nameOf = (el: Element): string => {
      const aria = text(el.getAttribute('aria-label'));
      if (aria) return aria;
      const by = el.getAttribute('aria-labelledby');
      if (by) {
        const t = text(
          by
            .split(/\s+/)
            .map((id) => document.getElementById(id)?.textContent ?? '')
            .join(' '),
        );
        if (t) return t;
      }
      const labels = (el as HTMLInputElement).labels;
      if (labels?.length) {
        const t = text(Array.from(labels, (l) => l.textContent).join(' '));
        if (t) return t;
      }
      if (el.tagName === 'BUTTON' || el.tagName === 'SUMMARY' || el.getAttribute('role') === 'tab') {
        const t = text(el.textContent);
        if (t) return t;
      }
      return text(el.getAttribute('title'));
    };
    const controls = document.querySelectorAll(
      'button, input:not([type="hidden"]), select, textarea, summary, [role="tab"], [tabindex]:not([tabindex="-1"])',
    );
    return Array.from(controls)
      .filter((el) => !nameOf(el))
      .map((el) => el.outerHTML.slice(0, 160));
  });
}

test('layout: 1280 px side by side, 768 px stacked, no sideways scroll, every control named', async ({
  page,
}, info) => {
  test.setTimeout(240_000);
  const errors = await openIdle(page, '/?backend=wasm&preset=fast-demo-cpu&climwarmup=0&n=512&ntest=128');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect
    .poll(async () => (await snapshotsOf(page)).clusters?.step ?? 0, { timeout: 180_000 })
    .toBeGreaterThanOrEqual(25);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByTestId('run-state')).toHaveText('paused');

  const missing = new Set<string>();
  for (const width of [1280, 1024, 999, 768]) {
    await page.setViewportSize({ width, height: 900 });
    for (const name of PANES) {
      await page.getByRole('tab', { name }).click();
      await expect(page.getByRole('tab', { name })).toHaveAttribute('aria-selected', 'true');
      // Layout settles (ResizeObserver-driven charts and map).
      await page.waitForTimeout(150);
      const m = await page.evaluate(() => {
        const box = (sel: string) => document.querySelector(sel)!.getBoundingClientRect();
        return {
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
          side: box('.side').toJSON() as DOMRect,
          main: box('.main').toJSON() as DOMRect,
        };
      });
      expect(
        m.scroll,
        `${name} at ${width} px: page ${m.scroll} px wide in a ${m.client} px window`,
      ).toBeLessThanOrEqual(m.client);
      if (width >= 1000)
        expect(m.side.right, `${name} at ${width} px: side panel beside the views`).toBeLessThanOrEqual(
          m.main.left + 1,
        );
      else
        expect(m.side.bottom, `${name} at ${width} px: side panel above the views`).toBeLessThanOrEqual(m.main.top + 1);
      for (const c of await unlabelledControls(page)) missing.add(`${name}: ${c}`);
      if (width === 768) await attachShot(page, info, `768px-${name.toLowerCase()}.png`);
    }
  }
  expect([...missing]).toEqual([]);
  expect(errors).toEqual([]);
});
