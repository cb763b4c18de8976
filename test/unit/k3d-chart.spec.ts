import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { test, expect } from '@playwright/test';
import { parse, parseAllDocuments } from 'yaml';
import { loadHarnessEnv } from '../../provision/config/env.ts';
import { loadPinSet, pinSetNames } from '../../provision/config/pin-sets.ts';
import { describeStack } from '../../provision/config/stack.ts';
import { helmTemplate, prepareChart } from '../../provision/chart/render.ts';
import { HELM_VERSION } from '../../provision/local/prereqs/helm.ts';
import { cacheDir } from '../../provision/paths.ts';
import { k3dOptions, readK3dEnv } from '../../provision/k3d/options.ts';
import { planProvision } from '../../provision/k3d/plan.ts';
import { findOnPath } from '../../provision/k3d/prereqs.ts';

// The k3d values through the real chart: `helm template` of the chart in MLFLOW_CHART_PATH (a checkout's
// charts/mlflow folder, as `npm run chart-parity` uses) with the pin set whose chart version it is. Helm
// validates the values against the chart's values.schema.json. Skipped when no chart folder or helm is at hand.

const chartPath = process.env.MLFLOW_CHART_PATH ? resolve(process.env.MLFLOW_CHART_PATH) : undefined;
const cachedHelm = join(cacheDir(), 'helm', HELM_VERSION, 'helm');
const helm = existsSync(cachedHelm) ? cachedHelm : findOnPath('helm');

interface Container { name: string; image: string; args?: string[]; env?: { name: string; value?: string }[]; envFrom?: { secretRef?: { name: string } }[]; volumeMounts?: { name: string; mountPath: string }[]; resources?: unknown; securityContext?: Record<string, unknown> }
interface Manifest { kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec: Record<string, unknown> }

test('the k3d values render through the chart of their pin set and carry the CA, the pinned migration image and buun-stack\'s flags', async () => {
  test.skip(!chartPath || !helm, 'needs MLFLOW_CHART_PATH (a charts/mlflow folder) and helm (npm run chart-parity caches one)');
  const version = String((parse(readFileSync(join(chartPath!, 'Chart.yaml'), 'utf8')) as { version: string }).version);
  const pins = pinSetNames().find((n) => loadPinSet(n).chart === version);
  test.skip(!pins, `no pin set uses chart ${version}`);
  const none = join(tmpdir(), 'no-such-env-file');
  const env = loadHarnessEnv({ HARNESS_TARGET: 'k3d' }, none);
  const set = loadPinSet(pins);
  const desc = describeStack(env, set);
  const opts = k3dOptions(env, desc, set, '/tmp/harness-k3d-chart-state', readK3dEnv({}, none));
  const values = planProvision(desc, opts).find((s) => s.id === 'mlflow-values')!.manifest;

  const { renderDir, cleanup } = prepareChart(chartPath!, values);
  let text: string;
  try {
    text = await helmTemplate(helm!, cacheDir(), renderDir, desc.namespace, values);
  } finally {
    cleanup();
  }
  const docs = parseAllDocuments(text).map((d) => d.toJSON() as Manifest).filter(Boolean);
  const deployment = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'mlflow')!;
  const pod = (deployment.spec.template as { spec: { initContainers: Container[]; containers: Container[]; volumes: { name: string; configMap?: { name: string } }[] } }).spec;
  expect(pod.initContainers.map((c) => c.name)).toEqual(['dbchecker', 'mlflow-db-migration']);
  expect(pod.initContainers[1]!.image).toBe(`burakince/mlflow:${desc.versions.mlflow}`);
  const main = pod.containers.find((c) => c.name === 'mlflow')!;
  expect(main.image).toBe(`localhost:30500/mlflow:${desc.versions.imageTag}`);
  expect(main.args).toEqual(expect.arrayContaining([
    `--app-name=${desc.mlflow.appName}`,
    '--allowed-hosts=mlflow.localhost,mlflow.localhost:8443,mlflow.mlflow.svc.cluster.local,mlflow.mlflow.svc.cluster.local:5000,*',
    '--workers=1',
  ]));
  // buun-stack turns the ServiceMonitor, and with it --expose-prometheus, on only with kube-prometheus-stack
  expect(main.args?.some((a) => a.startsWith('--expose-prometheus'))).toBe(false);
  expect(main.resources).toEqual({ limits: { cpu: '1000m', memory: '2Gi' }, requests: { cpu: '100m', memory: '512Mi' } });
  expect(main.securityContext).toMatchObject({ runAsUser: 1001, readOnlyRootFilesystem: false });
  const envOf = (name: string) => main.env?.find((e) => e.name === name)?.value;
  expect(envOf('REQUESTS_CA_BUNDLE')).toBe('/etc/harness-ca/ca.pem');
  expect(envOf('OIDC_DISCOVERY_URL')).toBe('https://keycloak.localhost:8443/realms/buunstack/.well-known/openid-configuration');
  expect(main.envFrom?.map((e) => e.secretRef?.name)).toContain('mlflow-oidc-config');
  expect(main.volumeMounts).toContainEqual(expect.objectContaining({ name: 'stack-ca', mountPath: '/etc/harness-ca' }));
  expect(pod.volumes).toContainEqual(expect.objectContaining({ name: 'stack-ca', configMap: { name: 'stack-ca' } }));
  const ingress = docs.find((d) => d.kind === 'Ingress')!;
  expect(ingress.metadata.annotations?.['traefik.ingress.kubernetes.io/router.middlewares']).toBe('mlflow-mlflow-headers@kubernetescrd');
  expect(docs.some((d) => d.kind === 'ServiceMonitor')).toBe(false);
});
