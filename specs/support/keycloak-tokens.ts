import { readFileSync } from 'node:fs';
import { request as playwrightRequest } from '@playwright/test';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { keycloakAdmin } from './stack-access.ts';
import { unique } from './mlflow-api.ts';
import { recordSecret } from '../../provision/secret-ledger.ts';

/**
 * Genuine tokens the realm signs, for the token attacks' positive twins and for the realm-signed tokens that
 * must not work (capability `keycloakAdmin`): a public client of the check's own with direct access grants
 * (buun-stack's `mlflow` client has them off), optionally with a short access-token lifespan or extra claims; a
 * token of another realm for a user with a persona's e-mail address; and a token of the deployment's own client.
 */

export interface Tokens {
  access_token: string;
  id_token?: string;
  expires_in: number;
}

async function passwordGrant(issuer: string, clientId: string, username: string, password: string): Promise<Tokens> {
  const res = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: clientId, username, password, scope: 'openid profile email' }),
  });
  const body = (await res.json()) as Tokens & { error?: string; error_description?: string };
  if (!res.ok) throw new Error(`password grant for ${username} with client ${clientId} → ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`);
  // the secret search after the run looks for every token made here
  recordSecret(`access token of ${username} (client ${clientId})`, body.access_token, username);
  if (body.id_token) recordSecret(`ID token of ${username} (client ${clientId})`, body.id_token, username);
  return body;
}

export interface ProbeClient {
  clientId: string;
  /** An access token for the user through this client's password grant. */
  tokenFor(username: string, password: string): Promise<Tokens>;
  remove(): Promise<void>;
}

/**
 * A public client with direct access grants. `lifespanSeconds`: its access tokens' lifespan (the realm's
 * otherwise); `claims`: hard-coded claims added to its access tokens (e.g. a future `nbf`).
 */
export async function probeClient(target: TargetDescriptor, opts: { lifespanSeconds?: number; claims?: Record<string, number | string> } = {}): Promise<ProbeClient> {
  const kc = await keycloakAdmin(target);
  const clientId = unique('harness-sec');
  const rep: ClientRepresentation = {
    clientId,
    publicClient: true,
    directAccessGrantsEnabled: true,
    standardFlowEnabled: false,
    attributes: opts.lifespanSeconds ? { 'access.token.lifespan': String(opts.lifespanSeconds) } : {},
    protocolMappers: Object.entries(opts.claims ?? {}).map(([name, value]) => ({
      name: `hardcoded-${name}`,
      protocol: 'openid-connect',
      protocolMapper: 'oidc-hardcoded-claim-mapper',
      config: { 'claim.name': name, 'claim.value': String(value), 'jsonType.label': typeof value === 'number' ? 'long' : 'String', 'access.token.claim': 'true', 'id.token.claim': 'false', 'userinfo.token.claim': 'false' },
    })),
  };
  const { id } = await kc.clients.create(rep);
  return {
    clientId,
    tokenFor: (username, password) => passwordGrant(target.issuer, clientId, username, password),
    remove: async () => {
      await (await keycloakAdmin(target)).clients.del({ id });
    },
  };
}

/**
 * A token of another realm for a user with the given e-mail address (and username): Keycloak's `master` realm,
 * through its own public client `admin-cli` (direct access grants on by default), for a user made there for the
 * check (no roles) and removed after. Its tokens are signed by another key and name another issuer. (A realm of
 * the check's own would do the same at several seconds of Keycloak's CPU.)
 */
export async function otherRealmToken(target: TargetDescriptor, user: { username: string; email: string }): Promise<{ realm: string; token: Tokens; remove(): Promise<void> }> {
  const kc = await keycloakAdmin(target);
  const realm = 'master';
  const password = `Pw-${unique('x')}`;
  const username = `${unique('harness-other')}-${user.username}`.toLowerCase();
  const { id } = await kc.users.create({ realm, username, email: user.email, firstName: 'Other', lastName: 'Realm', enabled: true, emailVerified: true });
  const remove = async () => (await keycloakAdmin(target)).users.del({ realm, id });
  try {
    recordSecret(`password of Keycloak user ${username} (realm ${realm})`, password, username);
    await kc.users.resetPassword({ realm, id, credential: { type: 'password', value: password, temporary: false } });
    const token = await passwordGrant(`${target.keycloakUrl}/realms/${realm}`, 'admin-cli', username, password);
    return { realm, token, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

/**
 * An access token issued to the deployment's own client (`mlflow`), as MLflow itself gets one: the
 * authorization-code flow through Keycloak's login form, the code exchanged with the client secret (local
 * targets: the secrets file holds it). Its `azp` is `mlflow`.
 */
export async function mlflowClientToken(target: TargetDescriptor, username: string, password: string): Promise<Tokens> {
  if (!target.secretsFile) throw new Error(`the ${target.target} target has no secrets file (the client secret)`);
  const secret = (JSON.parse(readFileSync(target.secretsFile, 'utf8')) as { clientSecret: string }).clientSecret;
  const redirectUri = `${target.mlflowUrl}/callback`;
  const ctx = await playwrightRequest.newContext();
  try {
    const auth = new URL(`${target.issuer}/protocol/openid-connect/auth`);
    for (const [k, v] of Object.entries({ client_id: target.clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile email', state: unique('s') })) auth.searchParams.set(k, v);
    const form = await (await ctx.get(auth.href)).text();
    const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(form)?.[1]?.replace(/&amp;/g, '&');
    if (!action) throw new Error('Keycloak showed no login form');
    const submitted = await ctx.post(action, { form: { username, password, credentialId: '' }, maxRedirects: 0 });
    const code = new URL(submitted.headers()['location'] ?? 'x:/', target.mlflowUrl).searchParams.get('code');
    if (!code) throw new Error(`Keycloak did not redirect back with a code (HTTP ${submitted.status()})`);
    const res = await ctx.post(`${target.issuer}/protocol/openid-connect/token`, { form: { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: target.clientId, client_secret: secret } });
    if (!res.ok()) throw new Error(`code exchange → ${res.status()}`);
    const tokens = (await res.json()) as Tokens;
    recordSecret(`access token of ${username} (client ${target.clientId})`, tokens.access_token, username);
    if (tokens.id_token) recordSecret(`ID token of ${username} (client ${target.clientId})`, tokens.id_token, username);
    return tokens;
  } finally {
    await ctx.dispose();
  }
}

/** The claims of a JWT (not verified). */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
}
