import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { judgeRemoteRun, remoteEnvironment } from '../../provision/commands/test-remote.ts';
import { describeRemote } from '../../provision/targets/remote.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { unmetNeeds } from '../../specs/support/claims.ts';
import { writeFileSync, mkdirSync } from 'node:fs';

const local = {
  target: 'local', mlflowUrl: 'https://mlflow.localhost:8543', keycloakUrl: 'https://keycloak.localhost:8543', realm: 'buunstack', issuer: 'https://keycloak.localhost:8543/realms/buunstack',
  clientId: 'mlflow', caCertPath: '/state/tls/ca.pem', python: '/venv/bin/python',
  pins: { name: 'seed', mlflow: '3.6.0', mlflowOidcAuth: '5.6.1', settingChanges: [] },
  personas: [
    { key: 'admin', username: 'alice', email: 'alice@example.com', groups: ['mlflow-admins'] },
    { key: 'user1', username: 'bob', email: 'bob@example.com', groups: ['mlflow-users'] },
    { key: 'user2', username: 'carol', email: 'carol@example.com', groups: ['mlflow-users'] },
    { key: 'outsider', username: 'mallory', email: 'mallory@example.com', groups: [] },
  ],
  capabilities: { database: true, bucket: true, serverLogs: true, keycloakAdmin: true, keycloakUsers: true, cluster: false, metrics: true },
  logs: {},
} as TargetDescriptor;
const passwords = { personas: { alice: 'PwAlice0123456789', bob: 'PwBob0123456789', carol: 'PwCarol0123456789', mallory: 'PwMallory0123456789' } };

async function remote(env: Record<string, string>): Promise<TargetDescriptor> {
  const state = mkdtempSync(join(tmpdir(), 'remote-state-'));
  const before = process.env.HARNESS_STATE_DIR;
  process.env.HARNESS_STATE_DIR = state;
  try {
    // no CA: no browser home is made
    const { HARNESS_CA_CERT: _ca, ...rest } = env;
    return await describeRemote('/venv/bin/python', rest, async () => ({ mlflow: '3.6.0', 'mlflow-oidc-auth': '5.6.1' }));
  } finally {
    if (before === undefined) delete process.env.HARNESS_STATE_DIR;
    else process.env.HARNESS_STATE_DIR = before;
  }
}

test('a local stack is described to the remote target as a user would for staging: URLs, CA, every persona', () => {
  const env = remoteEnvironment(local, passwords);
  expect(env).toMatchObject({
    HARNESS_TARGET: 'remote', MLFLOW_URL: local.mlflowUrl, KEYCLOAK_URL: local.keycloakUrl, KEYCLOAK_REALM: 'buunstack', HARNESS_CA_CERT: '/state/tls/ca.pem',
    HARNESS_PINS: 'seed', HARNESS_PYTHON: '/venv/bin/python',
    HARNESS_ADMIN_USERNAME: 'alice', HARNESS_ADMIN_EMAIL: 'alice@example.com', HARNESS_ADMIN_PASSWORD: 'PwAlice0123456789',
    HARNESS_USER1_USERNAME: 'bob', HARNESS_USER2_EMAIL: 'carol@example.com', HARNESS_OUTSIDER_PASSWORD: 'PwMallory0123456789',
  });
  expect(env).not.toHaveProperty('HARNESS_KEYCLOAK_ADMIN_USERNAME');
  expect(remoteEnvironment(local, passwords, { username: 'harness-realm-admin', password: 'PwRealm0123456789' })).toMatchObject({ HARNESS_KEYCLOAK_ADMIN_USERNAME: 'harness-realm-admin' });
  expect(() => remoteEnvironment(local, { personas: { alice: 'x' } })).toThrow(/no password for persona bob/);
});

test('the remote target makes users and groups only with a realm-scoped Keycloak admin; checks needing it are not-applicable with the reason', async () => {
  const env = remoteEnvironment(local, passwords);
  const plain = await remote({ ...env, HARNESS_KEYCLOAK_ADMIN_USERNAME: '', HARNESS_KEYCLOAK_ADMIN_PASSWORD: '' });
  expect(plain.capabilities).toMatchObject({ keycloakAdmin: false, keycloakUsers: false, database: false, serverLogs: false });
  expect(plain.personas.map((p) => p.key)).toEqual(['admin', 'user1', 'user2', 'outsider']);
  expect(unmetNeeds(plain, [{ type: 'needs', description: 'keycloakUsers: makes a Keycloak group of its own' }])).toBe('not-applicable: the remote target has no keycloakUsers access (makes a Keycloak group of its own)');
  const withAdmin = await remote({ ...env, HARNESS_KEYCLOAK_ADMIN_USERNAME: 'harness-realm-admin', HARNESS_KEYCLOAK_ADMIN_PASSWORD: 'PwRealm0123456789' });
  expect(withAdmin.capabilities).toMatchObject({ keycloakAdmin: false, keycloakUsers: true });
  expect(withAdmin.keycloakAdminLogin).toEqual({ realm: 'buunstack', username: 'harness-realm-admin' });
  expect(JSON.parse(readFileSync(withAdmin.secretsFile!, 'utf8'))).toMatchObject({ keycloakAdmin: 'PwRealm0123456789' });
  expect(unmetNeeds(withAdmin, [{ type: 'needs', description: 'keycloakUsers: makes a Keycloak group of its own' }])).toBeUndefined();
  await expect(remote({ ...env, HARNESS_KEYCLOAK_ADMIN_USERNAME: 'harness-realm-admin' })).rejects.toThrow(/both HARNESS_KEYCLOAK_ADMIN_USERNAME and HARNESS_KEYCLOAK_ADMIN_PASSWORD/);
});

test('the remote run counts only when whole, green, and with the bypass audit in its report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'remote-reports-'));
  expect(judgeRemoteRun(dir)).toEqual([expect.stringContaining('no ')]);
  writeFileSync(join(dir, 'conformance.json'), JSON.stringify({ target: 'remote', run: { wholeRun: true }, problems: [], claims: [{ id: 'C16', verdict: 'passed' }, { id: 'C07', verdict: 'partial' }] }));
  expect(judgeRemoteRun(dir)).toEqual(['C07 is partial', 'the bypass audit did not run (no routes in permissions.json)']);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'conformance.json'), JSON.stringify({ target: 'remote', run: { wholeRun: true }, problems: [], claims: [{ id: 'C16', verdict: 'passed' }] }));
  writeFileSync(join(dir, 'permissions.json'), JSON.stringify({ routes: [{ route: 'GET /api/2.0/mlflow/experiments/get', verdict: 'passed' }] }));
  expect(judgeRemoteRun(dir)).toEqual([]);
});
