import { execa } from 'execa';
import { Kube } from './kube.ts';
import type { ClusterNames, K3dOptions } from './options.ts';
import { APPLIED_RECORD, NOTHING_OBSERVED, type ObservedState } from './steps.ts';

// What exists, read from k3d, the cluster API, Helm and the registry; planProvision decides from it.

async function json<T>(argv: string[], env: Record<string, string>): Promise<T> {
  const r = await execa(argv[0]!, argv.slice(1), { env: { ...process.env, ...env } });
  return JSON.parse(r.stdout || '[]') as T;
}

/** Whether `image` (host:port/repo:tag) is in the registry, through its HTTP API on loopback. */
async function imagePresent(image: string, port: number): Promise<boolean> {
  const m = /^[^/]+\/(.+):([^:/]+)$/.exec(image);
  if (!m) return false;
  const accept = ['application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');
  const res = await fetch(`http://127.0.0.1:${port}/v2/${m[1]}/manifests/${m[2]}`, { method: 'HEAD', headers: { accept } }).catch(() => undefined);
  return res?.status === 200;
}

/** Whether the object of a `k8s:<namespace>/<resource>/<name>` key exists. */
async function objectPresent(key: string, env: Record<string, string>): Promise<boolean> {
  const [namespace, resource, name] = key.slice('k8s:'.length).split('/') as [string, string, string];
  const argv = ['get', resource, name, '--ignore-not-found', '-o', 'name', ...(namespace ? ['-n', namespace] : [])];
  const r = await execa('kubectl', argv, { env: { ...process.env, ...env }, reject: false });
  return r.exitCode === 0 && r.stdout.trim() !== '';
}

/** Whether the cluster (running or stopped) and the registry exist, from k3d's own lists. */
export async function observeContainers(names: ClusterNames, env: Record<string, string> = {}): Promise<Pick<ObservedState, 'cluster' | 'registry'>> {
  const clusters = await json<{ name: string; serversRunning?: number }[]>(['k3d', 'cluster', 'list', '-o', 'json'], env);
  const registries = await json<{ name: string }[]>(['k3d', 'registry', 'list', '-o', 'json'], env);
  const found = clusters.find((c) => c.name === names.clusterName);
  return { cluster: !found ? 'absent' : found.serversRunning ? 'running' : 'stopped', registry: registries.some((r) => r.name === names.registry.name) };
}

/**
 * The observed state for the given `creates` keys (those of the full plan). Writes the cluster's kubeconfig
 * (the kubectl and Helm calls read it) when the cluster runs.
 */
export async function observeCluster(opts: K3dOptions, keys: string[], env: Record<string, string>): Promise<ObservedState> {
  const { cluster, registry } = await observeContainers(opts, env);
  if (cluster !== 'running') return { ...NOTHING_OBSERVED, cluster, registry };

  await execa('k3d', ['kubeconfig', 'write', opts.clusterName, '--output', env.KUBECONFIG!, '--overwrite']);
  const kube = new Kube(env.KUBECONFIG!);
  const record = await kube.core.readNamespacedConfigMap(APPLIED_RECORD).catch(() => undefined);
  const releases = await json<{ name: string; namespace: string; chart: string; status: string }[]>(['helm', 'list', '-A', '-o', 'json'], env);

  const present: string[] = [];
  await Promise.all(keys.map(async (key) => {
    let found = false;
    if (key === `cluster:${opts.clusterName}`) found = true;
    else if (key.startsWith('k8s:')) found = await objectPresent(key, env);
    else if (key.startsWith('image:')) found = await imagePresent(key.slice('image:'.length), opts.registry.port);
    else if (key.startsWith('release:')) {
      const [where, version] = key.slice('release:'.length).split('@') as [string, string];
      const [namespace, name] = where.split('/');
      found = releases.some((r) => r.name === name && r.namespace === namespace && r.status === 'deployed' && r.chart.endsWith(`-${version}`));
    }
    if (found) present.push(key);
  }));
  return { cluster: 'running', registry, present: present.sort(), applied: record?.data ?? {} };
}
