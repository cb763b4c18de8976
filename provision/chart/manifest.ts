import { parseAllDocuments } from 'yaml';
import { HarnessError } from '../errors.ts';

/** One object of a rendered manifest (only the fields chart-parity reads). */
export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, unknown> | null;
  stringData?: Record<string, unknown> | null;
  spec?: unknown;
}

interface EnvVarSpec {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name?: string; key: string; optional?: boolean };
    configMapKeyRef?: { name?: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { resource: string };
  };
}

interface EnvFromSpec {
  prefix?: string;
  secretRef?: { name?: string; optional?: boolean };
  configMapRef?: { name?: string; optional?: boolean };
}

interface ContainerSpecRaw {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVarSpec[];
  envFrom?: EnvFromSpec[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  securityContext?: Record<string, unknown>;
  resources?: Record<string, unknown>;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  livenessProbe?: Record<string, unknown>;
  readinessProbe?: Record<string, unknown>;
  startupProbe?: Record<string, unknown>;
}

interface PodSpecRaw {
  containers?: ContainerSpecRaw[];
  initContainers?: ContainerSpecRaw[];
  volumes?: ({ name: string; configMap?: { name?: string }; secret?: { secretName?: string } } & Record<string, unknown>)[];
  securityContext?: Record<string, unknown>;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
}

/** The pod around the `mlflow` container: what runs it, with which limits, checks, ports and writable places. */
export interface ChartPod {
  serviceAccount: string;
  podSecurityContext: Record<string, unknown>;
  securityContext: Record<string, unknown>;
  resources: Record<string, unknown>;
  ports: string[];
  probes: Record<string, unknown>;
  /** The container's mounts, each with the kind of volume behind it (`emptyDir`, `configMap x`, …). */
  mounts: { path: string; volume: string; source: string; readOnly: boolean }[];
}

/** Where a variable of the container's environment comes from. */
export type EnvOrigin =
  | { type: 'value' }
  | { type: 'configMapKeyRef' | 'secretKeyRef'; name: string; key: string; rendered: boolean }
  | { type: 'configMapRef' | 'secretRef'; name: string; key: string }
  | { type: 'fieldRef'; path: string };

/** One variable of the container's effective environment (Kubernetes precedence applied). */
export interface ChartEnvVar {
  name: string;
  /** The value when known and not secret: a literal or a key of a ConfigMap the chart renders. Never a secret. */
  value?: string;
  origin: EnvOrigin;
  /** It comes from a Secret: its value is never read into this structure. */
  secret: boolean;
  /** Set to a non-empty value (`unknown` when it comes from an object the chart does not render). */
  present: boolean | 'unknown';
  /** The definitions it wins over (env over envFrom, later envFrom over earlier), described. */
  overrides: string[];
}

/** An envFrom source the chart names but does not render (created next to the chart). */
export interface UnrenderedEnvFrom {
  type: 'secretRef' | 'configMapRef';
  name: string;
  prefix: string;
}

export interface MountedFile {
  path: string;
  configMap: string;
  key: string;
  /** The file's text when the chart renders that ConfigMap key. */
  content?: string;
}

export interface InitContainer {
  name: string;
  image: string;
  command: string[];
  args: string[];
  files: MountedFile[];
  /** Its effective environment, resolved as for the main container (secret values never kept). */
  env: ChartEnvVar[];
  unrenderedEnvFrom: UnrenderedEnvFrom[];
}

/** What chart-parity compares: the `mlflow` container of the Deployment and the init containers. */
export interface ChartSpec {
  deployment: string;
  container: {
    name: string;
    image: string;
    command: string[];
    args: string[];
    env: ChartEnvVar[];
    unrenderedEnvFrom: UnrenderedEnvFrom[];
  };
  initContainers: InitContainer[];
  /** The pod around the container (chart-parity compares it as `pod` rows). */
  pod: ChartPod;
}

/**
 * Parses the multi-document output of `helm template`; empty documents are skipped. YAML 1.1, as Helm and the
 * Kubernetes tools read it: a chart's `defaultMode: 0777` is octal (511), not the decimal 777 of YAML 1.2.
 */
export function parseManifest(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text, { version: '1.1' })) {
    if (doc.errors.length > 0) throw new HarnessError(`The rendered manifest is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
    const value: unknown = doc.toJS();
    if (value && typeof value === 'object' && !Array.isArray(value)) out.push(value as K8sObject);
  }
  return out;
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function podSpec(o: K8sObject): PodSpecRaw | undefined {
  const template = isObj(o.spec) ? o.spec.template : undefined;
  const spec = isObj(template) ? template.spec : undefined;
  return isObj(spec) ? (spec as PodSpecRaw) : undefined;
}

/** Rendered ConfigMaps: name → key → text. */
function configMaps(docs: K8sObject[]): Map<string, Record<string, string>> {
  const m = new Map<string, Record<string, string>>();
  for (const o of docs) {
    if (o.kind !== 'ConfigMap' || !o.metadata?.name) continue;
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.data ?? {})) data[k] = v == null ? '' : String(v);
    m.set(o.metadata.name, data);
  }
  return m;
}

/** Rendered Secrets: name → key → whether it holds a non-empty value. The values themselves are never kept. */
function secretKeys(docs: K8sObject[]): Map<string, Record<string, boolean>> {
  const m = new Map<string, Record<string, boolean>>();
  for (const o of docs) {
    if (o.kind !== 'Secret' || !o.metadata?.name) continue;
    const keys: Record<string, boolean> = {};
    for (const [k, v] of Object.entries(o.data ?? {})) keys[k] = v != null && String(v) !== '';
    for (const [k, v] of Object.entries(o.stringData ?? {})) keys[k] = v != null && String(v) !== '';
    m.set(o.metadata.name, keys);
  }
  return m;
}

/**
 * The value of key `key` of a Secret the chart renders (`data` decoded from base64, or `stringData`); undefined
 * when the chart does not render it. Only the local target's server spec reads values: what a pod would get.
 */
export function renderedSecretValue(docs: K8sObject[], name: string, key: string): string | undefined {
  const o = docs.find((d) => d.kind === 'Secret' && d.metadata?.name === name);
  if (!o) return undefined;
  const plain = o.stringData?.[key];
  if (plain != null) return String(plain);
  const encoded = o.data?.[key];
  return encoded == null ? undefined : Buffer.from(String(encoded), 'base64').toString('utf8');
}

export function describeOrigin(o: EnvOrigin): string {
  switch (o.type) {
    case 'value': return 'value';
    case 'fieldRef': return `fieldRef ${o.path}`;
    case 'configMapRef': return `envFrom configMap ${o.name}`;
    case 'secretRef': return `envFrom secret ${o.name}`;
    case 'configMapKeyRef': return `configMap ${o.name}/${o.key}${o.rendered ? '' : ' (not rendered by the chart)'}`;
    case 'secretKeyRef': return `secret ${o.name}/${o.key}${o.rendered ? '' : ' (not rendered by the chart)'}`;
  }
}

/** A valid environment variable name (Kubernetes skips other envFrom keys). */
const validName = (s: string) => /^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(s);

/**
 * The container's effective environment, as Kubernetes builds it: envFrom sources in order (a later one wins),
 * then env entries (which win over envFrom; a later duplicate wins). ConfigMap values the chart renders are
 * resolved; Secret values never are (only whether a key holds a value).
 */
export function resolveEnv(c: ContainerSpecRaw, docs: K8sObject[]): { env: ChartEnvVar[]; unrenderedEnvFrom: UnrenderedEnvFrom[] } {
  const cms = configMaps(docs);
  const secrets = secretKeys(docs);
  const byName = new Map<string, ChartEnvVar>();
  const unrenderedEnvFrom: UnrenderedEnvFrom[] = [];
  const put = (v: ChartEnvVar) => {
    const earlier = byName.get(v.name);
    if (earlier) v.overrides = [...earlier.overrides, describeOrigin(earlier.origin)];
    byName.delete(v.name); // keep the order of the winning definition
    byName.set(v.name, v);
  };
  for (const src of c.envFrom ?? []) {
    const prefix = src.prefix ?? '';
    if (src.configMapRef?.name) {
      const name = src.configMapRef.name;
      const data = cms.get(name);
      if (!data) { unrenderedEnvFrom.push({ type: 'configMapRef', name, prefix }); continue; }
      for (const [k, value] of Object.entries(data)) {
        if (!validName(prefix + k)) continue;
        put({ name: prefix + k, value, origin: { type: 'configMapRef', name, key: k }, secret: false, present: value !== '', overrides: [] });
      }
    } else if (src.secretRef?.name) {
      const name = src.secretRef.name;
      const keys = secrets.get(name);
      if (!keys) { unrenderedEnvFrom.push({ type: 'secretRef', name, prefix }); continue; }
      for (const [k, present] of Object.entries(keys)) {
        if (!validName(prefix + k)) continue;
        put({ name: prefix + k, origin: { type: 'secretRef', name, key: k }, secret: true, present, overrides: [] });
      }
    }
  }
  for (const e of c.env ?? []) {
    const from = e.valueFrom;
    if (from?.secretKeyRef) {
      const name = from.secretKeyRef.name ?? '';
      const keys = secrets.get(name);
      const present = keys ? keys[from.secretKeyRef.key] === true : 'unknown';
      put({ name: e.name, origin: { type: 'secretKeyRef', name, key: from.secretKeyRef.key, rendered: !!keys }, secret: true, present, overrides: [] });
    } else if (from?.configMapKeyRef) {
      const name = from.configMapKeyRef.name ?? '';
      const data = cms.get(name);
      const value = data?.[from.configMapKeyRef.key];
      put({
        name: e.name,
        ...(value !== undefined ? { value } : {}),
        origin: { type: 'configMapKeyRef', name, key: from.configMapKeyRef.key, rendered: !!data },
        secret: false,
        present: data ? value !== undefined && value !== '' : 'unknown',
        overrides: [],
      });
    } else if (from?.fieldRef || from?.resourceFieldRef) {
      const path = from.fieldRef?.fieldPath ?? `resource ${from.resourceFieldRef?.resource}`;
      put({ name: e.name, origin: { type: 'fieldRef', path }, secret: false, present: 'unknown', overrides: [] });
    } else {
      const value = e.value ?? '';
      put({ name: e.name, value, origin: { type: 'value' }, secret: false, present: value !== '', overrides: [] });
    }
  }
  return { env: [...byName.values()], unrenderedEnvFrom };
}

function mountedFiles(c: ContainerSpecRaw, pod: PodSpecRaw, docs: K8sObject[]): MountedFile[] {
  const cms = configMaps(docs);
  const files: MountedFile[] = [];
  for (const m of c.volumeMounts ?? []) {
    const vol = (pod.volumes ?? []).find((v) => v.name === m.name);
    const cmName = vol?.configMap?.name;
    if (!cmName) continue;
    const data = cms.get(cmName);
    const keys = m.subPath ? [m.subPath] : Object.keys(data ?? {});
    for (const key of keys) {
      const content = data?.[key];
      files.push({ path: m.subPath ? m.mountPath : `${m.mountPath.replace(/\/$/, '')}/${key}`, configMap: cmName, key, ...(content !== undefined ? { content } : {}) });
    }
  }
  return files;
}

/**
 * The container named `containerName` of the chart's Deployment (command, args, effective environment) and
 * the Deployment's init containers, from the parsed output of `helm template`.
 */
export function extractChartSpec(docs: K8sObject[], containerName = 'mlflow'): ChartSpec {
  const deployments = docs.filter((o) => o.kind === 'Deployment');
  for (const d of deployments) {
    const pod = podSpec(d);
    const c = pod?.containers?.find((x) => x.name === containerName);
    if (!pod || !c) continue;
    const { env, unrenderedEnvFrom } = resolveEnv(c, docs);
    const volumeSource = (name: string) => {
      const v = (pod.volumes ?? []).find((x) => x.name === name);
      if (!v) return 'missing';
      const kind = Object.keys(v).find((k) => k !== 'name') ?? '?';
      const ref = v.configMap?.name ?? v.secret?.secretName;
      return ref ? `${kind} ${ref}` : kind;
    };
    const probes: Record<string, unknown> = {};
    for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) if (c[k]) probes[k] = c[k];
    return {
      deployment: d.metadata?.name ?? '',
      pod: {
        serviceAccount: pod.serviceAccountName ?? 'default',
        podSecurityContext: pod.securityContext ?? {},
        securityContext: c.securityContext ?? {},
        resources: c.resources ?? {},
        ports: (c.ports ?? []).map((x) => `${x.name ?? ''}:${x.containerPort}/${x.protocol ?? 'TCP'}`),
        probes,
        mounts: (c.volumeMounts ?? []).map((m) => ({ path: m.mountPath, volume: m.name, source: volumeSource(m.name), readOnly: m.readOnly === true })),
      },
      container: { name: c.name, image: c.image ?? '', command: c.command ?? [], args: (c.args ?? []).map(String), env, unrenderedEnvFrom },
      initContainers: (pod.initContainers ?? []).map((i) => ({
        name: i.name,
        image: i.image ?? '',
        command: (i.command ?? []).map(String),
        args: (i.args ?? []).map(String),
        files: mountedFiles(i, pod, docs),
        ...resolveEnv(i, docs),
      })),
    };
  }
  const names = deployments.map((d) => d.metadata?.name ?? '?').join(', ') || 'none';
  throw new HarnessError(`The rendered chart has no Deployment with a container named \`${containerName}\` (Deployments: ${names})`,
    'check that the chart is community-charts/mlflow');
}
