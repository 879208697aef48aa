/**
 * Checkpoint size and save time in the app (issue 6's closing note): the
 * default config on the built-in Fashion-MNIST set (10,000 + 2,000) in
 * Debian's Chromium on WASM, trained a few steps, then "Save now" pressed
 * `--saves` times; each save's bytes and time (encode + IndexedDB write, as
 * the worker reports them in the Saved runs panel) are read from the page,
 * then the page is reloaded and the saved run resumed (time to paused).
 * Writes bench/results/checkpoint-browser.json.
 *   npx tsx bench/checkpoint-browser.ts [--no-build] [--steps 5] [--saves 5]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { runBench, withPreviewPage } from './preview';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const steps = arg('steps', 5);
  const saves = arg('saves', 5);
  const load = [loadavg()[0]];
  await withPreviewPage(async (page, origin) => {
    // autosave=0: only the saves pressed here.
    await page.goto(`${origin}/?backend=wasm&autosave=0`);
    await page.getByTestId('run-state').filter({ hasText: 'idle' }).waitFor({ timeout: 120_000 });
    await page.getByTestId('step-once').click();
    await page.getByTestId('step').filter({ hasText: /^1$/ }).waitFor({ timeout: 180_000 });
    for (let s = 2; s <= steps; s++) {
      await page.getByTestId('step-once').click();
      await page
        .getByTestId('step')
        .filter({ hasText: new RegExp(`^${s}$`) })
        .waitFor({ timeout: 60_000 });
    }
    const results: { bytes: string; ms: number; text: string }[] = [];
    for (let i = 0; i < saves; i++) {
      const before =
        (await page
          .getByTestId('last-save')
          .textContent()
          .catch(() => null)) ?? '';
      await page.getByTestId('save-now').click();
      // Each save of the same step rewrites the line; wait for a new one (the text differs in ms).
      await page
        .waitForFunction(
          (b) => {
            const t = document.querySelector('[data-testid=last-save]')?.textContent ?? '';
            return t !== '' && t !== b;
          },
          before,
          { timeout: 60_000 },
        )
        .catch(() => {});
      const text = (await page.getByTestId('last-save').textContent()) ?? '';
      const m = /Saved step (\d+) \(([^,]+), (\d+) ms, manual\)/.exec(text);
      if (!m) throw new Error(`unexpected save line: ${text}`);
      results.push({ bytes: m[2], ms: Number(m[3]), text });
      console.log(text);
    }
    const savedList = (await page.getByTestId('saved-list').textContent()) ?? '';
    const t0 = Date.now();
    await page.reload();
    await page.getByTestId('resume-offer-button').click({ timeout: 120_000 });
    await page.getByTestId('run-state').filter({ hasText: 'paused' }).waitFor({ timeout: 120_000 });
    const resumeSeconds = (Date.now() - t0) / 1000;
    const resumedStep = Number(await page.getByTestId('step').textContent());
    load.push(loadavg()[0]);
    const out = {
      date: new Date().toISOString(),
      host: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavg: load },
      config: 'default (clim-paper), Fashion-MNIST 10000 + 2000, WASM',
      steps,
      saves: results,
      medianSaveMs: median(results.map((r) => r.ms)),
      savedList,
      reloadToPausedSeconds: resumeSeconds,
      resumedStep,
    };
    console.log(
      `median save ${out.medianSaveMs} ms (${results[0].bytes}); reload → resumed step ${resumedStep} in ${resumeSeconds.toFixed(1)} s`,
    );
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/checkpoint-browser.json', JSON.stringify(out, null, 1));
  });
}
runBench(main);
