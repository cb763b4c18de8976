import type { StackDescription } from '../config/stack.ts';
import { renderChartValues } from '../render/chart-values.ts';
import { CA_CONFIGMAP, CA_MOUNT, POSTGRES_HOST, S3_ENDPOINT } from './manifests.ts';
import type { K3dOptions } from './options.ts';

/**
 * Values of the mlflow chart: renderChartValues (buun-stack's values, from the description) plus the stack CA
 * mounted into the pod and named by REQUESTS_CA_BUNDLE / SSL_CERT_FILE — the same two variables the local
 * target gives its MLflow process, because here too Keycloak's certificate is signed by the stack CA.
 * serviceMonitor.enabled follows the description's exposePrometheus: it adds --expose-prometheus; the chart
 * renders the ServiceMonitor only where the monitoring.coreos.com/v1 API exists (not in this cluster).
 */
export function mlflowValues(desc: StackDescription, opts: K3dOptions) {
  const base = renderChartValues(desc, {
    registry: opts.registry.host,
    pullPolicy: opts.pullPolicy,
    s3Endpoint: S3_ENDPOINT,
    postgresHost: POSTGRES_HOST,
    monitoring: true,
  });
  const ca = `${CA_MOUNT}/ca.pem`;
  return {
    ...base,
    extraEnvVars: { ...base.extraEnvVars, REQUESTS_CA_BUNDLE: ca, SSL_CERT_FILE: ca },
    extraVolumes: [{ name: CA_CONFIGMAP, configMap: { name: CA_CONFIGMAP } }],
    extraVolumeMounts: [{ name: CA_CONFIGMAP, mountPath: CA_MOUNT, readOnly: true }],
  };
}

/**
 * cnpg/cluster 0.3.1 values as buun-stack's postgres-cluster-values.yaml, without its
 * `postInitTemplateSQL: CREATE EXTENSION vector`: MLflow does not use pgvector, and whether the default image
 * ships it is unconfirmed (deployment.md §5).
 */
export function postgresClusterValues() {
  return {
    cluster: {
      instances: 1,
      storage: { size: '20Gi' },
      postgresql: { parameters: { max_connections: '200' } },
      enableSuperuserAccess: true,
      superuserSecret: 'postgres-cluster-superuser',
    },
  };
}

/**
 * registries.yaml merged into k3d's own: k3d maps `<registry>:<host port>` to the registry container; this adds
 * IMAGE_REGISTRY (localhost:<port>, where images are pushed from this machine) so pods pull the same name.
 */
export function registriesConfig(opts: K3dOptions) {
  return { mirrors: { [opts.registry.host]: { endpoint: [`http://${opts.registry.name}:5000`] } } };
}
