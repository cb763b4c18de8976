import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { readTimings } from '../../provision/commands/bench.ts';
import { adapterFor, inRange } from '../../provision/plugin/adapters.ts';
import { parseDockerfilePins } from '../../provision/config/pins.ts';
import { appliesTo } from '../../conformance/differences.ts';
import { compareVersions, validRange } from '../../provision/versions/pep440.ts';
import { answersAs } from '../../specs/support/plugin.ts';
import { commandOf, environOf, listenerPid, servedApp } from '../../specs/support/server-process.ts';

/** A response as the current-user route gives it. */
const answer = (status: number, contentType: string, body: unknown) => ({
  status: () => status,
  headers: () => ({ 'content-type': contentType }),
  text: async () => (typeof body === 'string' ? body : JSON.stringify(body)),
});

test('persona setup reuses a session only when the server answers as that user: a 6.x+ 401 JSON (expired) or a 5.x login page is refused', async () => {
  expect(await answersAs(answer(200, 'application/json', { username: 'bob@example.com', is_admin: false }), 'bob@example.com')).toBe(true);
  // 6.x+: an expired session answers 401 with JSON — the old check accepted any JSON
  expect(await answersAs(answer(401, 'application/json', { detail: 'Authentication required' }), 'bob@example.com')).toBe(false);
  // 5.x: the login page with HTTP 200
  expect(await answersAs(answer(200, 'text/html; charset=utf-8', '<title>Login</title>'), 'bob@example.com')).toBe(false);
  // somebody else's session
  expect(await answersAs(answer(200, 'application/json', { username: 'carol@example.com' }), 'bob@example.com')).toBe(false);
});

test('versions are PEP 440: suffixes count, pre-releases sort before their release', () => {
  expect(inRange('7.20.4.post1', '>=6.0.0 <8.0.0')).toBe(true);
  expect(inRange('3.18.0rc1', '>=3.18.0')).toBe(false);
  expect(inRange('3.18.0rc1', '>=3.17.0')).toBe(true);
  // PEP 440: `<V` excludes V's own pre-releases; a 6.0.0rc1 plugin is then of no known generation, said in one line
  expect(inRange('3.18.0rc1', '<3.18.0')).toBe(false);
  expect(inRange('3.18.0rc1', '<3.18.1')).toBe(true);
  expect(() => adapterFor('6.0.0rc1')).toThrow(/belongs to no plugin generation/);
  expect(inRange('8.0.0', '>=6.0.0,<8.0.0')).toBe(false);
  expect(compareVersions('3.13.0rc2', '3.13.0')).toBeLessThan(0);
  expect(compareVersions('7.20.4.post1', '7.20.4')).toBeGreaterThan(0);
  expect(adapterFor('7.20.4.post1').generation).toBe('6-7');
  expect(adapterFor('11.0.2').generation).toBe('8-11');
  expect(() => adapterFor('not-a-version')).toThrow(/not a PEP 440 version/);
  expect(validRange('>=6.0.0 <8.0.0')).toBe(true);
  expect(validRange('about six')).toBe(false);
  // a declared difference for MLflow >=3.17.0 does not apply to a 3.17.0 pre-release
  expect(appliesTo({ mlflow: '>=3.17.0' }, { mlflow: '3.17.0rc1', mlflowOidcAuth: '11.0.2' })).toBe(false);
  expect(appliesTo({ mlflow: '>=3.17.0' }, { mlflow: '3.17.2', mlflowOidcAuth: '11.0.2' })).toBe(true);
  // the base image tag is read as MLflow's version, suffix and all
  expect(parseDockerfilePins('FROM burakince/mlflow:3.18.0rc1\nRUN pip install mlflow-oidc-auth[full]==11.0.2.post1\n').mlflow).toBe('3.18.0rc1');
  expect(() => parseDockerfilePins('FROM burakince/mlflow:latest\nRUN pip install mlflow-oidc-auth[full]==11.0.2\n')).toThrow(/cannot read the MLflow version/);
});

test('bench refuses the timings of an earlier run (npm test writes none when provisioning fails)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const file = join(dir, 'timings.json');
  const started = Date.now();
  expect(() => readTimings(file, started)).toThrow(/wrote no .*timings\.json/);
  writeFileSync(file, JSON.stringify({ provisionSeconds: 30, suiteSeconds: 100, teardownSeconds: 3, components: {} }));
  const old = new Date(started - 3_600_000);
  utimesSync(file, old, old);
  expect(() => readTimings(file, started)).toThrow(/from an earlier run/);
  utimesSync(file, new Date(), new Date());
  expect(readTimings(file, started).suiteSeconds).toBe(100);
});

test('the server is observed as the operating system runs it: the process listening on the port, its command line and environment', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (server.address() as { port: number }).port;
    expect(listenerPid(port)).toBe(process.pid);
    expect(commandOf(process.pid)[0]).toContain('node');
    expect(environOf(process.pid, 'PATH')).toBeTruthy();
    expect(environOf(process.pid, 'NO_SUCH_VARIABLE_HERE')).toBeUndefined();
  } finally {
    server.close();
  }
  expect(() => listenerPid(1)).toThrow(/nothing listens on port 1/);
  // the app of a uvicorn command line (what the plugin's entry point resolves to)
  expect(servedApp(['/venv/bin/python', '-m', 'uvicorn', '--host', '127.0.0.1', '--port', '5000', '--workers', '1', 'mlflow_oidc_auth.fastapi_app:app'])).toBe('mlflow_oidc_auth.fastapi_app:app');
  expect(servedApp(['mlflow', 'server', '--host=127.0.0.1'])).toBeUndefined();
});
