import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import { zipSync } from 'fflate';

/**
 * Uploads (issue 4): a generated folder with three labelled sub-folders and
 * every kind of bad file goes through the folder input; the summary shows the
 * right counts and names; training starts on it. The same folder as a .zip.
 */

/** A w×h PNG of one colour with a per-image marker pixel, so no two images have the same bytes. */
function png(w: number, h: number, rgb: [number, number, number], marker: number): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) {
    p.data[i * 4] = rgb[0];
    p.data[i * 4 + 1] = rgb[1];
    p.data[i * 4 + 2] = rgb[2];
    p.data[i * 4 + 3] = 255;
  }
  p.data[0] = marker;
  return PNG.sync.write(p);
}

const COUNTS = { circles: 5, squares: 4, stars: 3 } as const;
const COLOURS: Record<keyof typeof COUNTS, [number, number, number]> = {
  circles: [220, 40, 40],
  squares: [40, 180, 60],
  stars: [40, 60, 220],
};

/** root/<label>/<i>.png for three labels, plus a text file, a corrupt PNG, a zero-byte file and a .DS_Store. */
function makeFolder(): { root: string; files: Record<string, Buffer> } {
  const base = mkdtempSync(join(tmpdir(), 'clim-upload-'));
  const root = join(base, 'pets');
  const files: Record<string, Buffer> = {};
  let marker = 1;
  for (const [label, n] of Object.entries(COUNTS) as [keyof typeof COUNTS, number][]) {
    for (let i = 0; i < n; i++) files[`${label}/${i}.png`] = png(20 + i, 16, COLOURS[label], marker++);
  }
  const good = files['circles/0.png'];
  files['circles/broken.png'] = good.subarray(0, Math.floor(good.length / 2));
  files['squares/empty.png'] = Buffer.alloc(0);
  files['stars/notes.txt'] = Buffer.from('not an image\n');
  files['.DS_Store'] = Buffer.from([0, 0, 0, 1, 66, 117, 100, 49]);
  for (const [rel, bytes] of Object.entries(files)) {
    const path = join(root, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, bytes);
  }
  return { root, files };
}

async function open(page: Page): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A long schedule: the tiny config's 50 steps could finish the run (issue 19) before Pause.
  await page.goto('/?backend=wasm&config=tiny#ts=1000');
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  expect(errors).toEqual([]);
}

async function expectSummary(page: Page): Promise<void> {
  const report = page.getByTestId('upload-report');
  await expect(report).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('upload-loaded')).toContainText('12 images loaded from 16 files, 3 labels');
  await expect(page.getByTestId('upload-label-row')).toHaveText(['circles5', 'squares4', 'stars3']);
  await expect(page.getByTestId('upload-skipped-count')).toHaveText('3 skipped');
  await expect(page.getByTestId('skip-corrupt')).toContainText('circles/broken.png');
  await expect(page.getByTestId('skip-empty')).toContainText('squares/empty.png: the file has 0 bytes');
  await expect(page.getByTestId('skip-not-image')).toContainText(
    'stars/notes.txt: .txt is not an image type this app reads',
  );
  await expect(report).toContainText('1 hidden or system file(s) ignored.');
  await expect(report).not.toContainText('.DS_Store');
}

async function trainsOnUpload(page: Page, name: string): Promise<void> {
  await expect(page.getByTestId('dataset-select')).toHaveValue('upload');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect
    .poll(async () => Number(await page.getByTestId('step').textContent()), { timeout: 120_000 })
    .toBeGreaterThanOrEqual(3);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  // 12 images, 10% per label held out (at least 1 each): 9 train + 3 test.
  await expect(page.getByTestId('dataset')).toHaveText(`folder:${name}:12:s=16`);
  await expect(page.getByTestId('error')).toHaveCount(0);
}

test('folder upload: summary counts and names every skip, then training starts on it', async ({ page }, info) => {
  const { root } = makeFolder();
  await open(page);
  await page.getByTestId('folder-input').setInputFiles(root);
  await expectSummary(page);
  await page.screenshot({ path: info.outputPath('upload-folder.png'), fullPage: true });
  await trainsOnUpload(page, 'pets');
});

test('zip upload: the same folder as a .zip gives the same summary and trains', async ({ page }) => {
  const { files } = makeFolder();
  const zipped = zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [`pets/${k}`, new Uint8Array(v)])));
  const zipPath = join(mkdtempSync(join(tmpdir(), 'clim-zip-')), 'pets.zip');
  writeFileSync(zipPath, zipped);
  await open(page);
  await page.getByTestId('files-input').setInputFiles(zipPath);
  await expectSummary(page);
  await trainsOnUpload(page, 'pets');
});

test('a folder with no decodable image says so and keeps the data set in use', async ({ page }) => {
  const base = mkdtempSync(join(tmpdir(), 'clim-bad-'));
  mkdirSync(join(base, 'junk'));
  writeFileSync(join(base, 'junk', 'a.png'), Buffer.from('definitely not a png'));
  writeFileSync(join(base, 'junk', 'b.txt'), 'text');
  await open(page);
  const before = await page.getByTestId('dataset-select').inputValue();
  await page.getByTestId('folder-input').setInputFiles(join(base, 'junk'));
  await expect(page.getByTestId('upload-error')).toContainText('No image in junk could be decoded', {
    timeout: 60_000,
  });
  await expect(page.getByTestId('upload-error')).toContainText(`The data set in use (${before}) is unchanged.`);
  await expect(page.getByTestId('skip-corrupt')).toContainText('a.png');
  await expect(page.getByTestId('dataset-select')).toHaveValue(before);
  expect(readFileSync(join(base, 'junk', 'b.txt'), 'utf8')).toBe('text');
});
