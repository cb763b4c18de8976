import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, expect } from '@playwright/test';
import { stringify } from 'yaml';
import { loadHarnessEnv } from '../../provision/config/env.ts';
import { loadPinSet } from '../../provision/config/pin-sets.ts';
import { describeStack } from '../../provision/config/stack.ts';
import { buunTree, gomplateDocuments, helmWait, realmSettings } from '../../provision/platform/buun-files.ts';
import { countDrift, driftRows } from '../../provision/platform/drift.ts';
import { loadPlatform, platformNames, type PlatformProfile } from '../../provision/platform/profile.ts';

const noEnvFile = join(tmpdir(), 'no-such-env-file');

/** A tree in buun-stack's layout whose files say what `p` says: written here, in the shapes buun-stack's files have. */
function fixtureTree(p: PlatformProfile, edits: Record<string, (text: string) => string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'buun-fixture-'));
  const set = loadPinSet(p.pinSet);
  const desc = describeStack(loadHarnessEnv({ HARNESS_PLATFORM: p.name }, noEnvFile), set);
  const flag = (w: string) => (w === 'legacy' ? ' --wait=legacy' : w === 'wait' ? ' --wait' : '');
  const v = (name: string, value: string) => `export ${name} := env("${name}", "${value}")`;
  const r = p.cnpg.resources!;
  const { parameters } = p.cnpg;
  const { max_connections: maxConnections, ...fileParameters } = parameters;
  const files: Record<string, string> = {
    'mise.toml': `[tools]\nhelm = "${p.helm.version}"\njust = "1.0.0"\n`,
    'postgres/justfile': [
      v('CNPG_CHART_VERSION', p.cnpg.operatorChart), v('CNPG_CLUSTER_CHART_VERSION', p.cnpg.clusterChart), v('POSTGRES_VERSION', String(p.cnpg.postgresMajor)),
      v('POSTGRES_STORAGE_SIZE', p.cnpg.storage), v('POSTGRES_MAX_CONNECTIONS', maxConnections!),
      v('POSTGRES_MEMORY_REQUEST', r.requests!.memory!), v('POSTGRES_MEMORY_LIMIT', r.limits!.memory!), v('POSTGRES_CPU_REQUEST', r.requests!.cpu!), v('POSTGRES_CPU_LIMIT', r.limits!.cpu!),
      v('POSTGRES_SECCOMP_PROFILE', p.cnpg.seccompProfile!), '',
      'install-cnpg:', `    @helm upgrade --cleanup-on-fail --install cnpg cnpg/cloudnative-pg \\\n        --version \${CNPG_CHART_VERSION}${flag(p.helm.waits.cnpgOperator)} -f cnpg-values.yaml`,
      `    @kubectl label namespace \${CNPG_NAMESPACE} \\\n${Object.entries(p.cnpg.namespaceLabels).map(([k, x]) => `        ${k}=${x} \\`).join('\n')}\n        --overwrite`, '',
      'create-cluster:', `    helm upgrade --install postgres-cluster cnpg/cluster \\\n        --version \${CNPG_CLUSTER_CHART_VERSION}${flag(p.helm.waits.postgresCluster)} -f postgres-cluster-values.yaml`, '',
    ].join('\n'),
    'postgres/cnpg-values.yaml': stringify(p.cnpg.operatorValues),
    'postgres/parameters.example.yaml': stringify(fileParameters),
    'postgres/postgres-cluster-values.gomplate.yaml': [
      'cluster:', `  instances: ${p.cnpg.instances}`, '  resources:', '    requests:', '      cpu: {{ .Env.POSTGRES_CPU_REQUEST }}', '      memory: {{ .Env.POSTGRES_MEMORY_REQUEST }}',
      '  postgresql:', '    parameters:', '      max_connections: {{ .Env.POSTGRES_MAX_CONNECTIONS | quote }}', '{{ file.Read "parameters.yaml" | strings.Indent 6 " " }}',
      '  initdb:', '    postInitTemplateSQL:', '      - CREATE EXTENSION IF NOT EXISTS vector;', '',
    ].join('\n'),
    'keycloak/justfile': [
      v('KEYCLOAK_OPERATOR_VERSION', p.keycloak.operator), '',
      'install-operator:', `    kubectl label namespace \${KEYCLOAK_NAMESPACE} \\\n        ${Object.entries(p.keycloak.namespaceLabels).map(([k, x]) => `${k}=${x}`).join(' ')} --overwrite`,
      `    kubectl patch deployment keycloak-operator --type='json' -p='[`,
      `      {"op": "replace", "path": "/spec/template/spec/containers/0/resources/requests/memory", "value": "${p.keycloak.operatorMemory!.request}"},`,
      `      {"op": "replace", "path": "/spec/template/spec/containers/0/resources/limits/memory", "value": "${p.keycloak.operatorMemory!.limit}"}`, `    ]'`, '',
      `create-realm create-client-for-k8s='true' lifespan='${desc.keycloak.tokenSettings.accessTokenLifespan}' session='${desc.keycloak.tokenSettings.ssoSessionMaxLifespan}':`,
      '    export ACCESS={{ lifespan }}', '    export SESSION={{ session }}', '',
    ].join('\n'),
    'keycloak/keycloak-cr.gomplate.yaml': `${stringify({
      apiVersion: p.keycloak.apiVersion, kind: 'Keycloak', metadata: { name: 'keycloak' },
      spec: { image: p.keycloak.image, hostname: { hostname: 'HOST' }, additionalOptions: p.keycloak.additionalOptions, ...p.keycloak.probes, resources: p.keycloak.resources, unsupported: { podTemplate: p.keycloak.podTemplate } },
    }).replace('HOST', '{{ .Env.KEYCLOAK_HOST }}')}---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: keycloak-ingress }\n`,
    'keycloak/scripts/create-realm.ts': [
      'const access = parseInt(process.env.ACCESS || "60");', 'const session = parseInt(process.env.SESSION || "120");', 'const idle = parseInt(process.env.IDLE || "7200");',
      'await client.realms.create({', '  realm: name,', '  enabled: true,', '  accessTokenLifespan: access,', '  accessTokenLifespanForImplicitFlow: access,', '  ssoSessionMaxLifespan: session,',
      '  ssoSessionIdleTimeout: Math.min(session, idle),', '  refreshTokenMaxReuse: 0,', '  offlineSessionMaxLifespan: session * 2,', '  offlineSessionMaxLifespanEnabled: true,',
      `  clientSessionMaxLifespan: ${desc.keycloak.tokenSettings.clientSessionMaxLifespan === desc.keycloak.tokenSettings.ssoSessionMaxLifespan ? 'session' : 'access'},`, '  clientSessionIdleTimeout: idle,', '});', '',
    ].join('\n'),
    'minio/justfile': [
      v('MINIO_CHART_VERSION', p.minio.chart), v('MINIO_IMAGE_REPO', p.minio.image.repository), v('MINIO_IMAGE_TAG', p.minio.image.tag),
      v('MINIO_MC_IMAGE_REPO', p.minio.mcImage!.repository), v('MINIO_MC_IMAGE_TAG', p.minio.mcImage!.tag), v('MINIO_STORAGE_SIZE', p.minio.persistenceSize), '',
      'create-root-credentials:', `    username="${p.minio.rootUser}"`, '',
      'install:', `    kubectl label namespace \${MINIO_NAMESPACE} ${Object.entries(p.minio.namespaceLabels).map(([k, x]) => `${k}=${x}`).join(' ')} --overwrite`,
      `    helm upgrade --install minio minio/minio \\\n        --version \${MINIO_CHART_VERSION}${flag(p.helm.waits.minio)} -f minio-values.yaml`, '',
    ].join('\n'),
    'minio/minio-values.gomplate.yaml': stringify({
      image: { repository: 'R', tag: 'T' }, mcImage: { repository: 'R', tag: 'T' }, oidc: { enabled: true },
      resources: p.minio.resources, securityContext: p.minio.securityContext, containerSecurityContext: p.minio.containerSecurityContext,
    }),
    'mlflow/justfile': [
      v('MLFLOW_CHART_VERSION', set.chart), v('MLFLOW_IMAGE_TAG', desc.versions.imageTag), '',
      'install:', '    if helm status kube-prometheus-stack -n ${PROMETHEUS_NAMESPACE} &>/dev/null; then', '        MONITORING_ENABLED="true"', '    else', '        MONITORING_ENABLED="false"', '    fi',
      `    helm upgrade --cleanup-on-fail --install mlflow community-charts/mlflow \\\n        --version \${MLFLOW_CHART_VERSION}${flag(p.helm.waits.mlflow)} --timeout=10m -f values.yaml`, '',
    ].join('\n'),
    'mlflow/image/Dockerfile': `FROM ${set.pins.baseImage}\nRUN pip install mlflow-oidc-auth[full]==${set.pins.mlflowOidcAuth} cachelib[filesystem]\n`,
    'mlflow/values.gomplate.yaml': [
      '{{- if eq (.Env.MLFLOW_OIDC_ENABLED | default "false") "true" }}',
      stringify({ log: { enabled: false }, extraArgs: { appName: desc.mlflow.appName, workers: desc.mlflow.workers }, extraEnvVars: Object.fromEntries(Object.keys(desc.mlflow.env).map((k) => [k, 'x'])) }).trimEnd(),
      '{{- else }}', 'extraEnvVars: { ONLY_WITHOUT_OIDC: "x" }', '{{- end }}',
      stringify({ resources: p.mlflow.resources, podSecurityContext: p.mlflow.podSecurityContext, securityContext: p.mlflow.securityContext }),
    ].join('\n'),
  };
  for (const [path, text] of Object.entries(files)) {
    const f = join(root, path);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, (edits[path] ?? ((t: string) => t))(text));
  }
  return root;
}

function run(p: PlatformProfile, root: string) {
  const set = loadPinSet(p.pinSet);
  const desc = describeStack(loadHarnessEnv({ HARNESS_PLATFORM: p.name }, noEnvFile), set);
  return driftRows(buunTree(root), p, set, desc);
}

test('the shipped platform profiles: seed and buun-head, each naming its buun-stack commit and pin set', () => {
  expect(platformNames()).toEqual(['buun-head', 'seed']);
  expect(loadPlatform('buun-head')).toMatchObject({ source: { commit: '0973559' }, pinSet: 'buun-bump', keycloak: { operator: '26.6.3' }, cnpg: { postgresMajor: 18 } });
  expect(loadPlatform('seed')).toMatchObject({ source: { commit: '36e3ee6' }, pinSet: 'seed', keycloak: { operator: '26.3.4' }, cnpg: { postgresMajor: 16 } });
  expect(() => loadPlatform('nope')).toThrow('Unknown platform profile `nope` (HARNESS_PLATFORM)');
});

test('drift on a tree that says what buun-head says: nothing differs, and what the harness does not model is listed', () => {
  const p = loadPlatform('buun-head');
  const root = fixtureTree(p);
  try {
    const rows = run(p, root);
    const n = countDrift(rows);
    expect(rows.filter((r) => r.verdict === 'differs')).toEqual([]);
    expect(n.unread).toBe(0);
    expect(n.same).toBeGreaterThan(45);
    expect(rows.filter((r) => r.verdict === 'not-modelled').map((r) => `${r.component} ${r.key}`)).toEqual(['keycloak hostname', 'minio oidc']);
    // the values template's OIDC branch is read, not its else branch
    expect(rows.find((r) => r.key === 'extraEnvVars names')!.buun).not.toContain('ONLY_WITHOUT_OIDC');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('drift names each value that moved on: a newer operator, another wait, a longer client session, a bigger limit', () => {
  const p = loadPlatform('buun-head');
  const root = fixtureTree(p, {
    'keycloak/justfile': (t) => t.replace(`"${p.keycloak.operator}"`, '"26.9.0"'),
    'mlflow/justfile': (t) => t.replace('--wait=legacy', '--wait'),
    'keycloak/scripts/create-realm.ts': (t) => t.replace('clientSessionMaxLifespan: session', 'clientSessionMaxLifespan: session * 2'),
    'mlflow/values.gomplate.yaml': (t) => t.replace('memory: 2Gi', 'memory: 4Gi'),
  });
  try {
    const differs = run(p, root).filter((r) => r.verdict === 'differs');
    expect(differs.map((r) => `${r.component} ${r.key}: ${r.buun} / ${r.harness}`)).toEqual([
      'keycloak operator: 26.9.0 / 26.6.3',
      'realm clientSessionMaxLifespan: 172800 / 86400',
      'mlflow helm wait: wait / legacy',
      `mlflow resources: ${JSON.stringify({ ...p.mlflow.resources, limits: { ...p.mlflow.resources.limits, memory: '4Gi' } })} / ${JSON.stringify(p.mlflow.resources)}`,
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the readers: gomplate branches and expressions, Helm waits, realm expressions', () => {
  const docs = gomplateDocuments('a: {{ .Env.HOST }}\n{{- if x }}\nb: 1\n{{- else }}\nb: 2\n{{- end }}\n---\nkind: K\n');
  expect(docs).toEqual([{ a: '<HOST>', b: 1 }, { kind: 'K' }]);
  expect([helmWait('helm upgrade --install x c --wait -f v'), helmWait('helm upgrade --install x c --wait=legacy'), helmWait('helm upgrade --install x c -f v'), helmWait(undefined)]).toEqual(['wait', 'legacy', 'none', undefined]);
  const script = 'const a = parseInt(process.env.A || "10");\nconst b = parseInt(process.env.B || a.toString());\nrealms.create({\n  x: Math.min(a, b),\n  y: b * 3,\n  z: someCall(a),\n});';
  expect(realmSettings(script, { A: '5' })).toEqual({ settings: { x: 5, y: 15 }, unread: ['z: someCall(a)'] });
});
