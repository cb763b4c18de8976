import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { loadHarnessEnv } from '../../provision/config/env.ts';
import { loadPinSet, pinSetNames } from '../../provision/config/pin-sets.ts';
import { describeStack } from '../../provision/config/stack.ts';
import { lockFile, pipFailure, venvRequirements } from '../../provision/local/prereqs/venv.ts';
import { adapterFor } from '../../provision/plugin/adapters.ts';
import { HarnessError } from '../../provision/errors.ts';

const env = () => loadHarnessEnv({}, join(tmpdir(), 'no-such-env-file'));

function dockerfile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pins-'));
  const f = join(dir, 'Dockerfile');
  writeFileSync(f, text);
  return f;
}

test('the named pin sets: seed, buun-bump, newest', () => {
  expect(pinSetNames()).toEqual(['buun-bump', 'newest', 'seed']);
  expect(loadPinSet('seed')).toMatchObject({ pins: { mlflow: '3.6.0', mlflowOidcAuth: '5.6.1' }, chart: '1.8.0', adapter: { generation: '5' } });
  expect(loadPinSet('buun-bump')).toMatchObject({ pins: { mlflow: '3.13.0', mlflowOidcAuth: '7.3.1' }, chart: '1.8.5', adapter: { generation: '6-7' } });
  expect(loadPinSet('newest')).toMatchObject({ pins: { mlflow: '3.17.2', mlflowOidcAuth: '11.0.2' }, python: '3.13', chart: '1.11.5' });
});

test('each pin set renders its app name: the seed keeps oidc-auth-fastapi, later generations get oidc-auth with a reason', () => {
  expect(describeStack(env(), loadPinSet('seed')).mlflow.appName).toBe('oidc-auth-fastapi');
  for (const name of ['buun-bump', 'newest']) {
    const desc = describeStack(env(), loadPinSet(name));
    expect(desc.mlflow.appName).toBe('oidc-auth');
    expect(desc.pinSet.settingChanges.map((c) => c.reason).join(' ')).toMatch(/oidc-auth/);
    // buun-stack kept its session settings: the suite reports them as ignored, it does not drop them
    expect(desc.mlflow.env.SESSION_TYPE).toBe('cachelib');
  }
});

test('a Dockerfile-only bump to known pins takes that pin set\'s Python, chart and settings', () => {
  const f = dockerfile('FROM burakince/mlflow:3.13.0\nRUN pip install --no-cache-dir \\\n    mlflow-oidc-auth[full]==7.3.1 \\\n    cachelib[filesystem]\n');
  const set = loadPinSet(f);
  expect(set).toMatchObject({ chart: '1.8.5', python: '3.13', adapter: { generation: '6-7' } });
  expect(describeStack(env(), set).mlflow.appName).toBe('oidc-auth');
});

test('an unknown Dockerfile gets its app name from the plugin generation, and its own lock name', () => {
  const set = loadPinSet(dockerfile('FROM burakince/mlflow:3.14.0\nRUN pip install mlflow-oidc-auth==7.10.0\n'));
  expect(describeStack(env(), set).mlflow.appName).toBe('oidc-auth');
  expect(lockFile(set)).toMatch(/mlflow-3\.14\.0\+oidc-7\.10\.0\+py3\.\d+\.txt$/);
  expect(venvRequirements(set)).toEqual(expect.arrayContaining(['mlflow==3.14.0', 'mlflow-oidc-auth==7.10.0', 'boto3']));
});

/** The one line the CLI prints for a HarnessError thrown by fn. */
function lineOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof HarnessError) return e.line();
    throw e;
  }
  throw new Error('no error');
}

test('bad input: an unknown pin set, a Dockerfile without pins, an unknown plugin generation', () => {
  expect(lineOf(() => loadPinSet('seeds'))).toMatch(/^Unknown pin set `seeds` \(HARNESS_PINS\) — use one of buun-bump, newest, seed/);
  expect(() => loadPinSet(dockerfile('FROM python:3.12\n'))).toThrow(HarnessError);
  expect(() => loadPinSet(dockerfile('FROM burakince/mlflow:3.6.0\nRUN pip install mlflow-oidc-auth>=5\n'))).toThrow(/no "mlflow-oidc-auth\[...\]==<version>"/);
  expect(lineOf(() => adapterFor('4.2.0'))).toMatch(/mlflow-oidc-auth 4\.2\.0 belongs to no plugin generation.*add an adapter/);
  expect(() => adapterFor('12.0.0')).toThrow(HarnessError);
});

test('pip\'s resolver error is shortened to the conflicting requirements', () => {
  const out = [
    'ERROR: Cannot install mlflow-oidc-auth[full]==7.3.1 and mlflow==3.12.0 because these package versions have conflicting dependencies.',
    '',
    'The conflict is caused by:',
    '    The user requested mlflow==3.12.0',
    '    mlflow-oidc-auth 7.3.1 depends on mlflow<4 and >=3.13.0',
    '',
    'To fix this you could try to:',
  ].join('\n');
  expect(pipFailure(out)).toBe('Cannot install mlflow-oidc-auth[full]==7.3.1 and mlflow==3.12.0 — The user requested mlflow==3.12.0; mlflow-oidc-auth 7.3.1 depends on mlflow<4 and >=3.13.0');
  expect(pipFailure('ERROR: Could not find a version that satisfies the requirement mlflow==9.9.9\nERROR: No matching distribution found for mlflow==9.9.9')).toBe('No matching distribution found for mlflow==9.9.9 (not served by the package index)');
});
