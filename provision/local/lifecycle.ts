import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminClient, configureRealm } from '../keycloak/realm.ts';
import { info } from '../progress.ts';
import { randomPassword, type LocalContext } from './context.ts';
import { recordSecret } from '../secret-ledger.ts';
import * as keycloak from './components/keycloak.ts';
import * as mlflow from './components/mlflow.ts';
import * as postgres from './components/postgres.ts';
import { isAlive, stopProcess } from './process.ts';
import { loadLocalContext, realmInputs, restartMlflow } from './running-stack.ts';

/** One step of a lifecycle recipe and what came of it (errors are recorded, as buun-stack's `|| true`). */
export interface StepOutcome {
  step: string;
  ok: boolean;
  detail?: string;
}

async function attempt(steps: StepOutcome[], step: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
    steps.push({ step, ok: true });
  } catch (e) {
    steps.push({ step, ok: false, detail: (e as Error).message.split('\n')[0] });
  }
  const last = steps[steps.length - 1]!;
  info(`${last.ok ? '✔' : '✖'} ${step}${last.detail ? ` — ${last.detail}` : ''}`);
}

async function kcAdmin(ctx: LocalContext) {
  const kc = await adminClient(`http://127.0.0.1:${ctx.ports.keycloakHttp}`, { username: keycloak.ADMIN_USER, password: ctx.secrets.keycloakAdmin });
  kc.setConfig({ realmName: ctx.desc.keycloak.realm });
  return kc;
}

async function deleteClient(ctx: LocalContext): Promise<void> {
  const kc = await kcAdmin(ctx);
  const found = await kc.clients.find({ clientId: ctx.desc.keycloak.client.clientId });
  if (found.length === 0) throw new Error(`client ${ctx.desc.keycloak.client.clientId} does not exist`);
  for (const c of found) await kc.clients.del({ id: c.id! });
}

/** buun-stack's postgres::delete-db: end sessions, refuse new ones, drop. */
async function deleteDatabase(ctx: LocalContext, db: string): Promise<void> {
  await postgres.query(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}' AND pid <> pg_backend_pid()`);
  await postgres.query(ctx, `UPDATE pg_database SET datallowconn = false WHERE datname = '${db}'`);
  await postgres.query(ctx, `DROP DATABASE IF EXISTS "${db}"`);
}

/** buun-stack's postgres::delete-user: revoke default privileges, hand `public` back, drop the role (in DB postgres). */
async function deleteUser(ctx: LocalContext, user: string): Promise<void> {
  await postgres.query(ctx, `ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM "${user}"`);
  await postgres.query(ctx, 'ALTER SCHEMA public OWNER TO postgres');
  await postgres.query(ctx, `DROP USER "${user}"`);
}

/** `just mlflow::uninstall [delete-db]` on the local target. */
export async function uninstallMlflow(deleteDb: boolean): Promise<StepOutcome[]> {
  const { ctx, ledger, ledgerFile } = loadLocalContext();
  const steps: StepOutcome[] = [];
  await attempt(steps, 'stop the MLflow server (helm uninstall)', async () => {
    const entry = ledger.components[mlflow.NAME];
    if (entry && isAlive(entry.pid)) await stopProcess(entry);
    ledgerFile.update((l) => {
      delete l.components[mlflow.NAME];
      delete l.readyAt;
    });
  });
  if (deleteDb) {
    await attempt(steps, `delete database ${ctx.desc.postgres.databases.tracking}`, () => deleteDatabase(ctx, ctx.desc.postgres.databases.tracking));
    await attempt(steps, `delete user ${ctx.desc.postgres.user}`, () => deleteUser(ctx, ctx.desc.postgres.user));
  }
  await attempt(steps, `delete Keycloak client ${ctx.desc.keycloak.client.clientId}`, () => deleteClient(ctx));
  return steps;
}

/** `just mlflow::cleanup` on the local target: databases, user and client, each `|| true`. */
export async function cleanupMlflow(): Promise<StepOutcome[]> {
  const { ctx } = loadLocalContext();
  const steps: StepOutcome[] = [];
  await attempt(steps, `delete database ${ctx.desc.postgres.databases.tracking}`, () => deleteDatabase(ctx, ctx.desc.postgres.databases.tracking));
  await attempt(steps, `delete user ${ctx.desc.postgres.user}`, () => deleteUser(ctx, ctx.desc.postgres.user));
  await attempt(steps, `delete Keycloak client ${ctx.desc.keycloak.client.clientId}`, () => deleteClient(ctx));
  return steps;
}

/** `just mlflow::install` on a stack whose other components run: databases and user, a new client secret, the server. */
export async function installMlflow(): Promise<StepOutcome[]> {
  const { ctx, ledgerFile } = loadLocalContext();
  const steps: StepOutcome[] = [];
  await attempt(steps, 'databases and user (setup-postgres-db)', () => postgres.configure(ctx));
  ctx.secrets.clientSecret = randomPassword();
  recordSecret('client secret of client mlflow after the install recipe made a new one', ctx.secrets.clientSecret, undefined, ctx.state);
  writeFileSync(join(ctx.state, 'secrets.json'), `${JSON.stringify(ctx.secrets, null, 2)}\n`, { mode: 0o600 });
  await attempt(steps, 'Keycloak client, scope, groups (recreated with a new secret)', () => configureRealm(realmInputs(ctx)));
  await attempt(steps, 'start the MLflow server (helm install)', async () => {
    await restartMlflow(ctx, ledgerFile);
    ledgerFile.update((l) => {
      l.readyAt = new Date().toISOString();
    });
  });
  return steps;
}
