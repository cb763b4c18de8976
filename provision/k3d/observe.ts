import { execa } from 'execa';
import { Kube } from './kube.ts';
import type { ClusterNames, K3dOptions } from './options.ts';
import { info } from '../progress.ts';
import { APPLIED_RECORD, NOTHING_OBSERVED, type ObservedState, type PlanStep } from './steps.ts';

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

/** How the effects of steps that make no object are observed; tests give their own. */
export interface EffectProbes {
  /** Runs a probe command (kubectl exec …) with the plan's environment. */
  run(argv: string[], env: Record<string, string>): Promise<{ exitCode: number; stdout: string }>;
  /** What differs between the live realm and the description (empty: it matches); absent: the realm cannot be checked. */
  realmDrift?(): Promise<string[]>;
}

export const liveProbes = (realmDrift?: () => Promise<string[]>): EffectProbes => ({
  async run(argv, env) {
    const r = await execa(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, reject: false });
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout) };
  },
  ...(realmDrift ? { realmDrift } : {}),
});

/**
 * Whether the effect of a step that makes no object is there: the probe's output holds every expected line (the
 * databases and the user exist, the bucket exists), or the live realm matches. What is missing is said.
 */
export async function effectPresent(step: PlanStep, env: Record<string, string>, probes: EffectProbes): Promise<boolean> {
  try {
    if (step.creates?.startsWith('realm:')) {
      if (!probes.realmDrift) return false;
      const drift = await probes.realmDrift();
      if (drift.length) info(`  ${step.creates}: ${drift.join('; ')} — configured again`);
      return drift.length === 0;
    }
    if (!step.effect) return false;
    const r = await probes.run(step.effect.argv, env);
    const lines = r.exitCode === 0 ? r.stdout.split('\n').map((l) => l.trim()) : [];
    const missing = step.effect.expect.filter((e) => !lines.includes(e));
    if (missing.length) info(`  ${step.creates}: ${r.exitCode === 0 ? `not found: ${missing.join(', ')}` : `the probe exited ${r.exitCode}`} — run again`);
    return missing.length === 0;
  } catch (e) {
    info(`  ${step.creates}: could not be observed (${String((e as Error).message ?? e).split('\n')[0]}) — run again`);
    return false;
  }
}

/**
 * The observed state for what the plan's steps create (those of the full plan). Writes the cluster's kubeconfig (the
 * kubectl and Helm calls read it) when the cluster runs. Steps that make no object are observed by their effect.
 */
export async function observeCluster(opts: K3dOptions, steps: PlanStep[], env: Record<string, string>, probes: EffectProbes = liveProbes()): Promise<ObservedState> {
  const { cluster, registry } = await observeContainers(opts, env);
  if (cluster !== 'running') return { ...NOTHING_OBSERVED, cluster, registry };

  await execa('k3d', ['kubeconfig', 'write', opts.clusterName, '--output', env.KUBECONFIG!, '--overwrite']);
  const kube = new Kube(env.KUBECONFIG!);
  const record = await kube.core.readNamespacedConfigMap(APPLIED_RECORD).catch(() => undefined);
  const releases = await json<{ name: string; namespace: string; chart: string; status: string }[]>(['helm', 'list', '-A', '-o', 'json'], env);

  const present: string[] = [];
  await Promise.all(steps.filter((s) => s.creates).map(async (s) => {
    const key = s.creates!;
    let found = false;
    if (key === `cluster:${opts.clusterName}`) found = true;
    else if (key.startsWith('k8s:')) found = await objectPresent(key, env);
    else if (key.startsWith('image:')) found = await imagePresent(key.slice('image:'.length), opts.registry.port);
    else if (key.startsWith('release:')) {
      const [where, version] = key.slice('release:'.length).split('@') as [string, string];
      const [namespace, name] = where.split('/');
      found = releases.some((r) => r.name === name && r.namespace === namespace && r.status === 'deployed' && r.chart.endsWith(`-${version}`));
    } else if (key.startsWith('effect:') || key.startsWith('realm:')) {
      // only worth a probe when the step's record says it was applied with these inputs
      found = record?.data?.[s.id] === s.digest && (await effectPresent(s, env, probes));
    }
    if (found) present.push(key);
  }));
  return { cluster: 'running', registry, present: present.sort(), applied: record?.data ?? {} };
}
