import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { HarnessError } from '../../errors.ts';
import type { LocalContext } from '../context.ts';
import type { LedgerEntry } from '../ledger.ts';
import { spawnDetached, waitReady } from '../process.ts';

export const NAME = 'postgres';

function binDir(major: number): string {
  return `/usr/lib/postgresql/${major}/bin`;
}

/** initdb runs as `postgres` when we are root (PostgreSQL refuses root). */
async function runAs(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const uid = Number((await execa('id', ['-u', 'postgres'])).stdout);
  const gid = Number((await execa('id', ['-g', 'postgres'])).stdout);
  return { uid, gid };
}

/**
 * The folder of PostgreSQL's data, socket and password file. As root the server runs as `postgres`, which
 * cannot enter a checkout under a private (0700) folder such as root's home: its folder then lives under
 * /var/tmp, one per state folder, owned by `postgres` (0700) — the user's folders keep their permissions.
 */
export function serverDir(ctx: Pick<LocalContext, 'state'>): string {
  if (process.getuid?.() !== 0) return join(ctx.state, 'postgres');
  return join(SHARED_ROOT, createHash('sha256').update(ctx.state).digest('hex').slice(0, 16));
}
const SHARED_ROOT = '/var/tmp/mlflow-oidc-harness-postgres';

export function superuserConfig(ctx: LocalContext, database = 'postgres'): pg.ClientConfig {
  return { host: '127.0.0.1', port: ctx.ports.postgres, user: 'postgres', password: ctx.secrets.postgresSuperuser, database };
}

/** PostgreSQL from Debian, its own data directory under the state folder, on a loopback port. */
export async function start(ctx: LocalContext): Promise<LedgerEntry> {
  const bin = binDir(ctx.desc.versions.postgresMajor);
  if (!existsSync(join(bin, 'postgres'))) {
    throw new HarnessError(`PostgreSQL ${ctx.desc.versions.postgresMajor} is not installed (${bin})`, 'run `npm run prereqs` (as root) to install it');
  }
  const dir = serverDir(ctx);
  const data = join(dir, 'data');
  const run = join(dir, 'run');
  const owner = await runAs();
  if (!existsSync(join(data, 'PG_VERSION'))) {
    rmSync(data, { recursive: true, force: true });
    if (owner.uid !== undefined) {
      mkdirSync(SHARED_ROOT, { recursive: true, mode: 0o755 });
      chmodSync(SHARED_ROOT, 0o755);
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    mkdirSync(data, { recursive: true, mode: 0o700 });
    mkdirSync(run, { recursive: true });
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, ctx.secrets.postgresSuperuser, { mode: 0o600 });
    for (const p of [dir, data, run, pwfile]) if (owner.uid !== undefined) chownSync(p, owner.uid, owner.gid!);
    const r = await execa(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C'], {
      ...owner,
      reject: false,
      all: true,
    });
    rmSync(pwfile, { force: true });
    if (r.exitCode !== 0) throw new HarnessError(`initdb failed: ${(r.all ?? '').trim().split('\n').slice(-1)[0]}`, `data directory ${data}`);
  }
  const log = ctx.log(NAME);
  if (owner.uid !== undefined) {
    writeFileSync(log, '', { flag: 'a' });
    chownSync(log, owner.uid, owner.gid!);
  }
  return spawnDetached({
    name: NAME,
    command: join(bin, 'postgres'),
    args: ['-D', data, '-h', '127.0.0.1', '-p', String(ctx.ports.postgres), '-k', run, '-c', 'max_connections=200'],
    env: { PATH: process.env.PATH, LANG: 'C.UTF-8' },
    log,
    ...owner,
    ports: [ctx.ports.postgres],
    // SIGTERM is PostgreSQL's "smart" shutdown, which waits for MLflow's and Keycloak's pooled connections to
    // close (they never do); SIGINT is its "fast" shutdown: clients are disconnected, the data stays consistent
    stopSignal: 'SIGINT',
  });
}

export async function ready(ctx: LocalContext, entry: LedgerEntry): Promise<void> {
  await waitReady(entry, 'PostgreSQL', `SELECT 1 on 127.0.0.1:${ctx.ports.postgres}`, () => query(ctx, 'SELECT 1').then(() => true), ctx.readyTimeout);
}

export async function query(ctx: LocalContext, sql: string, database = 'postgres'): Promise<pg.QueryResult> {
  const client = new pg.Client(superuserConfig(ctx, database));
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** The databases and user buun-stack creates: user `mlflow` with ALL on `mlflow` and `mlflow_auth`, plus Keycloak's DB. */
export async function configure(ctx: LocalContext): Promise<void> {
  const { user, databases } = ctx.desc.postgres;
  const exists = await query(ctx, `SELECT 1 FROM pg_roles WHERE rolname = '${user}'`);
  const pw = ctx.secrets.postgresMlflow.replace(/'/g, "''");
  await query(ctx, exists.rowCount ? `ALTER USER ${ident(user)} WITH LOGIN PASSWORD '${pw}'` : `CREATE USER ${ident(user)} WITH LOGIN PASSWORD '${pw}'`);
  for (const db of [databases.tracking, databases.auth, databases.keycloak]) {
    const has = await query(ctx, `SELECT 1 FROM pg_database WHERE datname = '${db}'`);
    if (!has.rowCount) await query(ctx, `CREATE DATABASE ${ident(db)}`);
  }
  for (const db of [databases.tracking, databases.auth]) {
    await query(ctx, `GRANT ALL PRIVILEGES ON DATABASE ${ident(db)} TO ${ident(user)}`);
    await query(ctx, `GRANT CREATE ON SCHEMA public TO ${ident(user)}`, db);
  }
}
