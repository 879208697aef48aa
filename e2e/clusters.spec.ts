import { expect, test, type Page } from '@playwright/test';

/**
 * The Clusters view (issue 5): after the first snapshot the map shows every
 * bank embedding (N points, C clusters, as configured); hovering a point
 * shows its image; clicking it pins that image as an anchor in Positives;
 * purity/NMI/ARI are shown for labelled Fashion-MNIST; UMAP runs on demand
 * and becomes the map.
 */

/** CSS position (relative to the map) of some drawn point: the first non-transparent pixel of the map image near its middle. */
async function somePoint(page: Page): Promise<{ x: number; y: number }> {
  const map = page.getByTestId('cluster-map');
  await expect
    .poll(() => map.evaluate((el) => el instanceof HTMLImageElement && el.complete && el.naturalWidth > 0))
    .toBe(true);
  return map.evaluate((img: HTMLImageElement) => {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d') as CanvasRenderingContext2D;
    ctx.drawImage(img, 0, 0);
    const { data, width, height } = ctx.getImageData(0, 0, c.width, c.height);
    const scale = c.width / img.clientWidth;
    // Scan outwards from the centre row so the point is well inside the map.
    for (let dy = 0; dy < height / 2; dy++)
      for (const y of [Math.floor(height / 2) + dy, Math.floor(height / 2) - dy])
        for (let x = 0; x < width; x++) if (data[(y * width + x) * 4 + 3] > 100) return { x: x / scale, y: y / scale };
    throw new Error('no point drawn');
  });
}

test('Clusters: map of N points and C clusters, hover thumbnail, click pins an anchor, purity/NMI, UMAP on demand', async ({
  page,
}, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // fast-demo-cpu: C = 10; 512 training images keep set-up short.
  await page.goto('/?backend=wasm&preset=fast-demo-cpu&climwarmup=0&n=512&ntest=128');
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect
    .poll(async () => Number(await page.getByTestId('step').textContent()), { timeout: 180_000 })
    .toBeGreaterThanOrEqual(26);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByTestId('run-state')).toHaveText('paused');

  await page.getByRole('tab', { name: 'Clusters' }).click();
  const map = page.getByTestId('cluster-map');
  await expect(map).toHaveAttribute('data-points', '512');
  await expect(map).toHaveAttribute('data-clusters', '10');
  await expect(map).toHaveAttribute('data-method', 'pca');
  await expect(page.getByTestId('cluster-map-summary')).toContainText('PCA map of 512 bank embeddings');
  // Purity/NMI/ARI for the labelled set.
  await expect(page.getByTestId('cluster-purity')).toHaveText(/^\d+\.\d%$/);
  await expect(page.getByTestId('cluster-nmi')).toHaveText(/^0\.\d{3}$|^1\.000$/);
  await expect(page.getByTestId('cluster-row')).toHaveCount(10);
  // The first cluster's gallery is open: nearest and farthest members drawn.
  await expect(page.getByTestId('gallery-nearest').first().locator('img.thumb').first()).toBeVisible();
  info.annotations.push({
    type: 'map redraw (512 points)',
    description: `${await map.getAttribute('data-draw-ms')} ms`,
  });

  // Colour by label: the legend lists the Fashion-MNIST classes.
  await page.getByRole('radio', { name: 'Label' }).check();
  await expect(map).toHaveAttribute('data-colour-by', 'label');
  await expect(page.getByTestId('map-legend')).toContainText('Trouser');

  // Hover a drawn point: a tooltip with its image, index, label and cluster.
  const p = await somePoint(page);
  const input = page.getByTestId('cluster-map-input');
  await input.hover({ position: p });
  const tip = page.getByTestId('map-tooltip');
  await expect(tip).toBeVisible();
  await expect(tip.locator('img.thumb')).toBeVisible();
  const index = Number((await tip.textContent())?.match(/#(\d+)/)?.[1]);
  expect(Number.isInteger(index)).toBe(true);
  await page.screenshot({ path: info.outputPath('pane-clusters-map.png'), fullPage: true });

  // Click pins it and opens Positives with it as the first anchor.
  await input.click({ position: p });
  await expect(page.getByRole('tab', { name: 'Positives' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('anchor-card').first()).toHaveAttribute('aria-label', `Anchor image #${index}`);

  // UMAP on demand (512 points: seconds) becomes the map; PCA stays one click away.
  await page.getByRole('tab', { name: 'Clusters' }).click();
  const t0 = Date.now();
  await page.getByTestId('compute-umap').click();
  await expect(map).toHaveAttribute('data-method', 'umap', { timeout: 120_000 });
  info.annotations.push({ type: 'UMAP (512 points)', description: `${(Date.now() - t0) / 1000} s` });
  await expect(page.getByTestId('cluster-map-summary')).toContainText('UMAP map of 512');
  await page.getByRole('radio', { name: 'PCA (live)' }).check();
  await expect(map).toHaveAttribute('data-method', 'pca');

  // Keyboard: focus the map, arrows move the cursor; Enter on a point pins it.
  await input.focus();
  await expect(input).toBeFocused();
  expect(errors).toEqual([]);
});
