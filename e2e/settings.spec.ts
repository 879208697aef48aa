import { expect, test, type Page } from '@playwright/test';
import { presetConfig } from '../src/core/presets';
import { decodeHash, encodeHash } from '../src/ui/url-state';

/**
 * The settings panel and the URL hash, on the fast demo preset over 128
 * shapes with WASM: a link opens its run, an invalid value blocks Start, a
 * live edit keeps a paused run, and the hash follows every applied change.
 */

const stepOf = async (page: Page) => Number(await page.getByTestId('step').textContent());
const hashOf = (page: Page) => page.evaluate(() => window.location.hash);
/** The learning rates the worker reported, oldest first (bench hook, `?bench=1`). */
const lrsOf = (page: Page) =>
  page.evaluate(() =>
    (window as unknown as { __climPlayground: { history(): { lr: number }[] } }).__climPlayground
      .history()
      .map((m) => m.lr),
  );

test('settings: a link opens its run, invalid values block Start, live edits keep a paused run, the hash follows', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const linked = { ...presetConfig('fast-demo-cpu'), seed: 7, lr: 0.05 };
  const hash = encodeHash({ config: linked, preset: 'fast-demo-cpu', dataset: 'shapes' });
  await page.goto(`/?backend=wasm&n=128&ntest=32&bench=1${hash}`);
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });

  // (a) The link's preset, fields and data set.
  await expect(page.getByTestId('preset-select')).toHaveValue('fast-demo-cpu');
  await expect(page.getByTestId('preset-description')).toContainText('single-resolution');
  await expect(page.getByLabel('Seed')).toHaveValue('7');
  await expect(page.getByTestId('field-lr')).toHaveValue('0.05');
  await expect(page.getByTestId('field-batchSize')).toHaveValue('32');
  await expect(page.getByTestId('field-resolutions')).toHaveValue('24');
  await expect(page.getByTestId('dataset-select')).toHaveValue('shapes');
  await expect(page.getByTestId('url-notice')).toHaveCount(0);

  const settings = page.getByRole('region', { name: 'Settings' });
  // (b) An invalid batch size is explained and blocks Start; fixing it unblocks.
  await settings.locator('summary', { hasText: 'MoCo' }).click();
  const batch = settings.getByLabel('Batch size', { exact: true });
  await batch.fill('0');
  await expect(page.getByTestId('issue-batchSize')).toHaveText(
    'batchSize must be a whole number from 1 to 1024 (got 0).',
  );
  await expect(page.getByTestId('start')).toBeDisabled();
  await expect(page.getByTestId('start-blocked')).toContainText('Fix the invalid setting first: batchSize');
  await batch.fill('16');
  await expect(page.getByTestId('issue-batchSize')).toHaveCount(0);
  await expect(page.getByTestId('start')).toBeEnabled();

  // (d) The applied change is in the hash, the rest of the link kept.
  await expect.poll(async () => decodeHash(await hashOf(page)).config).toEqual({ ...linked, batchSize: 16 });
  expect(decodeHash(await hashOf(page))).toMatchObject({ preset: 'fast-demo-cpu', dataset: 'shapes', problems: [] });

  // (c) Train, pause, two single steps, then a live learning-rate change.
  await page.getByTestId('start').click();
  await expect(page.getByTestId('run-state')).toHaveText('running', { timeout: 60_000 });
  await expect(page.getByTestId('field-lr')).toBeDisabled();
  await page.getByTestId('pause').click();
  await expect(page.getByTestId('run-state')).toHaveText('paused', { timeout: 30_000 });
  const s0 = await stepOf(page);
  const stepBtn = page.getByTestId('step-once');
  await stepBtn.click();
  await expect(page.getByTestId('step')).toHaveText(String(s0 + 1), { timeout: 30_000 });
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  await stepBtn.click();
  await expect(page.getByTestId('step')).toHaveText(String(s0 + 2), { timeout: 30_000 });
  await expect(page.getByTestId('run-state')).toHaveText('paused');

  await settings.locator('summary', { hasText: 'Optimiser' }).click();
  await settings.getByLabel('Learning rate', { exact: true }).fill('0.5');
  await expect.poll(async () => decodeHash(await hashOf(page)).config.lr).toBe(0.5);
  // Same run: no reset to step 0, nothing waiting for a restart.
  await expect(page.getByTestId('step')).toHaveText(String(s0 + 2));
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  await expect(page.getByTestId('pending-settings')).toHaveCount(0);
  await stepBtn.click();
  await expect(page.getByTestId('step')).toHaveText(String(s0 + 3), { timeout: 30_000 });
  const lrs = await lrsOf(page);
  expect(lrs).toHaveLength(s0 + 3);
  // Peak 0.05 → 0.5: the step after the edit uses the new schedule (warm-up or cosine, ×10 either way, give or take one step).
  expect(lrs[s0 + 2]).toBeGreaterThan(lrs[s0 + 1] * 4);
  await page.getByTestId('start').click();
  await expect.poll(() => stepOf(page), { timeout: 60_000 }).toBeGreaterThan(s0 + 3);
  await page.getByTestId('pause').click();
  await expect(page.getByTestId('run-state')).toHaveText('paused', { timeout: 30_000 });

  // A non-live change while paused waits for an explicit restart.
  await batch.fill('8');
  await expect(page.getByTestId('pending-settings')).toContainText('Batch size: applies to a new run.');
  expect(decodeHash(await hashOf(page)).config.batchSize).toBe(16);
  await page.getByTestId('apply-restart').click();
  await expect(page.getByTestId('step')).toHaveText('0');
  await expect.poll(async () => decodeHash(await hashOf(page)).config.batchSize).toBe(8);

  // A pasted link replaces the run.
  await page.evaluate(() => {
    window.location.hash = '#preset=moco-v2&ds=shapes&seed=3';
  });
  await expect(page.getByTestId('preset-select')).toHaveValue('moco-v2');
  await expect(page.getByLabel('Seed')).toHaveValue('3');
  await expect(page.getByTestId('run-state')).toHaveText('idle');
  expect(errors).toEqual([]);
});
