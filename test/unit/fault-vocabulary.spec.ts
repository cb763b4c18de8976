import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { projectRoot } from '../../provision/paths.ts';
import { join } from 'node:path';
import { execa } from 'execa';
import { tmpdir } from 'node:os';
import { test, expect } from '@playwright/test';
import { loadHarnessEnv } from '../../provision/config/env.ts';
import { loadPinSet } from '../../provision/config/pin-sets.ts';
import { describeStack } from '../../provision/config/stack.ts';
import { applyOverrides, fingerprints, StackOverrides } from '../../provision/config/overrides.ts';
import { caddyfile } from '../../provision/local/components/proxy.ts';
import { environment } from '../../provision/local/components/mlflow.ts';
import { rotatedSecret } from '../../provision/keycloak/realm.ts';
import { mlflowDbSecret, mlflowOidcSecret } from '../../provision/k3d/manifests.ts';
import { clusterChartValues } from '../../provision/chart/render.ts';
import { createFaultyCertificate, createStackTls, type CertificateFault } from '../../provision/local/tls.ts';
import { renderContext } from './fixtures/local-context.ts';

// The fault vocabulary: each new kind of override reaches what the targets render (and only its part of the
// fingerprint, so a fault reconfigures the running stack instead of rebuilding it).

const none = join(tmpdir(), 'no-such-env-file');
const base = () => describeStack(loadHarnessEnv({}, none), loadPinSet(undefined));

test('database faults reach PGHOST/PGUSER/PGPASSWORD, the auth database URI, the chart values and the k3d secrets', () => {
  const desc = applyOverrides(base(), { mlflow: { database: { host: 'postgres.invalid', user: 'someone', password: 'p@ss word' } } });
  const { ctx, cleanup } = renderContext(desc);
  try {
    const env = environment(ctx);
    expect(env).toMatchObject({ PGHOST: 'postgres.invalid', PGUSER: 'someone', PGPASSWORD: 'p@ss word', OIDC_USERS_DB_URI: 'postgresql://someone:p%40ss%20word@postgres.invalid:40001/mlflow_auth' });
    const values = clusterChartValues(desc, loadHarnessEnv({}, none)) as { backendStore: { postgres: { host: string } } };
    expect(values.backendStore.postgres.host).toBe('postgres.invalid');
    expect(mlflowDbSecret(desc)).toMatchObject({ stringData: { username: 'someone', password: 'p@ss word' } });
    expect(String((mlflowOidcSecret(desc) as unknown as { stringData: Record<string, string> }).stringData.OIDC_USERS_DB_URI)).toBe('postgresql://someone:p%40ss%20word@postgres.invalid:5432/mlflow_auth');
  } finally {
    cleanup();
  }
  // without the fault: the stack's own user and generated password
  const healthy = renderContext(base());
  try {
    expect(environment(healthy.ctx)).toMatchObject({ PGHOST: '127.0.0.1', PGUSER: 'mlflow', PGPASSWORD: healthy.ctx.secrets.postgresMlflow });
  } finally {
    healthy.cleanup();
  }
});

test('the proxy sets buun-stack\'s forwarded headers; a fault changes or removes them and picks the certificate', () => {
  const healthy = renderContext(base());
  try {
    const text = caddyfile(healthy.ctx);
    expect(text).toContain('header_up X-Forwarded-Proto https');
    expect(text).toContain('header_up X-Forwarded-Host mlflow.localhost');
    expect(text).toContain('header_up X-Forwarded-Port 8443');
    expect(text).toContain(`tls ${healthy.ctx.tls.cert} ${healthy.ctx.tls.key}`);
  } finally {
    healthy.cleanup();
  }
  const desc = applyOverrides(base(), { proxy: { forwardedHeaders: { proto: null, host: 'evil.example' }, certificate: 'expired' } });
  const { ctx, cleanup } = renderContext(desc);
  try {
    const text = caddyfile(ctx, { cert: '/x/expired.pem', key: '/x/expired-key.pem' });
    expect(text).toContain('header_up -X-Forwarded-Proto');
    expect(text).toContain('header_up X-Forwarded-Host evil.example');
    expect(text).toContain('header_up X-Forwarded-Port 8443');
    expect(text).toContain('tls /x/expired.pem /x/expired-key.pem');
  } finally {
    cleanup();
  }
});

test('a blocked route: the proxy answers it itself on the MLflow site only; Caddy accepts the file; the control\'s pattern covers every generation\'s grant routes and nothing else', async () => {
  const control = parse(readFileSync(join(projectRoot, 'controls', 'permissions-grant-blocked.yaml'), 'utf8')) as { spec: { fault: { overrides: unknown } } };
  const overrides = StackOverrides.parse(control.spec.fault.overrides);
  const desc = applyOverrides(base(), overrides);
  const { ctx, cleanup } = renderContext(desc);
  try {
    const text = caddyfile(ctx);
    const [mlflowSite, keycloakSite] = text.split('https://keycloak.localhost');
    expect(mlflowSite).toContain('method POST PATCH PUT');
    expect(mlflowSite).toContain('respond @blocked0 "refused by the proxy (harness fault)" 403');
    expect(keycloakSite).not.toContain('@blocked');
    const healthy = renderContext(base());
    expect(caddyfile(healthy.ctx)).not.toContain('@blocked');
    healthy.cleanup();
    const dir = mkdtempSync(join(tmpdir(), 'caddy-'));
    try {
      writeFileSync(join(dir, 'Caddyfile'), text);
      const r = await execa('caddy', ['adapt', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { reject: false, env: { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain('path_regexp');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    cleanup();
  }
  const pattern = new RegExp(overrides.proxy!.block![0]!.path);
  // grant and change routes of 5.x (views) and 6.x+ (routers): user and group grants on experiments, models, prompts
  for (const route of ['/api/2.0/mlflow/permissions/experiments/12/users/bob@example.com', '/api/2.0/mlflow/permissions/users/carol%40example.com/experiments/1',
    '/api/2.0/mlflow/permissions/registered-models/m/groups/mlflow-users', '/api/2.0/mlflow/permissions/groups/mlflow-users/prompts/p', '/api/2.0/mlflow/permissions/prompts/p/users/x']) {
    expect(pattern.test(route), route).toBe(true);
  }
  // the access-token routes, group creation and MLflow's own API stay open
  for (const route of ['/api/2.0/mlflow/permissions/users/access-token', '/api/2.0/mlflow/users/access-token', '/api/2.0/mlflow/permissions/groups', '/api/2.0/mlflow/experiments/create', '/api/2.0/mlflow/users/current/tokens']) {
    expect(pattern.test(route), route).toBe(false);
  }
  expect(StackOverrides.safeParse({ proxy: { block: [{ methods: ['POST'], path: '^/(?!x)' }] } }).success).toBe(false);
  expect(parts0({ proxy: { block: [{ methods: ['POST'], path: '^/x', status: 403 }] } })).toEqual(['edge']);
});

const parts0 = (o: StackOverrides) => {
  const a = fingerprints(base());
  const b = fingerprints(applyOverrides(base(), o));
  return (['base', 'realm', 'mlflow', 'edge'] as const).filter((k) => a[k] !== b[k]);
};

test('each fault changes only its part of the fingerprint', () => {
  const a = fingerprints(base());
  const parts = (o: StackOverrides) => {
    const b = fingerprints(applyOverrides(base(), o));
    return (['base', 'realm', 'mlflow', 'edge'] as const).filter((k) => a[k] !== b[k]);
  };
  expect(parts({ proxy: { certificate: 'untrusted-ca' } })).toEqual(['edge']);
  expect(parts({ proxy: { forwardedHeaders: { proto: 'http' } } })).toEqual(['edge']);
  expect(parts({ mlflow: { database: { password: 'x' } } })).toEqual(['mlflow']);
  expect(parts({ keycloak: { client: { secretRotated: true } } })).toEqual(['realm']);
});

test('a rotated client secret differs from the stack\'s and is stable; a misspelt fault is refused', () => {
  expect(rotatedSecret('abc')).not.toBe('abc');
  expect(rotatedSecret('abc')).toBe(rotatedSecret('abc'));
  expect(StackOverrides.safeParse({ proxy: { certificate: 'self-signed' } }).success).toBe(false);
  expect(StackOverrides.safeParse({ proxy: { forwardedHeader: {} } }).success).toBe(false);
  expect(StackOverrides.safeParse({ mlflow: { database: { host: 'db host' } } }).success).toBe(false);
});

test('the broken certificates: expired, for another host, from an untrusted CA — each with its own matching key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harness-certs-'));
  try {
    const tls = await createStackTls(join(dir, 'tls'), ['mlflow.localhost', 'keycloak.localhost']);
    const verdict = async (fault: CertificateFault) => {
      const c = await createFaultyCertificate(tls, join(dir, 'tls', 'faults'), fault, ['mlflow.localhost', 'keycloak.localhost']);
      const pub = async (args: string[]) => (await execa('openssl', args)).stdout;
      expect(await pub(['x509', '-in', c.cert, '-noout', '-pubkey']), `${fault}: key matches certificate`).toBe(await pub(['pkey', '-in', c.key, '-pubout']));
      const v = await execa('openssl', ['verify', '-CAfile', tls.caCert, '-verify_hostname', 'mlflow.localhost', c.cert], { reject: false, all: true });
      return v.all ?? '';
    };
    expect(await verdict('expired')).toContain('certificate has expired');
    expect(await verdict('wrong-host')).toContain('hostname mismatch');
    expect(await verdict('untrusted-ca')).toContain('unable to get local issuer certificate');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
