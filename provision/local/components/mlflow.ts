import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { HarnessError } from '../../errors.ts';
import { dirname, join } from 'node:path';
import { chartServerSpec, type ChartServerSpec } from '../../chart/server-spec.ts';
import { publicUrl } from '../../config/stack.ts';
import { extraEnv, placeholders, serverArguments } from '../../render/mlflow-server.ts';
import type { LocalContext } from '../context.ts';
import type { LedgerEntry } from '../ledger.ts';
import { spawnDetached, waitReady } from '../process.ts';
import * as s3 from './s3.ts';

export const NAME = 'mlflow';

/** Container paths the chart's settings name, placed under the state folder for the local target. */
function localPath(ctx: LocalContext, containerPath: string): string {
  const p = join(ctx.state, 'mlflow', 'fs', containerPath.replace(/^\/+/, ''));
  mkdirSync(p, { recursive: true });
  return p;
}

/** How the server reaches PostgreSQL: the stack's own database and user, unless a fault says otherwise. */
export function databaseClient(ctx: LocalContext): { host: string; port: number; user: string; password: string } {
  const o = ctx.desc.mlflow.database ?? {};
  return { host: o.host ?? '127.0.0.1', port: ctx.ports.postgres, user: o.user ?? ctx.desc.postgres.user, password: o.password ?? ctx.secrets.postgresMlflow };
}

/** The environment the chart gives the container, rendered from the same settings, plus local placement. */
export function environment(ctx: LocalContext): Record<string, string> {
  const { desc, secrets, ports, tls } = ctx;
  const values = placeholders(desc, { service: '127.0.0.1', servicePort: ports.mlflow, s3Endpoint: s3.endpoint(ctx) });
  const env = extraEnv(desc.mlflow, values);
  env.SESSION_CACHE_DIR = localPath(ctx, env.SESSION_CACHE_DIR ?? '/tmp/session');
  const db = databaseClient(ctx);
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(ctx.state, 'mlflow'),
    LANG: 'C.UTF-8',
    // chart: MLFLOW_VERSION, DB and S3 secrets, env configmap
    MLFLOW_VERSION: desc.versions.imageTag,
    PGHOST: db.host,
    PGPORT: String(db.port),
    PGDATABASE: desc.postgres.databases.tracking,
    PGUSER: db.user,
    PGPASSWORD: db.password,
    AWS_ACCESS_KEY_ID: secrets.s3AccessKey,
    AWS_SECRET_ACCESS_KEY: secrets.s3SecretKey,
    MLFLOW_CONFIGURE_LOGGING: 'false',
    MLFLOW_DISABLE_TELEMETRY: 'true',
    DO_NOT_TRACK: 'true',
    // buun-stack's extraEnvVars
    ...env,
    // the chart's generated Flask secret key (envFrom secret <fullname>-flask-server-secret-key)
    ...(secrets.flaskServerSecretKey ? { MLFLOW_FLASK_SERVER_SECRET_KEY: secrets.flaskServerSecretKey } : {}),
    // secret mlflow-oidc-config
    OIDC_CLIENT_ID: desc.keycloak.client.clientId,
    OIDC_CLIENT_SECRET: secrets.clientSecret,
    OIDC_USERS_DB_URI: `postgresql://${db.user}:${encodeURIComponent(db.password)}@${db.host}:${db.port}/${desc.postgres.databases.auth}`,
    // the plugin's JWKS cache (default /tmp/flask_cache) must not outlive this stack's realm keys
    CACHE_DIR: localPath(ctx, '/tmp/flask_cache'),
    // trust the stack CA for the discovery document and token exchange through the proxy
    REQUESTS_CA_BUNDLE: tls.caCert,
    SSL_CERT_FILE: tls.caCert,
    // every line reaches the log file at once (stdout of a process that is not on a terminal is block-buffered)
    PYTHONUNBUFFERED: '1',
  };
}

export function commandLine(ctx: LocalContext): string[] {
  const values = placeholders(ctx.desc, { service: '127.0.0.1', servicePort: ctx.ports.mlflow, s3Endpoint: s3.endpoint(ctx) });
  return serverArguments(ctx.desc.mlflow, values, {
    host: '127.0.0.1',
    port: ctx.ports.mlflow,
    backendStoreUri: 'postgresql://',
    prometheusDir: localPath(ctx, ctx.desc.mlflow.prometheusDir),
  });
}

/** The command line and environment the server starts with: the harness's renderer, or the chart's spec. */
export async function launchSpec(ctx: LocalContext): Promise<{ args: string[]; env: Record<string, string>; chart?: ChartServerSpec }> {
  if (ctx.desc.serverSpec.from === 'chart') {
    const chart = await chartServerSpec(ctx, environment(ctx));
    return { args: chart.args, env: chart.env, chart };
  }
  return { args: commandLine(ctx), env: environment(ctx) };
}

/**
 * The chart's `mlflow-db-migration` init container: create/upgrade the tracking schema before the server
 * starts (two first requests racing to initialise an empty store fail with KeyError 'config'). With the
 * chart's spec, its own script (the mounted ConfigMap file) runs with its own environment.
 */
export async function migrate(ctx: LocalContext, venv: string): Promise<void> {
  const { chart } = await launchSpec(ctx);
  const log = ctx.log(NAME);
  let args: string[];
  let env: Record<string, string>;
  if (chart?.migration) {
    mkdirSync(dirname(chart.migration.scriptPath), { recursive: true });
    writeFileSync(chart.migration.scriptPath, chart.migration.script);
    args = [chart.migration.scriptPath];
    env = chart.migration.env;
    appendFileSync(log, `[harness] database migration: chart ${chart.chart.version}'s mlflow-db-migration script\n`);
  } else {
    args = ['-c', [
      'from mlflow.store.db.utils import create_sqlalchemy_engine_with_retry, _initialize_tables',
      "_initialize_tables(create_sqlalchemy_engine_with_retry('postgresql://'))",
    ].join('\n')];
    env = environment(ctx);
    appendFileSync(log, `[harness] database migration (the chart's mlflow-db-migration init container)\n`);
  }
  const r = await execa(join(venv, 'bin', 'python'), args, { env, extendEnv: false, reject: false, all: true, cwd: join(ctx.state, 'mlflow') });
  appendFileSync(log, `${r.all ?? ''}\n[harness] migration exit ${r.exitCode}\n`);
  if (r.exitCode !== 0) throw new HarnessError(`MLflow database migration failed (exit ${r.exitCode})`, `see its log ${log}`);
}

/** `mlflow server` from the venv, started as the chart starts it (or from the chart's own rendered spec). */
export async function start(ctx: LocalContext, venv: string): Promise<LedgerEntry> {
  const spec = await launchSpec(ctx);
  if (spec.chart) appendFileSync(ctx.log(NAME), `[harness] command line and environment from chart ${spec.chart.chart.version} (${spec.chart.chart.path}); see ${join(ctx.state, 'mlflow', 'server-spec.json')}\n`);
  return spawnDetached({
    name: NAME,
    command: join(venv, 'bin', 'mlflow'),
    args: spec.args,
    env: spec.env,
    cwd: join(ctx.state, 'mlflow'),
    log: ctx.log(NAME),
    ports: [ctx.ports.mlflow],
  });
}

/**
 * Waits for /health to answer OK — or, for a deliberately faulted server (`anyAnswer`), for any HTTP answer:
 * a fault such as a Flask app under Uvicorn answers every request with 500.
 */
export async function ready(ctx: LocalContext, entry: LedgerEntry, anyAnswer = false): Promise<void> {
  const url = `http://127.0.0.1:${ctx.ports.mlflow}/health`;
  const condition = anyAnswer ? `GET ${url} answers` : `GET ${url} answers OK`;
  await waitReady(entry, 'MLflow', condition, async () => {
    const res = await fetch(url);
    return anyAnswer || res.ok;
  }, ctx.readyTimeout);
}

export function url(ctx: LocalContext): string {
  return publicUrl(ctx.desc.hosts.mlflow, ctx.desc.hosts.httpsPort);
}
