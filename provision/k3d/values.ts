import type { StackDescription } from '../config/stack.ts';
import type { PlatformProfile } from '../platform/profile.ts';
import { renderChartValues } from '../render/chart-values.ts';
import { CA_CONFIGMAP, CA_MOUNT, POSTGRES_HOST, S3_ENDPOINT } from './manifests.ts';
import type { K3dOptions } from './options.ts';

/**
 * Values of the mlflow chart: renderChartValues (buun-stack's values, from the description, with the profile's
 * resources and security context) plus the stack CA mounted into the pod and named by REQUESTS_CA_BUNDLE /
 * SSL_CERT_FILE — the same two variables the local target gives its MLflow process, because here too Keycloak's
 * certificate is signed by the stack CA. serviceMonitor.enabled is the profile's monitoring: buun-stack turns it
 * on only where kube-prometheus-stack is installed (mlflow/justfile), and with it the chart's --expose-prometheus.
 */
export function mlflowValues(desc: StackDescription, opts: K3dOptions) {
  const base = renderChartValues(desc, {
    registry: opts.registry.host,
    pullPolicy: opts.pullPolicy,
    s3Endpoint: S3_ENDPOINT,
    postgresHost: POSTGRES_HOST,
    monitoring: opts.platform.monitoring,
  });
  const ca = `${CA_MOUNT}/ca.pem`;
  return {
    ...base,
    extraEnvVars: { ...base.extraEnvVars, REQUESTS_CA_BUNDLE: ca, SSL_CERT_FILE: ca },
    extraVolumes: [{ name: CA_CONFIGMAP, configMap: { name: CA_CONFIGMAP } }],
    extraVolumeMounts: [{ name: CA_CONFIGMAP, mountPath: CA_MOUNT, readOnly: true }],
  };
}

/** cnpg/cloudnative-pg values: postgres/cnpg-values.yaml at the profile's commit (none at the seed). */
export function cnpgOperatorValues(platform: PlatformProfile): Record<string, unknown> | undefined {
  return Object.keys(platform.cnpg.operatorValues).length > 0 ? platform.cnpg.operatorValues : undefined;
}

/**
 * cnpg/cluster values as buun-stack's postgres-cluster-values.gomplate.yaml renders them at the profile's commit
 * (PostgreSQL major, instances, resources, storage, parameters, the seccomp profile it also patches in, initdb's
 * `CREATE EXTENSION vector`, superuser secret). Without an `initdb` block the chart renders `initdb: null`, which
 * the API server refuses (spec.bootstrap.initdb must be an object: reports/k3d-api.json found it).
 */
export function postgresClusterValues(platform: PlatformProfile) {
  const c = platform.cnpg;
  return {
    // the seed's values name no version: the chart's default (16) is the profile's major there
    version: { postgresql: String(c.postgresMajor) },
    cluster: {
      instances: c.instances,
      ...(c.seccompProfile ? { seccompProfile: { type: c.seccompProfile } } : {}),
      ...(c.resources ? { resources: c.resources } : {}),
      storage: { size: c.storage },
      ...(c.postInitTemplateSQL.length ? { initdb: { postInitTemplateSQL: c.postInitTemplateSQL } } : {}),
      postgresql: { parameters: c.parameters },
      enableSuperuserAccess: true,
      superuserSecret: 'postgres-cluster-superuser',
    },
  };
}

/**
 * minio/minio values as minio/minio-values.gomplate.yaml sets them at the profile's commit: standalone, root
 * credentials from Secret `minio`, the profile's images, size, resources and security contexts. Its OIDC console
 * login and Ingresses are left off: the console is not under test, and its OIDC client would need Keycloak
 * before MinIO (drift reports them as not modelled).
 */
export function minioValues(platform: PlatformProfile, imageOverride?: string) {
  const m = platform.minio;
  const image = imageOverride
    ? { repository: imageOverride.slice(0, imageOverride.lastIndexOf(':')), tag: imageOverride.slice(imageOverride.lastIndexOf(':') + 1) }
    : m.image;
  return {
    mode: 'standalone',
    existingSecret: 'minio',
    image: { ...image, pullPolicy: 'IfNotPresent' },
    ...(m.mcImage ? { mcImage: { ...m.mcImage, pullPolicy: 'IfNotPresent' } } : {}),
    persistence: { size: m.persistenceSize },
    ...(m.resources ? { resources: m.resources } : {}),
    ...(m.securityContext ? { securityContext: m.securityContext } : {}),
    ...(m.containerSecurityContext ? { containerSecurityContext: m.containerSecurityContext } : {}),
    ...(m.securityContext && m.containerSecurityContext
      ? {
          makeUserJob: { securityContext: m.securityContext, containerSecurityContext: m.containerSecurityContext },
          makePolicyJob: { securityContext: m.securityContext, containerSecurityContext: m.containerSecurityContext },
        }
      : {}),
    oidc: { enabled: false },
    ingress: { enabled: false },
    consoleIngress: { enabled: false },
  };
}

/**
 * registries.yaml merged into k3d's own: k3d maps `<registry>:<host port>` to the registry container; this adds
 * IMAGE_REGISTRY (localhost:<port>, where images are pushed from this machine) so pods pull the same name.
 */
export function registriesConfig(opts: K3dOptions) {
  return { mirrors: { [opts.registry.host]: { endpoint: [`http://${opts.registry.name}:5000`] } } };
}
