import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { loadHarnessEnv } from '../../provision/config/env.ts';
import { loadPinSet, pinSetNames } from '../../provision/config/pin-sets.ts';
import { describeStack } from '../../provision/config/stack.ts';
import { installPlan, lockFile, readLockHeader, requirementsKey, staleLock } from '../../provision/local/prereqs/venv.ts';
import { installFailure } from '../../provision/local/prereqs/installer.ts';
import { baseImageFor } from '../../provision/config/base-images.ts';
import { cutoff } from '../../provision/config/build-dates.ts';
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

test('a Dockerfile-only bump to a described base image: its Python and chart from image/base-images.yaml, built today', () => {
  const set = loadPinSet(dockerfile('FROM burakince/mlflow:3.14.0\nRUN pip install mlflow-oidc-auth[full]==7.4.1\n'));
  expect(describeStack(env(), set).mlflow.appName).toBe('oidc-auth');
  expect(set).toMatchObject({ python: '3.13', chart: '1.11.2', dates: { baseBuiltOn: '2026-06-17', builtOn: new Date().toISOString().slice(0, 10) } });
  expect(lockFile(set)).toMatch(/mlflow-3\.14\.0\+oidc-7\.4\.1\+py3\.13\.txt$/);
  const plan = installPlan(set);
  // the base image's own requirements (3.14.0 already carries a 7.x plugin), then the Dockerfile's line
  expect(plan.base.requirements).toEqual(expect.arrayContaining(['mlflow==3.14.0', 'mlflow-oidc-auth[cache]>=7.3.1,<8.0.0', 'psycopg2-binary>=2.9.12,<3.0.0']));
  expect(plan.base.asOf).toBe('2026-06-18T00:00:00Z');
  expect(plan.layer.requirements).toEqual(['mlflow-oidc-auth[full]==7.4.1']);
});

test('build dates: the named pin sets carry them; HARNESS_RESOLVE_AS_OF overrides both; a commit takes its date', () => {
  expect(loadPinSet('seed').dates).toMatchObject({ baseBuiltOn: '2025-11-07', builtOn: '2025-11-09' });
  expect(loadPinSet('buun-bump').dates).toMatchObject({ baseBuiltOn: '2026-06-01', builtOn: '2026-06-16' });
  expect(loadPinSet('newest').dates).toMatchObject({ baseBuiltOn: '2026-10-21', builtOn: '2026-11-29' });
  // image/Dockerfile has the seed's pins: it is the seed's image, built when the seed's was
  expect(loadPinSet(undefined).dates).toMatchObject({ baseBuiltOn: '2025-11-07', builtOn: '2025-11-09' });
  process.env.HARNESS_RESOLVE_AS_OF = '2026-01-02';
  try {
    expect(loadPinSet('seed').dates).toMatchObject({ baseBuiltOn: '2026-01-02', builtOn: '2026-01-02' });
    process.env.HARNESS_RESOLVE_AS_OF = 'now';
    expect(loadPinSet('seed').dates.builtOn).toBe(new Date().toISOString().slice(0, 10));
  } finally {
    delete process.env.HARNESS_RESOLVE_AS_OF;
  }
  expect(cutoff('2025-11-09')).toBe('2025-11-10T00:00:00Z');
  expect(cutoff('2024-02-28')).toBe('2024-02-29T00:00:00Z');
});

test('a pin set assuming another tag\'s recipe (no image of its MLflow) takes that recipe with its own MLflow', () => {
  const set = loadPinSet('newest');
  expect(set.baseImage.like?.tag).toBe('3.15.1');
  expect(set.pythonSource).toMatch(/3\.15\.1 \(assumed for 3\.17\.2\)/);
  expect(installPlan(set).base.requirements).toEqual(expect.arrayContaining(['mlflow==3.17.2', 'mlflow[auth,pipelines]>=3.17.2,<4.0.0']));
  expect(baseImageFor('3.6.0')).toMatchObject({ python: '3.13.9', install: 'resolve' });
});

test('a lock is used only for its own requirements and dates; otherwise it is stale, with the reason', () => {
  const set = loadPinSet('seed');
  const header = readLockHeader(readFileSync(lockFile(set), 'utf8'));
  expect(header).toEqual({ baseBuiltOn: '2025-11-07', builtOn: '2025-11-09', requirements: requirementsKey(set) });
  expect(staleLock(set, header)).toBeUndefined();
  expect(staleLock(set, { ...header, builtOn: '2026-01-01' })).toMatch(/resolved as of base 2025-11-07 \/ image 2026-01-01, the pin set is built on base 2025-11-07 \/ image 2025-11-09/);
  expect(staleLock(set, { ...header, requirements: 'x' })).toMatch(/other requirements/);
});

test('the committed locks are as built: the seed carries Authlib 1.6.5 (the newest before 2025-11-09), buun-bump SQLAlchemy 2.0', () => {
  const pkg = (name: string, set: string) => new RegExp(`^${name}==(\\S+)$`, 'mi').exec(readFileSync(lockFile(loadPinSet(set)), 'utf8'))?.[1];
  expect(pkg('authlib', 'seed')).toBe('1.6.5');
  expect(pkg('sqlalchemy', 'buun-bump')).toMatch(/^2\.0\./);
  expect(pkg('sqlalchemy', 'newest')).toMatch(/^2\.1\./);
  expect(pkg('psycopg', 'newest')).toBeTruthy();
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

test('bad input: an unknown pin set, a Dockerfile without pins, an unknown plugin generation, an unparsable tag, bad dates', () => {
  expect(lineOf(() => loadPinSet('seeds'))).toMatch(/^Unknown pin set `seeds` \(HARNESS_PINS\) — use one of buun-bump, newest, seed/);
  expect(() => loadPinSet(dockerfile('FROM python:3.12\n'))).toThrow(HarnessError);
  expect(() => loadPinSet(dockerfile('FROM burakince/mlflow:3.6.0\nRUN pip install mlflow-oidc-auth>=5\n'))).toThrow(/no "mlflow-oidc-auth\[...\]==<version>"/);
  expect(lineOf(() => adapterFor('4.2.0'))).toMatch(/mlflow-oidc-auth 4\.2\.0 belongs to no plugin generation.*add an adapter/);
  expect(() => adapterFor('12.0.0')).toThrow(HarnessError);
  expect(lineOf(() => loadPinSet(dockerfile('FROM burakince/mlflow:latest\nRUN pip install mlflow-oidc-auth==7.4.1\n')))).toMatch(/cannot read the MLflow version from the base image tag `latest`/);
  expect(lineOf(() => loadPinSet(dockerfile('FROM burakince/mlflow:3.16.0\nRUN pip install mlflow-oidc-auth==7.4.1\n')))).toMatch(/^burakince\/mlflow:3\.16\.0 is not described in image\/base-images\.yaml/);
  for (const [value, message] of [['2099-01-01', /HARNESS_RESOLVE_AS_OF is 2099-01-01, which is in the future/], ['yesterday', /HARNESS_RESOLVE_AS_OF is `yesterday`, not a date/], ['2025-02-30', /not a date/]] as const) {
    process.env.HARNESS_RESOLVE_AS_OF = value;
    try {
      expect(lineOf(() => loadPinSet('seed'))).toMatch(message);
    } finally {
      delete process.env.HARNESS_RESOLVE_AS_OF;
    }
  }
});

test('the installer\'s resolver error is one line naming the package and the date', () => {
  const uv = [
    '  × No solution found when resolving dependencies:',
    '  ╰─▶ Because there is no version of mlflow-oidc-auth[full]==7.4.1 and you require mlflow-oidc-auth[full]==7.4.1, we can conclude that your requirements are',
    '      unsatisfiable.',
  ].join('\n');
  expect(installFailure(uv, '2025-11-10T00:00:00Z')).toBe('mlflow-oidc-auth[full]==7.4.1 was not on the package index before 2025-11-10T00:00:00Z (not yet uploaded, or never)');
  const out = [
    'ERROR: Cannot install mlflow-oidc-auth[full]==7.3.1 and mlflow==3.12.0 because these package versions have conflicting dependencies.',
    '',
    'The conflict is caused by:',
    '    The user requested mlflow==3.12.0',
    '    mlflow-oidc-auth 7.3.1 depends on mlflow<4 and >=3.13.0',
    '',
    'To fix this you could try to:',
  ].join('\n');
  expect(installFailure(out)).toBe('Cannot install mlflow-oidc-auth[full]==7.3.1 and mlflow==3.12.0 — The user requested mlflow==3.12.0; mlflow-oidc-auth 7.3.1 depends on mlflow<4 and >=3.13.0');
  expect(installFailure('ERROR: Could not find a version that satisfies the requirement mlflow==9.9.9\nERROR: No matching distribution found for mlflow==9.9.9')).toBe('mlflow==9.9.9 was not on the package index (not yet uploaded, or never)');
});
