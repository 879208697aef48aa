import { expect, test, type Page } from '@playwright/test';
import { presetConfig } from '../src/core/presets';
import { tinyConfig } from '../src/core/config';
import { encodeHash } from '../src/ui/url-state';

/**
 * Faults end to end (issue 6), through the test-only hooks of `?testhooks=1`
 * (window.__climTest.fault): a NaN in the weights pauses the run with the
 * step and the loss term and offers the last checkpoint at half the learning
 * rate; a lost device moves the run to another backend and restores its last
 * checkpoint; a crashed worker is noticed and restarted, and the saved run resumes.
 */
declare global {
  interface Window {
    __climTest?: { fault(kind: 'nan' | 'device-lost' | 'crash'): void };
  }
}

const stepOf = async (page: Page) => Number(await page.getByTestId('step').textContent());

async function trainPastSave(page: Page, url: string, saveAt: number): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  // At or past `saveAt`: on a busy machine the label can move on before a poll reads the save at `saveAt` itself.
  const savedStep = async () =>
    Number(/Saved step (\d+) /.exec((await page.getByTestId('last-save').textContent()) ?? '')?.[1] ?? -1);
  await expect.poll(savedStep, { timeout: 120_000 }).toBeGreaterThanOrEqual(saveAt);
  return errors;
}

test('a NaN loss pauses with its step and term, and the last checkpoint comes back at half the learning rate', async ({
  page,
}) => {
  const config = { ...presetConfig('fast-demo-cpu'), climWarmupSteps: 0 };
  const url = `/?backend=wasm&n=256&ntest=64&autosave=5&testhooks=1${encodeHash({ config, preset: 'fast-demo-cpu', dataset: 'fashion-mnist' })}`;
  const errors = await trainPastSave(page, url, 5);
  await page.evaluate(() => window.__climTest!.fault('nan'));
  const fault = page.getByTestId('fault');
  await expect(fault).toHaveAttribute('data-kind', 'loss', { timeout: 60_000 });
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  const text = (await fault.textContent()) ?? '';
  const m =
    /Training paused at step (\d+): (.+?) became NaN at learning rate ([\d.e-]+)\. Nothing after step (\d+) is saved/.exec(
      text,
    );
  expect(m, text).not.toBeNull();
  const [, faultStep, term, lr, savedStep] = m!;
  console.log(`[nan] ${text}`);
  // Every weight of the stem is NaN, so the anchor term (and with it the positive one) is not a number.
  expect(term).toMatch(/anchor/);
  // The step's own rate: the base rate through warm-up and the cosine schedule.
  expect(Number(lr)).toBeGreaterThan(0);
  expect(Number(lr)).toBeLessThanOrEqual(config.lr);
  expect(Number(savedStep) % 5).toBe(0);
  expect(Number(savedStep)).toBeLessThan(Number(faultStep));
  // The NaN step never reaches the chart, and nothing is saved after it.
  const losses = JSON.parse((await page.getByTestId('losses').textContent()) ?? '[]') as Array<number | null>;
  expect(losses.every((l) => typeof l === 'number' && Number.isFinite(l))).toBe(true);
  await page.getByTestId('save-now').click();
  await expect(page.getByTestId('error')).toContainText(
    `Not saved: the loss stopped being a number at step ${faultStep}`,
  );
  await expect(page.getByTestId('error')).toContainText(`The save of step ${savedStep} is kept.`);
  await page.getByRole('button', { name: 'Dismiss error' }).click();

  const safer = config.lr / 2;
  await expect(page.getByTestId('fault-recover')).toHaveText(`Restore step ${savedStep} with learning rate ${safer}`);
  await page.getByTestId('fault-recover').click();
  await expect(page.getByTestId('fault')).toHaveCount(0);
  await expect(page.getByTestId('step')).toHaveText(savedStep, { timeout: 60_000 });
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  // The restored run trains on, at the lower rate, with a finite loss.
  await page.getByTestId('step-once').click();
  await expect(page.getByTestId('step')).toHaveText(String(Number(savedStep) + 1), { timeout: 60_000 });
  await expect(page.getByTestId('fault')).toHaveCount(0);
  expect(decodeURIComponent(new URL(page.url()).hash)).toContain(`lr=${safer}`);
  expect(errors).toEqual([]);
});

test('a lost device moves the run to the next backend from its checkpoint; a crashed worker restarts and resumes', async ({
  page,
}) => {
  test.setTimeout(240_000);
  // A schedule longer than the test trains: the tiny config's 50 steps would finish the run (issue 19).
  const url = `/?backend=wasm&n=128&ntest=32&autosave=4&testhooks=1${encodeHash({ config: tinyConfig({ climWarmupSteps: 0, totalSteps: 1000 }), preset: null, dataset: 'fashion-mnist' })}`;
  const errors = await trainPastSave(page, url, 4);
  await page.evaluate(() => window.__climTest!.fault('device-lost'));
  const fault = page.getByTestId('fault');
  await expect(fault).toHaveAttribute('data-kind', 'device', { timeout: 120_000 });
  const text = (await fault.textContent()) ?? '';
  const m =
    /The wasm backend failed \(GPU device was lost \(test hook\)\)\. Switched to (\w+)\. The run was restored from its checkpoint at step (\d+) and training goes on\./.exec(
      text,
    );
  expect(m, text).not.toBeNull();
  const [, to, from] = m!;
  console.log(`[device lost] ${text}`);
  expect(to).not.toBe('wasm');
  await expect(page.getByTestId('backend')).toHaveText(to);
  expect(Number(from) % 4).toBe(0);
  // It goes on training on the new backend from the restored step.
  await expect.poll(() => stepOf(page), { timeout: 180_000 }).toBeGreaterThan(Number(from) + 1);
  await expect(page.getByTestId('run-state')).toHaveText('running');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByTestId('run-state')).toHaveText('paused', { timeout: 60_000 });
  const paused = await stepOf(page);
  await expect(page.getByTestId('last-save')).toContainText(`Saved step ${paused} `, { timeout: 60_000 });

  await page.evaluate(() => window.__climTest!.fault('crash'));
  await expect(page.getByTestId('error')).toContainText('Engine worker failed', { timeout: 30_000 });
  await page.getByTestId('restart-engine').click();
  await expect(page.getByTestId('resume-offer')).toContainText(`step ${paused} of`, { timeout: 60_000 });
  await page.getByTestId('resume-offer-button').click();
  await expect(page.getByTestId('run-state')).toHaveText('paused', { timeout: 60_000 });
  await expect(page.getByTestId('step')).toHaveText(String(paused));
  await page.getByTestId('step-once').click();
  await expect(page.getByTestId('step')).toHaveText(String(paused + 1), { timeout: 60_000 });
  // The crash itself is the worker's uncaught error, not the page's.
  expect(errors).toEqual([]);
});
