import type { StackDescription } from '../config/stack.ts';
import { extraArgs, extraEnv, placeholders } from './mlflow-server.ts';

/**
 * Helm values for the Community Charts `mlflow` chart, rendered from the same description the local
 * target uses — the shape of buun-stack's values.gomplate.yaml (OIDC branch).
 */
export function renderChartValues(desc: StackDescription, opts: { registry: string; pullPolicy: string; s3Endpoint: string; postgresHost: string; monitoring: boolean }) {
  const s = desc.mlflow;
  const service = `mlflow.${desc.namespace}.svc.cluster.local`;
  const values = placeholders(desc, { service, servicePort: 5000, s3Endpoint: opts.s3Endpoint });
  return {
    replicaCount: 1,
    image: { repository: `${opts.registry}/mlflow`, tag: desc.versions.imageTag, pullPolicy: opts.pullPolicy },
    initImages: { mlflowDbMigration: { tag: desc.versions.mlflow } },
    backendStore: {
      databaseMigration: true,
      databaseConnectionCheck: true,
      postgres: { enabled: true, host: desc.mlflow.database?.host ?? opts.postgresHost, port: 5432, database: desc.postgres.databases.tracking, driver: '' },
      existingDatabaseSecret: { name: 'mlflow-db-secret', usernameKey: 'username', passwordKey: 'password' },
    },
    artifactRoot: {
      proxiedArtifactStorage: s.proxiedArtifactStorage,
      s3: {
        enabled: true,
        bucket: desc.s3.bucket,
        path: '',
        existingSecret: { name: 'mlflow-s3-secret', keyOfAccessKeyId: 'AWS_ACCESS_KEY_ID', keyOfSecretAccessKey: 'AWS_SECRET_ACCESS_KEY' },
      },
    },
    log: { enabled: false },
    extraArgs: extraArgs(s, values),
    extraSecretNamesForEnvFrom: ['mlflow-oidc-config'],
    extraEnvVars: extraEnv(s, values),
    service: { type: 'ClusterIP', port: 5000 },
    ingress: {
      enabled: true,
      className: 'traefik',
      annotations: {
        'traefik.ingress.kubernetes.io/router.entrypoints': 'websecure',
        'traefik.ingress.kubernetes.io/router.middlewares': `${desc.namespace}-mlflow-headers@kubernetescrd`,
      },
      hosts: [{ host: desc.hosts.mlflow, paths: [{ path: '/', pathType: 'Prefix' }] }],
      tls: [{ hosts: [desc.hosts.mlflow] }],
    },
    resources: desc.mlflow.pod.resources,
    podSecurityContext: desc.mlflow.pod.podSecurityContext,
    securityContext: desc.mlflow.pod.securityContext,
    serviceMonitor: {
      enabled: s.exposePrometheus && opts.monitoring,
      useServicePort: false,
      namespace: 'monitoring',
      interval: '30s',
      telemetryPath: '/metrics',
      labels: { release: 'kube-prometheus-stack' },
      timeout: '10s',
    },
  };
}
