import { defineConfig, devices } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from './e2e/chromium';

/**
 * End-to-end tests against the production build served by `vite preview`
 * (which sends the COOP/COEP and Content-Security-Policy headers from
 * vite.config.ts, so every spec runs under the policy). The browser is
 * the system Chromium found by scripts/e2e.sh; Playwright's own browser
 * downloads are never used.
 */
const executablePath = CHROMIUM_EXECUTABLE;
// E2E_PORT / E2E_DIST / E2E_OUT let several runs share one checkout (each its own build and server).
const port = Number(process.env.E2E_PORT ?? 4173);
const dist = process.env.E2E_DIST ?? 'dist';

export default defineConfig({
  testDir: './e2e',
  outputDir: process.env.E2E_OUT ?? './test-results',
  // One 2-core machine: tests in parallel would only slow each other down.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  use: {
    // localhost is a secure origin, which WebGPU requires (spec §8).
    baseURL: `http://localhost:${port}`,
    screenshot: 'on',
    trace: 'retain-on-failure',
    ...devices['Desktop Chrome'],
    launchOptions: {
      executablePath,
      args: [...CHROMIUM_ARGS],
    },
  },
  webServer: {
    command: `npx vite preview --port ${port} --strictPort --outDir ${dist}`,
    url: `http://localhost:${port}`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
