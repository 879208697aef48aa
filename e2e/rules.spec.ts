import { expect, test } from '@playwright/test';
import { tinyConfig } from '../src/core/config';
import { encodeHash } from '../src/ui/url-state';

/**
 * The rule comparison in the Positives view (issue 15): after the first
 * selection snapshot (step 25) a table of the five rules, the run's own rule
 * (center-wise with the anchor threshold, the default) marked, one sentence
 * comparing center-wise with plain kNN; after the second (step 50) the chart
 * of each rule's precision over the run. A tiny labelled run keeps it short.
 */
test('Positives compares the selection rules on the same anchors', async ({ page }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const config = tinyConfig({ totalSteps: 400 });
  expect(config.selection).toBe('center-wise');
  expect(config.centerThreshold).toBe('anchor');
  await page.goto(
    `/?backend=wasm&n=128&ntest=32&autosave=0${encodeHash({ config, preset: null, dataset: 'fashion-mnist' })}`,
  );
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  await page.getByRole('tab', { name: 'Positives' }).click();
  await expect(page.getByTestId('rule-compare')).toContainText('Which rule picks the right positives?');
  await expect(page.getByTestId('rule-table')).toHaveCount(0);
  await page.getByRole('button', { name: 'Start', exact: true }).click();

  const table = page.getByTestId('rule-table');
  await expect(table).toBeVisible({ timeout: 60_000 });
  const rows = table.getByTestId('rule-row');
  await expect(rows).toHaveCount(5);
  expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-rule')))).toEqual([
    'knn',
    'knn-cluster',
    'center-wise',
    'center-wise-mean',
    'cluster',
  ]);
  const own = table.locator('[data-testid="rule-row"][aria-current="true"]');
  await expect(own).toHaveCount(1);
  await expect(own).toHaveAttribute('data-rule', 'center-wise');
  await expect(own).toContainText('this run');
  await expect(table.locator('caption')).toContainText(
    new RegExp(
      `over \\d+ training anchors at step \\d+, with k = ${config.knnK} and C = ${config.clusters} clusters`,
      'i',
    ),
  );
  for (const cell of await table.getByTestId('rule-precision').allTextContents())
    expect(cell).toMatch(/^(\d{1,3}\.\d%|—)$/);
  const verdict = page.getByTestId('rule-verdict');
  await expect(verdict).toContainText('center-wise');
  // Labelled data: at least plain kNN has a measured precision.
  expect(await rows.first().getByTestId('rule-precision').textContent()).toMatch(/^\d{1,3}\.\d%$/);

  // The second snapshot (step 50) brings the chart.
  const chart = page.getByTestId('rule-chart');
  await expect(chart.locator('svg.line-chart')).toBeVisible({ timeout: 90_000 });
  await expect(chart.locator('[data-series]')).toHaveCount(5);
  await expect(chart).toContainText('(this run)');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  await page.getByTestId('rule-compare').screenshot({ path: info.outputPath('rule-compare.png') });
  expect(errors).toEqual([]);
});
