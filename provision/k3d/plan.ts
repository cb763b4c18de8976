import { join } from 'node:path';
import { publicUrl, type StackDescription } from '../config/stack.ts';
import * as m from './manifests.ts';
import { buildContext, type ClusterNames, type K3dOptions } from './options.ts';
import { databasesScript } from './sql.ts';
import { digestOf, mutating, NOTHING_OBSERVED, objectKey, type ObservedState, type PlanStep, type WaitTarget } from './steps.ts';
import { helmWaitFlag, type PlatformProfile } from '../platform/profile.ts';
import { cnpgOperatorValues, minioValues, mlflowValues, postgresClusterValues, registriesConfig } from './values.ts';

// The k3d target as data: buun-stack's install order (postgres::install, minio::install, keycloak::install,
// mlflow::install: postgres/justfile, minio/justfile, keycloak/justfile, mlflow/justfile of buun-ch/buun-stack at
// the platform profile's commit) on a k3d cluster with its own registry, k3s's Traefik in front. planProvision is
// pure: the same description, options and observed state always give the same steps.

/** Helm repositories buun-stack's recipes add (add-helm-repo of postgres/, minio/ and mlflow/justfile). */
export const HELM_REPOS = {
  cnpg: { name: 'cnpg', url: 'https://cloudnative-pg.github.io/charts' },
  minio: { name: 'minio', url: 'https://charts.min.io/' },
  community: { name: 'community-charts', url: 'https://community-charts.github.io/helm-charts' },
} as const;

export interface HelmRelease {
  release: string;
  chart: string;
  version: string;
  namespace: string;
}

/** The Helm releases of the plan, at the profile's versions. */
export function releases(platform: PlatformProfile, chartVersion: string, namespace: string) {
  return {
    cnpgOperator: { release: 'cnpg', chart: 'cnpg/cloudnative-pg', version: platform.cnpg.operatorChart, namespace: 'postgres' },
    postgresCluster: { release: 'postgres-cluster', chart: 'cnpg/cluster', version: platform.cnpg.clusterChart, namespace: 'postgres' },
    minio: { release: 'minio', chart: 'minio/minio', version: platform.minio.chart, namespace: 'minio' },
    mlflow: { release: 'mlflow', chart: 'community-charts/mlflow', version: chartVersion, namespace },
  } satisfies Record<string, HelmRelease>;
}

/** Environment every command of the plan runs with: the cluster's own kubeconfig and Helm repository files. */
export function commandEnv(workDir: string): Record<string, string> {
  return {
    KUBECONFIG: join(workDir, 'kubeconfig'),
    HELM_REPOSITORY_CONFIG: join(workDir, 'helm', 'repositories.yaml'),
    HELM_REPOSITORY_CACHE: join(workDir, 'helm', 'cache'),
  };
}

export const imageRef = (opts: K3dOptions) => `${opts.registry.host}/mlflow:${opts.imageTag}`;

/** The description as the options place it: one https port, chart version and image tag for every step. */
function placed(desc: StackDescription, opts: K3dOptions): StackDescription {
  return {
    ...desc,
    hosts: { ...desc.hosts, httpsPort: opts.httpsPort },
    versions: { ...desc.versions, chart: opts.chartVersion, imageTag: opts.imageTag },
  };
}

/** `kubectl apply` of one object (fed on stdin, placeholders filled). */
function apply(object: m.K8sObject, title: string, id: string): PlanStep {
  return mutating({ id, title, kind: 'manifest', argv: ['kubectl', 'apply', '-f', '-'], manifest: object, creates: objectKey(object) });
}

function wait(id: string, title: string, target: WaitTarget): PlanStep {
  return { id, title, kind: 'wait', wait: target };
}

const rollout = (namespace: string, name: string, timeoutSeconds: number, pods: string): WaitTarget =>
  ({ group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespace, name, for: 'rollout', timeoutSeconds, pods });

const crdEstablished = (name: string): WaitTarget =>
  ({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', name, for: 'condition', condition: 'Established', timeoutSeconds: 180 });

/** `helm repo add` (only when a release from it is planned). */
function helmRepo(repo: { name: string; url: string }, neededBy: string[]): PlanStep {
  return { id: `helm-repo-${repo.name}`, title: `Helm repository ${repo.name}`, kind: 'command', argv: ['helm', 'repo', 'add', repo.name, repo.url, '--force-update'], neededBy };
}

/**
 * `helm upgrade --install` as buun-stack runs it, with the release's wait as its recipe has it (`--wait`,
 * `--wait=legacy` on Helm 4, or none where the recipe waits by itself); its digest covers the values, so changed
 * values upgrade. The values file is the step's `valuesFile` (the real-API check reads it from there).
 */
function helmRelease(id: string, title: string, r: HelmRelease, wait: string | undefined, values?: { file: string; content: unknown }): PlanStep {
  const argv = ['helm', 'upgrade', '--cleanup-on-fail', '--install', r.release, r.chart, '--version', r.version, '-n', r.namespace];
  if (wait) argv.push(wait, '--timeout', '10m');
  if (values) argv.push('-f', values.file);
  const creates = `release:${r.namespace}/${r.release}@${r.version}`;
  return { id, title, kind: 'command', argv, creates, release: { ...r, ...(values ? { values: values.content } : {}) }, digest: digestOf({ argv, creates, values: values?.content ?? null }) };
}

function valuesFile(id: string, title: string, opts: K3dOptions, file: string, content: unknown, neededBy: string[]): PlanStep {
  return { id, title, kind: 'values', file: join(opts.workDir, file), manifest: content, neededBy };
}

/** How a reused cluster shows that the databases step's effect is there: the three databases and the MLflow user. */
function databasesProbe(d: StackDescription): { argv: string[]; expect: string[] } {
  const { user, databases } = d.postgres;
  const names = [databases.tracking, databases.auth, databases.keycloak];
  const list = names.map((n) => `'${n.replace(/'/g, "''")}'`).join(', ');
  const sql = `SELECT 'database ' || datname FROM pg_database WHERE datname IN (${list}) UNION ALL SELECT 'role ' || rolname FROM pg_roles WHERE rolname = '${user.replace(/'/g, "''")}' AND rolcanlogin`;
  return {
    argv: ['kubectl', 'exec', '-n', m.POSTGRES_NS, 'postgres-cluster-1', '-c', 'postgres', '--', 'psql', '-tA', '-c', sql],
    expect: [...names.map((n) => `database ${n}`), `role ${user}`],
  };
}

/** Every step of a provision from nothing, in order. */
export function fullPlan(description: StackDescription, opts: K3dOptions): PlanStep[] {
  const d = placed(description, opts);
  const ns = d.namespace;
  const kcUrl = publicUrl(d.hosts.keycloak, d.hosts.httpsPort);
  const mlflowUrl = publicUrl(d.hosts.mlflow, d.hosts.httpsPort);
  const registries = registriesConfig(opts);
  const registriesFile = join(opts.workDir, 'registries.yaml');
  const clusterArgv = [
    'k3d', 'cluster', 'create', opts.clusterName,
    '--registry-create', `${opts.registry.name}:127.0.0.1:${opts.registry.port}`,
    '--registry-config', registriesFile,
    // Traefik's websecure (443) on the loopback https port: *.localhost names reach it without /etc/hosts edits
    '--port', `127.0.0.1:${opts.httpsPort}:443@loadbalancer`,
    // the same names inside the cluster (CoreDNS), at the Service in front of Traefik (manifests.ts)
    '--host-alias', `${m.PUBLIC_HTTPS_IP}:${d.hosts.keycloak},${d.hosts.mlflow}`,
    '--kubeconfig-update-default=false',
    '--wait', '--timeout', '300s',
  ];
  const platform = opts.platform;
  const rel = releases(platform, opts.chartVersion, ns);
  const waits = platform.helm.waits;
  const pgValues = postgresClusterValues(platform);
  const opValues = cnpgOperatorValues(platform);
  const mnValues = minioValues(platform, opts.minioImage);
  const mlValues = mlflowValues(d, opts);
  const image = imageRef(opts);
  const kc = platform.keycloak;
  const keycloakOperator = m.keycloakOperatorManifests(kc.operator);
  const keycloakCr = m.keycloak(d, platform, opts.keycloakVersion);
  const keycloakImage = (keycloakCr.spec as { image: string }).image;
  const [kcGroup, kcVersion] = kc.apiVersion.split('/') as [string, string];
  const realm = { baseUrl: kcUrl, redirectUri: `${mlflowUrl}${d.keycloak.client.redirectPath}`, realm: d.keycloak.realm };
  const labels: Record<string, Record<string, string>> = { [m.POSTGRES_NS]: platform.cnpg.namespaceLabels, [m.MINIO_NS]: platform.minio.namespaceLabels, [m.KEYCLOAK_NS]: kc.namespaceLabels };
  const minioTitle = `${mnValues.image.repository}:${mnValues.image.tag}`;

  return [
    valuesFile('registries', 'registries.yaml: IMAGE_REGISTRY served by the cluster registry', opts, 'registries.yaml', registries, ['cluster']),
    { id: 'cluster', title: `k3d cluster ${opts.clusterName} with registry ${opts.registry.name}`, kind: 'command', argv: clusterArgv, creates: `cluster:${opts.clusterName}`, digest: digestOf({ clusterArgv, registries }) },
    { id: 'kubeconfig', title: 'kubeconfig of the cluster (the state folder, not ~/.kube/config)', kind: 'command', argv: ['k3d', 'kubeconfig', 'write', opts.clusterName, '--output', join(opts.workDir, 'kubeconfig'), '--overwrite'] },
    wait('traefik-crd-tlsstores', 'Traefik CRD TLSStore', crdEstablished('tlsstores.traefik.io')),
    wait('traefik-crd-middlewares', 'Traefik CRD Middleware', crdEstablished('middlewares.traefik.io')),
    wait('traefik', 'Traefik (k3s)', rollout('kube-system', 'traefik', 300, 'app.kubernetes.io/name=traefik')),

    ...[m.POSTGRES_NS, m.MINIO_NS, m.KEYCLOAK_NS, ns].map((n) => apply(m.namespace(n, labels[n]), `namespace ${n}`, `namespace-${n}`)),
    apply(m.tlsSecret(opts.tls.cert), 'TLS Secret stack-tls (stack certificate)', 'tls-secret'),
    apply(m.tlsStore(), 'Traefik TLSStore default → stack-tls', 'tls-store'),
    apply(m.publicHttpsService(d.hosts.httpsPort), `public https port inside the cluster (${m.PUBLIC_HTTPS_IP}:${d.hosts.httpsPort} → Traefik)`, 'public-https'),

    helmRepo(HELM_REPOS.cnpg, ['cnpg-operator', 'postgres-cluster']),
    ...(opValues ? [valuesFile('cnpg-operator-values', 'values of the CloudNativePG operator (cnpg-values.yaml)', opts, 'cnpg-values.yaml', opValues, ['cnpg-operator'])] : []),
    helmRelease('cnpg-operator', `CloudNativePG operator (${rel.cnpgOperator.chart} ${rel.cnpgOperator.version}, operator ${platform.cnpg.operatorVersion})`, rel.cnpgOperator, helmWaitFlag(waits.cnpgOperator),
      opValues ? { file: join(opts.workDir, 'cnpg-values.yaml'), content: opValues } : undefined),
    apply(m.postgresSuperuserSecret(), 'Secret postgres-cluster-superuser', 'postgres-superuser-secret'),
    valuesFile('postgres-cluster-values', 'values of the PostgreSQL cluster', opts, 'postgres-cluster-values.yaml', pgValues, ['postgres-cluster']),
    helmRelease('postgres-cluster', `PostgreSQL ${platform.cnpg.postgresMajor} cluster (${rel.postgresCluster.chart} ${rel.postgresCluster.version})`, rel.postgresCluster, helmWaitFlag(waits.postgresCluster),
      { file: join(opts.workDir, 'postgres-cluster-values.yaml'), content: pgValues }),
    ...(platform.cnpg.seccompProfile
      ? [mutating({
          id: 'postgres-seccomp',
          title: `seccomp profile ${platform.cnpg.seccompProfile} of the PostgreSQL cluster (kubectl patch, as buun-stack's create-cluster)`,
          kind: 'command',
          argv: ['kubectl', 'patch', 'clusters.postgresql.cnpg.io', 'postgres-cluster', '-n', m.POSTGRES_NS, '--type', 'merge', '-p', JSON.stringify({ spec: { seccompProfile: { type: platform.cnpg.seccompProfile } } })],
          patch: { group: 'postgresql.cnpg.io', version: 'v1', plural: 'clusters', kind: 'Cluster', namespace: m.POSTGRES_NS, name: 'postgres-cluster', body: { spec: { seccompProfile: { type: platform.cnpg.seccompProfile } } } },
        })]
      : []),
    wait('postgres-ready', 'PostgreSQL cluster Ready', { group: 'postgresql.cnpg.io', version: 'v1', plural: 'clusters', kind: 'Cluster', namespace: m.POSTGRES_NS, name: 'postgres-cluster', for: 'condition', condition: 'Ready', timeoutSeconds: 300, pods: 'cnpg.io/cluster=postgres-cluster' }),
    mutating({
      id: 'databases',
      title: `databases ${d.postgres.databases.tracking}, ${d.postgres.databases.auth}, ${d.postgres.databases.keycloak} and user ${d.postgres.user}`,
      kind: 'command',
      argv: ['kubectl', 'exec', '-i', '-n', m.POSTGRES_NS, 'postgres-cluster-1', '-c', 'postgres', '--', 'psql', '-v', 'ON_ERROR_STOP=1', '-q'],
      stdin: databasesScript(d),
      creates: 'effect:databases',
      effect: databasesProbe(d),
    }),

    apply(m.minioSecret(platform.minio.rootUser), `Secret minio (root user ${platform.minio.rootUser})`, 'minio-secret'),
    helmRepo(HELM_REPOS.minio, ['minio']),
    valuesFile('minio-values', 'values of MinIO (minio-values.yaml)', opts, 'minio-values.yaml', mnValues, ['minio']),
    helmRelease('minio', `MinIO (${rel.minio.chart} ${rel.minio.version}, ${minioTitle})`, rel.minio, helmWaitFlag(waits.minio), { file: join(opts.workDir, 'minio-values.yaml'), content: mnValues }),
    wait('minio-ready', 'MinIO rolled out', rollout(m.MINIO_NS, 'minio', 300, 'app=minio')),
    mutating({
      id: 'bucket',
      title: `bucket ${d.s3.bucket}`,
      kind: 'command',
      // the credentials stay inside the pod: the shell reads them from the container's environment
      argv: ['kubectl', 'exec', '-n', m.MINIO_NS, 'deploy/minio', '--', 'sh', '-c',
        `mc alias set local http://localhost:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null && mc mb --ignore-existing local/${d.s3.bucket}`],
      creates: 'effect:bucket',
      effect: {
        argv: ['kubectl', 'exec', '-n', m.MINIO_NS, 'deploy/minio', '--', 'sh', '-c',
          `mc alias set local http://localhost:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null && mc stat local/${d.s3.bucket} >/dev/null && echo bucket ${d.s3.bucket}`],
        expect: [`bucket ${d.s3.bucket}`],
      },
    }),

    ...keycloakOperator.map((o) => mutating({ id: o.id, title: `Keycloak operator ${kc.operator}: ${o.url.split('/').pop()}`, kind: 'command', argv: ['kubectl', 'apply', '-n', m.KEYCLOAK_NS, '-f', o.url], creates: o.creates })),
    wait('keycloak-operator-ready', 'Keycloak operator rolled out', rollout(m.KEYCLOAK_NS, 'keycloak-operator', 300, 'app.kubernetes.io/name=keycloak-operator')),
    ...(kc.operatorMemory
      ? [mutating({
          id: 'keycloak-operator-memory',
          title: `Keycloak operator memory ${kc.operatorMemory.request}/${kc.operatorMemory.limit} (kubectl patch, as buun-stack's install-operator)`,
          kind: 'command',
          argv: ['kubectl', 'patch', 'deployment', 'keycloak-operator', '-n', m.KEYCLOAK_NS, '--type', 'json', '-p', JSON.stringify([
            { op: 'replace', path: '/spec/template/spec/containers/0/resources/requests/memory', value: kc.operatorMemory.request },
            { op: 'replace', path: '/spec/template/spec/containers/0/resources/limits/memory', value: kc.operatorMemory.limit },
          ])],
        }),
        wait('keycloak-operator-patched', 'Keycloak operator rolled out again', rollout(m.KEYCLOAK_NS, 'keycloak-operator', 300, 'app.kubernetes.io/name=keycloak-operator'))]
      : []),
    apply(m.keycloakDatabaseSecret(d), 'Secret database-config (Keycloak database)', 'keycloak-db-secret'),
    apply(m.keycloakAdminSecret(), 'Secret keycloak-bootstrap-admin', 'keycloak-admin-secret'),
    apply(keycloakCr, `Keycloak ${keycloakImage} (${kc.apiVersion}, hostname ${kcUrl}, proxy headers xforwarded)`, 'keycloak'),
    apply(m.keycloakIngress(d), `Ingress ${d.hosts.keycloak}`, 'keycloak-ingress'),
    wait('keycloak-ready', 'Keycloak Ready', { group: kcGroup, version: kcVersion, plural: 'keycloaks', kind: 'Keycloak', namespace: m.KEYCLOAK_NS, name: 'keycloak', for: 'condition', condition: 'Ready', timeoutSeconds: 600, pods: 'app=keycloak' }),
    wait('keycloak-https', `Keycloak through the ingress`, { for: 'https', url: `${kcUrl}/realms/master`, status: 200, caCert: opts.tls.caCert, timeoutSeconds: 180 }),
    { id: 'realm', title: `realm ${d.keycloak.realm} (configureRealm through the ingress)`, kind: 'realm', realm, creates: `realm:${d.keycloak.realm}`, digest: digestOf({ realm, description: d.keycloak }) },

    apply(m.mlflowDbSecret(d), 'Secret mlflow-db-secret', 'mlflow-db-secret'),
    apply(m.mlflowS3Secret(d, platform.minio.rootUser), 'Secret mlflow-s3-secret', 'mlflow-s3-secret'),
    apply(m.mlflowOidcSecret(d), 'Secret mlflow-oidc-config', 'mlflow-oidc-config'),
    apply(m.caConfigMap(d, opts.tls.caCert), 'ConfigMap stack-ca (the MLflow pod trusts the stack CA)', 'mlflow-stack-ca'),
    apply(m.mlflowHeadersMiddleware(d), 'Traefik Middleware mlflow-headers', 'mlflow-headers'),

    { id: 'image-build', title: `build ${image}`, kind: 'command', argv: ['docker', 'build', '-t', image, '-f', opts.dockerfile, buildContext(opts)], neededBy: ['image-push'] },
    { id: 'image-push', title: `push ${image}`, kind: 'command', argv: ['docker', 'push', image], creates: `image:${image}`, digest: digestOf({ image, dockerfile: opts.dockerfileDigest }) },
    helmRepo(HELM_REPOS.community, ['mlflow']),
    valuesFile('mlflow-values', 'values of the mlflow chart (renderChartValues)', opts, 'values.yaml', mlValues, ['mlflow']),
    helmRelease('mlflow', `MLflow (community-charts/mlflow ${opts.chartVersion}, image ${image})`, rel.mlflow, helmWaitFlag(waits.mlflow), { file: join(opts.workDir, 'values.yaml'), content: mlValues }),
    wait('mlflow-ready', 'MLflow rolled out', rollout(ns, 'mlflow', 600, 'app.kubernetes.io/name=mlflow')),
    wait('mlflow-https', 'MLflow through the ingress', { for: 'https', url: `${mlflowUrl}/health`, status: 200, caCert: opts.tls.caCert, timeoutSeconds: 180 }),
  ];
}

/** A step is already done when the cluster holds what it creates and the harness recorded the same digest. */
export function satisfied(step: PlanStep, observed: ObservedState): boolean {
  return step.digest !== undefined && observed.applied[step.id] === step.digest && (!step.creates || observed.present.includes(step.creates));
}

/**
 * The steps a provision runs against what is observed. Steps already done are left out; waits stay (they
 * check the reused cluster is ready); `helm upgrade` runs only when its release is missing, at another chart
 * version or given other values. A cluster made with other settings (port, registry, host names), or stopped,
 * is deleted and made anew; a registry left without its cluster is deleted first.
 */
export function planProvision(desc: StackDescription, opts: K3dOptions, observed: ObservedState = NOTHING_OBSERVED): PlanStep[] {
  const all = fullPlan(desc, opts);
  const cluster = all.find((s) => s.id === 'cluster')!;
  const reuse = observed.cluster === 'running' && observed.registry && satisfied(cluster, observed);
  const removal = reuse ? [] : planTeardown(opts, observed);
  const current = reuse ? observed : NOTHING_OBSERVED;
  const kept = all.filter((s) => s.digest === undefined || !satisfied(s, current));
  const changing = new Set(kept.filter((s) => s.digest !== undefined).map((s) => s.id));
  return [...removal, ...kept.filter((s) => !s.neededBy || s.neededBy.some((id) => changing.has(id)))];
}

/** `k3d cluster delete` (it takes the registry attached only to it along) and the registry, if they exist. */
export function planTeardown(opts: ClusterNames, observed: Pick<ObservedState, 'cluster' | 'registry'>): PlanStep[] {
  const steps: PlanStep[] = [];
  if (observed.cluster !== 'absent') {
    steps.push({ id: 'cluster-delete', title: `delete k3d cluster ${opts.clusterName}`, kind: 'command', argv: ['k3d', 'cluster', 'delete', opts.clusterName] });
  }
  if (observed.registry) {
    steps.push({
      id: 'registry-delete',
      title: `delete registry ${opts.registry.name}`,
      kind: 'command',
      argv: ['k3d', 'registry', 'delete', opts.registry.name],
      // gone already when the cluster delete above took it along
      allowFailure: observed.cluster !== 'absent',
    });
  }
  return steps;
}

/** What a successful run of `steps` leaves behind, on top of `before` (the executor records the same). */
export function stateAfter(steps: PlanStep[], before: ObservedState = NOTHING_OBSERVED): ObservedState {
  const deleted = steps.some((s) => s.id === 'cluster-delete');
  const base = deleted ? NOTHING_OBSERVED : before;
  const present = new Set(base.present);
  const applied = { ...base.applied };
  for (const s of steps) {
    if (s.creates) present.add(s.creates);
    if (s.digest) applied[s.id] = s.digest;
  }
  const created = steps.some((s) => s.id === 'cluster');
  return { cluster: created || (!deleted && base.cluster === 'running') ? 'running' : 'absent', registry: created || (!deleted && base.registry), present: [...present], applied };
}
