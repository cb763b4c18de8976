import { existsSync } from 'node:fs';
import { defineConfig, devices } from '@playwright/test';
import { stateDir } from './provision/paths.ts';
import { readDescriptor } from './provision/targets/descriptor.ts';

// The target descriptor of the stack under test (absent for unit tests, or before `npm run provision`).
const descriptor = readDescriptor(stateDir());

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const chromium = '/usr/bin/chromium';
// Scenario and control runs write their reports elsewhere, so the suite's own reports stay intact.
const reportDir = process.env.HARNESS_REPORT_DIR ?? 'reports';

export default defineConfig({
  forbidOnly: !!process.env.CI,
  workers: 2,
  fullyParallel: true,
  retries: 0,
  // a healthy check takes under 20 s here; a bounded wait fails a broken stack's checks quickly
  timeout: 60_000,
  expect: { timeout: 15_000 },
  outputDir: process.env.HARNESS_OUTPUT_DIR ?? 'test-results',
  reporter: [
    ['list'],
    ['html', { outputFolder: `${reportDir}/html`, open: 'never' }],
    ['junit', { outputFile: `${reportDir}/junit.xml` }],
    ['./conformance/reporter.ts', { outputDir: reportDir }],
    ['./conformance/permissions-reporter.ts', { outputDir: reportDir }],
    ['./conformance/security-reporter.ts', { outputDir: reportDir }],
    ['./conformance/timings-reporter.ts', { outputDir: reportDir }],
    // a shard of a sharded run (`npm test -- --shard=i/n`) also keeps Playwright's blob report for `merge-reports`
    ...(process.env.HARNESS_BLOB_FILE ? [['blob', { outputFile: process.env.HARNESS_BLOB_FILE }] as const] : []),
  ],
  use: {
    // Traces record request headers and typed passwords: they would carry the stack's credentials into the
    // reports (npm test searches them and fails). HARNESS_TRACE=1 keeps them for failed checks when debugging.
    trace: process.env.HARNESS_TRACE === '1' ? 'retain-on-failure' : 'off',
    screenshot: 'only-on-failure',
    navigationTimeout: 20_000,
    actionTimeout: 15_000,
  },
  projects: [
    { name: 'unit', testDir: 'test/unit' },
    { name: 'setup', testDir: 'specs', testMatch: /.*\.setup\.ts$/ },
    {
      name: 'api',
      testDir: 'specs',
      dependencies: ['setup'],
      testMatch: /.*\.api\.spec\.ts$/,
      metadata: { target: descriptor?.target, pins: descriptor?.pins },
    },
    {
      name: 'browser',
      testDir: 'specs',
      dependencies: ['setup'],
      testMatch: /.*\.browser\.spec\.ts$/,
      metadata: { target: descriptor?.target, pins: descriptor?.pins },
      use: {
        ...devices['Desktop Chrome'],
        // fixed page geometry, locale, clock zone and colours: the same UI gives the same screenshot (specs/ui/screens.ts)
        viewport: { width: 1280, height: 800 },
        deviceScaleFactor: 1,
        locale: 'en-US',
        timezoneId: 'UTC',
        colorScheme: 'light',
        launchOptions: {
          ...(existsSync(chromium) ? { executablePath: chromium } : {}),
          args: [
            '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
            // glyphs rendered the same on every run and machine: no hinting, no subpixel (LCD) text, one colour profile
            '--font-render-hinting=none', '--disable-lcd-text', '--disable-font-subpixel-positioning', '--force-color-profile=srgb', '--hide-scrollbars',
          ],
          // Chromium reads its trust store from $HOME/.pki/nssdb: the stack's own holds the stack CA.
          ...(descriptor?.browserHome ? { env: { ...process.env, HOME: descriptor.browserHome } } : {}),
        },
      },
    },
    {
      // Checks that change the live realm: after every other check, one at a time.
      name: 'realm',
      testDir: 'specs',
      testMatch: /.*\.realm\.spec\.ts$/,
      dependencies: ['api', 'browser'],
      workers: 1,
      metadata: { target: descriptor?.target, pins: descriptor?.pins },
    },
    {
      // One phase of a troubleshooting scenario (`npm run scenario`); the stack is set up for it beforehand.
      name: 'scenario',
      testDir: 'specs',
      testMatch: /.*\.scenario\.spec\.ts$/,
      workers: 1,
      // a scenario's symptom may be a client giving up on an unreachable store (MLFLOW_HTTP_REQUEST_TIMEOUT 60 s)
      timeout: 120_000,
    },
    {
      // The deployment in the cluster (k3d): pods, Secrets, a rollout restart (it ends the pod's sessions), so
      // after every check that uses them; not-applicable on targets without a cluster API.
      name: 'cluster',
      testDir: 'specs',
      testMatch: /.*\.cluster\.spec\.ts$/,
      dependencies: ['realm'],
      workers: 1,
      metadata: { target: descriptor?.target, pins: descriptor?.pins },
    },
    {
      // buun-stack's uninstall/install/cleanup recipes: they take MLflow down, so they run last.
      name: 'lifecycle',
      testDir: 'specs',
      testMatch: /.*\.lifecycle\.spec\.ts$/,
      dependencies: ['realm'],
      workers: 1,
      // each recipe stops and starts MLflow (its migration and readiness wait included)
      timeout: 120_000,
      metadata: { target: descriptor?.target, pins: descriptor?.pins },
    },
  ],
});
