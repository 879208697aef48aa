import { readFileSync, writeFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { presetConfig } from '../src/core/presets';
import { encodeHash } from '../src/ui/url-state';

/**
 * Checkpoints end to end (issue 6): train with autosave every 5 steps, pause
 * (saves), export the run file, reload the page, resume from the offer and
 * continue from the saved step; then import bad files (each refused with its
 * own message, the run unchanged) and the exported file (back to its step).
 */
test('train, reload, resume from IndexedDB; export and import a run file', async ({ page }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const hash = encodeHash({
    config: { ...presetConfig('fast-demo-cpu'), climWarmupSteps: 0 },
    preset: 'fast-demo-cpu',
    dataset: 'fashion-mnist',
  });
  const url = `/?backend=wasm&n=256&ntest=64&autosave=5${hash}`;
  await page.goto(url);
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect
    .poll(async () => Number(await page.getByTestId('step').textContent()), { timeout: 120_000 })
    .toBeGreaterThanOrEqual(12);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  const saved = Number(await page.getByTestId('step').textContent());
  // Pause saves the paused step (an autosave may have saved it already).
  await expect(page.getByTestId('saved-list')).toContainText(`Step ${saved}/`);
  const losses = JSON.parse((await page.getByTestId('losses').textContent()) ?? '[]') as number[];
  expect(losses.length).toBeGreaterThanOrEqual(12);

  const download = page.waitForEvent('download');
  await page.getByTestId('export-run').click();
  const file = info.outputPath('run.climrun');
  await (await download).saveAs(file);
  expect((await download).suggestedFilename()).toMatch(new RegExp(`step${saved}.*\\.climrun$`));

  // Close the tab (a reload): the page offers the saved run.
  await page.reload();
  await expect(page.getByTestId('resume-offer')).toContainText(`step ${saved} of`, { timeout: 60_000 });
  await page.getByTestId('resume-offer-button').click();
  await expect(page.getByTestId('run-state')).toHaveText('paused', { timeout: 60_000 });
  await expect(page.getByTestId('step')).toHaveText(String(saved));
  // The chart history came back with the run.
  expect(JSON.parse((await page.getByTestId('losses').textContent()) ?? '[]')).toEqual(losses.slice(0, 20));
  await page.getByTestId('step-once').click();
  await expect(page.getByTestId('step')).toHaveText(String(saved + 1), { timeout: 60_000 });
  await page.screenshot({ path: info.outputPath('resumed.png'), fullPage: true });

  // Bad files: each refused with its own message, the run untouched.
  const good = readFileSync(file);
  const bad: Array<[string, Buffer, RegExp]> = [
    ['notes.txt', Buffer.from('hello, not a run'), /not a CLIM Playground run file/],
    ['cut.climrun', good.subarray(0, good.length - 1000), /truncated/],
    ['empty.climrun', Buffer.alloc(0), /empty \(0 bytes\)/],
  ];
  for (const [name, bytes, message] of bad) {
    const p = info.outputPath(name);
    writeFileSync(p, bytes);
    await page.getByTestId('import-input').setInputFiles(p);
    await expect(page.getByTestId('error')).toContainText(message);
    await expect(page.getByTestId('error')).toContainText('The current run is unchanged.');
    await expect(page.getByTestId('step')).toHaveText(String(saved + 1));
    await page.getByRole('button', { name: 'Dismiss error' }).click();
  }

  // The exported file brings the run back to its step.
  await page.getByTestId('import-input').setInputFiles(file);
  await expect(page.getByTestId('step')).toHaveText(String(saved), { timeout: 60_000 });
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  await page.getByTestId('step-once').click();
  await expect(page.getByTestId('step')).toHaveText(String(saved + 1), { timeout: 60_000 });
  expect(errors).toEqual([]);
});
