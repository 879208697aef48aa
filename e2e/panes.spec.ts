import { expect, test } from '@playwright/test';
import { presetConfig } from '../src/core/presets';
import { encodeHash } from '../src/ui/url-state';

/**
 * The views (issue 5, first slice): after 25 steps the Positives view shows
 * anchors with their k neighbours, each kept or rejected with a reason; the
 * Clusters view shows all C clusters; About shows the loss with the run's τ.
 * The run comes from a shared link (URL hash), the loss chart redraws at
 * least three times while training, and the run resumes after a pause.
 */
test('Positives, Clusters and About show the run after the first snapshot', async ({ page }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // fast-demo-cpu (k = 5, C = 10 by default); 512 training images keep set-up short.
  const config = { ...presetConfig('fast-demo-cpu'), climWarmupSteps: 0 };
  const k = config.knnK;
  const hash = encodeHash({ config, preset: 'fast-demo-cpu', dataset: 'fashion-mnist' });
  await page.goto(`/?backend=wasm&n=512&ntest=128${hash}`);
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  await expect(page.getByTestId('preset-select')).toHaveValue('fast-demo-cpu');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  // Chart updates: distinct drawings of the total-loss line while the run goes on.
  const drawings = new Set<string>();
  await expect
    .poll(
      async () => {
        const d = await page
          .getByTestId('chart-loss')
          .locator('[data-series] path')
          .first()
          .getAttribute('d')
          .catch(() => null);
        if (d) drawings.add(d);
        return drawings.size;
      },
      { timeout: 120_000, intervals: [250] },
    )
    .toBeGreaterThanOrEqual(3);
  await expect
    .poll(async () => Number(await page.getByTestId('step').textContent()), { timeout: 180_000 })
    .toBeGreaterThanOrEqual(26);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  await expect(page.getByTestId('chart-loss').locator('svg.line-chart')).toBeVisible();
  await page.screenshot({ path: info.outputPath('pane-training.png'), fullPage: true });

  await page.getByRole('tab', { name: 'Positives' }).click();
  const cards = page.getByTestId('anchor-card');
  await expect(cards.first()).toBeVisible();
  expect(await cards.count()).toBeGreaterThanOrEqual(1);
  const first = cards.first();
  const neighbours = first.getByTestId('neighbour');
  await expect(neighbours).toHaveCount(k);
  const reasons = await neighbours.evaluateAll((els) => els.map((e) => e.getAttribute('data-reason')));
  for (const r of reasons) expect(['kept', 'different-cluster', 'farther-from-centre']).toContain(r);
  // The rule line counts the kept ones with the live numbers.
  const kept = reasons.filter((r) => r === 'kept').length;
  await expect(first.getByTestId('anchor-rule')).toContainText(`Kept ${kept} of ${k}`);
  // Every image drawn: anchor, centre, neighbours (canvas thumbnails, not placeholders).
  expect(await first.locator('.thumb.missing').count()).toBeLessThanOrEqual(1);
  await page.screenshot({ path: info.outputPath('pane-positives.png'), fullPage: true });

  // Clicking a neighbour pins it: it becomes the first anchor.
  const pin = Number((await neighbours.first().getByRole('button').getAttribute('title'))?.match(/#(\d+)/)?.[1]);
  await neighbours.first().getByRole('button').click();
  await expect(cards.first()).toHaveAttribute('aria-label', `Anchor image #${pin}`);

  await page.getByRole('tab', { name: 'Clusters' }).click();
  await expect(page.getByTestId('cluster-row')).toHaveCount(config.clusters);
  await page.screenshot({ path: info.outputPath('pane-clusters.png'), fullPage: true });

  await page.getByRole('tab', { name: 'About' }).click();
  await expect(page.getByTestId('about-formula')).toContainText('/ 0.2');
  // Keyboard: arrows move between tabs.
  await page.getByRole('tab', { name: 'About' }).press('ArrowLeft');
  await expect(page.getByRole('tab', { name: 'Clusters' })).toHaveAttribute('aria-selected', 'true');
  // Resume: the same run goes on from where it paused.
  const pausedAt = Number(await page.getByTestId('step').textContent());
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect
    .poll(async () => Number(await page.getByTestId('step').textContent()), { timeout: 60_000 })
    .toBeGreaterThan(pausedAt + 1);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  expect(errors).toEqual([]);
});
