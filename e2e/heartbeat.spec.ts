import { expect, test } from '@playwright/test';

/**
 * The engine heartbeat (issue 16) end to end: a worker whose thread is stuck
 * (the `hang` test hook of `?testhooks=1`: no error event, no answer) is
 * noticed by the page's watchdog within its 10 s and takes the crash path:
 * the fatal banner, Restart, and the last save offered and resumed.
 */
const hang = () => (window as unknown as { __climTest: { fault(kind: string): void } }).__climTest.fault('hang');

test('a hung engine worker is noticed by the heartbeat watchdog, restarted, and its last save resumes', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A schedule longer than the 110+ steps below: the tiny config's 50 would finish the run first (issue 19).
  await page.goto('/?backend=wasm&config=tiny&n=128&ntest=32&autosave=4&testhooks=1#ts=1000');
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('last-save')).toContainText('Saved step 8 ', { timeout: 120_000 });
  // Training for a while (snapshots at 25, an evaluation at 100 on the way) never trips the watchdog.
  await expect
    .poll(async () => Number(await page.getByTestId('step').textContent()), { timeout: 120_000 })
    .toBeGreaterThan(110);
  await expect(page.getByTestId('error')).toHaveCount(0);

  // Stuck mid-run, with no error: only the silence tells.
  const t0 = Date.now();
  await page.evaluate(hang);
  await expect(page.getByTestId('error')).toContainText('Engine worker stopped responding: no heartbeat for 10 s', {
    timeout: 30_000,
  });
  const noticed = (Date.now() - t0) / 1000;
  console.log(`[hang] noticed after ${noticed.toFixed(1)} s`);
  expect(noticed).toBeGreaterThanOrEqual(9);
  expect(noticed).toBeLessThan(20);

  await page.getByTestId('restart-engine').click();
  const offer = page.getByTestId('resume-offer');
  await expect(offer).toBeVisible({ timeout: 60_000 });
  const saved = Number(/step (\d+) of/.exec((await offer.textContent()) ?? '')?.[1]);
  expect(saved % 4).toBe(0);
  expect(saved).toBeGreaterThan(100);
  await page.getByTestId('resume-offer-button').click();
  await expect(page.getByTestId('run-state')).toHaveText('paused', { timeout: 60_000 });
  await expect(page.getByTestId('step')).toHaveText(String(saved));
  await page.getByTestId('step-once').click();
  await expect(page.getByTestId('step')).toHaveText(String(saved + 1), { timeout: 60_000 });
  expect(errors).toEqual([]);
});
