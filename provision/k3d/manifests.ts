import type { StackDescription } from '../config/stack.ts';
import { publicUrl } from '../config/stack.ts';
import type { PlatformProfile } from '../platform/profile.ts';
import { fileText, secret } from './placeholders.ts';

// The Kubernetes objects the k3d plan applies, as buun-stack's recipes create them at the platform profile's
// commit (postgres/justfile, minio/justfile, keycloak/justfile and keycloak/keycloak-cr.gomplate.yaml,
// mlflow/justfile of buun-ch/buun-stack; platforms/*.yaml cite each value), plus what a laptop cluster needs
// instead of a public DNS name and certificate. Pure functions.

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export const POSTGRES_NS = 'postgres';
export const MINIO_NS = 'minio';
export const KEYCLOAK_NS = 'keycloak';
/** CloudNativePG's read-write Service of release postgres-cluster (what MLflow and Keycloak use). */
export const POSTGRES_HOST = `postgres-cluster-rw.${POSTGRES_NS}.svc.cluster.local`;
export const S3_ENDPOINT = `http://minio.${MINIO_NS}.svc.cluster.local:9000`;
/**
 * Fixed ClusterIP of the Service that carries the public host names inside the cluster (in k3s's default service
 * range 10.43.0.0/16, in its low band that Kubernetes hands out only on request). `k3d cluster create
 * --host-alias` maps the host names to it in CoreDNS, so MLflow reaches https://<keycloak host>:<port> the way
 * a browser on this machine does.
 */
export const PUBLIC_HTTPS_IP = '10.43.0.200';
export const PUBLIC_HTTPS_SERVICE = 'mlflow-harness-https';
/** Where the MLflow pod finds the stack CA (ConfigMap stack-ca); REQUESTS_CA_BUNDLE / SSL_CERT_FILE point here. */
export const CA_MOUNT = '/etc/harness-ca';
export const CA_CONFIGMAP = 'stack-ca';
export const TLS_SECRET = 'stack-tls';

/** A namespace, with the Pod Security labels buun-stack's recipe sets on it (none when it sets none). */
export function namespace(name: string, labels: Record<string, string> = {}): K8sObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(Object.keys(labels).length ? { labels } : {}) } };
}

function secretObject(namespaceName: string, name: string, stringData: Record<string, string>, type = 'Opaque'): K8sObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: namespaceName }, type, stringData };
}

/** The stack's server certificate, served by Traefik for every host name (TLSStore `default` below). */
export function tlsSecret(certFile: string): K8sObject {
  return secretObject('kube-system', TLS_SECRET, { 'tls.crt': fileText(certFile), 'tls.key': secret('tlsKey') }, 'kubernetes.io/tls');
}

/** Traefik's default certificate: Ingresses with `tls.hosts` and no secretName (buun's) get it. */
export function tlsStore(): K8sObject {
  return { apiVersion: 'traefik.io/v1alpha1', kind: 'TLSStore', metadata: { name: 'default', namespace: 'kube-system' }, spec: { defaultCertificate: { secretName: TLS_SECRET } } };
}

/** The public https port inside the cluster, at PUBLIC_HTTPS_IP, forwarded to Traefik's websecure entrypoint. */
export function publicHttpsService(httpsPort: number): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: PUBLIC_HTTPS_SERVICE, namespace: 'kube-system' },
    spec: {
      type: 'ClusterIP',
      clusterIP: PUBLIC_HTTPS_IP,
      selector: { 'app.kubernetes.io/name': 'traefik' },
      ports: [{ name: 'https', port: httpsPort, targetPort: 'websecure', protocol: 'TCP' }],
    },
  };
}

/** Secret postgres-cluster-superuser (cnpg/cluster `superuserSecret`). */
export function postgresSuperuserSecret(): K8sObject {
  return secretObject(POSTGRES_NS, 'postgres-cluster-superuser', { username: 'postgres', password: secret('postgresSuperuser') }, 'kubernetes.io/basic-auth');
}

/**
 * Secret `minio` as create-root-credentials makes it (minio/justfile): the root user (`minioadmin`) and a random
 * password. MLflow uses the same root credentials (create-s3-secret, mlflow/justfile).
 */
export function minioSecret(rootUser: string): K8sObject {
  return secretObject(MINIO_NS, 'minio', { rootUser, rootPassword: secret('s3SecretKey') });
}

/** Secret database-config: Keycloak connects as the PostgreSQL superuser, as buun-stack's does. */
export function keycloakDatabaseSecret(desc: StackDescription): K8sObject {
  return secretObject(KEYCLOAK_NS, 'database-config', {
    host: `postgres-cluster-rw.${POSTGRES_NS}`,
    port: '5432',
    user: 'postgres',
    password: secret('postgresSuperuser'),
    database: desc.postgres.databases.keycloak,
  });
}

/** The bootstrap admin (user `admin`, as the local target and buun-stack's default). */
export function keycloakAdminSecret(): K8sObject {
  return secretObject(KEYCLOAK_NS, 'keycloak-bootstrap-admin', { username: 'admin', password: secret('keycloakAdmin') });
}

/**
 * The Keycloak CR as keycloak/keycloak-cr.gomplate.yaml applies it at the profile's commit (apiVersion, image,
 * resources, probes, pod security, additional options), with the hostname as a full URL (hostname v2: the
 * public port is not 443 here) and xforwarded proxy headers. KEYCLOAK_VERSION, when set, replaces the image tag.
 */
export function keycloak(desc: StackDescription, platform: PlatformProfile, serverVersion?: string): K8sObject {
  const k = platform.keycloak;
  const image = serverVersion ? `${k.image.slice(0, k.image.lastIndexOf(':'))}:${serverVersion}` : k.image;
  return {
    apiVersion: k.apiVersion,
    kind: 'Keycloak',
    metadata: { name: 'keycloak', namespace: KEYCLOAK_NS },
    spec: {
      instances: 1,
      image,
      startOptimized: false,
      db: {
        vendor: 'postgres',
        host: `postgres-cluster-rw.${POSTGRES_NS}`,
        port: 5432,
        database: desc.postgres.databases.keycloak,
        usernameSecret: { name: 'database-config', key: 'user' },
        passwordSecret: { name: 'database-config', key: 'password' },
      },
      hostname: { hostname: publicUrl(desc.hosts.keycloak, desc.hosts.httpsPort), strict: false, strictBackchannel: false },
      http: { httpEnabled: true, httpPort: 8080, httpsPort: 8443 },
      proxy: { headers: 'xforwarded' },
      ...(k.additionalOptions.length ? { additionalOptions: k.additionalOptions } : {}),
      ...(k.probes ?? {}),
      bootstrapAdmin: { user: { secret: 'keycloak-bootstrap-admin' } },
      resources: k.resources,
      ...(k.podTemplate ? { unsupported: { podTemplate: k.podTemplate } } : {}),
      ingress: { enabled: false },
    },
  };
}

function traefikIngress(namespaceName: string, name: string, host: string, service: string, port: number, annotations: Record<string, string> = {}): K8sObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: namespaceName, annotations: { 'traefik.ingress.kubernetes.io/router.entrypoints': 'websecure', ...annotations } },
    spec: {
      ingressClassName: 'traefik',
      rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: port } } } }] } }],
      tls: [{ hosts: [host] }],
    },
  };
}

/** Ingress keycloak-ingress → keycloak-service:8080 (the operator's Service), as buun-stack's. */
export function keycloakIngress(desc: StackDescription): K8sObject {
  return traefikIngress(KEYCLOAK_NS, 'keycloak-ingress', desc.hosts.keycloak, 'keycloak-service', 8080);
}

/** mlflow-db-secret {username, password} (create-db-secret). */
export function mlflowDbSecret(desc: StackDescription): K8sObject {
  const db = desc.mlflow.database ?? {};
  return secretObject(desc.namespace, 'mlflow-db-secret', { username: db.user ?? desc.postgres.user, password: db.password ?? secret('postgresMlflow') });
}

/** mlflow-s3-secret {AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY}: MinIO's root credentials (create-s3-secret). */
export function mlflowS3Secret(desc: StackDescription, rootUser: string): K8sObject {
  return secretObject(desc.namespace, 'mlflow-s3-secret', { AWS_ACCESS_KEY_ID: rootUser, AWS_SECRET_ACCESS_KEY: secret('s3SecretKey') });
}

/** mlflow-oidc-config {OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_USERS_DB_URI}; passwords are [A-Za-z0-9] (no URL encoding needed). */
export function mlflowOidcSecret(desc: StackDescription): K8sObject {
  const { databases } = desc.postgres;
  // a database fault (another host, user or password) reaches the plugin's auth database URI too
  const db = desc.mlflow.database ?? {};
  const password = db.password !== undefined ? encodeURIComponent(db.password) : secret('postgresMlflow');
  return secretObject(desc.namespace, 'mlflow-oidc-config', {
    OIDC_CLIENT_ID: desc.keycloak.client.clientId,
    OIDC_CLIENT_SECRET: secret('clientSecret'),
    OIDC_USERS_DB_URI: `postgresql://${db.user ?? desc.postgres.user}:${password}@${db.host ?? POSTGRES_HOST}:5432/${databases.auth}`,
  });
}

/** The stack CA for the MLflow pod, which fetches Keycloak's discovery document and tokens over https. */
export function caConfigMap(desc: StackDescription, caFile: string): K8sObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CA_CONFIGMAP, namespace: desc.namespace }, data: { 'ca.pem': fileText(caFile) } };
}

/**
 * Middleware mlflow-headers: the forwarded headers the plugin's ProxyFix reads (mlflow-middleware.gomplate.yaml),
 * from the description's edge (a fault may change one, or remove it: Traefik removes a header set to "").
 */
export function mlflowHeadersMiddleware(desc: StackDescription): K8sObject {
  const value = (v: string | null) => (v === null ? '' : v.replaceAll('{host}', desc.hosts.mlflow).replaceAll('{port}', String(desc.hosts.httpsPort)));
  const h = desc.edge.forwardedHeaders;
  return {
    apiVersion: 'traefik.io/v1alpha1',
    kind: 'Middleware',
    metadata: { name: 'mlflow-headers', namespace: desc.namespace },
    spec: {
      headers: {
        customRequestHeaders: {
          'X-Forwarded-Proto': value(h.proto),
          'X-Forwarded-Host': value(h.host),
          'X-Forwarded-Port': value(h.port),
        },
      },
    },
  };
}

/** The Keycloak operator's manifests (keycloak-k8s-resources at the operator version), applied in namespace keycloak. */
export function keycloakOperatorManifests(version: string): { id: string; url: string; creates: string }[] {
  const base = `https://raw.githubusercontent.com/keycloak/keycloak-k8s-resources/${version}/kubernetes`;
  return [
    { id: 'keycloak-crd-keycloaks', url: `${base}/keycloaks.k8s.keycloak.org-v1.yml`, creates: 'k8s:/customresourcedefinitions.apiextensions.k8s.io/keycloaks.k8s.keycloak.org' },
    { id: 'keycloak-crd-realmimports', url: `${base}/keycloakrealmimports.k8s.keycloak.org-v1.yml`, creates: 'k8s:/customresourcedefinitions.apiextensions.k8s.io/keycloakrealmimports.k8s.keycloak.org' },
    // its ClusterRoleBinding names the ServiceAccount in namespace `keycloak`
    { id: 'keycloak-operator', url: `${base}/kubernetes.yml`, creates: `k8s:${KEYCLOAK_NS}/deployments.apps/keycloak-operator` },
  ];
}
