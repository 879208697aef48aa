import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { presetConfig } from '../src/core/presets';
import { encodeHash } from '../src/ui/url-state';

/**
 * Issue 18 (3, 4): a model trained elsewhere is inspected without training.
 * "Open model…" with a weights file written by the PyTorch trainer builds the
 * run at step 0 at once: the bank of the page's data set embedded with the
 * model, k-means run, so Positives and Clusters show it and the status its
 * held-out kNN top-1 before Start is pressed; a file for another encoder is
 * refused with the mismatch and the shown run stays; Start trains on from
 * the model. "Export config for PyTorch" downloads the settings as the
 * trainer's config.json.
 *
 * The fixtures are He-initialised encoders written by python/clim_torch
 * (model.Encoder + weights.write_weights), for this page's architecture and
 * for one with width 4:
 *
 *   PYTHONPATH=python python3 -c "from clim_torch.model import Encoder; from clim_torch.weights import write_weights,
 *     architecture_of; base = dict(stemStride=2, stages=3, blocksPerStage=1, norm='group', groups=8, projHidden=64,
 *     projDim=32); [write_weights(p, architecture_of(dict(base, width=w)), {'savedAt': '2025-01-01T00:00:00.000Z',
 *     'note': 'e2e fixture written by clim_torch'}, Encoder(dict(base, width=w), seed=w).to_engine_params()) for p, w
 *     in [('e2e/fixtures/python-model.climweights', 8), ('e2e/fixtures/python-model-width4.climweights', 4)]]"
 */
// Fast demo (CPU) with a narrower encoder and head, so the fixture stays under 100 kB.
const config = { ...presetConfig('fast-demo-cpu'), width: 8, projHidden: 64, projDim: 32 };
const hash = encodeHash({ config, preset: null, dataset: 'fashion-mnist' });
const url = `/?backend=wasm&n=512&ntest=128&autosave=0${hash}`;
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

test('a model from the PyTorch trainer is shown at step 0; another encoder is refused and the run kept', async ({
  page,
}, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  await expect(page.getByTestId('encoder-label')).toHaveText('Encoder: random init');

  await page.getByTestId('open-model-input').setInputFiles(fixture('python-model.climweights'));
  await expect(page.getByTestId('encoder-label')).toHaveText('Encoder: python-model.climweights', {
    timeout: 30_000,
  });
  // Built without Start: paused at step 0 with the model's held-out kNN top-1 in the status.
  await expect(page.getByTestId('run-state')).toHaveText('paused', { timeout: 120_000 });
  await expect(page.getByTestId('step')).toHaveText('0');
  await expect(page.getByTestId('knn')).toHaveText(/^\d+\.\d% @ 0$/);
  await expect(page.getByTestId('last-loss')).toHaveText('—');
  await expect(page.getByTestId('opened-model-note')).toContainText('show this model as opened: step 0');

  await page.getByRole('tab', { name: 'Positives' }).click();
  const cards = page.getByTestId('anchor-card');
  await expect(cards.first()).toBeVisible();
  expect(await cards.count()).toBeGreaterThan(0);
  expect(await cards.first().getByTestId('neighbour').count()).toBeGreaterThan(0);
  await page.screenshot({ path: info.outputPath('opened-model-positives.png'), fullPage: true });

  await page.getByRole('tab', { name: 'Clusters' }).click();
  const map = page.getByTestId('cluster-map');
  await expect(map).toHaveAttribute('data-points', '512');
  await expect(map).toHaveAttribute('data-clusters', String(config.clusters));
  await expect(page.getByTestId('cluster-row')).toHaveCount(config.clusters);
  await page.screenshot({ path: info.outputPath('opened-model.png'), fullPage: true });

  // Another encoder: refused with the mismatch; the shown run and the choice stay.
  await page.getByTestId('open-model-input').setInputFiles(fixture('python-model-width4.climweights'));
  const error = page.getByTestId('error');
  await expect(error).toContainText('python-model-width4.climweights', { timeout: 30_000 });
  await expect(error).toContainText('another encoder');
  await expect(error).toContainText('width 4 (this run: 8)');
  await expect(page.getByTestId('encoder-label')).toHaveText('Encoder: python-model.climweights');
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  await expect(page.getByTestId('step')).toHaveText('0');
  await expect(map).toHaveAttribute('data-clusters', String(config.clusters));
  await expect(page.getByTestId('knn')).toHaveText(/@ 0$/);

  // Start trains on from the opened model.
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect
    .poll(async () => Number(await page.getByTestId('step').textContent()), { timeout: 120_000 })
    .toBeGreaterThanOrEqual(2);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  await expect(page.getByTestId('encoder-label')).toHaveText('Encoder: python-model.climweights');
  await expect(page.getByTestId('opened-model-note')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('"Export config for PyTorch" downloads the settings as config.json', async ({ page }) => {
  await page.goto(url);
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  const settings = page.getByRole('region', { name: 'Settings' });
  await settings.locator('summary', { hasText: 'CLIM selection' }).click();
  await page.getByTestId('field-knnK').fill('7');
  await page.getByTestId('field-clusters').fill('12');
  await settings.locator('summary', { hasText: 'Optimiser' }).click();
  await page.getByTestId('field-lr').fill('0.05');
  await expect(settings.getByText('For python -m clim_torch.train --config config.json')).toBeVisible();

  const download = page.waitForEvent('download');
  await page.getByTestId('export-config').click();
  expect((await download).suggestedFilename()).toBe('config.json');
  const path = await (await download).path();
  const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  expect(json).toMatchObject({ knnK: 7, clusters: 12, lr: 0.05, width: 8, projDim: 32, resolutions: [24] });
  expect(json).toEqual({ ...config, knnK: 7, clusters: 12, lr: 0.05 });
});
