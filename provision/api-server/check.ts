import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import type { StackDescription } from '../config/stack.ts';
import { HarnessError } from '../errors.ts';
import { Kube } from '../k3d/kube.ts';
import type { K3dOptions } from '../k3d/options.ts';
import { fillObject, type SecretName } from '../k3d/placeholders.ts';
import { planProvision } from '../k3d/plan.ts';
import type { PlanStep, WaitTarget } from '../k3d/steps.ts';
import { waitFor } from '../k3d/wait.ts';
import type { PlatformProfile } from '../platform/profile.ts';
import { StrictApplier } from './client.ts';

/**
 * The k3d plan against a real API server (no kubelet, no controllers but the API server's): every manifest is
 * sent as a server-side apply with dry run and strict field validation, then applied (later steps and waits need
 * it); Helm releases are rendered and their objects checked the same way where the chart is at hand; waits run
 * the executor's own `waitFor` against objects whose status this check sets (nothing else would: no kubelet).
 */
export type Result = 'accepted' | 'refused' | 'passed' | 'failed' | 'not-run';

export interface ApiRow {
  step: string;
  object: string;
  result: Result;
  message?: string;
}

/** Where the CRDs come from: the Go module proxy for CNPG and Traefik; a stand-in for the Keycloak operator. */
export interface CrdSource {
  name: string;
  source: string;
  objects: KubernetesObject[];
}

const describe = (o: KubernetesObject) => `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;

/** YAML documents of a folder's files (`.yaml`/`.yml`), in name order. */
export function yamlObjects(dir: string, filter: (file: string) => boolean = () => true): KubernetesObject[] {
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && filter(f)).sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as KubernetesObject))
    // a folder may hold a kustomization.yaml next to the manifests: not an API object
    .filter((o) => o && typeof o === 'object' && o.kind && !String(o.apiVersion).startsWith('kustomize.config.k8s.io'));
}

/** A Go module's folder in the module cache (`go mod download`), e.g. the CRD YAML a repository ships. */
export async function goModuleDir(path: string, version: string): Promise<string> {
  const r = await execa('go', ['mod', 'download', '-json', `${path}@${version}`], { reject: false });
  const info = JSON.parse(String(r.stdout) || '{}') as { Dir?: string; Error?: string };
  if (r.exitCode !== 0 || !info.Dir) throw new HarnessError(`${path}@${version} is not available from the Go module proxy: ${info.Error ?? r.stderr}`);
  return info.Dir;
}

/**
 * A permissive CRD standing in for the Keycloak operator's (keycloak-k8s-resources is served by no registry this
 * project reaches): it serves the profile's API version, so a CR of another version is refused, but any field is
 * accepted. With HARNESS_KEYCLOAK_K8S_RESOURCES (a checkout at the operator's tag) the real CRDs are used.
 */
export function keycloakStandInCrds(apiVersion: string): KubernetesObject[] {
  const version = apiVersion.split('/')[1]!;
  const crd = (plural: string, kind: string) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.k8s.keycloak.org` },
    spec: {
      group: 'k8s.keycloak.org',
      scope: 'Namespaced',
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
      versions: [{ name: version, served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  }) as KubernetesObject;
  return [crd('keycloaks', 'Keycloak'), crd('keycloakrealmimports', 'KeycloakRealmImport')];
}

export async function crdSources(p: PlatformProfile, keycloakResources?: string): Promise<CrdSource[]> {
  const cnpg = await goModuleDir('github.com/cloudnative-pg/cloudnative-pg', `v${p.cnpg.operatorVersion}`);
  const traefik = await goModuleDir('github.com/traefik/traefik-helm-chart', `v${p.traefik.crdChart}+incompatible`);
  const kcDir = keycloakResources ? join(keycloakResources, 'kubernetes') : undefined;
  return [
    { name: 'CloudNativePG', source: `github.com/cloudnative-pg/cloudnative-pg@v${p.cnpg.operatorVersion} config/crd/bases (Go module proxy)`, objects: yamlObjects(join(cnpg, 'config', 'crd', 'bases')) },
    { name: 'Traefik', source: `github.com/traefik/traefik-helm-chart@v${p.traefik.crdChart} traefik/crds (Go module proxy)`, objects: yamlObjects(join(traefik, 'traefik', 'crds')) },
    kcDir && existsSync(kcDir)
      ? { name: 'Keycloak operator', source: `${kcDir} (HARNESS_KEYCLOAK_K8S_RESOURCES)`, objects: yamlObjects(kcDir, (f) => f.includes('k8s.keycloak.org')) }
      : { name: 'Keycloak operator', source: `stand-in: serves ${p.keycloak.apiVersion}, fields unchecked — keycloak-k8s-resources ${p.keycloak.operator} is not served by any registry reached here`, objects: keycloakStandInCrds(p.keycloak.apiVersion) },
  ];
}

/** What a ready object's status looks like to the executor's waits (rollout: every replica updated and available). */
function readyStatus(w: Extract<WaitTarget, { for: 'rollout' | 'condition' }>): unknown {
  if (w.for === 'rollout') return { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1, readyReplicas: 1, conditions: [{ type: 'Available', status: 'True', reason: 'SetByApiCheck' }] };
  return { conditions: [{ type: w.condition, status: 'True', reason: 'SetByApiCheck', message: 'set by the API check: no controller runs here', lastTransitionTime: new Date().toISOString() }] };
}

/** A minimal object a wait can watch when the plan's own could not be created here (its chart is not at hand). */
function standInFor(w: Extract<WaitTarget, { for: 'rollout' | 'condition' }>): KubernetesObject | undefined {
  const meta = { name: w.name, ...(w.namespace ? { namespace: w.namespace } : {}) };
  if (w.kind === 'Deployment') {
    const labels = Object.fromEntries((w.pods ?? `app=${w.name}`).split(',').map((kv) => kv.split('=') as [string, string]));
    return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta, spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: w.name, image: 'stand-in' }] } } } } as KubernetesObject;
  }
  if (w.kind === 'Cluster') return { apiVersion: `${w.group}/${w.version}`, kind: 'Cluster', metadata: meta, spec: { instances: 1, storage: { size: '1Gi' } } } as KubernetesObject;
  if (w.kind === 'Keycloak') return { apiVersion: `${w.group}/${w.version}`, kind: 'Keycloak', metadata: meta, spec: { instances: 1 } } as KubernetesObject;
  return undefined;
}

export interface CheckInputs {
  kubeconfig: string;
  desc: StackDescription;
  opts: K3dOptions;
  secrets: Partial<Record<SecretName, string>>;
  /** The rendered objects of a Helm release (`helm template`), or why they cannot be had here. */
  renderRelease: (step: PlanStep) => Promise<KubernetesObject[] | { notRun: string }>;
  /** The Keycloak operator's manifests (kubernetes.yml) when a checkout of keycloak-k8s-resources is given. */
  keycloakOperator?: KubernetesObject[];
}

/** Every step of the plan from nothing, against the API server: one row per object, patch and wait. */
export async function checkPlan(inp: CheckInputs): Promise<ApiRow[]> {
  const api = new StrictApplier(inp.kubeconfig);
  const rows: ApiRow[] = [];
  const check = async (step: string, o: KubernetesObject) => {
    const dry = await api.apply(o, false);
    // persisted so that later objects (in its namespace) and the waits find it; a webhook is not: no operator
    // pod serves it here, and the API server would send it every later object of its kinds
    const webhook = /WebhookConfiguration$/.test(o.kind ?? '');
    rows.push({ step, object: describe(o), result: dry.ok ? 'accepted' : 'refused', ...(dry.ok ? (webhook ? { message: 'checked, not kept: no operator pod serves the webhook here' } : {}) : { message: dry.message }) });
    if (dry.ok && !webhook) await api.apply(o, true);
  };
  for (const s of planProvision(inp.desc, inp.opts)) {
    if (s.kind === 'manifest') {
      await check(s.id, fillObject(s.manifest, inp.secrets) as KubernetesObject);
    } else if (s.kind === 'command' && s.release) {
      const objects = await inp.renderRelease(s);
      if ('notRun' in objects) rows.push({ step: s.id, object: `Helm release ${s.release.namespace}/${s.release.release} (${s.release.chart} ${s.release.version})`, result: 'not-run', message: objects.notRun });
      else for (const o of objects) await check(s.id, { ...o, metadata: { ...o.metadata, namespace: o.metadata?.namespace ?? (isClusterScoped(o) ? undefined : s.release.namespace) } } as KubernetesObject);
    } else if (s.kind === 'command' && s.patch) {
      const { group, version, kind, namespace, name, body } = s.patch;
      const ref = { apiVersion: `${group}/${version}`, kind, metadata: { name, ...(namespace ? { namespace } : {}) } } as KubernetesObject;
      if (!(await api.exists(ref))) await api.apply(standInFor({ group, version, kind, plural: s.patch.plural, name, ...(namespace ? { namespace } : {}), for: 'condition', condition: 'Ready', timeoutSeconds: 1 })!, true);
      const r = await api.mergePatch(ref, body);
      rows.push({ step: s.id, object: `patch ${describe(ref)}`, result: r.ok ? 'accepted' : 'refused', ...(r.ok ? {} : { message: r.message }) });
    } else if (s.kind === 'command' && s.argv?.[0] === 'kubectl' && s.argv[1] === 'apply' && s.argv.includes('-f') && /^https:/.test(s.argv.at(-1)!)) {
      const file = s.argv.at(-1)!.split('/').pop()!;
      if (file.includes('k8s.keycloak.org')) rows.push({ step: s.id, object: file, result: 'not-run', message: 'the CRDs were installed before the plan (see crds)' });
      else if (inp.keycloakOperator) for (const o of inp.keycloakOperator) await check(s.id, { ...o, metadata: { ...o.metadata, namespace: o.metadata?.namespace ?? (isClusterScoped(o) ? undefined : 'keycloak') } } as KubernetesObject);
      else rows.push({ step: s.id, object: file, result: 'not-run', message: 'keycloak-k8s-resources is served by no registry reached here (set HARNESS_KEYCLOAK_K8S_RESOURCES to a checkout at the operator\'s tag)' });
    } else if (s.kind === 'command') {
      const why = s.argv?.[0] === 'k3d' || s.argv?.[0] === 'docker' ? 'needs Docker (the executor runs it; test/unit/k3d-plan.spec.ts covers it with stand-in tools)'
        : s.argv?.[1] === 'exec' ? 'needs a running pod (no kubelet here)'
        : s.argv?.[0] === 'helm' && s.argv[1] === 'repo' ? 'a Helm repository entry (the charts are rendered from the cache here)'
        : s.argv?.[1] === 'patch' ? 'a JSON patch of an object the operator manifests create'
        : 'not an API object';
      rows.push({ step: s.id, object: s.argv!.slice(0, 3).join(' '), result: 'not-run', message: why });
    } else if (s.kind === 'wait') {
      const w = s.wait!;
      if (w.for === 'https') { rows.push({ step: s.id, object: w.url, result: 'not-run', message: 'needs Traefik and running pods' }); continue; }
      let note = '';
      const ref = { apiVersion: w.group ? `${w.group}/${w.version}` : w.version, kind: w.kind, metadata: { name: w.name, ...(w.namespace ? { namespace: w.namespace } : {}) } } as KubernetesObject;
      if (w.kind !== 'CustomResourceDefinition') {
        if (!(await api.exists(ref))) {
          const standIn = standInFor(w);
          if (standIn) { await api.apply(standIn, true); note = 'stand-in object (its chart was not installed here); '; }
        }
        const set = await api.setStatus(w, readyStatus(w));
        if (!set.ok) { rows.push({ step: s.id, object: describe(ref), result: 'failed', message: `status not set: ${set.message}` }); continue; }
        note += 'status set by the check (no kubelet or operator runs here)';
      } else {
        note = 'Established by the API server itself';
      }
      try {
        await waitFor({ ...w, timeoutSeconds: Math.min(w.timeoutSeconds, 20) }, () => new Kube(inp.kubeconfig));
        rows.push({ step: s.id, object: describe(ref), result: 'passed', message: note });
      } catch (e) {
        rows.push({ step: s.id, object: describe(ref), result: 'failed', message: (e as Error).message.split('\n')[0] });
      }
    } else if (s.kind === 'realm') {
      rows.push({ step: s.id, object: `realm ${s.realm!.realm}`, result: 'not-run', message: 'needs Keycloak running' });
    }
  }
  return rows;
}

const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'PriorityClass', 'StorageClass', 'PersistentVolume']);
const isClusterScoped = (o: KubernetesObject) => CLUSTER_SCOPED.has(o.kind ?? '');

/** Installs the CRDs (persisted) and waits until each is Established. */
export async function installCrds(kubeconfig: string, sources: CrdSource[]): Promise<ApiRow[]> {
  const api = new StrictApplier(kubeconfig);
  const rows: ApiRow[] = [];
  const accepted: { src: CrdSource; crd: KubernetesObject }[] = [];
  for (const src of sources) {
    for (const crd of src.objects) {
      const r = await api.apply(crd, true);
      rows.push({ step: `crd (${src.name})`, object: describe(crd), result: r.ok ? 'accepted' : 'refused', message: r.ok ? src.source : `${r.message} (${src.source})` });
      if (r.ok) accepted.push({ src, crd });
    }
  }
  // all applied first, then waited for together: one by one, each wait cost a polling interval (about 50 s for 37)
  const waits = await Promise.all(accepted.map(async ({ src, crd }) => {
    try {
      await waitFor({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', name: crd.metadata!.name!, for: 'condition', condition: 'Established', timeoutSeconds: 30 }, () => new Kube(kubeconfig));
      return undefined;
    } catch (e) {
      return { step: `crd (${src.name})`, object: describe(crd), result: 'failed', message: (e as Error).message.split('\n')[0] } as ApiRow;
    }
  }));
  rows.push(...waits.filter((w): w is ApiRow => w !== undefined));
  return rows;
}
