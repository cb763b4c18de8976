import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { kubeconfigPath } from '../../provision/k3d/options.ts';
import { rolloutState } from '../../provision/k3d/kube.ts';
import { stateDir } from '../../provision/paths.ts';
import { observeDifference } from '../support/claims.ts';
import { test, expect } from '../support/fixtures.ts';

// [C30] on a cluster target: the chart's single mlflow pod with its two init containers, the secrets it reads,
// and a rollout restart. Read through the cluster API (@kubernetes/client-node) with the target's kubeconfig.

test.describe.configure({ mode: 'serial' });
test.beforeEach(({ target }) => {
  test.skip(!target.capabilities.cluster, `not-applicable: the ${target.target} target has no cluster API (the claim is about the Kubernetes deployment)`);
});

/** The MLflow namespace the stack was provisioned with (the state folder's description). */
function mlflowNamespace(): string {
  const f = join(stateDir(), 'description.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { namespace: string }).namespace : 'mlflow';
}

function cluster() {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath(stateDir()));
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), namespace: mlflowNamespace() };
}

/** The chart's selector labels (release mlflow): the pods of Deployment mlflow, without those being deleted. */
async function mlflowPods(core: CoreV1Api, namespace: string): Promise<V1Pod[]> {
  const list = await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=mlflow,app.kubernetes.io/instance=mlflow' });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

test('[C30] one mlflow-* pod is Running; its init containers dbchecker and mlflow-db-migration completed', async () => {
  const { core, namespace } = cluster();
  const pods = await mlflowPods(core, namespace);
  expect(pods.map((p) => p.metadata?.name)).toEqual([expect.stringMatching(/^mlflow-[a-z0-9]+-[a-z0-9]+$/)]);
  const pod = pods[0]!;
  expect(pod.status?.phase).toBe('Running');
  expect(pod.status?.containerStatuses?.map((c) => [c.name, c.ready])).toEqual([['mlflow', true]]);
  const init = pod.status?.initContainerStatuses?.map((c) => [c.name, c.state?.terminated?.reason]);
  expect(init).toEqual([['dbchecker', 'Completed'], ['mlflow-db-migration', 'Completed']]);

  // the seed expects pods (or a job) named mlflow-db-migration-* and mlflow-dbchecker-*
  const all = (await core.listNamespacedPod({ namespace })).items.map((p) => p.metadata?.name ?? '');
  const seedPods = all.filter((n) => /^mlflow-(db-migration|dbchecker)-/.test(n));
  observeDifference('no-migration-pods', seedPods.length > 0, `pods in ${namespace}: ${all.join(', ')}`);
});

test('[C30] the Secrets mlflow-db-secret, mlflow-s3-secret and mlflow-oidc-config hold their keys', async ({ target }) => {
  const { core, namespace } = cluster();
  const expected: Record<string, string[]> = {
    'mlflow-db-secret': ['password', 'username'],
    'mlflow-s3-secret': ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
    'mlflow-oidc-config': ['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_USERS_DB_URI'],
  };
  for (const [name, keys] of Object.entries(expected)) {
    const data = (await core.readNamespacedSecret({ name, namespace })).data ?? {};
    // keys and emptiness only: the values are never put into a message
    expect(Object.keys(data).sort(), `keys of Secret ${name}`).toEqual(keys);
    for (const k of keys) expect(Buffer.from(data[k] ?? '', 'base64').length > 0, `${name}.${k} is not empty`).toBe(true);
  }
  const oidc = (await core.readNamespacedSecret({ name: 'mlflow-oidc-config', namespace })).data!;
  expect(Buffer.from(oidc.OIDC_CLIENT_ID!, 'base64').toString()).toBe(target.clientId);
  expect(Buffer.from(oidc.OIDC_USERS_DB_URI!, 'base64').toString().startsWith('postgresql://')).toBe(true);
});

test('[C30] a rollout restart brings the server back healthy', async ({ target, request }) => {
  test.setTimeout(480_000);
  const { core, apps, namespace } = cluster();
  const before = (await mlflowPods(core, namespace)).map((p) => p.metadata?.name);
  // what `kubectl rollout restart deployment/mlflow` does: a new pod-template annotation
  await apps.patchNamespacedDeployment(
    { name: 'mlflow', namespace, body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } } },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  // done only once the controller has seen the new template and the old pod is gone
  await expect.poll(async () => {
    const state = rolloutState(await apps.readNamespacedDeployment({ name: 'mlflow', namespace }));
    return state.done ? 'rolled out' : state.summary;
  }, { message: 'Deployment mlflow rolls out the restarted pod', timeout: 420_000, intervals: [2_000, 5_000] }).toBe('rolled out');
  const after = await mlflowPods(core, namespace);
  expect(after).toHaveLength(1);
  expect(before).not.toContain(after[0]!.metadata?.name);
  await expect.poll(async () => (await request.get(`${target.mlflowUrl}/health`)).status(), { timeout: 60_000 }).toBe(200);
});
