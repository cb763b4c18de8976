import { isDeepStrictEqual } from 'node:util';
import type { PinSet } from '../config/pin-sets.ts';
import type { StackDescription } from '../config/stack.ts';
import {
  dockerfilePins, gomplateDocuments, helmCommand, helmWait, justVariables, miseTool, namespaceLabels, realmSettings,
  recipe, recipeParameters, yamlFile, type BuunTree,
} from './buun-files.ts';
import type { PlatformProfile } from './profile.ts';

/**
 * `same`: buun-stack's file says what the profile (or pin set) says. `differs`: it says something else — the
 * harness has fallen behind its deployment. `not-modelled`: buun-stack does this and the harness does not (the
 * reason says why). `unread`: buun-stack leaves it to a chart default or a form this reader does not know.
 */
export type DriftVerdict = 'same' | 'differs' | 'not-modelled' | 'unread';

export interface DriftRow {
  component: string;
  key: string;
  /** What buun-stack's files say, and where (`path`); `—` when they say nothing. */
  buun: string;
  harness: string;
  verdict: DriftVerdict;
  where: string;
  reason?: string;
}

const show = (v: unknown) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

/** The pieces of one comparison: the component, key, buun-stack's value and file, the harness's value. */
interface Reading { component: string; key: string; buun: unknown; harness: unknown; where: string }

function compare(r: Reading): DriftRow {
  const row: DriftRow = { component: r.component, key: r.key, buun: show(r.buun), harness: show(r.harness), where: r.where, verdict: 'same' };
  if (r.buun === undefined) {
    row.verdict = 'unread';
    row.reason = `${r.where} does not say (a chart default, or the file is missing)`;
  } else if (!isDeepStrictEqual(r.buun, r.harness)) {
    row.verdict = 'differs';
  }
  return row;
}

const notModelled = (component: string, key: string, buun: unknown, where: string, reason: string): DriftRow =>
  ({ component, key, buun: show(buun), harness: '—', verdict: 'not-modelled', where, reason });

const get = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined), o);

function resourcesFromVars(v: Record<string, string>, prefix: string): unknown {
  const r = { requests: { cpu: v[`${prefix}_CPU_REQUEST`], memory: v[`${prefix}_MEMORY_REQUEST`] }, limits: { cpu: v[`${prefix}_CPU_LIMIT`], memory: v[`${prefix}_MEMORY_LIMIT`] } };
  return Object.values(r.requests).concat(Object.values(r.limits)).every((x) => x === undefined) ? undefined : r;
}

/** The environment a recipe exports to the script it runs: `export NAME={{ param }}` with the parameters' defaults. */
function recipeEnv(justfile: string | undefined, name: string): Record<string, string> {
  const params = recipeParameters(justfile, name);
  const env: Record<string, string> = {};
  for (const m of (recipe(justfile, name) ?? '').matchAll(/export\s+([A-Z_]+)=\{\{\s*([\w-]+)\s*\}\}/g)) if (params[m[2]!] !== undefined) env[m[1]!] = params[m[2]!]!;
  return env;
}

/** The image a buun-stack MinIO values file names (`repository:tag`), from the justfile's variables. */
function minioImage(vars: Record<string, string>, repo: string, tag: string): { repository: string; tag: string } | undefined {
  return vars[repo] && vars[tag] ? { repository: vars[repo]!, tag: vars[tag]! } : undefined;
}

/**
 * Every version and setting of the components around MLflow that buun-stack's files name, against the platform
 * profile and its pin set (with the stack description rendered from them). Pure: reads the tree only.
 */
export function driftRows(tree: BuunTree, p: PlatformProfile, set: PinSet, desc: StackDescription): DriftRow[] {
  const rows: DriftRow[] = [];
  const add = (r: Reading) => rows.push(compare(r));

  // Helm (mise.toml; the wait flag of each release's command)
  add({ component: 'helm', key: 'version', buun: miseTool(tree.read('mise.toml'), 'helm'), harness: p.helm.version, where: 'mise.toml' });

  // CloudNativePG and the PostgreSQL cluster
  const pgJust = tree.read('postgres/justfile');
  const pgVars = justVariables(pgJust);
  const pgTemplate = tree.read('postgres/postgres-cluster-values.gomplate.yaml');
  const pgValues = gomplateDocuments(pgTemplate)[0];
  const cnpgCommand = helmCommand(pgJust, 'cnpg');
  add({ component: 'cnpg', key: 'operator chart', buun: pgVars.CNPG_CHART_VERSION, harness: p.cnpg.operatorChart, where: 'postgres/justfile' });
  add({ component: 'cnpg', key: 'operator helm wait', buun: helmWait(cnpgCommand), harness: p.helm.waits.cnpgOperator, where: 'postgres/justfile' });
  add({ component: 'cnpg', key: 'operator values', buun: cnpgCommand?.includes('cnpg-values.yaml') ? yamlFile(tree.read('postgres/cnpg-values.yaml')) ?? {} : {}, harness: p.cnpg.operatorValues, where: 'postgres/cnpg-values.yaml' });
  add({ component: 'cnpg', key: 'namespace labels', buun: namespaceLabels(recipe(pgJust, 'install-cnpg')), harness: p.cnpg.namespaceLabels, where: 'postgres/justfile' });
  add({ component: 'cnpg', key: 'cluster chart', buun: pgVars.CNPG_CLUSTER_CHART_VERSION, harness: p.cnpg.clusterChart, where: 'postgres/justfile' });
  add({ component: 'cnpg', key: 'cluster helm wait', buun: helmWait(helmCommand(pgJust, 'postgres-cluster')), harness: p.helm.waits.postgresCluster, where: 'postgres/justfile' });
  add({ component: 'cnpg', key: 'PostgreSQL major', buun: pgVars.POSTGRES_VERSION === undefined ? undefined : Number(pgVars.POSTGRES_VERSION), harness: p.cnpg.postgresMajor, where: 'postgres/justfile' });
  add({ component: 'cnpg', key: 'instances', buun: get(pgValues, 'cluster.instances'), harness: p.cnpg.instances, where: 'postgres/postgres-cluster-values.gomplate.yaml' });
  add({ component: 'cnpg', key: 'storage', buun: pgVars.POSTGRES_STORAGE_SIZE, harness: p.cnpg.storage, where: 'postgres/justfile' });
  const usesResources = /POSTGRES_MEMORY_REQUEST/.test(pgTemplate ?? '');
  add({ component: 'cnpg', key: 'resources', buun: usesResources ? resourcesFromVars(pgVars, 'POSTGRES') : 'none', harness: p.cnpg.resources ?? 'none', where: 'postgres/justfile' });
  add({ component: 'cnpg', key: 'seccomp profile', buun: /POSTGRES_SECCOMP_PROFILE/.test(pgJust ?? '') ? pgVars.POSTGRES_SECCOMP_PROFILE : 'none', harness: p.cnpg.seccompProfile ?? 'none', where: 'postgres/justfile' });
  const params: Record<string, string> = {};
  if (pgVars.POSTGRES_MAX_CONNECTIONS) params.max_connections = pgVars.POSTGRES_MAX_CONNECTIONS;
  if (/file\.Read "parameters\.yaml"/.test(pgTemplate ?? '')) {
    for (const [k, v] of Object.entries(yamlFile(tree.read('postgres/parameters.example.yaml')) ?? {})) params[k] = String(v);
  }
  add({ component: 'cnpg', key: 'parameters', buun: Object.keys(params).length ? params : undefined, harness: p.cnpg.parameters, where: 'postgres/justfile, postgres/parameters.example.yaml' });
  add({ component: 'cnpg', key: 'initdb.postInitTemplateSQL', buun: get(pgValues, 'cluster.initdb.postInitTemplateSQL') ?? [], harness: p.cnpg.postInitTemplateSQL, where: 'postgres/postgres-cluster-values.gomplate.yaml' });

  // Keycloak operator and server
  const kcJust = tree.read('keycloak/justfile');
  const kcVars = justVariables(kcJust);
  const cr = gomplateDocuments(tree.read('keycloak/keycloak-cr.gomplate.yaml')).find((d) => d.kind === 'Keycloak');
  const spec = (cr?.spec ?? {}) as Record<string, unknown>;
  const crFile = 'keycloak/keycloak-cr.gomplate.yaml';
  add({ component: 'keycloak', key: 'operator', buun: kcVars.KEYCLOAK_OPERATOR_VERSION, harness: p.keycloak.operator, where: 'keycloak/justfile' });
  add({ component: 'keycloak', key: 'CR apiVersion', buun: cr?.apiVersion, harness: p.keycloak.apiVersion, where: crFile });
  add({ component: 'keycloak', key: 'server image', buun: spec.image, harness: p.keycloak.image, where: crFile });
  add({ component: 'keycloak', key: 'resources', buun: spec.resources, harness: p.keycloak.resources, where: crFile });
  add({ component: 'keycloak', key: 'additionalOptions', buun: spec.additionalOptions ?? [], harness: p.keycloak.additionalOptions, where: crFile });
  for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) {
    add({ component: 'keycloak', key: probe, buun: spec[probe] ?? 'none', harness: p.keycloak.probes?.[probe] ?? 'none', where: crFile });
  }
  add({ component: 'keycloak', key: 'unsupported.podTemplate', buun: get(spec, 'unsupported.podTemplate') ?? 'none', harness: p.keycloak.podTemplate ?? 'none', where: crFile });
  const install = recipe(kcJust, 'install-operator');
  const mem = (what: string) => new RegExp(`resources/${what}/memory",\\s*"value":\\s*"([^"]+)"`).exec(install ?? '')?.[1];
  add({ component: 'keycloak', key: 'operator memory', buun: mem('requests') ? { request: mem('requests'), limit: mem('limits') } : 'none', harness: p.keycloak.operatorMemory ?? 'none', where: 'keycloak/justfile' });
  add({ component: 'keycloak', key: 'namespace labels', buun: namespaceLabels(install), harness: p.keycloak.namespaceLabels, where: 'keycloak/justfile' });
  const hostname = get(spec, 'hostname.hostname');
  if (hostname !== undefined) rows.push(notModelled('keycloak', 'hostname', `${show(hostname)} (host name only)`, crFile, 'the harness gives a full URL (hostname v2): its public port is not 443'));

  // the realm: create-realm.ts with the create-realm recipe's defaults
  const realm = realmSettings(tree.read('keycloak/scripts/create-realm.ts'), recipeEnv(kcJust, 'create-realm'));
  for (const key of [...new Set([...Object.keys(realm.settings), ...Object.keys(desc.keycloak.tokenSettings)])]) {
    add({ component: 'realm', key, buun: realm.settings[key], harness: desc.keycloak.tokenSettings[key], where: 'keycloak/scripts/create-realm.ts, keycloak/justfile' });
  }
  for (const u of realm.unread) rows.push({ component: 'realm', key: u.split(':')[0]!, buun: u, harness: '—', verdict: 'unread', where: 'keycloak/scripts/create-realm.ts', reason: 'an expression this reader does not evaluate' });

  // MinIO
  const mnJust = tree.read('minio/justfile');
  const mnVars = justVariables(mnJust);
  const mnValues = gomplateDocuments(tree.read('minio/minio-values.gomplate.yaml'))[0] ?? {};
  const mnFile = 'minio/minio-values.gomplate.yaml';
  add({ component: 'minio', key: 'chart', buun: mnVars.MINIO_CHART_VERSION, harness: p.minio.chart, where: 'minio/justfile' });
  add({ component: 'minio', key: 'helm wait', buun: helmWait(helmCommand(mnJust, 'minio')), harness: p.helm.waits.minio, where: 'minio/justfile' });
  add({ component: 'minio', key: 'image', buun: get(mnValues, 'image') ? minioImage(mnVars, 'MINIO_IMAGE_REPO', 'MINIO_IMAGE_TAG') : undefined, harness: p.minio.image, where: 'minio/justfile' });
  add({ component: 'minio', key: 'mc image', buun: get(mnValues, 'mcImage') ? minioImage(mnVars, 'MINIO_MC_IMAGE_REPO', 'MINIO_MC_IMAGE_TAG') : 'chart default', harness: p.minio.mcImage ?? 'chart default', where: 'minio/justfile' });
  add({ component: 'minio', key: 'root user', buun: /username="([^"]+)"/.exec(recipe(mnJust, 'create-root-credentials') ?? '')?.[1], harness: p.minio.rootUser, where: 'minio/justfile' });
  add({ component: 'minio', key: 'persistence size', buun: mnVars.MINIO_STORAGE_SIZE, harness: p.minio.persistenceSize, where: 'minio/justfile' });
  for (const key of ['resources', 'securityContext', 'containerSecurityContext'] as const) {
    add({ component: 'minio', key, buun: mnValues[key] ?? 'none', harness: p.minio[key] ?? 'none', where: mnFile });
  }
  add({ component: 'minio', key: 'namespace labels', buun: namespaceLabels(recipe(mnJust, 'install')), harness: p.minio.namespaceLabels, where: 'minio/justfile' });
  if (get(mnValues, 'oidc.enabled') === true) rows.push(notModelled('minio', 'oidc', 'enabled (console login through Keycloak client minio)', mnFile, 'the MinIO console is not under test, and its client would need Keycloak before MinIO'));
  for (const key of ['ingress', 'consoleIngress']) if (get(mnValues, `${key}.enabled`) === true) rows.push(notModelled('minio', key, 'enabled', mnFile, 'MLflow reaches MinIO by its Service; nothing outside the cluster uses S3'));

  // MLflow: the image, chart and values (pin set and description), monitoring
  const mlJust = tree.read('mlflow/justfile');
  const mlVars = justVariables(mlJust);
  const mlValues = gomplateDocuments(tree.read('mlflow/values.gomplate.yaml'))[0] ?? {};
  const mlFile = 'mlflow/values.gomplate.yaml';
  const image = dockerfilePins(tree.read('mlflow/image/Dockerfile'));
  add({ component: 'mlflow', key: 'chart', buun: mlVars.MLFLOW_CHART_VERSION, harness: set.chart, where: 'mlflow/justfile' });
  add({ component: 'mlflow', key: 'helm wait', buun: helmWait(helmCommand(mlJust, 'mlflow')), harness: p.helm.waits.mlflow, where: 'mlflow/justfile' });
  add({ component: 'mlflow', key: 'image tag', buun: mlVars.MLFLOW_IMAGE_TAG, harness: desc.versions.imageTag, where: 'mlflow/justfile' });
  add({ component: 'mlflow', key: 'base image', buun: image.from, harness: set.pins.baseImage, where: 'mlflow/image/Dockerfile' });
  add({ component: 'mlflow', key: 'mlflow-oidc-auth', buun: image.packages['mlflow-oidc-auth'], harness: set.pins.mlflowOidcAuth, where: 'mlflow/image/Dockerfile' });
  add({ component: 'mlflow', key: 'appName', buun: get(mlValues, 'extraArgs.appName'), harness: desc.mlflow.appName, where: mlFile });
  add({ component: 'mlflow', key: 'workers', buun: get(mlValues, 'extraArgs.workers'), harness: desc.mlflow.workers, where: mlFile });
  add({ component: 'mlflow', key: 'log.enabled', buun: get(mlValues, 'log.enabled'), harness: false, where: mlFile });
  const envKeys = Object.keys((get(mlValues, 'extraEnvVars') ?? {}) as Record<string, unknown>).sort();
  add({ component: 'mlflow', key: 'extraEnvVars names', buun: envKeys.length ? envKeys : undefined, harness: Object.keys(desc.mlflow.env).sort(), where: mlFile });
  add({ component: 'mlflow', key: 'resources', buun: mlValues.resources ?? 'none', harness: p.mlflow.resources, where: mlFile });
  add({ component: 'mlflow', key: 'podSecurityContext', buun: mlValues.podSecurityContext ?? 'none', harness: p.mlflow.podSecurityContext, where: mlFile });
  add({ component: 'mlflow', key: 'securityContext', buun: mlValues.securityContext ?? 'none', harness: p.mlflow.securityContext, where: mlFile });
  // MONITORING_ENABLED is forced to false unless kube-prometheus-stack is installed
  const install2 = recipe(mlJust, 'install') ?? '';
  const monitoring = /kube-prometheus-stack/.test(install2) && /else\s+MONITORING_ENABLED="false"/.test(install2) ? false : mlVars.MONITORING_ENABLED === 'true' ? true : undefined;
  add({ component: 'mlflow', key: 'monitoring (no kube-prometheus-stack)', buun: monitoring, harness: p.monitoring, where: 'mlflow/justfile' });
  return rows;
}

export function countDrift(rows: DriftRow[]): Record<DriftVerdict, number> {
  const n: Record<DriftVerdict, number> = { same: 0, differs: 0, 'not-modelled': 0, unread: 0 };
  for (const r of rows) n[r.verdict]++;
  return n;
}
