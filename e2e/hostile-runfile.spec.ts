import { readFileSync, writeFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../src/core/checkpoint';
import { presetConfig } from '../src/core/presets';
import { encodeHash } from '../src/ui/url-state';

/**
 * Crafted run files (issue 16, items 1 and 2). The checksum covers only the
 * tensors, so a run file's description and its index tensors can be edited
 * and re-encoded. Each such file, imported through the page or planted in
 * its IndexedDB and resumed, is refused with a message naming the field, and
 * the page keeps drawing with the run it had. Before the fix the first file
 * blanked the page (toFixed of undefined in the Evaluation card) and the
 * second was accepted and failed at the next Step with a raw GatherV2 error.
 * Then a pane and the page itself are made to fail to render (test hook):
 * each shows what failed and comes back with "Try again".
 */

const hash = encodeHash({
  config: { ...presetConfig('fast-demo-cpu'), climWarmupSteps: 0 },
  preset: 'fast-demo-cpu',
  dataset: 'fashion-mnist',
});

/** `good` decoded, changed by `edit`, encoded again (with a fresh checksum, as a crafter would). */
function crafted(good: Buffer, edit: (ck: Checkpoint) => void): Buffer {
  const ck = decodeCheckpoint(new Uint8Array(good));
  edit(ck);
  return Buffer.from(encodeCheckpoint(ck));
}

/** The page is drawn (no blank page, no pane failure) and still holds the run at `step`. */
async function stillThere(page: Page, step: number): Promise<void> {
  await expect(page.getByRole('tab', { name: 'Training' })).toBeVisible();
  await expect(page.getByTestId('training-pane')).toBeVisible();
  await expect(page.getByTestId('render-failure')).toHaveCount(0);
  await expect(page.getByTestId('step')).toHaveText(String(step));
  await expect(page.getByTestId('run-state')).toHaveText('paused');
}

test('crafted run files are refused with the field named, and the current run is kept', async ({ page }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/?backend=wasm&n=256&ntest=64&autosave=0${hash}`);
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  for (let s = 1; s <= 3; s++) {
    await page.getByTestId('step-once').click();
    await expect(page.getByTestId('step')).toHaveText(String(s), { timeout: 60_000 });
  }
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  const download = page.waitForEvent('download');
  await page.getByTestId('export-run').click();
  const file = info.outputPath('good.climrun');
  await (await download).saveAs(file);
  const good = readFileSync(file);
  const n = decodeCheckpoint(new Uint8Array(good)).meta.dataset.train;

  const bad: Array<[string, Buffer, RegExp]> = [
    // Item 1: evaluations without their fields.
    [
      'evals-without-fields.climrun',
      crafted(good, (ck) => (ck.meta.app = { ...(ck.meta.app as object), evals: [{ step: 3 }, {}] })),
      /app\.evals\[0\]\.knnTop1 is missing \(a number from 0 to 1, or null is expected\)/,
    ],
    // Item 2: an epoch index of 1e9.
    [
      'epoch-index-1e9.climrun',
      crafted(good, (ck) => (ck.tensors.find((t) => t.name === 'sampler/order')!.data[0] = 1e9)),
      new RegExp(
        `tensor "sampler/order"\\[0\\] must be an index from 0 to ${n - 1} \\(the data set has ${n} training images\\); found 1000000000`,
      ),
    ],
    [
      'queue-pointer-negative.climrun',
      crafted(good, (ck) => (ck.meta.queuePointers[0] = -1)),
      /queuePointers\[0\] must be a whole number from 0 to \d+ \(queue 0 has \d+ rows\); found -1/,
    ],
    [
      'proto-in-config.climrun',
      crafted(good, (ck) => Object.defineProperty(ck.meta.config, '__proto__', { value: { lr: 5 }, enumerable: true })),
      /config "__proto__" is not a config field/,
    ],
    [
      'huge-dataset-id.climrun',
      crafted(good, (ck) => (ck.meta.dataset.id = 'A'.repeat(1_000_000))),
      /dataset\.id must be at most 1024 characters; found "A{40}… \(1000000 characters\)"/,
    ],
  ];
  for (const [name, bytes, message] of bad) {
    const p = info.outputPath(name);
    writeFileSync(p, bytes);
    await page.getByTestId('import-input').setInputFiles(p);
    const banner = page.getByTestId('error');
    await expect(banner).toContainText(`Run file “${name}” not imported: The run file's description does not hold up`);
    await expect(banner).toContainText(message);
    await expect(banner).toContainText('The current run is unchanged.');
    expect((await banner.textContent())!.length).toBeLessThan(2000);
    await stillThere(page, 3);
    if (name.startsWith('evals')) await page.screenshot({ path: info.outputPath('refused.png'), fullPage: true });
    await page.getByRole('button', { name: 'Dismiss error' }).click();
  }

  // The autosave resume goes through the same check: a crafted run planted in this page's IndexedDB.
  const planted = crafted(good, (ck) => (ck.tensors.find((t) => t.name === 'sampler/order')!.data[5] = 1e9));
  await page.evaluate(
    async ({ b64, savedAt }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open('clim-playground', 1);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      const tx = db.transaction(['runs', 'info'], 'readwrite');
      tx.objectStore('runs').put(bytes, 'run-planted');
      tx.objectStore('info').put(
        {
          key: 'run-planted',
          step: 77,
          totalSteps: 1000,
          savedAt,
          datasetId: 'fashion-mnist',
          datasetLabel: 'planted',
          bytes: bytes.length,
          loss: 1,
        },
        'run-planted',
      );
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    },
    { b64: planted.toString('base64'), savedAt: new Date(Date.now() + 60_000).toISOString() },
  );
  // A save lists the store again, the planted run with it.
  await page.getByTestId('save-now').click();
  const plantedRow = page.getByTestId('saved-list').locator('li', { hasText: 'Step 77/1000 on planted' });
  await expect(plantedRow).toBeVisible();
  await plantedRow.getByTestId('resume-saved').click();
  await expect(page.getByTestId('error')).toContainText(
    /Saved run not resumed: The run file's description does not hold up .*tensor "sampler\/order"\[5\] .*found 1000000000.* The current run is unchanged\./,
  );
  await stillThere(page, 3);
  await page.getByRole('button', { name: 'Dismiss error' }).click();

  // The kept run still trains, and the good file still imports.
  await page.getByTestId('step-once').click();
  await expect(page.getByTestId('step')).toHaveText('4', { timeout: 60_000 });
  await page.getByTestId('import-input').setInputFiles(file);
  await expect(page.getByTestId('step')).toHaveText('3', { timeout: 60_000 });
  await page.getByTestId('step-once').click();
  await expect(page.getByTestId('step')).toHaveText('4', { timeout: 60_000 });
  await page.screenshot({ path: info.outputPath('after.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('a pane or the page that fails to render says so and comes back with Try again', async ({ page }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/?backend=wasm&n=256&ntest=64&testhooks=1${hash}`);
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  const fail = (name: string) =>
    page.evaluate(
      (n) => (window as unknown as { __climRenderFault: { failPane(n: string): void } }).__climRenderFault.failPane(n),
      name,
    );

  await fail('Training');
  const failure = page.getByTestId('render-failure');
  await expect(failure).toHaveAttribute('data-pane', 'Training');
  await expect(failure).toContainText('The Training pane failed to draw: test render fault in “Training”');
  await expect(failure).toContainText('The rest of the page and the run itself are not affected.');
  // The rest of the page works.
  await expect(page.getByTestId('training-pane')).toHaveCount(0);
  await page.screenshot({ path: info.outputPath('pane-failed.png') });
  await page.getByTestId('step-once').click();
  await expect(page.getByTestId('step')).toHaveText('1', { timeout: 60_000 });
  await failure.getByTestId('render-retry').click();
  await expect(page.getByTestId('render-failure')).toHaveCount(0);
  await expect(page.getByTestId('training-pane')).toBeVisible();

  await fail('page');
  await expect(failure).toHaveAttribute('data-pane', 'page');
  await expect(failure).toContainText('The page failed to draw: test render fault in “page”');
  await expect(failure).toContainText('saved in this browser at every autosave and on Pause');
  await expect(page.getByRole('button', { name: 'Reload the page' })).toBeVisible();
  await page.screenshot({ path: info.outputPath('page-failed.png') });
  await failure.getByTestId('render-retry').click();
  await expect(page.getByTestId('training-pane')).toBeVisible();
  await expect(page.getByTestId('step')).toHaveText('1');
  expect(errors).toEqual([]);
});
