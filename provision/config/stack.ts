import { resolve } from 'node:path';
import { localPlatform, type Resources } from '../platform/profile.ts';
import type { HarnessEnv } from './env.ts';
import { applyOverrides } from './overrides.ts';
import type { PinSet, SettingChange } from './pin-sets.ts';

/**
 * The one declarative description of the stack under test. Every target renders from it:
 * the local processes, the k3d chart values and the Keycloak realm.
 */
export interface StackDescription {
  /** The pin set the versions come from, and the changes of the settings that go with it (with reasons). */
  pinSet: { name: string; generation: string; settingChanges: SettingChange[] };
  /**
   * The platform profile (HARNESS_PLATFORM) the realm settings and versions around MLflow come from, and what the
   * local target runs other than the profile says (each with its reason).
   */
  platform: { name: string; localDeclared: string[] };
  versions: {
    python: string;
    mlflow: string;
    mlflowOidcAuth: string;
    baseImage: string;
    /** The days the base image and the image were built (the Python packages are resolved as of then). */
    baseBuiltOn: string;
    builtOn: string;
    imageTag: string;
    chart: string;
    keycloak: string;
    postgresMajor: number;
    versitygw: string;
  };
  /** External names (TLS, through the reverse proxy). */
  hosts: { mlflow: string; keycloak: string; httpsPort: number };
  keycloak: RealmDescription;
  postgres: { user: string; databases: { tracking: string; auth: string; keycloak: string } };
  s3: { bucket: string };
  mlflow: MlflowServerSettings;
  /** The TLS reverse proxy in front of MLflow and Keycloak (buun-stack's Traefik with its middleware). */
  edge: EdgeDescription;
  /** Where the local MLflow server's command line and environment come from (HARNESS_SERVER_SPEC). */
  serverSpec: ServerSpecSource;
  namespace: string;
}

/** What the proxy does: the forwarded headers it sets and the certificate it serves. */
export interface EdgeDescription {
  /** Values of X-Forwarded-Proto/-Host/-Port towards MLflow and Keycloak (`{host}`, `{port}` filled); null: removed. */
  forwardedHeaders: { proto: string | null; host: string | null; port: string | null };
  /** The stack's certificate, or a broken one: expired, for another host name, or signed by a CA nobody trusts. */
  certificate: 'valid' | 'expired' | 'wrong-host' | 'untrusted-ca';
  /** Requests to MLflow the proxy answers itself (a route broken at the edge): methods, an RE2 path pattern, the status. */
  blocked?: BlockedRequests[];
}

export interface BlockedRequests {
  methods: ('GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE')[];
  path: string;
  status: number;
}

/** The harness's own renderer, or the chart's rendered container spec (a chart folder, or a version to pull). */
export type ServerSpecSource = { from: 'harness' } | { from: 'chart'; chart: string };

export interface Persona {
  key: 'admin' | 'user1' | 'user2' | 'outsider';
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  groups: string[];
}

export interface RealmDescription {
  realm: string;
  /** Realm token/session settings as buun-stack's create-realm recipe sets them (seconds). */
  tokenSettings: Record<string, number | boolean>;
  client: {
    clientId: string;
    confidential: boolean;
    /** The client's secret in Keycloak was rotated while MLflow keeps the old one (a fault; false normally). */
    secretRotated: boolean;
    /** Path appended to https://{mlflow host}. */
    redirectPath: string;
    directAccessGrantsEnabled: boolean;
  };
  groupsScope: {
    name: string;
    description: string;
    mapper: { name: string; claim: string; fullPath: boolean; idToken: boolean; accessToken: boolean; userinfo: boolean };
    /** buun-stack attaches the scope as a default client scope. */
    attachAs: 'default' | 'optional' | 'none';
  };
  groups: { name: string; description: string }[];
  personas: Persona[];
}

/** MLflow server settings exactly as buun-stack's chart values set them; rendered per target. */
export interface MlflowServerSettings {
  appName: string;
  workers: string;
  /** `extraArgs.allowedHosts` entries; `{host}`, `{port}`, `{service}`, `{servicePort}` are filled per target. */
  allowedHosts: string[];
  proxiedArtifactStorage: boolean;
  artifactsDestination: string;
  exposePrometheus: boolean;
  /** Directory given to --expose-prometheus by the chart (container path). */
  prometheusDir: string;
  /**
   * The pod around the server as buun-stack's chart values set it (`resources`, `podSecurityContext`,
   * `securityContext`, from the platform profile): the chart renders it; the local target enforces what it can.
   */
  pod: { resources: Resources; podSecurityContext: Record<string, unknown>; securityContext: Record<string, unknown> };
  /** `extraEnvVars`; values may hold the placeholders above plus `{keycloakUrl}`, `{realm}`, `{s3Endpoint}`. */
  env: Record<string, string>;
  /**
   * How the server reaches PostgreSQL when it differs from the stack's own (a fault: another host, user or
   * password); chart: `postgres.host` and the `mlflow-db-secret` keys. Unset: the stack's database and user.
   */
  database?: { host?: string; user?: string; password?: string };
}

export const MLFLOW_ADMIN_GROUP = 'mlflow-admins';
export const MLFLOW_USER_GROUP = 'mlflow-users';

/**
 * Builds the description from the user's settings and a pin set: buun-stack's settings, then the changes the
 * pin set declares, then those its plugin generation needs to start (each with its reason).
 */
export function describeStack(env: HarnessEnv, set: PinSet): StackDescription {
  const base = buunStack(env, set);
  let desc = base;
  const changes: SettingChange[] = [];
  for (const s of set.settings) {
    desc = applyOverrides(desc, s.change);
    changes.push(s);
  }
  for (const s of set.adapter.requiredSettings(desc.mlflow)) {
    desc = applyOverrides(desc, s.change);
    changes.push(s);
  }
  desc.pinSet.settingChanges = changes;
  return desc;
}

/** buun-stack's description of the stack (its recipes and chart values), with the pin set's versions. */
function buunStack(env: HarnessEnv, set: PinSet): StackDescription {
  const { pins } = set;
  const realm = env.KEYCLOAK_REALM;
  const platform = localPlatform(env);
  const emailDomain = 'example.com';
  const persona = (key: Persona['key'], username: string, first: string, last: string, groups: string[]): Persona => ({
    key,
    username,
    email: `${username}@${emailDomain}`,
    firstName: first,
    lastName: last,
    groups,
  });
  return {
    pinSet: { name: set.name, generation: set.adapter.generation, settingChanges: [] },
    platform: { name: platform.profile.name, localDeclared: platform.declared },
    versions: {
      python: set.python,
      mlflow: pins.mlflow,
      mlflowOidcAuth: pins.mlflowOidcAuth,
      baseImage: pins.baseImage,
      baseBuiltOn: set.dates.baseBuiltOn,
      builtOn: set.dates.builtOn,
      imageTag: env.MLFLOW_IMAGE_TAG ?? `${pins.mlflow}-oidc`,
      chart: env.MLFLOW_CHART_VERSION ?? set.chart,
      keycloak: platform.keycloak,
      postgresMajor: platform.postgresMajor,
      versitygw: env.VERSITYGW_VERSION,
    },
    hosts: { mlflow: env.MLFLOW_HOST, keycloak: env.KEYCLOAK_HOST, httpsPort: env.HARNESS_HTTPS_PORT },
    namespace: env.MLFLOW_NAMESPACE,
    // buun-stack's Traefik middleware mlflow-headers, and the stack's certificate
    edge: { forwardedHeaders: { proto: 'https', host: '{host}', port: '{port}' }, certificate: 'valid' },
    serverSpec: env.HARNESS_SERVER_SPEC === 'chart'
      ? { from: 'chart', chart: env.MLFLOW_CHART_PATH ? resolve(env.MLFLOW_CHART_PATH) : env.MLFLOW_CHART_VERSION ?? set.chart }
      : { from: 'harness' },
    keycloak: {
      realm,
      // create-realm.ts with the recipe's defaults, at the profile's commit of buun-stack
      tokenSettings: { ...platform.profile.realm },
      client: { clientId: 'mlflow', confidential: true, secretRotated: false, redirectPath: '/callback', directAccessGrantsEnabled: false },
      groupsScope: {
        name: 'groups',
        description: 'User group memberships',
        mapper: { name: 'groups', claim: 'groups', fullPath: false, idToken: true, accessToken: true, userinfo: true },
        attachAs: 'default',
      },
      groups: [
        { name: MLFLOW_ADMIN_GROUP, description: 'MLflow administrators with full access' },
        { name: MLFLOW_USER_GROUP, description: 'MLflow users with basic access' },
      ],
      personas: [
        persona('admin', 'alice', 'Alice', 'Admin', [MLFLOW_ADMIN_GROUP]),
        persona('user1', 'bob', 'Bob', 'User', [MLFLOW_USER_GROUP]),
        persona('user2', 'carol', 'Carol', 'User', [MLFLOW_USER_GROUP]),
        persona('outsider', 'mallory', 'Mallory', 'Outsider', []),
      ],
    },
    postgres: { user: 'mlflow', databases: { tracking: 'mlflow', auth: 'mlflow_auth', keycloak: 'keycloak' } },
    s3: { bucket: 'mlflow' },
    mlflow: {
      appName: 'oidc-auth-fastapi',
      workers: '1',
      allowedHosts: ['{host}', '{host}:{port}', '{service}', '{service}:{servicePort}', '*'],
      proxiedArtifactStorage: true,
      artifactsDestination: 's3://mlflow/',
      exposePrometheus: true,
      prometheusDir: '/mlflow/metrics',
      pod: structuredClone(platform.profile.mlflow),
      env: {
        MLFLOW_S3_ENDPOINT_URL: '{s3Endpoint}',
        MLFLOW_S3_IGNORE_TLS: 'true',
        OIDC_DISCOVERY_URL: '{keycloakUrl}/realms/{realm}/.well-known/openid-configuration',
        OIDC_REDIRECT_URI: '{mlflowUrl}/callback',
        OIDC_SCOPE: 'openid profile email groups',
        OIDC_PROVIDER_DISPLAY_NAME: 'Keycloak',
        OIDC_GROUPS_ATTRIBUTE: 'groups',
        OIDC_ADMIN_GROUP_NAME: MLFLOW_ADMIN_GROUP,
        OIDC_GROUP_NAME: `${MLFLOW_ADMIN_GROUP},${MLFLOW_USER_GROUP}`,
        DEFAULT_MLFLOW_PERMISSION: 'MANAGE',
        SESSION_TYPE: 'cachelib',
        SESSION_CACHE_DIR: '/tmp/session',
        MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: '{mlflowUrl}',
        MLFLOW_SERVER_ALLOWED_HOSTS: '{host},{host}:{port}',
        MLFLOW_SERVER_X_FRAME_OPTIONS: 'SAMEORIGIN',
      },
    },
  };
}

/** https URL of a public host; the port is omitted when it is 443. */
export function publicUrl(host: string, httpsPort: number): string {
  return httpsPort === 443 ? `https://${host}` : `https://${host}:${httpsPort}`;
}
