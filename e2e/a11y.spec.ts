import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { presetConfig } from '../src/core/presets';
import { encodeHash } from '../src/ui/url-state';

/**
 * Accessibility audit (issue 19): axe-core, the rules engine behind
 * Lighthouse, checks every pane of the built app, idle (settings groups
 * open) and while training, and the Training pane's confusion matrix after
 * "Evaluate now", at 1280 and 768 px: no violation of impact 'serious' or
 * 'critical'.
 *
 * How axe gets in: its source is run with `page.evaluate`, which Playwright
 * sends over the DevTools protocol rather than as a <script> element, so the
 * page's Content-Security-Policy (script-src 'self', no inline script, no
 * eval; vite.config.ts) does not block it and needs no `bypassCSP`: the page
 * is audited under the same policy it ships with. (`@axe-core/playwright`
 * does the same, but pins its own copy of axe-core; one copy is enough.)
 *
 * `A11Y_REPORT=path` writes what axe found (rule, impact, nodes per pane,
 * state and width) to that file, e.g. bench/results/a11y-after.json.
 */

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const AXE_VERSION = (
  JSON.parse(readFileSync(createRequire(import.meta.url).resolve('axe-core/package.json'), 'utf8')) as {
    version: string;
  }
).version;

const PANES = ['training', 'positives', 'clusters', 'about'] as const;
const WIDTHS = [1280, 768] as const;
const HEIGHT = 900;

interface Found {
  id: string;
  impact: string | null;
  nodes: number;
  help: string;
  /** The offending elements (CSS selectors); for colour contrast, with the colours and ratio axe measured. */
  targets: string[];
  /** Distinct failure summaries (e.g. "4.39:1, #6b7280 on #f3f4f6, 9.0pt normal"), with how many nodes each. */
  details: Record<string, number>;
}
interface Audit {
  pane: string;
  /** idle after load; training while the run goes on; evaluated: paused after "Evaluate now" (the confusion matrix). */
  state: 'idle' | 'training' | 'evaluated' | 'finished';
  width: number;
  violations: Found[];
}

async function audit(page: Page): Promise<Found[]> {
  const injected = await page.evaluate(() => 'axe' in window);
  if (!injected) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    type Node = { target: unknown[]; failureSummary?: string; any: { data?: Record<string, unknown> | null }[] };
    type AxeResult = { violations: { id: string; impact: string | null; help: string; nodes: Node[] }[] };
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<AxeResult> } }).axe;
    // Every rule axe runs by default (WCAG 2.x A/AA and best practices: what Lighthouse checks).
    const r = await axe.run(document, { resultTypes: ['violations'] });
    const detail = (n: Node): string => {
      const d = n.any.find((c) => c.data && 'contrastRatio' in c.data)?.data;
      if (d)
        return `${String(d.contrastRatio)}:1, ${String(d.fgColor)} on ${String(d.bgColor)}, ${String(d.fontSize)} ${String(d.fontWeight)}`;
      return (n.failureSummary ?? '').replace(/\s+/g, ' ').trim();
    };
    return r.violations.map((v) => {
      const details: Record<string, number> = {};
      for (const n of v.nodes) details[detail(n)] = (details[detail(n)] ?? 0) + 1;
      return {
        id: v.id,
        impact: v.impact,
        nodes: v.nodes.length,
        help: v.help,
        targets: v.nodes.map((n) => n.target.map(String).join(' ')),
        details,
      };
    });
  });
}

async function auditPanes(
  page: Page,
  state: Audit['state'],
  audits: Audit[],
  panes: readonly (typeof PANES)[number][] = PANES,
): Promise<void> {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: HEIGHT });
    for (const pane of panes) {
      await page.getByTestId(`tab-${pane}`).click();
      await expect(page.locator(`#panel-${pane}`)).toBeVisible();
      audits.push({ pane, state, width, violations: await audit(page) });
    }
  }
}

test('axe finds no serious or critical violation on any pane, idle, training and finished, at 1280 and 768 px', async ({
  page,
}) => {
  test.slow(); // one short training run, an evaluation, the finished run and 26 audits
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const config = { ...presetConfig('fast-demo-cpu'), climWarmupSteps: 0 };
  const hash = encodeHash({ config, preset: 'fast-demo-cpu', dataset: 'fashion-mnist' });
  await page.setViewportSize({ width: WIDTHS[0], height: HEIGHT });
  await page.goto(`/?backend=wasm&n=512&ntest=128${hash}`);
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });

  const audits: Audit[] = [];
  // Idle: the settings groups open too, so their fields are audited.
  for (const d of await page.locator('details.settings-group').all()) await d.locator('summary').click();
  await auditPanes(page, 'idle', audits);

  // Training: wait for the first positives and cluster snapshots, so the
  // charts, the Positives cards and the cluster map are all drawn.
  await page.getByTestId('tab-training').click();
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect
    .poll(
      async () => {
        const s = JSON.parse((await page.getByTestId('snapshots').textContent()) ?? '{}') as {
          selection?: unknown;
          clusters?: unknown;
        };
        return Boolean(s.selection && s.clusters);
      },
      { timeout: 150_000, intervals: [500] },
    )
    .toBe(true);
  await expect(page.getByTestId('run-state')).toHaveText('running');
  await auditPanes(page, 'training', audits);
  await expect(page.getByTestId('run-state')).toHaveText('running');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByTestId('run-state')).toHaveText('paused');

  // The confusion matrix (white or black numbers on shades of blue), drawn after "Evaluate now".
  await page.getByTestId('tab-training').click();
  await page.getByTestId('evaluate-now').click();
  await expect(page.getByTestId('confusion')).toBeVisible({ timeout: 60_000 });
  await auditPanes(page, 'evaluated', audits, ['training']);

  // Finished (issue 19): the schedule cut to the current step ends the run, and the Run finished card shows.
  const now = (await page.getByTestId('step').textContent()) ?? '';
  await page.getByTestId('field-totalSteps').fill(now);
  await page.getByTestId('field-totalSteps').press('Tab');
  await expect(page.getByTestId('run-state')).toHaveText('finished', { timeout: 60_000 });
  await expect(page.getByTestId('finished-card')).toBeVisible();
  await auditPanes(page, 'finished', audits);

  const report = process.env.A11Y_REPORT;
  if (report) {
    mkdirSync(dirname(report), { recursive: true });
    const counts: Record<string, number> = {};
    for (const a of audits)
      for (const v of a.violations) counts[`${v.id} (${v.impact})`] = (counts[`${v.id} (${v.impact})`] ?? 0) + v.nodes;
    writeFileSync(
      report,
      JSON.stringify(
        { axe: AXE_VERSION, chromium: page.context().browser()?.version(), totals: counts, audits },
        null,
        2,
      ) + '\n',
    );
  }
  const serious = audits.flatMap((a) =>
    a.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v) =>
          `${a.pane}/${a.state}/${a.width}px: ${v.id} (${v.impact}) × ${v.nodes}: ${v.targets.slice(0, 5).join(', ')}`,
      ),
  );
  expect(serious).toEqual([]);
  expect(errors).toEqual([]);
});
