import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { loadHarnessEnv } from '../../provision/config/env.ts';

const noFile = join(tmpdir(), 'no-such-env-file');

test('defaults describe the local target with the seed realm', () => {
  const env = loadHarnessEnv({}, noFile);
  expect(env).toMatchObject({ HARNESS_TARGET: 'local', KEYCLOAK_REALM: 'buunstack', MLFLOW_HOST: 'mlflow.localhost', HARNESS_HTTPS_PORT: 8443 });
});

test('an unknown target is refused in one line naming the setting and the choices', () => {
  expect(() => loadHarnessEnv({ HARNESS_TARGET: 'kind' }, noFile)).toThrow(/HARNESS_TARGET to be one of local, k3d, remote, got `kind`/);
});

test('a malformed .env.local value names the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'envtest-'));
  const file = join(dir, '.env.local');
  writeFileSync(file, 'MLFLOW_HOST=https://mlflow.example.com\n');
  expect(() => loadHarnessEnv({}, file)).toThrow(new RegExp(`MLFLOW_HOST .*got \`https://mlflow.example.com\` \\(from ${file}\\)`));
});

test('the environment wins over .env.local', () => {
  const dir = mkdtempSync(join(tmpdir(), 'envtest-'));
  const file = join(dir, '.env.local');
  writeFileSync(file, 'HARNESS_HTTPS_PORT=9443\nKEYCLOAK_REALM=other\n');
  const env = loadHarnessEnv({ HARNESS_HTTPS_PORT: '10443' }, file);
  expect(env.HARNESS_HTTPS_PORT).toBe(10443);
  expect(env.KEYCLOAK_REALM).toBe('other');
  expect(() => loadHarnessEnv({ HARNESS_HTTPS_PORT: '70000' }, file)).toThrow(/HARNESS_HTTPS_PORT/);
});
