import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import type { Declarations, PlacementValues } from '../../provision/chart/declared.ts';
import { DECLARED } from '../../provision/chart/declared.ts';
import { extractChartSpec, parseManifest, resolveEnv } from '../../provision/chart/manifest.ts';
import { compareParity, explainByPlacement, formatParityTable, splitArgs, type LocalSpec, type ParityRow } from '../../provision/chart/parity.ts';
import { LOCAL_SECRET_REFS } from '../../provision/chart/local.ts';
import { dependencyDisabled } from '../../provision/chart/render.ts';

// A secret value as a chart would render it (base64 of "chart-flask-secret-0123456789"): it must never reach a row.
const FLASK_SECRET_B64 = Buffer.from('chart-flask-secret-0123456789').toString('base64');
const LOCAL_DB_PASSWORD = 'LocalDbPassw0rdLocalDbPassw0rd';

/** A tiny rendered manifest in the shape of the community chart's output (not the chart itself). */
const MANIFEST = `
---
# Source: mlflow/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: mlflow-env-secret
type: Opaque
data:
---
apiVersion: v1
kind: Secret
metadata:
  name: mlflow-flask-server-secret-key
data:
  MLFLOW_FLASK_SERVER_SECRET_KEY: "${FLASK_SECRET_B64}"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: mlflow-env-configmap
data:
  PGHOST: postgres.db.svc.cluster.local
  PGPORT: "5432"
  PGDATABASE: mlflow
  MLFLOW_SERVER_ALLOWED_HOSTS: "mlflow.example.com"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: mlflow-migrations
data:
  migrations.py: |-
    from mlflow.store.db import utils
    engine = utils.create_sqlalchemy_engine_with_retry("postgresql://")
    utils._initialize_tables(engine)
---
apiVersion: v1
kind: Service
metadata:
  name: mlflow
spec:
  ports: [{ port: 5000 }]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: mlflow
spec:
  template:
    spec:
      initContainers:
        - name: mlflow-db-migration
          image: "burakince/mlflow:3.6.0"
          command: ["python"]
          args: [/opt/mlflow/migrations.py]
          volumeMounts:
            - name: migrations-config
              mountPath: /opt/mlflow/migrations.py
              subPath: migrations.py
      containers:
        - name: sidecar
          image: busybox
        - name: mlflow
          image: "registry/mlflow:3.6.0-oidc"
          command: ["mlflow"]
          args:
            - server
            - --host=0.0.0.0
            - --port=5000
            - --backend-store-uri=postgresql://
            - --serve-artifacts
            - --allowed-hosts=mlflow.example.com,mlflow.example.com:443,mlflow.mlflow.svc.cluster.local,mlflow.mlflow.svc.cluster.local:5000,*
            - --expose-prometheus=/mlflow/metrics
          env:
            - name: MLFLOW_VERSION
              value: "3.6.0-oidc"
            - name: PGPASSWORD
              valueFrom:
                secretKeyRef:
                  name: mlflow-db-secret
                  key: password
            - name: MLFLOW_SERVER_ALLOWED_HOSTS
              value: "mlflow.example.com,mlflow.example.com:443"
            - name: DB_NAME_AGAIN
              valueFrom:
                configMapKeyRef:
                  name: mlflow-env-configmap
                  key: PGDATABASE
            - name: SESSION_CACHE_DIR
              value: /tmp/session
          envFrom:
            - configMapRef:
                name: mlflow-env-configmap
            - secretRef:
                name: mlflow-env-secret
            - secretRef:
                name: mlflow-flask-server-secret-key
            - secretRef:
                name: mlflow-oidc-config
      volumes:
        - name: migrations-config
          configMap:
            name: mlflow-migrations
`;

const VALUES: PlacementValues = {
  mlflowHost: 'mlflow.example.com',
  chartPublicPort: '443',
  localPublicPort: '8443',
  chartMlflowUrl: 'https://mlflow.example.com',
  localMlflowUrl: 'https://mlflow.example.com:8443',
  chartKeycloakUrl: 'https://auth.example.com',
  localKeycloakUrl: 'https://auth.example.com:8443',
  chartService: 'mlflow.mlflow.svc.cluster.local',
  chartServicePort: '5000',
  chartListenHost: '0.0.0.0',
  chartContainerPort: '5000',
  localHost: '127.0.0.1',
  localMlflowPort: '15000',
  chartPostgresHost: 'postgres.db.svc.cluster.local',
  chartPostgresPort: '5432',
  localPostgresPort: '15432',
  chartS3Endpoint: 'http://minio.minio.svc.cluster.local:9000',
  localS3Endpoint: 'http://127.0.0.1:17070',
  localFs: '/state/mlflow/fs',
  mlflowVersion: '3.6.0',
};

/** What the local target would run for this fixture: every placement declared, one flag and one variable missing. */
const LOCAL: LocalSpec = {
  command: 'mlflow',
  args: [
    'server', '--host=127.0.0.1', '--port=15000', '--backend-store-uri=postgresql://', '--serve-artifacts',
    '--allowed-hosts=mlflow.example.com,mlflow.example.com:8443,127.0.0.1,127.0.0.1:15000,*',
    '--expose-prometheus=/state/mlflow/fs/mlflow/metrics', '--workers=1',
  ],
  env: {
    PATH: '/usr/bin:/bin',
    MLFLOW_VERSION: '3.6.0-oidc',
    PGHOST: '127.0.0.1',
    PGPORT: '15432',
    PGDATABASE: 'mlflow',
    DB_NAME_AGAIN: 'mlflow',
    PGPASSWORD: LOCAL_DB_PASSWORD,
    MLFLOW_SERVER_ALLOWED_HOSTS: 'mlflow.example.com,mlflow.example.com:8443',
    SESSION_CACHE_DIR: '/state/mlflow/fs/tmp/session',
    OIDC_CLIENT_ID: 'mlflow',
    OIDC_CLIENT_SECRET: 'LocalClientSecretLocalClientSecret',
    OIDC_USERS_DB_URI: `postgresql://mlflow:${LOCAL_DB_PASSWORD}@127.0.0.1:15432/mlflow_auth`,
    SOMETHING_NEW: 'x',
  },
  secretRefs: LOCAL_SECRET_REFS,
};

const ctx = { values: VALUES, secrets: [LOCAL_DB_PASSWORD, 'LocalClientSecretLocalClientSecret'] };
const row = (rows: ParityRow[], kind: ParityRow['kind'], key: string) => {
  const r = rows.find((x) => x.kind === kind && x.key === key);
  if (!r) throw new Error(`no ${kind} row ${key}`);
  return r;
};

test('the mlflow container, its environment and init containers are read from a rendered manifest', () => {
  const docs = parseManifest(MANIFEST);
  expect(docs.map((d) => d.kind)).toEqual(['Secret', 'Secret', 'ConfigMap', 'ConfigMap', 'Service', 'Deployment']);
  const spec = extractChartSpec(docs);
  expect(spec.container.name).toBe('mlflow');
  expect(spec.container.command).toEqual(['mlflow']);
  expect(spec.container.args[0]).toBe('server');
  const env = new Map(spec.container.env.map((v) => [v.name, v]));
  expect(env.get('MLFLOW_VERSION')).toMatchObject({ value: '3.6.0-oidc', origin: { type: 'value' }, secret: false });
  expect(env.get('PGHOST')).toMatchObject({ value: 'postgres.db.svc.cluster.local', origin: { type: 'configMapRef', name: 'mlflow-env-configmap' } });
  // configMapKeyRef resolved to the key and its rendered value
  expect(env.get('DB_NAME_AGAIN')).toMatchObject({ value: 'mlflow', origin: { type: 'configMapKeyRef', name: 'mlflow-env-configmap', key: 'PGDATABASE', rendered: true } });
  // secretKeyRef to a secret the chart does not render: the key is known, the value is not
  expect(env.get('PGPASSWORD')).toMatchObject({ secret: true, present: 'unknown', origin: { type: 'secretKeyRef', name: 'mlflow-db-secret', key: 'password', rendered: false } });
  expect(env.get('PGPASSWORD')!.value).toBeUndefined();
  // env wins over envFrom, and says what it overrides
  expect(env.get('MLFLOW_SERVER_ALLOWED_HOSTS')).toMatchObject({ value: 'mlflow.example.com,mlflow.example.com:443', overrides: ['envFrom configMap mlflow-env-configmap'] });
  // a rendered secret's key: present, value never kept
  expect(env.get('MLFLOW_FLASK_SERVER_SECRET_KEY')).toMatchObject({ secret: true, present: true, origin: { type: 'secretRef', name: 'mlflow-flask-server-secret-key' } });
  expect(JSON.stringify(spec)).not.toContain(FLASK_SECRET_B64);
  expect(JSON.stringify(spec)).not.toContain('chart-flask-secret');
  // an envFrom secret the chart does not render is listed by name
  expect(spec.container.unrenderedEnvFrom).toEqual([{ type: 'secretRef', name: 'mlflow-oidc-config', prefix: '' }]);
  expect(spec.initContainers).toHaveLength(1);
  expect(spec.initContainers[0]).toMatchObject({ name: 'mlflow-db-migration', image: 'burakince/mlflow:3.6.0', command: ['python'], args: ['/opt/mlflow/migrations.py'] });
  expect(spec.initContainers[0]!.files[0]).toMatchObject({ path: '/opt/mlflow/migrations.py', configMap: 'mlflow-migrations', key: 'migrations.py' });
  expect(spec.initContainers[0]!.files[0]!.content).toContain('_initialize_tables(engine)');
});

test('envFrom follows Kubernetes precedence: later sources win, prefixes apply, invalid names are skipped', () => {
  const docs = parseManifest(`
apiVersion: v1
kind: ConfigMap
metadata: { name: a }
data: { X: "from-a", ONLY_A: "only-a", "bad name": "skip" }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: b }
data: { X: "from-b" }
---
apiVersion: v1
kind: Secret
metadata: { name: s }
stringData: { TOKEN: "t0p", EMPTY: "" }
`);
  const { env, unrenderedEnvFrom } = resolveEnv({
    name: 'mlflow',
    envFrom: [{ configMapRef: { name: 'a' } }, { configMapRef: { name: 'b' } }, { secretRef: { name: 's' }, prefix: 'P_' }, { configMapRef: { name: 'elsewhere' } }],
  }, docs);
  const by = new Map(env.map((v) => [v.name, v]));
  expect(by.get('X')).toMatchObject({ value: 'from-b', overrides: ['envFrom configMap a'] });
  expect(by.get('ONLY_A')!.value).toBe('only-a');
  expect(by.has('bad name')).toBe(false);
  expect(by.get('P_TOKEN')).toMatchObject({ secret: true, present: true });
  expect(by.get('P_TOKEN')!.value).toBeUndefined();
  expect(by.get('P_EMPTY')).toMatchObject({ secret: true, present: false });
  expect(unrenderedEnvFrom).toEqual([{ type: 'configMapRef', name: 'elsewhere', prefix: '' }]);
});

test('a manifest without the mlflow container fails in one line', () => {
  expect(() => extractChartSpec(parseManifest('apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: x }\nspec: { template: { spec: { containers: [{ name: web }] } } }'))).toThrow(/no Deployment with a container named `mlflow`/);
});

test('arguments are keyed by flag; the program is compared by name', () => {
  expect(splitArgs(['/venv/bin/mlflow'], ['server', '--host=0.0.0.0', '--serve-artifacts', '--workers', '2'])).toEqual({
    command: 'mlflow server',
    flags: [['--host', '0.0.0.0'], ['--serve-artifacts', ''], ['--workers', '2']],
  });
});

test('declared placements explain a difference only completely', () => {
  const chart = 'mlflow.example.com,mlflow.example.com:443,mlflow.mlflow.svc.cluster.local,mlflow.mlflow.svc.cluster.local:5000,*';
  const local = 'mlflow.example.com,mlflow.example.com:8443,127.0.0.1,127.0.0.1:15000,*';
  expect(explainByPlacement('arg', '--allowed-hosts', chart, local, VALUES)?.sort()).toEqual(['public-port', 'service-name']);
  // one more host on the local side is a real difference
  expect(explainByPlacement('arg', '--allowed-hosts', chart, `${local},evil.example.com`, VALUES)).toBeUndefined();
  // a placement only applies to the keys it names
  expect(explainByPlacement('env', 'OIDC_SCOPE', '0.0.0.0', '127.0.0.1', VALUES)).toBeUndefined();
  expect(explainByPlacement('arg', '--host', '0.0.0.0', '127.0.0.1', VALUES)).toEqual(['listen-address']);
  expect(explainByPlacement('env', 'OIDC_REDIRECT_URI', 'https://mlflow.example.com/callback', 'https://mlflow.example.com:8443/callback', VALUES)).toEqual(['public-port']);
  expect(explainByPlacement('env', 'OIDC_REDIRECT_URI', 'https://mlflow.example.com/callback', 'https://mlflow.example.com:8443/login', VALUES)).toBeUndefined();
  expect(explainByPlacement('env', 'SESSION_CACHE_DIR', '/tmp/session', '/state/mlflow/fs/tmp/session', VALUES)).toEqual(['state-folder']);
  expect(explainByPlacement('env', 'SESSION_CACHE_DIR', '/tmp/session', '/elsewhere/tmp/session', VALUES)).toBeUndefined();
});

test('the comparison gives each argument, variable and init container its verdict', () => {
  const rows = compareParity(extractChartSpec(parseManifest(MANIFEST)), LOCAL, ctx);
  expect(row(rows, 'arg', 'command')).toMatchObject({ chart: 'mlflow server', local: 'mlflow server', verdict: 'same' });
  expect(row(rows, 'arg', '--host')).toMatchObject({ verdict: 'declared', placements: ['listen-address'] });
  expect(row(rows, 'arg', '--port')).toMatchObject({ verdict: 'declared', placements: ['listen-address'] });
  expect(row(rows, 'arg', '--backend-store-uri').verdict).toBe('same');
  expect(row(rows, 'arg', '--serve-artifacts')).toMatchObject({ chart: '(set)', local: '(set)', verdict: 'same' });
  expect(row(rows, 'arg', '--allowed-hosts').verdict).toBe('declared');
  expect(row(rows, 'arg', '--expose-prometheus')).toMatchObject({ verdict: 'declared', placements: ['state-folder'] });
  expect(row(rows, 'arg', '--workers')).toMatchObject({ chart: '—', local: '1', verdict: 'differs' });

  expect(row(rows, 'env', 'MLFLOW_VERSION').verdict).toBe('same');
  expect(row(rows, 'env', 'PGHOST')).toMatchObject({ verdict: 'declared', placements: ['postgres-address'], source: 'envFrom configMap mlflow-env-configmap' });
  expect(row(rows, 'env', 'PGPORT').verdict).toBe('declared');
  expect(row(rows, 'env', 'DB_NAME_AGAIN').verdict).toBe('same');
  expect(row(rows, 'env', 'PGPASSWORD')).toMatchObject({ verdict: 'declared', placements: ['external-secret'], local: '(secret mlflow-db-secret/password, present)' });
  expect(row(rows, 'env', 'MLFLOW_SERVER_ALLOWED_HOSTS')).toMatchObject({ verdict: 'declared', placements: ['public-port'] });
  expect(row(rows, 'env', 'MLFLOW_SERVER_ALLOWED_HOSTS').source).toContain('overrides envFrom configMap mlflow-env-configmap');
  expect(row(rows, 'env', 'SESSION_CACHE_DIR').verdict).toBe('declared');
  // the chart's generated secret with no local counterpart
  expect(row(rows, 'env', 'MLFLOW_FLASK_SERVER_SECRET_KEY')).toMatchObject({ verdict: 'differs', local: '—' });
  // keys of a declared secret the chart does not render
  expect(row(rows, 'env', 'envFrom secret mlflow-oidc-config')).toMatchObject({ verdict: 'declared', local: 'OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_USERS_DB_URI' });
  expect(row(rows, 'env', 'OIDC_CLIENT_SECRET')).toMatchObject({ verdict: 'declared', placements: ['external-secret'], local: '(secret mlflow-oidc-config/OIDC_CLIENT_SECRET, present)' });
  expect(row(rows, 'env', 'OIDC_USERS_DB_URI').local).toBe('(secret mlflow-oidc-config/OIDC_USERS_DB_URI, present)');
  expect(row(rows, 'env', 'PATH')).toMatchObject({ verdict: 'declared', placements: ['local-only'] });
  expect(row(rows, 'env', 'SOMETHING_NEW')).toMatchObject({ chart: '—', local: 'x', verdict: 'differs' });

  expect(row(rows, 'init', 'mlflow-db-migration')).toMatchObject({ verdict: 'declared', placements: ['replaced-init'] });
  expect(row(rows, 'init', 'dbchecker')).toMatchObject({ chart: '—', verdict: 'differs' });

  // no secret value of either side is ever in a row or the table
  const out = JSON.stringify(rows) + formatParityTable(rows);
  for (const s of [LOCAL_DB_PASSWORD, 'LocalClientSecretLocalClientSecret', FLASK_SECRET_B64, 'chart-flask-secret']) expect(out).not.toContain(s);
});

test('undeclared secrets, unknown init containers and changed migrations differ', () => {
  const manifest = MANIFEST
    .replace('name: mlflow-oidc-config', 'name: someone-elses-secret')
    .replace('name: mlflow-db-secret', 'name: unknown-db-secret')
    .replace('"burakince/mlflow:3.6.0"', '"burakince/mlflow:3.7.0"')
    .replace('        - name: mlflow-db-migration', '        - name: wait-for-redis\n          image: redis:7\n          command: ["redis-cli", "ping"]\n        - name: mlflow-db-migration');
  const rows = compareParity(extractChartSpec(parseManifest(manifest)), LOCAL, ctx);
  expect(row(rows, 'env', 'envFrom secret someone-elses-secret').verdict).toBe('differs');
  expect(row(rows, 'env', 'OIDC_CLIENT_ID')).toMatchObject({ chart: '—', verdict: 'differs', local: '(secret mlflow-oidc-config/OIDC_CLIENT_ID, present)' });
  expect(row(rows, 'env', 'OIDC_CLIENT_SECRET')).toMatchObject({ chart: '—', verdict: 'differs', local: '(secret mlflow-oidc-config/OIDC_CLIENT_SECRET, present)' });
  expect(row(rows, 'env', 'PGPASSWORD').verdict).toBe('differs');
  expect(row(rows, 'init', 'wait-for-redis').verdict).toBe('differs');
  expect(row(rows, 'init', 'mlflow-db-migration')).toMatchObject({ verdict: 'differs' });
  expect(row(rows, 'init', 'mlflow-db-migration').reason).toContain('3.7.0');

  const noMigrationCall = MANIFEST.replace('utils._initialize_tables(engine)', 'pass');
  const r2 = compareParity(extractChartSpec(parseManifest(noMigrationCall)), LOCAL, ctx);
  expect(row(r2, 'init', 'mlflow-db-migration').verdict).toBe('differs');
});

test('declarations are data: a placement that is not declared is a difference', () => {
  const none: Declarations = { ...DECLARED, substitutions: DECLARED.substitutions.filter((s) => s.id !== 'postgres-address') };
  const rows = compareParity(extractChartSpec(parseManifest(MANIFEST)), LOCAL, { ...ctx, declarations: none });
  expect(row(rows, 'env', 'PGHOST').verdict).toBe('differs');
  for (const s of [...DECLARED.substitutions, ...DECLARED.statePaths, ...DECLARED.localOnly, ...DECLARED.replacedInits]) expect(s.reason.length).toBeGreaterThan(20);
  for (const s of DECLARED.externalSecrets) expect(s.createdBy.length).toBeGreaterThan(20);
});

test('a subchart is left out only when its condition is off', () => {
  const dep = { name: 'postgresql', condition: 'postgresql.enabled' };
  expect(dependencyDisabled(dep, {}, { postgresql: { enabled: false } })).toBe(true);
  expect(dependencyDisabled(dep, { postgresql: { enabled: true } }, { postgresql: { enabled: false } })).toBe(false);
  expect(dependencyDisabled({ name: 'x' }, {}, {})).toBe(false);
  expect(dependencyDisabled({ name: 'x', condition: 'x.enabled' }, {}, {})).toBe(false);
});

test('pod rows: a read-only root or a volume no declaration places differs; what the local process does not enforce is declared', () => {
  const pod = (securityContext: string, mounts: string, volumes: string) => extractChartSpec(parseManifest(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: mlflow }
spec:
  template:
    spec:
      serviceAccountName: mlflow
      securityContext: { fsGroup: 1001 }
      volumes: ${volumes}
      containers:
        - name: mlflow
          image: m:1
          command: [mlflow, server]
          securityContext: ${securityContext}
          resources: { limits: { memory: 2Gi } }
          volumeMounts: ${mounts}
`));
  const local: LocalSpec = { command: 'mlflow', args: ['server'], env: {} };
  const rows = (spec: ReturnType<typeof pod>) => compareParity(spec, local, { values: {}, secrets: [] }).filter((r) => r.kind === 'pod');
  const writable = rows(pod('{ readOnlyRootFilesystem: false, runAsUser: 1001 }', '[{ name: tmp, mountPath: /tmp }]', '[{ name: tmp, emptyDir: {} }]'));
  expect(writable.filter((r) => r.verdict === 'differs')).toEqual([]);
  expect(writable.find((r) => r.key === 'securityContext.runAsUser')).toMatchObject({ verdict: 'declared', placements: ['local-process'] });
  expect(writable.find((r) => r.key === 'resources.limits.memory')).toMatchObject({ verdict: 'declared', placements: ['no-cgroup-limits'] });
  expect(writable.find((r) => r.key === 'mount /tmp')).toMatchObject({ verdict: 'declared', chart: 'emptyDir (volume tmp)' });
  const readOnly = rows(pod('{ readOnlyRootFilesystem: true }', '[{ name: data, mountPath: /mlflow }]', '[{ name: data, emptyDir: {} }]'));
  expect(readOnly.filter((r) => r.verdict === 'differs').map((r) => r.key)).toEqual(['securityContext.readOnlyRootFilesystem', 'mount /mlflow']);
});

/**
 * A rendered chart this test writes itself (the chart's own sources are not on a CI machine): a Deployment whose
 * `mlflow` container has a literal for each kind of variable, Secret references, and the two init containers the
 * local target replaces, with the dbchecker script from its ConfigMap.
 */
function writeChartFixture(over: { env?: string; dbchecker?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'chart-fixture-'));
  const file = join(dir, 'rendered.yaml');
  writeFileSync(file, `
apiVersion: v1
kind: ConfigMap
metadata: { name: mlflow-dbchecker }
data:
  dbchecker.sh: |
    #!/bin/sh
    until nc -z -w 2 $PGHOST $PGPORT; do sleep 1; done
---
apiVersion: v1
kind: ConfigMap
metadata: { name: mlflow-migrations }
data:
  migrations.py: |
    engine = utils.create_sqlalchemy_engine_with_retry("postgresql://")
    utils._initialize_tables(engine)
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: mlflow }
spec:
  template:
    spec:
      volumes:
        - { name: dbchecker, configMap: { name: mlflow-dbchecker } }
        - { name: migrations-config, configMap: { name: mlflow-migrations } }
      initContainers:
${over.dbchecker ?? `        - name: dbchecker
          image: "busybox:1.32"
          command: [ "/script/dbchecker.sh" ]
          volumeMounts: [{ name: dbchecker, mountPath: /script/dbchecker.sh, subPath: dbchecker.sh }]`}
        - name: mlflow-db-migration
          image: "burakince/mlflow:3.6.0"
          command: ["python"]
          args: [/opt/mlflow/migrations.py]
          volumeMounts: [{ name: migrations-config, mountPath: /opt/mlflow/migrations.py, subPath: migrations.py }]
      containers:
        - name: mlflow
          image: "registry/mlflow:3.6.0-oidc"
          command: ["mlflow"]
          args: [server, --host=0.0.0.0, --port=5000]
          env:
            - { name: OIDC_TOKEN_AUDIENCE, value: "mlflow" }
            - { name: OIDC_REDIRECT_URI, value: "https://mlflow.example.com/callback" }
            - { name: PGPASSWORD, valueFrom: { secretKeyRef: { name: mlflow-db-secret, key: password } } }
            - { name: AWS_SECRET_ACCESS_KEY, valueFrom: { secretKeyRef: { name: mlflow-s3-secret, key: AWS_SECRET_ACCESS_KEY } } }
${over.env ?? ''}
`);
  return file;
}

const fixtureLocal = (env: Record<string, string>, secretRefs = LOCAL_SECRET_REFS): LocalSpec => ({
  command: 'mlflow',
  args: ['server', '--host=127.0.0.1', '--port=15000'],
  env: { OIDC_TOKEN_AUDIENCE: 'mlflow', OIDC_REDIRECT_URI: 'https://mlflow.example.com:8443/callback', PGPASSWORD: LOCAL_DB_PASSWORD, AWS_SECRET_ACCESS_KEY: 'LocalS3SecretKeyLocalS3SecretKey', ...env },
  secretRefs,
});
const fixtureCtx = { values: VALUES, secrets: [LOCAL_DB_PASSWORD, 'LocalS3SecretKeyLocalS3SecretKey'] };
const compareFixture = (local: LocalSpec, over: Parameters<typeof writeChartFixture>[0] = {}) =>
  compareParity(extractChartSpec(parseManifest(readFileSync(writeChartFixture(over), 'utf8'))), local, fixtureCtx);

test('chart parity catches a changed literal value, whatever the variable is called', () => {
  // OIDC_TOKEN_AUDIENCE has TOKEN in its name: it is still a literal on the chart's side, and compared as one
  expect(row(compareFixture(fixtureLocal({})), 'env', 'OIDC_TOKEN_AUDIENCE')).toMatchObject({ chart: 'mlflow', local: 'mlflow', verdict: 'same' });
  const changed = row(compareFixture(fixtureLocal({ OIDC_TOKEN_AUDIENCE: 'something-else' })), 'env', 'OIDC_TOKEN_AUDIENCE');
  expect(changed).toMatchObject({ chart: 'mlflow', local: 'something-else', verdict: 'differs', reason: 'the values differ' });
  // a literal placed by a declaration (the public port) is declared; anything more differs
  expect(row(compareFixture(fixtureLocal({})), 'env', 'OIDC_REDIRECT_URI')).toMatchObject({ verdict: 'declared', placements: ['public-port'] });
  expect(row(compareFixture(fixtureLocal({ OIDC_REDIRECT_URI: 'https://mlflow.example.com:8443/oidc/callback' })), 'env', 'OIDC_REDIRECT_URI').verdict).toBe('differs');
  // a literal against a local secret value: differs, the secret never shown
  const secret = row(compareFixture(fixtureLocal({ OIDC_TOKEN_AUDIENCE: LOCAL_DB_PASSWORD })), 'env', 'OIDC_TOKEN_AUDIENCE');
  expect(secret).toMatchObject({ verdict: 'differs', local: '(secret, present)', reason: 'the chart gives a literal value; the local server a secret' });
  expect(JSON.stringify(secret)).not.toContain(LOCAL_DB_PASSWORD);
});

test('secrets are compared by reference: the same Secret name and key on both sides', () => {
  const rows = compareFixture(fixtureLocal({}));
  expect(row(rows, 'env', 'PGPASSWORD')).toMatchObject({ verdict: 'declared', placements: ['external-secret'], local: '(secret mlflow-db-secret/password, present)' });
  expect(row(rows, 'env', 'AWS_SECRET_ACCESS_KEY').verdict).toBe('declared');
  // the local variable stands for another key of the Secret: differs
  const swapped = compareFixture(fixtureLocal({}, { ...LOCAL_SECRET_REFS, PGPASSWORD: { secret: 'mlflow-db-secret', key: 'username' } }));
  expect(row(swapped, 'env', 'PGPASSWORD')).toMatchObject({ verdict: 'differs', reason: expect.stringContaining('stands for secret mlflow-db-secret/username') });
  // a local literal where the chart reads a Secret: differs
  const literal = compareFixture(fixtureLocal({}, {}));
  expect(row(literal, 'env', 'PGPASSWORD')).toMatchObject({ verdict: 'differs', reason: expect.stringContaining('is no Secret reference') });
  // a Secret the chart reads that nobody declared: differs, even with a matching reference
  const undeclared = compareFixture(fixtureLocal({ EXTRA_KEY: 'LocalExtraSecret0123' }, { ...LOCAL_SECRET_REFS, EXTRA_KEY: { secret: 'elsewhere', key: 'k' } }), { env: '            - { name: EXTRA_KEY, valueFrom: { secretKeyRef: { name: elsewhere, key: k } } }' });
  expect(row(undeclared, 'env', 'EXTRA_KEY')).toMatchObject({ verdict: 'differs', reason: expect.stringContaining('neither rendered by the chart nor declared') });
});

test('a declaration says exactly what may differ: dbchecker is busybox running the chart\'s own wait script, nothing else', () => {
  expect(row(compareFixture(fixtureLocal({})), 'init', 'dbchecker')).toMatchObject({ verdict: 'declared', placements: ['replaced-init'] });
  const dbchecker = (image: string, command: string) => row(compareFixture(fixtureLocal({}), { dbchecker: `        - name: dbchecker
          image: "${image}"
          command: ${command}
          volumeMounts: [{ name: dbchecker, mountPath: /script/dbchecker.sh, subPath: dbchecker.sh }]` }), 'init', 'dbchecker');
  expect(dbchecker('busybox:1.36.1', '["/script/dbchecker.sh"]').verdict).toBe('declared');
  expect(dbchecker('busybox:1.32', '["sh", "-c", "rm -rf /"]')).toMatchObject({ verdict: 'differs', reason: expect.stringContaining('runs `sh -c rm -rf /`') });
  expect(dbchecker('evil.example/busybox:1.32', '["/script/dbchecker.sh"]')).toMatchObject({ verdict: 'differs', reason: expect.stringContaining('image evil.example/busybox:1.32') });
  expect(dbchecker('busybox:latest', '["/script/dbchecker.sh"]').verdict).toBe('differs');
  // the migration: image pinned to the pin set's MLflow, the chart's own script
  expect(row(compareFixture(fixtureLocal({})), 'init', 'mlflow-db-migration').verdict).toBe('declared');
});

test('each row kind comes out same, declared or differs from the fixture', () => {
  const rows = compareFixture(fixtureLocal({ ONLY_LOCAL: 'x' }));
  const verdicts = (kind: ParityRow['kind']) => [...new Set(rows.filter((r) => r.kind === kind).map((r) => r.verdict))].sort();
  expect(row(rows, 'arg', 'command').verdict).toBe('same');
  expect(row(rows, 'arg', '--host').verdict).toBe('declared');
  expect(verdicts('env')).toEqual(['declared', 'differs', 'same']);
  expect(verdicts('init')).toEqual(['declared']);
  expect(row(rows, 'env', 'ONLY_LOCAL')).toMatchObject({ verdict: 'differs', reason: 'only the local server gets this variable' });
  const out = JSON.stringify(rows) + formatParityTable(rows);
  for (const secret of [LOCAL_DB_PASSWORD, 'LocalS3SecretKeyLocalS3SecretKey']) expect(out).not.toContain(secret);
});
