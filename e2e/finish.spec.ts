import { expect, test } from '@playwright/test';

/**
 * A run whose schedule has ended ends (issue 19): with the Fast demo (CPU)
 * preset cut to 30 steps the run stops at step 30, evaluated in full and
 * saved, says 'finished' and steps no further; "Train 20 more steps" takes
 * it to step 50 on a new learning-rate segment, where it finishes again; a
 * reload offers the saved run as finished and restores it finished.
 * `?n`/`?ntest` keep the data set small so the spec stays under a minute.
 */
test('finishes at totalSteps, trains 20 more steps and finishes again; reload offers it finished', async ({
  page,
}, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=wasm&n=512&ntest=128#preset=fast-demo-cpu&ts=30');
  const state = page.getByTestId('run-state');
  const step = page.getByTestId('step');
  await expect(state).toHaveText('idle', { timeout: 60_000 });
  await expect(page.getByTestId('total-steps')).toHaveText('30');
  await page.getByRole('button', { name: 'Start', exact: true }).click();

  await expect(state).toHaveText('finished', { timeout: 120_000 });
  await expect(step).toHaveText('30');
  await expect(page.getByTestId('eta')).toHaveText('—');
  const card = page.getByTestId('finished-card');
  await expect(card).toContainText('Run finished');
  await expect(card).toContainText('at step 30');
  await expect(page.getByTestId('final-knn')).toHaveText(/^\d+\.\d%$/);
  await expect(page.getByTestId('final-linear')).toHaveText(/^\d+\.\d%$/);
  await expect(page.getByTestId('saved-list')).toContainText('Step 30/30 · finished');
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  await page.screenshot({ path: info.outputPath('finished.png'), fullPage: true });

  // No step in the next 10 s: the worker stopped, it is not just the page that says so.
  await page.waitForTimeout(10_000);
  await expect(step).toHaveText('30');
  await expect(state).toHaveText('finished');

  await page.getByTestId('extend-steps').fill('20');
  await page.getByRole('button', { name: 'Train 20 more steps', exact: true }).click();
  await expect(page.getByTestId('total-steps')).toHaveText('50');
  await expect(step).toHaveText('50', { timeout: 120_000 });
  await expect(state).toHaveText('finished', { timeout: 60_000 });
  await expect(card).toContainText('at step 50');
  await expect(page.getByTestId('final-linear')).toHaveText(/^\d+\.\d%$/);
  await expect(page.getByTestId('saved-list')).toContainText('Step 50/50 · finished');

  await page.reload();
  await expect(page.getByTestId('resume-offer')).toContainText('step 50 of 50 (finished)', { timeout: 60_000 });
  await page.getByTestId('resume-offer-button').click();
  await expect(state).toHaveText('finished', { timeout: 60_000 });
  await expect(step).toHaveText('50');
  await expect(page.getByTestId('finished-card')).toContainText('at step 50');
  await page.screenshot({ path: info.outputPath('restored.png'), fullPage: true });
  expect(errors).toEqual([]);
});
