/**
 * The Clusters map with a 20,000-image bank in the page (issue 5: "handles
 * 20,000 points without freezing the page"): the `shapes` set at 20,000
 * training images, fast-demo-cpu, training on WASM; after the first
 * snapshot the Clusters tab is opened and the map switched between cluster
 * and label colouring while training goes on. Reports main-thread long tasks
 * (> 50 ms) from the tab switch on, and the worker-side redraw time.
 *   npx tsx bench/map-20k.ts [--no-build]  → bench/results/map-20k.json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { longTasksSince, recordLongTasks, runBench, withPreviewPage } from './preview';

async function main() {
  await withPreviewPage(async (page, origin) => {
    await recordLongTasks(page);
    await page.goto(`${origin}/?backend=wasm&dataset=shapes&n=20000&ntest=500&preset=fast-demo-cpu&climwarmup=0`);
    await page.getByTestId('run-state').filter({ hasText: 'idle' }).waitFor({ timeout: 120_000 });
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=step]')?.textContent) >= 26, null, {
      timeout: 600_000,
    });
    const t0 = await page.evaluate(() => performance.now());
    // CSS selectors from here on: a role query runs Playwright's script over the whole DOM on the page's
    // main thread (44 ms in a Chrome trace), which the long-task count would charge to the app.
    await page.locator('#tab-clusters').click();
    const map = page.getByTestId('cluster-map');
    await map.waitFor({ timeout: 60_000 });
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=cluster-map]')?.getAttribute('data-draw-ms')) > 0,
      null,
      { timeout: 60_000 },
    );
    const marks: [string, number][] = [['tab', 0]];
    const markNow = async (what: string) =>
      marks.push([what, Math.round((await page.evaluate(() => performance.now())) - t0)]);
    await markNow('map drawn');
    const points = Number(await map.getAttribute('data-points'));
    const drawMs: number[] = [Number(await map.getAttribute('data-draw-ms'))];
    for (const by of ['label', 'cluster', 'label']) {
      await page.locator(`input[name="colour-by"][value="${by}"]`).check();
      await markNow(`colour by ${by}`);
      await page.waitForTimeout(1500);
      drawMs.push(Number(await map.getAttribute('data-draw-ms')));
    }
    // Hover across the map.
    const box = (await page.getByTestId('cluster-map-input').boundingBox())!;
    await markNow('hover');
    for (let i = 0; i < 40; i++) await page.mouse.move(box.x + (box.width * (i + 0.5)) / 40, box.y + box.height / 2);
    await page.waitForTimeout(2000);
    const tasks = await longTasksSince(page, t0);
    const step = Number(await page.getByTestId('step').textContent());
    const out = {
      date: new Date().toISOString(),
      points,
      step,
      workerDrawMs: drawMs,
      longTasks: {
        count: tasks.length,
        maxMs: Math.round(Math.max(0, ...tasks.map((t) => t.duration))),
        at: tasks.map((t) => [Math.round(t.start - t0), Math.round(t.duration)]),
      },
      marks,
    };
    console.log(JSON.stringify(out));
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/map-20k.json', JSON.stringify(out, null, 1));
    await page.screenshot({ path: 'bench/results/map-20k.png' });
  });
}
runBench(main);
