import { expect, test, type Page } from '@playwright/test';
import { presetConfig } from '../src/core/presets';
import { architectureOf, encodeWeights } from '../src/core/weights-file';
import { encodeHash } from '../src/ui/url-state';

/**
 * A trained starting point (issue 15): "Start from the trained encoder"
 * loads the small fashion-mnist encoder the app ships into a fresh run, so
 * the held-out kNN top-1 measured after one step is far above the same
 * page's random-init run measured the same way; "Open model…" with a file
 * for another encoder is refused with the reason, and the current choice
 * and run stay; a later change to the encoder's settings drops the weights
 * and says why.
 */
const config = { ...presetConfig('fast-demo-cpu'), climWarmupSteps: 0 };
const hash = encodeHash({ config, preset: 'fast-demo-cpu', dataset: 'fashion-mnist' });
const url = `/?backend=wasm&n=512&ntest=128&autosave=0${hash}`;

/** One step, then "Evaluate now": the held-out kNN top-1 of the run's encoder at step 1. */
async function knnAfterOneStep(page: Page): Promise<number> {
  await expect(page.getByTestId('step')).toHaveText('0');
  await page.getByTestId('step-once').click();
  await expect(page.getByTestId('step')).toHaveText('1', { timeout: 60_000 });
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  await page.getByTestId('evaluate-now').click();
  // The status names the evaluated step: a run opened from weights already shows its step-0 evaluation.
  await expect(page.getByTestId('knn')).toHaveText(/ @ 1$/, { timeout: 60_000 });
  await expect(page.getByTestId('eval-knn')).toHaveText(/^\d+\.\d%$/);
  return parseFloat((await page.getByTestId('eval-knn').textContent()) ?? '') / 100;
}

test('the trained encoder starts a run far above random init', async ({ page }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  await expect(page.getByTestId('encoder-label')).toHaveText('Encoder: random init');
  const random = await knnAfterOneStep(page);

  await page.getByTestId('trained-encoder').click();
  await expect(page.getByTestId('encoder-label')).toHaveText(
    /^Encoder: trained \(fashion-mnist-encoder, \d+ steps\)$/,
    { timeout: 30_000 },
  );
  // A new run at step 0, built at once from the trained encoder (issue 18): the random run's evaluation is gone,
  // the encoder's own, at step 0, is shown without a step.
  await expect(page.getByTestId('run-state')).toHaveText('paused', { timeout: 60_000 });
  await expect(page.getByTestId('knn')).toHaveText(/ @ 0$/);
  await expect(page.getByTestId('opened-model-note')).toContainText('show this model as opened');
  await expect(page.locator('#encoder-trained-hint')).toContainText(
    /trained for \d+ steps on this set \(kNN top-1 \d+\.\d%\)/,
  );
  const trained = await knnAfterOneStep(page);
  await page.screenshot({ path: info.outputPath('trained-encoder.png'), fullPage: true });
  console.log(`held-out kNN top-1 after one step: random init ${random}, trained encoder ${trained}`);
  expect(trained).toBeGreaterThan(random + 0.05);
  await expect(page.getByTestId('encoder-label')).toContainText('Encoder: trained');

  // Back to random init: a new run, and the label says so.
  await page.getByTestId('encoder-random').click();
  await expect(page.getByTestId('encoder-label')).toHaveText('Encoder: random init');
  await expect(page.getByTestId('trained-encoder')).not.toBeChecked();
  expect(errors).toEqual([]);
});

test('a model for another encoder is refused with the reason; the choice and the run stay', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  await page.getByTestId('trained-encoder').click();
  await expect(page.getByTestId('encoder-label')).toHaveText(/^Encoder: trained/, { timeout: 30_000 });
  const label = await page.getByTestId('encoder-label').textContent();
  await page.getByTestId('step-once').click();
  await expect(page.getByTestId('step')).toHaveText('1', { timeout: 60_000 });

  const narrow = encodeWeights({
    architecture: { ...architectureOf(config), width: 8 },
    info: { savedAt: new Date().toISOString() },
    params: [{ name: 'stem.conv', shape: [1], data: Float32Array.from([0]) }],
  });
  await page
    .getByTestId('open-model-input')
    .setInputFiles({ name: 'narrow.climweights', mimeType: 'application/octet-stream', buffer: Buffer.from(narrow) });
  await expect(page.getByTestId('error')).toContainText('narrow.climweights', { timeout: 30_000 });
  await expect(page.getByTestId('error')).toContainText('another encoder');
  await expect(page.getByTestId('error')).toContainText('width 8');
  await expect(page.getByTestId('encoder-label')).toHaveText(label ?? '');
  await expect(page.getByTestId('trained-encoder')).toBeChecked();
  await expect(page.getByTestId('step')).toHaveText('1');
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  // The kept run goes on.
  await page.getByTestId('step-once').click();
  await expect(page.getByTestId('step')).toHaveText('2', { timeout: 60_000 });

  // A wider encoder in the settings: the trained weights no longer fit and are dropped, with the reason.
  const settings = page.getByRole('region', { name: 'Settings' });
  await settings.locator('summary', { hasText: 'Encoder' }).click();
  await page.getByTestId('field-width').fill('32');
  await page.getByTestId('apply-restart').click();
  await expect(page.getByTestId('error')).toContainText(
    'dropped because the encoder settings changed (width 16 → 32)',
    { timeout: 30_000 },
  );
  await expect(page.getByTestId('encoder-label')).toHaveText('Encoder: random init');
  await expect(page.getByTestId('trained-encoder')).not.toBeChecked();
  await expect(page.getByTestId('step')).toHaveText('0');
  expect(errors).toEqual([]);
});
