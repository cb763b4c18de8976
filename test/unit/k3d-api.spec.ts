import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ETCD_VERSION, KUBERNETES_VERSION, kubeApiserverGoMod, stagingModules } from '../../provision/api-server/build.ts';
import { keycloakStandInCrds } from '../../provision/api-server/check.ts';
import { StrictApplier } from '../../provision/api-server/client.ts';
import { startApiServer, type ApiServer } from '../../provision/api-server/server.ts';
import { Kube } from '../../provision/k3d/kube.ts';
import { waitFor } from '../../provision/k3d/wait.ts';
import { cacheDir } from '../../provision/paths.ts';
import { CHARTS_IN_GO_MODULES, chartFromGoModule } from '../../provision/commands/k3d-api.ts';

const bins = { kubeApiserver: join(cacheDir(), 'kube-apiserver', KUBERNETES_VERSION, 'kube-apiserver'), etcd: join(cacheDir(), 'etcd', ETCD_VERSION, 'etcd') };

test('the kube-apiserver wrapper takes every staging module of k8s.io/kubernetes at the matching v0 release', () => {
  const upstream = 'module k8s.io/kubernetes\n\ngo 1.26.0\n\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tk8s.io/apiserver => ./staging/src/k8s.io/apiserver\n\tgithub.com/x/y => github.com/x/y v1.0.0\n)\n';
  const mod = kubeApiserverGoMod('v1.37.2', stagingModules(upstream), '1.26.0');
  expect(mod).toContain('require k8s.io/kubernetes v1.37.2');
  expect(mod).toContain('\tk8s.io/api => k8s.io/api v0.37.2');
  expect(mod).toContain('\tk8s.io/apiserver => k8s.io/apiserver v0.37.2');
  expect(mod).not.toContain('github.com/x/y');
});

test.describe('against a real kube-apiserver (no kubelet)', () => {
  test.describe.configure({ mode: 'serial' });
  let server: ApiServer;
  let dir: string;
  test.beforeAll(async () => {
    test.skip(!existsSync(bins.kubeApiserver) || !existsSync(bins.etcd), `not-applicable: no API server built on this machine (${bins.kubeApiserver}); \`npm run k3d-api\` builds it`);
    dir = mkdtempSync(join(tmpdir(), 'k3d-api-unit-'));
    server = await startApiServer(bins, dir);
  });
  test.afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const deployment = (securityContext: Record<string, unknown>): KubernetesObject => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1', securityContext }] } } },
  } as KubernetesObject);

  test('strict field validation refuses a misspelt field that the client library would silently drop, and accepts the right one', async () => {
    const api = new StrictApplier(server.kubeconfig);
    const wrong = await api.apply(deployment({ readOnlyRootFilesytem: true }), false);
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.message).toContain('securityContext.readOnlyRootFilesytem: field not declared in schema');
    expect(await api.apply(deployment({ readOnlyRootFilesystem: true }), false)).toEqual({ ok: true });
    // a dry run persists nothing
    expect(await api.exists(deployment({}))).toBe(false);
  });

  test('the Keycloak stand-in CRD serves only the profile\'s API version', async () => {
    const api = new StrictApplier(server.kubeconfig);
    for (const crd of keycloakStandInCrds('k8s.keycloak.org/v2beta1')) expect(await api.apply(crd, true)).toEqual({ ok: true });
    await waitFor({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', name: 'keycloaks.k8s.keycloak.org', for: 'condition', condition: 'Established', timeoutSeconds: 30 }, () => new Kube(server.kubeconfig));
    const cr = (apiVersion: string) => ({ apiVersion, kind: 'Keycloak', metadata: { name: 'kc', namespace: 'default' }, spec: { instances: 1 } }) as KubernetesObject;
    expect(await api.apply(cr('k8s.keycloak.org/v2beta1'), false)).toEqual({ ok: true });
    expect((await api.apply(cr('k8s.keycloak.org/v2alpha1'), false)).ok).toBe(false);
  });

  test('the executor\'s rollout wait ends only once the status says so (the check sets it: no kubelet here)', async () => {
    const api = new StrictApplier(server.kubeconfig);
    expect(await api.apply(deployment({}), true)).toEqual({ ok: true });
    const w = { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespace: 'default', name: 'web', for: 'rollout', timeoutSeconds: 3 } as const;
    await expect(waitFor(w, () => new Kube(server.kubeconfig))).rejects.toThrow(/did not finish its rollout within 3s \(last: 0\/1 available/);
    expect(await api.setStatus(w, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1, readyReplicas: 1 })).toEqual({ ok: true });
    await waitFor(w, () => new Kube(server.kubeconfig));
  });
});

test('a chart out of reach of Helm comes from a Go module only where one is recorded for that exact version', async () => {
  expect(CHARTS_IN_GO_MODULES['minio/minio@5.4.0']).toMatchObject({ module: 'github.com/minio/minio', path: 'helm/minio' });
  // nothing recorded: not run, and the reason says so (no download is tried)
  expect(await chartFromGoModule('minio/minio', '5.4.1')).toEqual({ notRun: 'no Go module carries it' });
  expect(await chartFromGoModule('community-charts/mlflow', '1.8.0')).toEqual({ notRun: 'no Go module carries it' });
});
