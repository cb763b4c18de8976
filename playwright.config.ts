import { existsSync } from 'node:fs';
import { defineConfig, devices } from '@playwright/test';
import { stateDir } from './provision/paths.ts';
import { readDescriptor } from './provision/targets/descriptor.ts';

// The target descriptor of the stack under test (absent for unit tests, or before `npm run provision`).
const descriptor = readDescriptor(stateDir());
// Workers are started after this file is read, so they (and their request contexts) trust the stack CA.
if (descriptor?.caCertPath && !process.env.NODE_EXTRA_CA_CERTS) process.env.NODE_EXTRA_CA_CERTS = descriptor.caCertPath;

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const chromium = '/usr/bin/chromium';

export default defineConfig({
  forbidOnly: !!process.env.CI,
  workers: 2,
  fullyParallel: true,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  outputDir: 'test-results',
  reporter: [
    ['list'],
    ['html', { outputFolder: 'reports/html', open: 'never' }],
    ['junit', { outputFile: 'reports/junit.xml' }],
  ],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    { name: 'unit', testDir: 'test/unit' },
    {
      name: 'api',
      testDir: 'specs',
      testMatch: /.*\.api\.spec\.ts$/,
      metadata: { target: descriptor?.target, pins: descriptor?.pins },
    },
    {
      name: 'browser',
      testDir: 'specs',
      testMatch: /.*\.browser\.spec\.ts$/,
      metadata: { target: descriptor?.target, pins: descriptor?.pins },
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          ...(existsSync(chromium) ? { executablePath: chromium } : {}),
          args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
          // Chromium reads its trust store from $HOME/.pki/nssdb: the stack's own holds the stack CA.
          ...(descriptor?.browserHome ? { env: { ...process.env, HOME: descriptor.browserHome } } : {}),
        },
      },
    },
  ],
});
