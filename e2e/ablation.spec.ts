import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { tinyConfig } from '../src/core/config';
import { ABLATION_CSV_HEADER, ABLATION_VARIANTS } from '../src/core/ablation-table';
import { encodeHash } from '../src/ui/url-state';

/**
 * The ablation report in the app (issue 6): two arms of a few steps on a
 * small Fashion-MNIST split, the table and baseline on the page, the CSV
 * download agreeing with the table, and the paused run left as it was.
 */
/** One CSV line's cells (RFC 4180 quoting: the labels hold commas). */
function csvCells(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

test('ablation in the app: two arms, the table, the baseline and the CSV; the current run is kept', async ({
  page,
}, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(
    `/?backend=wasm&n=128&ntest=64${encodeHash({ config: tinyConfig({ climWarmupSteps: 1 }), preset: null, dataset: 'fashion-mnist' })}`,
  );
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  await page.getByTestId('step-once').click();
  await expect(page.getByTestId('step')).toHaveText('1', { timeout: 60_000 });

  const keep = ['knn', 'center-wise+cutmix'];
  for (const v of ABLATION_VARIANTS) if (!keep.includes(v.id)) await page.getByTestId(`ablation-arm-${v.id}`).uncheck();
  await page.getByTestId('ablation-steps').fill('0');
  await expect(page.getByTestId('ablation-run')).toBeDisabled();
  await page.getByTestId('ablation-steps').fill('4');
  await expect(page.getByTestId('ablation-run')).toHaveText('Run 2 arms');
  await page.getByTestId('ablation-run').click();
  await expect(page.getByTestId('start')).toBeDisabled();
  await expect(page.getByTestId('ablation-status')).toHaveText('Done: 2 arms × 4 steps.', { timeout: 120_000 });

  const rows = page.getByTestId('ablation-table').locator('tbody tr');
  await expect(rows).toHaveCount(2);
  expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-arm')))).toEqual(keep);
  const { evalK, evalTemperature } = tinyConfig();
  await expect(page.getByTestId('ablation-baseline')).toContainText(
    new RegExp(`Raw-pixel kNN baseline \\(same split, k = ${evalK}, τ = ${evalTemperature}\\): \\d+\\.\\d% top-1\\.`),
  );
  await page.getByTestId('ablation-card').screenshot({ path: info.outputPath('ablation-card.png') });

  const download = page.waitForEvent('download');
  await page.getByTestId('ablation-csv').click();
  const file = info.outputPath('ablation.csv');
  await (await download).saveAs(file);
  expect((await download).suggestedFilename()).toBe('clim-ablation-4steps.csv');
  const [head, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  expect(head).toBe(ABLATION_CSV_HEADER);
  expect(lines).toHaveLength(2);
  const cols = head.split(',');
  for (const [i, line] of lines.entries()) {
    const cells = csvCells(line);
    const cell = (name: string) => cells[cols.indexOf(name)];
    expect(cell('id')).toBe(keep[i]);
    expect(cell('label')).toBe(ABLATION_VARIANTS.find((v) => v.id === keep[i])!.label);
    expect(cell('steps')).toBe('4');
    // The page shows the CSV's numbers as percentages with one decimal.
    const shown = await rows.nth(i).locator('td').allTextContents();
    const asPct = (v: string) => `${(Number(v) * 100).toFixed(1)}%`;
    expect(shown.slice(0, 3)).toEqual([asPct(cell('knn_top1')), asPct(cell('linear_top1')), asPct(cell('precision'))]);
    // kNN arms select from step 2 on: a precision exists and is a share.
    expect(Number(cell('precision'))).toBeGreaterThanOrEqual(0);
    expect(Number(cell('precision'))).toBeLessThanOrEqual(1);
  }

  // The run that was paused is still there and trains on.
  await expect(page.getByTestId('step')).toHaveText('1');
  await expect(page.getByTestId('start')).toBeEnabled();
  await page.getByTestId('step-once').click();
  await expect(page.getByTestId('step')).toHaveText('2', { timeout: 60_000 });
  expect(errors).toEqual([]);
});
