import { expect, test } from '@playwright/test';
import { getPreset } from '../src/core/presets';

/**
 * A page whose address chose nothing about the run, on this GPU-less
 * machine: the backend order lands on WASM, so the page starts with the
 * CPU-sized CLIM (whose default run passes the raw pixels on a CPU) and
 * says why; choosing the paper preset takes the note away.
 */
test('cpu default: with no GPU the page starts from the CPU-sized CLIM and says why', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?n=128&ntest=32&autosave=0');
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('backend')).toContainText(/wasm/i);
  await expect(page.getByTestId('preset-select')).toHaveValue('clim-cpu');
  await expect(page.getByTestId('preset-description')).toHaveText(getPreset('clim-cpu').description);
  await expect(page.getByTestId('auto-preset-note')).toContainText('training runs on the CPU here (WASM)');
  await expect(page.getByTestId('field-resolutions')).toHaveValue('24');
  await expect(page.getByTestId('field-batchSize')).toHaveValue('32');
  await expect(page).toHaveURL(/preset=clim-cpu/);

  await page.getByTestId('preset-select').selectOption('clim-paper');
  await expect(page.getByTestId('field-resolutions')).toHaveValue('32, 24');
  await expect(page.getByTestId('auto-preset-note')).toHaveCount(0);
  expect(errors).toEqual([]);
});
