/**
 * Where the local target knowingly runs MLflow differently from the chart: each placement with its reason
 * (README, "Where the local target differs from the cluster deployment"). `chart-parity` calls a difference
 * `declared` only when one of these explains it completely; anything else is `differs`.
 *
 * Strings may name `{placeholders}` filled from {@link PlacementValues} (one value per side of the comparison).
 */

/**
 * The same thing spelt on each side: the chart's value (a cluster) and the local target's.
 * Keys: `mlflowHost`, `chartPublicPort`/`localPublicPort`, `chartMlflowUrl`/`localMlflowUrl`,
 * `chartKeycloakUrl`/`localKeycloakUrl`, `chartService`/`chartServicePort`, `chartListenHost`/`chartContainerPort`,
 * `localHost`/`localMlflowPort`, `chartPostgresHost`/`chartPostgresPort`/`localPostgresPort`,
 * `chartS3Endpoint`/`localS3Endpoint`, `localFs` (the state folder's stand-in for the container's file system),
 * `mlflowVersion`.
 */
export type PlacementValues = Record<string, string>;

/** A placement that substitutes one spelling for another inside the values of the named keys. */
export interface Substitution {
  id: string;
  reason: string;
  /** `arg` keys are flags (`--host`), `env` keys variables; `*` means every key of that kind. */
  applies: { arg?: string[] | '*'; env?: string[] | '*' };
  /** `[chart, local]` spellings; every occurrence on each side is taken for the same thing. */
  pairs: [chart: string, local: string][];
}

/** A container path the chart's settings name, placed under the state folder by the local target. */
export interface StatePath {
  id: string;
  reason: string;
  applies: { arg?: string[]; env?: string[] };
  /** The local value is this folder followed by the chart's absolute path. */
  under: string;
}

/** A secret the chart expects to exist but does not render: created next to the chart by buun-stack. */
export interface ExternalSecret {
  name: string;
  /** The secret's keys (with envFrom: the variables it sets). */
  keys: string[];
  createdBy: string;
}

/** A variable only the local process gets. */
export interface LocalOnly {
  keys: string[];
  reason: string;
}

/** An init container of the chart that the local target replaces by a step of its own. */
export interface ReplacedInit {
  name: string;
  /** What the local target does instead. */
  local: string;
  reason: string;
  /**
   * Exactly what the chart's init container may be for the replacement to stand: anything else is `differs`. Patterns
   * are anchored regular expressions and may name `{placeholders}`.
   */
  requires: {
    /** The whole image reference (`repository:tag`). */
    image: string;
    /** The command and its arguments, joined by single spaces. */
    command: string;
    /** Snippets the init container's mounted ConfigMap files (its script) must contain. */
    scriptIncludes?: string[];
  };
}

export interface Declarations {
  pod: PodDeclaration[];
  podMounts: MountDeclaration[];
  substitutions: Substitution[];
  statePaths: StatePath[];
  externalSecrets: ExternalSecret[];
  localOnly: LocalOnly[];
  replacedInits: ReplacedInit[];
}

/** Pod settings the local target does not enforce on its MLflow process, with the reason. */
export interface PodDeclaration {
  id: string;
  reason: string;
  /** Row keys (`securityContext.runAsUser`) or their prefixes (`resources`). */
  keys: string[];
}

/** A volume the chart mounts into the container, and why the local target needs no such place. */
export interface MountDeclaration {
  id: string;
  reason: string;
  path: string;
  /** The volume's kind (and name): `emptyDir`, `configMap mlflow-…`. */
  source: string;
}

export const DECLARED: Declarations = {
  pod: [
    {
      id: 'local-process',
      reason: 'MLflow runs as a plain process of the harness\'s user, not in a container: no user switch, capability set, privilege or seccomp setting of its own (its files are the state folder\'s)',
      keys: ['podSecurityContext', 'securityContext.runAsUser', 'securityContext.runAsGroup', 'securityContext.runAsNonRoot', 'securityContext.allowPrivilegeEscalation', 'securityContext.privileged', 'securityContext.capabilities', 'securityContext.seccompProfile'],
    },
    { id: 'no-cgroup-limits', reason: 'the local process gets no CPU or memory limit (the machine is shared by the stack\'s processes and the checks)', keys: ['resources'] },
    { id: 'readiness-wait', reason: 'the local target waits for /health before it declares MLflow ready; nothing restarts the process', keys: ['livenessProbe', 'readinessProbe', 'startupProbe'] },
    { id: 'loopback', reason: 'the local process listens on a free loopback port behind the TLS proxy', keys: ['ports'] },
    { id: 'no-cluster-api', reason: 'no Kubernetes API: nothing for a service account to reach', keys: ['serviceAccount'] },
  ],
  podMounts: [
    {
      id: 'tmp-emptydir',
      reason: 'the chart\'s scratch /tmp (1.10.0+): the local process uses the machine\'s /tmp, and the /tmp paths the settings name are under the state folder; it matters only with a read-only root, which has its own row',
      path: '/tmp',
      source: 'emptyDir',
    },
  ],
  substitutions: [
    {
      id: 'public-port',
      reason: 'the TLS proxy listens on HARNESS_HTTPS_PORT (8443 by default; 443 needs root): public URLs carry the port and buun-stack\'s allowed-hosts entry <host>:443 becomes <host>:8443',
      applies: { arg: ['--allowed-hosts'], env: '*' },
      pairs: [
        ['{chartMlflowUrl}', '{localMlflowUrl}'],
        ['{chartKeycloakUrl}', '{localKeycloakUrl}'],
        ['{mlflowHost}:{chartPublicPort}', '{mlflowHost}:{localPublicPort}'],
      ],
    },
    {
      id: 'service-name',
      reason: 'the in-cluster Service name and port become 127.0.0.1:<mlflow port>',
      applies: { arg: ['--allowed-hosts'] },
      pairs: [
        ['{chartService}:{chartServicePort}', '{localHost}:{localMlflowPort}'],
        ['{chartService}', '{localHost}'],
      ],
    },
    {
      id: 'listen-address',
      reason: 'the container listens on all its interfaces at the container port; the local server listens on loopback at a free port behind the TLS proxy',
      applies: { arg: ['--host', '--port'] },
      pairs: [
        ['{chartListenHost}', '{localHost}'],
        ['{chartContainerPort}', '{localMlflowPort}'],
      ],
    },
    {
      id: 'postgres-address',
      reason: 'the cluster\'s PostgreSQL Service becomes the local PostgreSQL on 127.0.0.1:<free port>',
      applies: { env: ['PGHOST', 'PGPORT'] },
      pairs: [
        ['{chartPostgresHost}', '{localHost}'],
        ['{chartPostgresPort}', '{localPostgresPort}'],
      ],
    },
    {
      id: 's3-endpoint',
      reason: 'the cluster\'s S3 Service (MinIO) becomes the local S3 server (versitygw) on 127.0.0.1:<free port>',
      applies: { env: ['MLFLOW_S3_ENDPOINT_URL'] },
      pairs: [['{chartS3Endpoint}', '{localS3Endpoint}']],
    },
  ],
  statePaths: [
    {
      id: 'state-folder',
      reason: 'container paths named by the settings are placed under the state folder, so two stacks never share them',
      applies: { arg: ['--expose-prometheus'], env: ['SESSION_CACHE_DIR'] },
      under: '{localFs}',
    },
  ],
  externalSecrets: [
    {
      name: 'mlflow-db-secret',
      keys: ['username', 'password'],
      createdBy: 'buun-stack\'s mlflow recipe (ExternalSecret mlflow-db-external-secret, Vault mlflow/postgres); the local target sets PGUSER/PGPASSWORD itself',
    },
    {
      name: 'mlflow-s3-secret',
      keys: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
      createdBy: 'buun-stack\'s mlflow recipe (ExternalSecret mlflow-s3-external-secret, Vault mlflow/s3); the local target sets the S3 server\'s generated keys',
    },
    {
      name: 'mlflow-oidc-config',
      keys: ['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_USERS_DB_URI'],
      createdBy: 'buun-stack\'s mlflow recipe (ExternalSecret mlflow-oidc-external-secret, Vault mlflow/oidc); the local target sets the realm\'s client and the auth database URI',
    },
  ],
  localOnly: [
    { keys: ['PATH', 'HOME', 'LANG'], reason: 'a plain process starts with an empty environment; the image provides these in the container' },
    { keys: ['PYTHONUNBUFFERED'], reason: 'every line reaches the log file at once (stdout of a process not on a terminal is block-buffered)' },
    { keys: ['CACHE_DIR'], reason: 'the plugin\'s JWKS cache (default /tmp/flask_cache in the container) is placed under the state folder, so it never outlives this stack\'s realm keys' },
    { keys: ['REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE'], reason: 'the server trusts the stack\'s own CA for the discovery document and token exchange through the local TLS proxy' },
  ],
  replacedInits: [
    {
      name: 'mlflow-db-migration',
      local: 'migration step before `mlflow server` starts: _initialize_tables(create_sqlalchemy_engine_with_retry(\'postgresql://\')) with the server\'s environment',
      reason: 'the chart\'s migration init container is a step of the local MLflow component (same call, same MLflow version)',
      requires: {
        image: '^burakince/mlflow:{mlflowVersion}$',
        command: '^python /opt/mlflow/migrations\\.py$',
        scriptIncludes: ['create_sqlalchemy_engine_with_retry("postgresql://")', '_initialize_tables('],
      },
    },
    {
      name: 'dbchecker',
      local: 'PostgreSQL readiness wait before MLflow starts',
      reason: 'the chart\'s database check init container is the local PostgreSQL component\'s readiness wait',
      // busybox running the chart's own script, which waits until PostgreSQL accepts connections (nc -z)
      requires: { image: '^busybox:[0-9][0-9.]*$', command: '^/script/dbchecker\\.sh$', scriptIncludes: ['until nc -z'] },
    },
  ],
};
