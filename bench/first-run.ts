/**
 * What a first-time user sees in the first 30 seconds (issue 5's closing
 * note): the page opened with no options (default preset, Fashion-MNIST,
 * automatic backend) in Debian's Chromium, Start pressed as soon as it is
 * enabled, then a timeline of what appears: backend ready, first chart
 * point, first Positives/Clusters snapshot, and the status bar at 30 s after
 * opening. Writes bench/results/first-run.json and a screenshot next to it.
 *   npx tsx bench/first-run.ts [--no-build]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { runBench, withPreviewPage } from './preview';

async function main() {
  const events: { t: number; what: string }[] = [];
  await withPreviewPage(async (page, origin) => {
    const t0 = Date.now();
    const mark = (what: string) => {
      events.push({ t: +((Date.now() - t0) / 1000).toFixed(2), what });
      console.log(events[events.length - 1]);
    };
    await page.goto(`${origin}/`);
    mark('page loaded');
    const start = page.getByRole('button', { name: 'Start', exact: true });
    await page.getByTestId('run-state').filter({ hasText: 'idle' }).waitFor({ timeout: 120_000 });
    mark(
      `ready: backend ${await page.getByTestId('backend').textContent()} (${await page
        .getByTestId('adapter')
        .textContent()
        .catch(() => '')})`,
    );
    await start.click();
    mark('Start pressed');
    await page.getByTestId('run-state').filter({ hasText: 'running' }).waitFor({ timeout: 120_000 });
    mark('running (model built, bank filled, first k-means done)');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=step]')?.textContent) >= 1, null, {
      timeout: 120_000,
    });
    mark(`first step; loss ${await page.getByTestId('last-loss').textContent()}`);
    await page.getByTestId('chart-loss').locator('[data-series] path').first().waitFor({ timeout: 60_000 });
    mark('first loss curve drawn');
    await page.getByRole('tab', { name: 'Positives' }).click();
    await page.getByTestId('anchor-card').first().waitFor({ timeout: 120_000 });
    mark(`first Positives snapshot (step ${await page.getByTestId('step').textContent()})`);
    const left = 30_000 - (Date.now() - t0);
    if (left > 0) await page.waitForTimeout(left);
    const status = Object.fromEntries(
      await Promise.all(
        ['step', 'epoch', 'last-loss', 'steps-per-second', 'images-per-second', 'elapsed', 'eta', 'tensor-memory'].map(
          async (id) => [id, (await page.getByTestId(id).textContent())?.trim()] as const,
        ),
      ),
    );
    mark(`30 s: ${JSON.stringify(status)}`);
    mkdirSync('bench/results', { recursive: true });
    await page.screenshot({ path: 'bench/results/first-run-30s.png' });
    writeFileSync(
      'bench/results/first-run.json',
      JSON.stringify({ date: new Date().toISOString(), events, status }, null, 1),
    );
  });
}
runBench(main);
