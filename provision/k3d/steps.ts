import { createHash } from 'node:crypto';

/**
 * One step of a k3d plan. A plan is data: `renderPlan` prints it, `executePlan` runs it, and the unit tests
 * read it. Secret values never appear in a step: they are `<secret:name>` placeholders, filled only when the
 * step runs (see placeholders.ts).
 */
export interface PlanStep {
  id: string;
  title: string;
  kind: 'command' | 'manifest' | 'values' | 'wait' | 'realm';
  /** command: the program and its arguments; manifest: the `kubectl apply` that receives the manifest. */
  argv?: string[];
  /** command: text fed to the program's stdin (may hold placeholders). */
  stdin?: string;
  /** manifest: one Kubernetes object (rendered to YAML); values: the content of `file` (rendered to YAML). */
  manifest?: unknown;
  /** values: where the YAML is written, relative to the plan's work folder. */
  file?: string;
  /**
   * What the step creates, as a key the observer can look for (`cluster:…`, `k8s:…`, `release:…`, `image:…`), or the
   * effect of a step that creates no object (`effect:<step id>`: its `effect` probe; `realm:<name>`: the live realm
   * matches the description). A reused cluster runs the step again when it is not found.
   */
  creates?: string;
  /** A step that makes no Kubernetes object: how to see that its effect is there (a command and lines its output must hold). */
  effect?: { argv: string[]; expect: string[] };
  /** Digest of what the step applies; set on every step that changes the cluster (see `satisfied`). */
  digest?: string;
  /** Kept only when one of these steps is kept (helm repo entries, values files, the image build). */
  neededBy?: string[];
  /** wait: the object or URL to wait for. */
  wait?: WaitTarget;
  /** realm: what configureRealm is given (its secrets come from the state folder when it runs). */
  realm?: { baseUrl: string; redirectUri: string; realm: string };
  /** A failure is reported and the plan goes on (teardown of things that may already be gone). */
  allowFailure?: boolean;
  /** command: the Helm release a `helm upgrade --install` installs, with its values (what the real-API check installs). */
  release?: { release: string; chart: string; version: string; namespace: string; values?: unknown };
  /** command: the merge patch a `kubectl patch --type merge` sends (what the real-API check sends). */
  patch?: ObjectRef & { body: unknown };
}

/** A Kubernetes object addressed through its API group (never the core group: waits are on apps and CRDs). */
export interface ObjectRef {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespace?: string;
  name: string;
}

export type WaitTarget =
  | (ObjectRef & { for: 'rollout'; timeoutSeconds: number; pods?: string })
  | (ObjectRef & { for: 'condition'; condition: string; timeoutSeconds: number; pods?: string })
  | { for: 'https'; url: string; status: number; caCert: string; timeoutSeconds: number };

/** What the cluster is observed to hold, as the plan needs it. */
export interface ObservedState {
  cluster: 'absent' | 'running' | 'stopped';
  registry: boolean;
  /** `creates` keys found to exist. */
  present: string[];
  /** Step id → digest the harness recorded in the cluster after the step succeeded. */
  applied: Record<string, string>;
}

export const NOTHING_OBSERVED: ObservedState = { cluster: 'absent', registry: false, present: [], applied: {} };

/** Short stable digest of what a step applies (placeholders, not secret values, go into it). */
export function digestOf(content: unknown): string {
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16);
}

/** A step that changes the cluster, with its digest computed from what it applies. */
export function mutating(step: Omit<PlanStep, 'digest'>): PlanStep {
  const { argv, stdin, manifest, realm, creates } = step;
  // (the effect probe is how the result is observed, not what is applied: it stays out of the digest)
  return { ...step, digest: digestOf({ argv, stdin, manifest, realm, creates }) };
}

/** The key under which an object appears in `creates` and `ObservedState.present`. */
export function objectKey(o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): string {
  return `k8s:${o.metadata.namespace ?? ''}/${resourceOf(o.apiVersion, o.kind)}/${o.metadata.name}`;
}

/** `kubectl get` resource name of a kind (plural, with the group when not core): `secrets`, `tlsstores.traefik.io`. */
export function resourceOf(apiVersion: string, kind: string): string {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const lower = kind.toLowerCase();
  const plural = lower.endsWith('s') ? `${lower}es` : lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
  return group ? `${plural}.${group}` : plural;
}

/** ConfigMap where the harness records, per step id, the digest it applied (read back by the observer). */
export const APPLIED_RECORD = { namespace: 'kube-system', name: 'mlflow-harness-applied' } as const;
