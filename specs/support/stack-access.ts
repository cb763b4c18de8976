import { readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { adminClient } from '../../provision/keycloak/realm.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { unique } from './mlflow-api.ts';
import { recordSecret } from '../../provision/secret-ledger.ts';

interface Secrets {
  personas: Record<string, string>;
  postgresMlflow?: string;
  s3AccessKey?: string;
  s3SecretKey?: string;
  keycloakAdmin?: string;
}

function secrets(target: TargetDescriptor): Secrets {
  if (!target.secretsFile) throw new Error('target has no secrets file');
  return JSON.parse(readFileSync(target.secretsFile, 'utf8')) as Secrets;
}

function internal(target: TargetDescriptor) {
  if (!target.internal) throw new Error(`the ${target.target} target exposes no internal endpoints`);
  return target.internal;
}

/** A PostgreSQL client logged in as the `mlflow` user to one of its databases (capability `database`). */
export async function pgAsMlflow(target: TargetDescriptor, database: 'tracking' | 'auth'): Promise<pg.Client> {
  const i = internal(target);
  const client = new pg.Client({ host: i.postgres.host, port: i.postgres.port, user: i.postgres.user, password: secrets(target).postgresMlflow, database: i.postgres.databases[database] });
  await client.connect();
  return client;
}

/** An S3 client with the stack's credentials (capability `bucket`); the MLflow client never gets these. */
export function s3Client(target: TargetDescriptor): { s3: S3Client; bucket: string } {
  const i = internal(target);
  const s = secrets(target);
  return {
    s3: new S3Client({ endpoint: i.s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s.s3AccessKey!, secretAccessKey: s.s3SecretKey! } }),
    bucket: i.s3.bucket,
  };
}

/**
 * The Keycloak admin REST client on the target's realm (capability `keycloakAdmin`, or `keycloakUsers` for users and
 * groups): the master realm's admin, or the realm-scoped admin a remote target names.
 */
export async function keycloakAdmin(target: TargetDescriptor) {
  const login = target.keycloakAdminLogin ?? { realm: 'master', username: 'admin' };
  const password = secrets(target).keycloakAdmin;
  if (!password) throw new Error(`the ${target.target} target gives no Keycloak admin password`);
  const kc = await adminClient(target.keycloakUrl, { username: login.username, password }, login.realm);
  kc.setConfig({ realmName: target.realm });
  return kc;
}

export interface EphemeralUser {
  username: string;
  email: string;
  password: string;
  remove(): Promise<void>;
}

/** A Keycloak user made for one check (unique name, e-mail, first/last name, the given groups); removed by `remove()`. */
export async function createEphemeralUser(target: TargetDescriptor, groups: string[], prefix = 'tmp'): Promise<EphemeralUser> {
  const kc = await keycloakAdmin(target);
  const username = unique(prefix).toLowerCase();
  const email = `${username}@example.com`;
  const password = `Pw-${unique('x')}`;
  recordSecret(`password of Keycloak user ${username}`, password, username);
  const { id } = await kc.users.create({ username, email, firstName: 'Temp', lastName: 'User', enabled: true, emailVerified: true });
  await kc.users.resetPassword({ id, credential: { type: 'password', value: password, temporary: false } });
  const all = await kc.groups.find({ max: 1000 });
  for (const g of groups) {
    const found = all.find((x) => x.name === g);
    if (!found) throw new Error(`group ${g} not found in realm ${target.realm}`);
    await kc.users.addToGroup({ id, groupId: found.id! });
  }
  return { username, email, password, remove: async () => { await (await keycloakAdmin(target)).users.del({ id }); } };
}
