/**
 * README's opening picture (issue 15): the Positives view of a `fast-demo-cpu`
 * run on the built-in Fashion-MNIST set after `--steps` steps (default 400,
 * the preset's whole run), with the rule comparison and its chart, as a
 * learner sees it in Debian's Chromium. Writes docs/positives.png and prints
 * the rule table it shows.
 *   npx tsx bench/positives-shot.ts [--no-build] [--steps 400]
 */
import { parseArgs } from 'node:util';
import { runBench, withPreviewPage } from './preview';

const { values: v } = parseArgs({
  options: { steps: { type: 'string', default: '400' }, 'no-build': { type: 'boolean' } },
});
const steps = Number(v.steps);

async function main() {
  await withPreviewPage(async (page, origin) => {
    await page.setViewportSize({ width: 1280, height: 1400 });
    await page.goto(`${origin}/?autosave=0#preset=fast-demo-cpu&ds=fashion-mnist`);
    await page.getByTestId('run-state').filter({ hasText: 'idle' }).waitFor({ timeout: 180_000 });
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=step]')?.textContent) >= n, steps, {
      timeout: 1_800_000,
      polling: 1000,
    });
    const pause = page.getByRole('button', { name: 'Pause', exact: true });
    if (await pause.isVisible()) await pause.click();
    await page.getByRole('tab', { name: 'Positives' }).click();
    await page.getByTestId('rule-table').waitFor({ timeout: 60_000 });
    await page.getByTestId('anchor-card').first().waitFor({ timeout: 60_000 });
    await page.waitForTimeout(1500);
    const rows = await page.getByTestId('rule-row').allTextContents();
    console.log(`step ${await page.getByTestId('step').textContent()}`);
    for (const r of rows) console.log(r);
    console.log(await page.getByTestId('rule-verdict').textContent());
    await page.screenshot({ path: 'docs/positives.png', fullPage: false });
  });
}
runBench(main);
