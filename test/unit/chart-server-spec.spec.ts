import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test, expect } from '@playwright/test';
import { parse } from 'yaml';
import { loadHarnessEnv } from '../../provision/config/env.ts';
import { loadPinSet, pinSetNames } from '../../provision/config/pin-sets.ts';
import { describeStack } from '../../provision/config/stack.ts';
import { fingerprints } from '../../provision/config/overrides.ts';
import { argsToLocal, serverSpecFromManifest, toLocal } from '../../provision/chart/server-spec.ts';
import { placementValues } from '../../provision/chart/local.ts';
import { clusterChartValues, helmTemplate, prepareChart } from '../../provision/chart/render.ts';
import type { LocalContext } from '../../provision/local/context.ts';
import { renderContext } from './fixtures/local-context.ts';
import { commandLine, environment } from '../../provision/local/components/mlflow.ts';
import { HELM_VERSION } from '../../provision/local/prereqs/helm.ts';
import { findOnPath } from '../../provision/k3d/prereqs.ts';
import { cacheDir } from '../../provision/paths.ts';
import { HarnessError } from '../../provision/errors.ts';

// HARNESS_SERVER_SPEC=chart: the chart's rendered container spec, placed on this machine by the declarations
// chart-parity accepts. Synthetic manifests cover the translation and its refusals; with a chart at hand
// (MLFLOW_CHART_PATH) the chart's spec must equal what the harness's own renderer starts.

const none = join(tmpdir(), 'no-such-env-file');

function context(chart?: string): { ctx: LocalContext; cleanup: () => void } {
  const env = loadHarnessEnv(chart ? { HARNESS_SERVER_SPEC: 'chart', MLFLOW_CHART_PATH: chart } : {}, none);
  return renderContext(describeStack(env, loadPinSet(chart ? pinSetFor(chart) : undefined)));
}

function pinSetFor(chart: string): string | undefined {
  const version = String((parse(readFileSync(join(chart, 'Chart.yaml'), 'utf8')) as { version: string }).version);
  return pinSetNames().find((n) => loadPinSet(n).chart === version);
}

const deployment = (container: string, extra = '') => `
apiVersion: v1
kind: ConfigMap
metadata: { name: env }
data: { PGHOST: postgres-cluster-rw.postgres.svc.cluster.local, PGPORT: "5432" }
---
apiVersion: v1
kind: Secret
metadata: { name: flask }
data: { MLFLOW_FLASK_SERVER_SECRET_KEY: ${Buffer.from('from-the-chart').toString('base64')}, OTHER: ${Buffer.from('rendered').toString('base64')} }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: mlflow }
spec:
  template:
    spec:
      containers:
        - name: mlflow
${container}
          envFrom:
            - configMapRef: { name: env }
            - secretRef: { name: flask }
            - secretRef: { name: mlflow-oidc-config }
          env:
            - { name: PGPASSWORD, valueFrom: { secretKeyRef: { name: mlflow-db-secret, key: password } } }
            - { name: OIDC_REDIRECT_URI, value: "https://mlflow.localhost/callback" }
${extra}
`;
const mlflowCommand = `          command: ["mlflow"]
          args: ["server", "--host=0.0.0.0", "--port=5000", "--allowed-hosts=mlflow.localhost,mlflow.localhost:443,mlflow.mlflow.svc.cluster.local:5000,mlflow.mlflow.svc.cluster.local", "--expose-prometheus", "/mlflow/metrics"]`;

test('chart spellings are placed on this machine by the declared placements only, each once', () => {
  const { ctx, cleanup } = context();
  try {
    const v = placementValues(ctx);
    expect(toLocal('env', 'OIDC_REDIRECT_URI', 'https://mlflow.localhost/callback', v)).toBe('https://mlflow.localhost:8443/callback');
    expect(toLocal('env', 'PGHOST', 'postgres-cluster-rw.postgres.svc.cluster.local', v)).toBe('127.0.0.1');
    // a substitution applies only to the keys it names: PGPORT's pair does not touch other variables
    expect(toLocal('env', 'SOME_PORT', '5432', v)).toBe('5432');
    expect(toLocal('env', 'SESSION_CACHE_DIR', '/tmp/session', v)).toBe(join(ctx.state, 'mlflow', 'fs', 'tmp', 'session'));
    expect(argsToLocal(['server', '--host=0.0.0.0', '--port', '5000', '--allowed-hosts=mlflow.localhost:443,mlflow.mlflow.svc.cluster.local:5000,mlflow.mlflow.svc.cluster.local'], v))
      .toEqual(['server', '--host=127.0.0.1', '--port', '40006', '--allowed-hosts=mlflow.localhost:8443,127.0.0.1:40006,127.0.0.1']);
  } finally {
    cleanup();
  }
});

test('the spec from a manifest: cluster values placed, buun-stack\'s external secrets and the chart\'s generated key from the stack', () => {
  const { ctx, cleanup } = context();
  try {
    const spec = serverSpecFromManifest(deployment(mlflowCommand), { version: 'x', path: '/c', source: 'MLFLOW_CHART_PATH' }, ctx, environment(ctx));
    expect(spec.command).toBe('mlflow');
    expect(spec.args).toEqual(['server', '--host=127.0.0.1', '--port=40006', '--allowed-hosts=mlflow.localhost,mlflow.localhost:8443,127.0.0.1:40006,127.0.0.1', '--expose-prometheus', join(ctx.state, 'mlflow', 'fs', 'mlflow', 'metrics')]);
    expect(spec.env).toMatchObject({
      PGHOST: '127.0.0.1',
      PGPORT: '40001',
      PGPASSWORD: ctx.secrets.postgresMlflow,
      OIDC_CLIENT_SECRET: ctx.secrets.clientSecret,
      OIDC_USERS_DB_URI: `postgresql://mlflow:${ctx.secrets.postgresMlflow}@127.0.0.1:40001/mlflow_auth`,
      // helm keeps its generated Secret across upgrades; the stack keeps one value across restarts
      MLFLOW_FLASK_SERVER_SECRET_KEY: ctx.secrets.flaskServerSecretKey,
      OTHER: 'rendered',
      REQUESTS_CA_BUNDLE: ctx.tls.caCert,
      PYTHONUNBUFFERED: '1',
    });
    expect(spec.secretKeys).toEqual(expect.arrayContaining(['PGPASSWORD', 'OIDC_CLIENT_SECRET', 'MLFLOW_FLASK_SERVER_SECRET_KEY']));
    expect(spec.migration).toBeUndefined();
  } finally {
    cleanup();
  }
});

test('a chart whose spec the local target cannot run is refused in one line naming what', () => {
  const { ctx, cleanup } = context();
  const chart = { version: '9.9.9', path: '/c', source: 'MLFLOW_CHART_PATH' as const };
  try {
    const shell = `          command: ["/bin/sh", "-c"]\n          args: ["exec mlflow server"]`;
    expect(() => serverSpecFromManifest(deployment(shell), chart, ctx, environment(ctx))).toThrow(/starts its container with `\/bin\/sh -c exec mlflow server`, not `mlflow …`/);
    const unknown = `            - secretRef: { name: someone-elses-secret }`;
    const manifest = deployment(mlflowCommand).replace('            - secretRef: { name: mlflow-oidc-config }', `            - secretRef: { name: mlflow-oidc-config }\n${unknown}`);
    let error: unknown;
    try {
      serverSpecFromManifest(manifest, chart, ctx, environment(ctx));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HarnessError);
    expect(String((error as Error).message)).toMatch(/reads Secret someone-elses-secret \(envFrom\), not rendered by the chart, which the local target cannot provide/);
  } finally {
    cleanup();
  }
});

test('HARNESS_SERVER_SPEC changes only the MLflow part of the fingerprint', () => {
  const set = loadPinSet(undefined);
  const a = fingerprints(describeStack(loadHarnessEnv({}, none), set));
  const b = fingerprints(describeStack(loadHarnessEnv({ HARNESS_SERVER_SPEC: 'chart', MLFLOW_CHART_PATH: '/some/charts/mlflow' }, none), set));
  expect(b.base).toBe(a.base);
  expect(b.realm).toBe(a.realm);
  expect(b.mlflow).not.toBe(a.mlflow);
  expect(() => loadHarnessEnv({ HARNESS_SERVER_SPEC: 'helm' }, none)).toThrow(/Expected HARNESS_SERVER_SPEC to be one of harness, chart, got `helm`/);
});

const chartPath = process.env.MLFLOW_CHART_PATH ? resolve(process.env.MLFLOW_CHART_PATH) : undefined;
const cachedHelm = join(cacheDir(), 'helm', HELM_VERSION, 'helm');
const helm = existsSync(cachedHelm) ? cachedHelm : findOnPath('helm');

test('with the chart of the pin set, the chart\'s spec starts exactly what the harness\'s renderer starts', async () => {
  test.skip(!chartPath || !helm, 'needs MLFLOW_CHART_PATH (a charts/mlflow folder) and helm (npm run chart-parity caches one)');
  test.skip(!pinSetFor(chartPath!), 'no pin set uses this chart version');
  const { ctx, cleanup } = context(chartPath);
  try {
    const values = clusterChartValues(ctx.desc, loadHarnessEnv({}, none));
    const prepared = prepareChart(chartPath!, values);
    let manifest: string;
    try {
      manifest = await helmTemplate(helm!, cacheDir(), prepared.renderDir, ctx.desc.namespace, values);
    } finally {
      prepared.cleanup();
    }
    const harnessEnv = environment(ctx);
    const spec = serverSpecFromManifest(manifest, { version: 'x', path: chartPath!, source: 'MLFLOW_CHART_PATH' }, ctx, harnessEnv);
    expect(spec.args).toEqual(commandLine(ctx));
    expect(spec.env).toEqual(harnessEnv);
    expect(spec.migration?.script).toContain('_initialize_tables(');
    expect(spec.migration?.env.PGPASSWORD).toBe(ctx.secrets.postgresMlflow);
  } finally {
    cleanup();
  }
});
