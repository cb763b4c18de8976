import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { Kube } from '../../provision/k3d/kube.ts';
import { liveRunner } from '../../provision/k3d/live-runner.ts';
import type { PlanStep } from '../../provision/k3d/steps.ts';
import { waitFor } from '../../provision/k3d/wait.ts';

// The cluster API calls of the k3d target (@kubernetes/client-node 1.x) against a small stand-in API server:
// the paths, verbs, content types and 404 handling the client produces, without a cluster.

interface Call {
  method: string;
  path: string;
  contentType?: string;
  body?: unknown;
}

const deployment = (available: number) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'mlflow', namespace: 'mlflow', generation: 2 },
  spec: { replicas: 1, selector: { matchLabels: { app: 'mlflow' } } },
  status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: available },
});

const pod = {
  metadata: { name: 'mlflow-7d9c-abcde', namespace: 'mlflow', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { containers: [{ name: 'mlflow' }] },
  status: {
    initContainerStatuses: [
      { name: 'dbchecker', ready: false, restartCount: 0, image: '', imageID: '', state: { terminated: { reason: 'Completed', exitCode: 0 } } },
      { name: 'mlflow-db-migration', ready: false, restartCount: 0, image: '', imageID: '', state: { running: {} } },
    ],
  },
};

class FakeApiServer {
  readonly calls: Call[] = [];
  available = 0;
  configMap: Record<string, string> | undefined;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const url = new URL(req.url ?? '/', this.url);
    this.calls.push({ method: req.method ?? '', path: `${url.pathname}${url.search}`, contentType: req.headers['content-type'], body: text ? JSON.parse(text) : undefined });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const notFound = () => json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
    const p = url.pathname;
    if (req.method === 'GET' && p === '/apis/apps/v1/namespaces/mlflow/deployments/mlflow') return json(200, deployment(this.available));
    if (req.method === 'GET' && p === '/api/v1/namespaces/mlflow/events') {
      return json(200, { kind: 'EventList', apiVersion: 'v1', metadata: {}, items: [
        { metadata: { name: 'e2' }, involvedObject: { kind: 'Pod', name: 'mlflow-7d9c-abcde' }, type: 'Warning', reason: 'BackOff', message: 'Back-off restarting', lastTimestamp: '2026-01-01T00:02:00Z' },
        { metadata: { name: 'e1' }, involvedObject: { kind: 'Deployment', name: 'mlflow' }, type: 'Normal', reason: 'ScalingReplicaSet', message: 'Scaled up', lastTimestamp: '2026-01-01T00:01:00Z' },
        { metadata: { name: 'e0' }, involvedObject: { kind: 'Pod', name: 'minio-1' }, type: 'Normal', reason: 'Pulled', message: 'other object', lastTimestamp: '2026-01-01T00:00:00Z' },
      ] });
    }
    if (req.method === 'GET' && p === '/api/v1/namespaces/mlflow/pods') return json(200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [pod] });
    if (req.method === 'GET' && p === '/api/v1/namespaces/mlflow/pods/mlflow-7d9c-abcde/log') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('alembic upgrade\nKeyError: config\n');
      return;
    }
    if (p === '/api/v1/namespaces/kube-system/configmaps/mlflow-harness-applied' && req.method === 'PATCH') {
      if (!this.configMap) return notFound();
      Object.assign(this.configMap, (JSON.parse(text) as { data: Record<string, string> }).data);
      return json(200, { metadata: { name: 'mlflow-harness-applied' }, data: this.configMap });
    }
    if (p === '/api/v1/namespaces/kube-system/configmaps' && req.method === 'POST') {
      this.configMap = { ...(JSON.parse(text) as { data: Record<string, string> }).data };
      return json(201, { metadata: { name: 'mlflow-harness-applied' }, data: this.configMap });
    }
    return notFound();
  }
}

let api: FakeApiServer;
let kubeconfig: string;
test.beforeEach(async () => {
  api = new FakeApiServer();
  await api.start();
  const dir = mkdtempSync(join(tmpdir(), 'k3d-kube-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: fake',
    'clusters: [{name: fake, cluster: {server: "' + api.url + '", insecure-skip-tls-verify: true}}]',
    'users: [{name: fake, user: {token: not-a-secret}}]',
    'contexts: [{name: fake, context: {cluster: fake, user: fake}}]', '',
  ].join('\n'));
});
test.afterEach(() => api.stop());

test('objects are read through their API group; a missing object is undefined, not an error', async () => {
  const kube = new Kube(kubeconfig);
  const ref = { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespace: 'mlflow' };
  expect((await kube.get({ ...ref, name: 'mlflow' }))?.spec?.replicas).toBe(1);
  expect(await kube.get({ ...ref, name: 'missing' })).toBeUndefined();
  expect(api.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /apis/apps/v1/namespaces/mlflow/deployments/mlflow', 'GET /apis/apps/v1/namespaces/mlflow/deployments/missing']);
});

test('events are those of the object and its pods, oldest first; the log tail is the stuck init container\'s', async () => {
  const kube = new Kube(kubeconfig);
  expect(await kube.events('mlflow', 'mlflow')).toEqual(['Normal ScalingReplicaSet Deployment/mlflow: Scaled up', 'Warning BackOff Pod/mlflow-7d9c-abcde: Back-off restarting']);
  const tail = await kube.logTail('mlflow', 'app=mlflow');
  expect(tail).toBe('pod mlflow-7d9c-abcde, container mlflow-db-migration:\nalembic upgrade\nKeyError: config');
  expect(api.calls.map((c) => c.path)).toContain('/api/v1/namespaces/mlflow/pods?labelSelector=app%3Dmlflow');
  expect(api.calls.map((c) => c.path)).toContain('/api/v1/namespaces/mlflow/pods/mlflow-7d9c-abcde/log?container=mlflow-db-migration&tailLines=40');
});

test('a rollout wait ends when the Deployment is available', async () => {
  setTimeout(() => { api.available = 1; }, 300);
  await waitFor({ group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespace: 'mlflow', name: 'mlflow', for: 'rollout', timeoutSeconds: 20 }, () => new Kube(kubeconfig));
  expect(api.calls.filter((c) => c.path.endsWith('/deployments/mlflow')).length).toBeGreaterThanOrEqual(2);
});

test('applied digests are recorded in the cluster once this run wrote its kubeconfig, by merge patch; command logs hold no secret', async () => {
  const logDir = mkdtempSync(join(tmpdir(), 'k3d-logs-'));
  const runner = liveRunner({ env: {}, kubeconfig, logDir, caCert: '', redactions: { postgresMlflow: 'S3cretS3cretS3cret' }, realmInputs: () => { throw new Error('unused'); } });
  await runner.record('cluster', 'd1');
  expect(api.calls).toEqual([]); // a kubeconfig on disk may be an earlier cluster's: nothing is sent yet
  const kubeconfigStep: PlanStep = { id: 'kubeconfig', title: 'kubeconfig', kind: 'command', argv: [process.execPath, '-e', "console.log('wrote S3cretS3cretS3cret')"] };
  const r = await runner.command(kubeconfigStep, kubeconfigStep.argv!, undefined);
  expect(r).toEqual({ exitCode: 0, output: 'wrote <secret:postgresMlflow>' });
  expect(readFileSync(join(logDir, 'kubeconfig.log'), 'utf8')).not.toContain('S3cretS3cretS3cret');
  await runner.record('namespace-mlflow', 'd2');
  expect(api.configMap).toEqual({ cluster: 'd1', 'namespace-mlflow': 'd2' });
  await runner.record('realm', 'd3');
  expect(api.configMap).toEqual({ cluster: 'd1', 'namespace-mlflow': 'd2', realm: 'd3' });
  const patches = api.calls.filter((c) => c.method === 'PATCH');
  expect(patches.map((c) => c.contentType)).toEqual(['application/merge-patch+json', 'application/merge-patch+json']);
  expect(api.calls.map((c) => c.method)).toEqual(['PATCH', 'POST', 'PATCH']);
});
