import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { test, expect } from '@playwright/test';
import { loadHarnessEnv } from '../../provision/config/env.ts';
import { loadPinSet } from '../../provision/config/pin-sets.ts';
import { describeStack } from '../../provision/config/stack.ts';
import { renderChartValues } from '../../provision/render/chart-values.ts';
import { placeholders, serverArguments } from '../../provision/render/mlflow-server.ts';
import { environment } from '../../provision/local/components/mlflow.ts';
import * as s3 from '../../provision/local/components/s3.ts';
import { renderContext } from './fixtures/local-context.ts';
import { fingerprint } from '../../provision/local/target.ts';

const desc = () => describeStack(loadHarnessEnv({ MLFLOW_HOST: 'mlflow.example.com', KEYCLOAK_HOST: 'auth.example.com', HARNESS_HTTPS_PORT: '443' }, join(tmpdir(), 'none')), loadPinSet('seed'));

test('chart values carry buun-stack settings rendered from the description', () => {
  const v = renderChartValues(desc(), { registry: 'localhost:30500', pullPolicy: 'IfNotPresent', s3Endpoint: 'http://minio.minio.svc.cluster.local:9000', postgresHost: 'postgres-cluster-rw.postgres.svc.cluster.local', monitoring: true });
  expect(v.image).toEqual({ repository: 'localhost:30500/mlflow', tag: '3.6.0-oidc', pullPolicy: 'IfNotPresent' });
  expect(v.extraArgs).toEqual({
    allowedHosts: 'mlflow.example.com,mlflow.example.com:443,mlflow.mlflow.svc.cluster.local,mlflow.mlflow.svc.cluster.local:5000,*',
    appName: 'oidc-auth-fastapi',
    workers: '1',
  });
  expect(v.extraEnvVars).toMatchObject({
    OIDC_DISCOVERY_URL: 'https://auth.example.com/realms/buunstack/.well-known/openid-configuration',
    OIDC_REDIRECT_URI: 'https://mlflow.example.com/callback',
    OIDC_SCOPE: 'openid profile email groups',
    OIDC_GROUP_NAME: 'mlflow-admins,mlflow-users',
    MLFLOW_SERVER_ALLOWED_HOSTS: 'mlflow.example.com,mlflow.example.com:443',
    MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: 'https://mlflow.example.com',
    SESSION_TYPE: 'cachelib',
  });
});

test('local server command and chart values come from the same settings', () => {
  const d = desc();
  const local = placeholders(d, { service: '127.0.0.1', servicePort: 5000, s3Endpoint: 'http://127.0.0.1:7070' });
  const args = serverArguments(d.mlflow, local, { host: '127.0.0.1', port: 5000, backendStoreUri: 'postgresql://', prometheusDir: '/x/metrics' });
  expect(args).toEqual([
    'server', '--host=127.0.0.1', '--port=5000', '--backend-store-uri=postgresql://', '--artifacts-destination=s3://mlflow/', '--serve-artifacts',
    '--expose-prometheus=/x/metrics', '--allowed-hosts=mlflow.example.com,mlflow.example.com:443,127.0.0.1,127.0.0.1:5000,*', '--app-name=oidc-auth-fastapi', '--workers=1',
  ]);
});

test('the environment the local server really starts with carries every chart extraEnvVar with the chart\'s value', () => {
  const { ctx, cleanup } = renderContext(desc());
  try {
    // what the local MLflow process gets (components/mlflow.ts), not the renderer both sides share
    const processEnv = environment(ctx);
    const chart = renderChartValues(ctx.desc, { registry: 'r', pullPolicy: 'Always', s3Endpoint: s3.endpoint(ctx), postgresHost: 'h', monitoring: false });
    const keys = Object.keys(chart.extraEnvVars);
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) {
      const want = chart.extraEnvVars[key]!;
      // the one container path of extraEnvVars: placed under the state folder on this machine
      if (key === 'SESSION_CACHE_DIR') expect(processEnv[key], key).toBe(join(ctx.state, 'mlflow', 'fs', want));
      else expect(processEnv[key], key).toBe(want);
    }
    // and a changed setting reaches the process: the two sides are not the same object
    ctx.desc.mlflow.env.OIDC_SCOPE = 'openid email';
    expect(environment(ctx).OIDC_SCOPE).toBe('openid email');
    expect(chart.extraEnvVars.OIDC_SCOPE).toBe('openid profile email groups');
  } finally {
    cleanup();
  }
});

test('a changed setting changes the fingerprint', () => {
  const a = desc();
  const b = desc();
  b.mlflow.env.OIDC_GROUP_DETECTION_PLUGIN = 'oidc';
  expect(fingerprint(a)).toBe(fingerprint(desc()));
  expect(fingerprint(a)).not.toBe(fingerprint(b));
});
