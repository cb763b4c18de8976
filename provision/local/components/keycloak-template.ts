import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { adminClient } from '../../keycloak/realm.ts';
import { info } from '../../progress.ts';
import type { LocalContext } from '../context.ts';
import { KEYCLOAK_BUILD_OPTIONS } from '../prereqs/keycloak-dist.ts';
import { ADMIN_USER } from './keycloak.ts';
import { superuserConfig } from './postgres.ts';

/**
 * Keycloak's database as it stands after its first start (schema migrated, master realm and bootstrap admin
 * made), kept in the cache per Keycloak version, build options and PostgreSQL major. Restored into a new stack's
 * empty `keycloak` database, it spares Keycloak its Liquibase migration and master-realm set-up, most of its
 * start-up time. The bootstrap admin's password in it is the one of the stack it was taken from; it is replaced by
 * the new stack's own as soon as Keycloak is ready.
 */
interface TemplateFiles {
  dump: string;
  admin: string;
}

function files(ctx: LocalContext): TemplateFiles {
  const key = createHash('sha256').update(KEYCLOAK_BUILD_OPTIONS.join(' ')).digest('hex').slice(0, 8);
  const dir = join(ctx.cache, 'keycloak', ctx.desc.versions.keycloak, 'db-template');
  const base = join(dir, `pg${ctx.desc.versions.postgresMajor}-${key}`);
  return { dump: `${base}.sql`, admin: `${base}.admin.json` };
}

const pgBin = (ctx: LocalContext, tool: string) => `/usr/lib/postgresql/${ctx.desc.versions.postgresMajor}/bin/${tool}`;

function pgEnv(ctx: LocalContext) {
  const c = superuserConfig(ctx, ctx.desc.postgres.databases.keycloak);
  return { PGHOST: String(c.host), PGPORT: String(c.port), PGUSER: String(c.user), PGPASSWORD: String(c.password), PGDATABASE: String(c.database) };
}

/**
 * Restores the template into the (empty) keycloak database. Returns the template admin's password, or undefined
 * when there is no usable template (Keycloak then migrates its schema itself).
 */
export async function restoreTemplate(ctx: LocalContext): Promise<string | undefined> {
  const f = files(ctx);
  if (!existsSync(f.dump) || !existsSync(f.admin)) return undefined;
  const r = await execa(pgBin(ctx, 'psql'), ['-q', '-v', 'ON_ERROR_STOP=1', '-f', f.dump], { env: pgEnv(ctx), extendEnv: false, reject: false, all: true });
  if (r.exitCode !== 0) {
    const why = (r.all ?? '').split('\n').find((l) => /ERROR/.test(l))?.trim() ?? `psql exit ${r.exitCode}`;
    info(`  Keycloak's database template ${f.dump} did not restore (${why}): it is dropped, Keycloak migrates its schema itself`);
    rmSync(f.dump, { force: true });
    rmSync(f.admin, { force: true });
    // an unusable half-restored schema must not reach Keycloak
    await execa(pgBin(ctx, 'psql'), ['-q', '-c', 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;'], { env: pgEnv(ctx), extendEnv: false, reject: false });
    return undefined;
  }
  return (JSON.parse(readFileSync(f.admin, 'utf8')) as { password: string }).password;
}

/** Gives the bootstrap admin of a restored template the stack's own password. */
export async function adoptTemplateAdmin(ctx: LocalContext, templatePassword: string): Promise<void> {
  const kc = await adminClient(`http://127.0.0.1:${ctx.ports.keycloakHttp}`, { username: ADMIN_USER, password: templatePassword });
  const [admin] = await kc.users.find({ username: ADMIN_USER, exact: true });
  if (!admin?.id) throw new Error(`the template's admin user ${ADMIN_USER} is missing`);
  await kc.users.resetPassword({ id: admin.id, credential: { type: 'password', value: ctx.secrets.keycloakAdmin, temporary: false } });
}

/** Saves the keycloak database as the template, when there is none yet (after Keycloak's first start, before the realm). */
export async function saveTemplate(ctx: LocalContext): Promise<void> {
  const f = files(ctx);
  if (existsSync(f.dump) && existsSync(f.admin)) return;
  mkdirSync(join(f.dump, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${f.dump}.${process.pid}.tmp`;
  const r = await execa(pgBin(ctx, 'pg_dump'), ['--no-owner', '--no-privileges', '-f', tmp], { env: pgEnv(ctx), extendEnv: false, reject: false, all: true });
  if (r.exitCode !== 0) {
    rmSync(tmp, { force: true });
    info(`  Keycloak's database template was not saved: ${(r.all ?? '').trim().split('\n').pop()}`);
    return;
  }
  writeFileSync(f.admin, JSON.stringify({ password: ctx.secrets.keycloakAdmin }), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, f.dump);
}
