import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publicUrl, type StackDescription } from '../config/stack.ts';
import { generateSecrets, logPath, type LocalContext, type StackPorts } from '../local/context.ts';
import { commandLine, environment } from '../local/components/mlflow.ts';
import * as s3 from '../local/components/s3.ts';
import type { PlacementValues } from './declared.ts';
import type { LocalSpec, SecretRef } from './parity.ts';
import { CLUSTER, clusterService } from './render.ts';

/**
 * The Secret (name and key) each secret variable of the local MLflow process stands for: the Secrets buun-stack
 * creates next to the chart (the chart values name mlflow-db-secret as existingDatabaseSecret), and the Flask key
 * Secret the chart generates for release `mlflow`. chart-parity compares secrets by this reference.
 */
export const LOCAL_SECRET_REFS: Record<string, SecretRef> = {
  PGUSER: { secret: 'mlflow-db-secret', key: 'username' },
  PGPASSWORD: { secret: 'mlflow-db-secret', key: 'password' },
  AWS_ACCESS_KEY_ID: { secret: 'mlflow-s3-secret', key: 'AWS_ACCESS_KEY_ID' },
  AWS_SECRET_ACCESS_KEY: { secret: 'mlflow-s3-secret', key: 'AWS_SECRET_ACCESS_KEY' },
  OIDC_CLIENT_ID: { secret: 'mlflow-oidc-config', key: 'OIDC_CLIENT_ID' },
  OIDC_CLIENT_SECRET: { secret: 'mlflow-oidc-config', key: 'OIDC_CLIENT_SECRET' },
  OIDC_USERS_DB_URI: { secret: 'mlflow-oidc-config', key: 'OIDC_USERS_DB_URI' },
  MLFLOW_FLASK_SERVER_SECRET_KEY: { secret: 'mlflow-flask-server-secret-key', key: 'MLFLOW_FLASK_SERVER_SECRET_KEY' },
};

/** Placeholder loopback ports: nothing listens on them, they only fill the command line and environment. */
export const PLACEHOLDER_PORTS: StackPorts = { postgres: 15432, s3: 17070, keycloakHttp: 18080, keycloakHttps: 18443, keycloakManagement: 19000, mlflow: 15000 };

/**
 * What the local target runs for MLflow (`commandLine` and `environment` of the component), for a context
 * with placeholder ports and freshly generated secrets in a throw-away state folder: no process is started.
 */
export function localSide(desc: StackDescription, cache: string): { local: LocalSpec; values: PlacementValues; secrets: string[]; state: string; cleanup: () => void } {
  const state = mkdtempSync(join(tmpdir(), 'chart-parity-state-'));
  const secrets = generateSecrets(desc);
  const ctx: LocalContext = {
    desc,
    state,
    cache,
    secrets,
    ports: PLACEHOLDER_PORTS,
    tls: { caCert: join(state, 'tls', 'ca.pem'), cert: join(state, 'tls', 'server.pem'), key: join(state, 'tls', 'server-key.pem') },
    readyTimeout: 1,
    log: (name) => logPath(state, name),
  };
  const local: LocalSpec = { command: 'mlflow', args: commandLine(ctx), env: environment(ctx), secretRefs: LOCAL_SECRET_REFS };
  const values = placementValues(ctx);
  const secretValues = [secrets.postgresSuperuser, secrets.postgresMlflow, secrets.s3AccessKey, secrets.s3SecretKey, secrets.keycloakAdmin, secrets.clientSecret, ...Object.values(secrets.personas)];
  return { local, values, secrets: secretValues, state, cleanup: () => rmSync(state, { recursive: true, force: true }) };
}

/** Each side's spelling of the same thing (provision/chart/declared.ts), for a local context (its ports and state folder). */
export function placementValues(ctx: LocalContext): PlacementValues {
  const { desc } = ctx;
  return {
    mlflowHost: desc.hosts.mlflow,
    chartPublicPort: String(CLUSTER.httpsPort),
    localPublicPort: String(desc.hosts.httpsPort),
    chartMlflowUrl: publicUrl(desc.hosts.mlflow, CLUSTER.httpsPort),
    localMlflowUrl: publicUrl(desc.hosts.mlflow, desc.hosts.httpsPort),
    chartKeycloakUrl: publicUrl(desc.hosts.keycloak, CLUSTER.httpsPort),
    localKeycloakUrl: publicUrl(desc.hosts.keycloak, desc.hosts.httpsPort),
    chartService: clusterService(desc),
    chartServicePort: String(CLUSTER.servicePort),
    chartListenHost: CLUSTER.listenHost,
    chartContainerPort: String(CLUSTER.containerPort),
    localHost: '127.0.0.1',
    localMlflowPort: String(ctx.ports.mlflow),
    chartPostgresHost: CLUSTER.postgresHost,
    chartPostgresPort: String(CLUSTER.postgresPort),
    localPostgresPort: String(ctx.ports.postgres),
    chartS3Endpoint: CLUSTER.s3Endpoint,
    localS3Endpoint: s3.endpoint(ctx),
    localFs: join(ctx.state, 'mlflow', 'fs'),
    mlflowVersion: desc.versions.mlflow,
  };
}
