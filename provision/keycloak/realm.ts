import { createHash } from 'node:crypto';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { RealmDescription } from '../config/stack.ts';
import { recordSecret } from '../secret-ledger.ts';

/** The value, recorded in the stack's secret ledger as it is made. */
function recorded(name: string, value: string): string {
  recordSecret(name, value);
  return value;
}

export interface RealmInputs {
  /** Base URL the admin REST API is reached at (no /admin suffix). */
  baseUrl: string;
  admin: { username: string; password: string };
  realm: RealmDescription;
  redirectUri: string;
  clientSecret: string;
  personaPasswords: Record<string, string>;
}

type Admin = InstanceType<typeof KcAdminClient>;

/** The client secret after a rotation in Keycloak (a fault: the server keeps the old one); derived, so stable per stack. */
export function rotatedSecret(secret: string): string {
  return createHash('sha256').update(`rotated:${secret}`).digest('base64url').slice(0, 40);
}

/** An admin API client logged in through `admin-cli` of `loginRealm` (master, or the realm of a realm-scoped admin). */
export async function adminClient(baseUrl: string, admin: { username: string; password: string }, loginRealm = 'master'): Promise<Admin> {
  const kc = new KcAdminClient({ baseUrl, realmName: loginRealm });
  try {
    await kc.auth({ grantType: 'password', clientId: 'admin-cli', username: admin.username, password: admin.password });
  } catch (e) {
    // the client's own message for an answer without a JSON body is "Unable to determine error message": say what came
    const status = (e as { response?: { status?: number } }).response?.status;
    throw new Error(`Keycloak admin login at ${baseUrl} (realm ${loginRealm}) failed${status ? `: HTTP ${status}` : ''}: ${(e as Error).message}`, { cause: e });
  }
  if (kc.accessToken) recordSecret(`Keycloak admin token of ${admin.username}`, kc.accessToken);
  return kc;
}

/**
 * Configures the realm as buun-stack's recipes do: realm with its token settings, the `groups` client
 * scope with a group-membership mapper, the confidential client `mlflow` (replaced on every run, as
 * buun's install does), the groups, and the test personas. Idempotent.
 */
export async function configureRealm(inputs: RealmInputs): Promise<void> {
  const { realm: r } = inputs;
  const kc = await adminClient(inputs.baseUrl, inputs.admin);
  if (!(await kc.realms.findOne({ realm: r.realm }))) {
    await kc.realms.create({ realm: r.realm, enabled: true, ...r.tokenSettings });
  } else {
    await kc.realms.update({ realm: r.realm }, { ...r.tokenSettings });
  }
  kc.setConfig({ realmName: r.realm });

  // client scope `groups` + mapper (create-client-scope.ts, add-groups-mapper-to-scope.ts)
  const scopeName = r.groupsScope.name;
  let scope = (await kc.clientScopes.find()).find((s) => s.name === scopeName);
  if (!scope) {
    await kc.clientScopes.create({
      name: scopeName,
      description: r.groupsScope.description,
      protocol: 'openid-connect',
      attributes: { 'include.in.token.scope': 'true' },
    });
    scope = (await kc.clientScopes.find()).find((s) => s.name === scopeName)!;
  }
  const m = r.groupsScope.mapper;
  const mapperConfig = {
    'claim.name': m.claim,
    'full.path': String(m.fullPath),
    'id.token.claim': String(m.idToken),
    'access.token.claim': String(m.accessToken),
    'userinfo.token.claim': String(m.userinfo),
  };
  const mappers = await kc.clientScopes.listProtocolMappers({ id: scope.id! });
  const existing = mappers.find((x) => x.name === m.name);
  if (existing) await kc.clientScopes.delProtocolMapper({ id: scope.id!, mapperId: existing.id! });
  await kc.clientScopes.addProtocolMapper({ id: scope.id! }, {
    name: m.name,
    protocol: 'openid-connect',
    protocolMapper: 'oidc-group-membership-mapper',
    config: mapperConfig,
  });

  // client `mlflow` (create-client.ts): deleted and recreated
  const c = r.client;
  for (const old of await kc.clients.find({ clientId: c.clientId })) await kc.clients.del({ id: old.id! });
  const { id: clientId } = await kc.clients.create({
    clientId: c.clientId,
    enabled: true,
    publicClient: !c.confidential,
    secret: r.client.secretRotated ? recorded('client secret of client mlflow after a rotation', rotatedSecret(inputs.clientSecret)) : inputs.clientSecret,
    redirectUris: [inputs.redirectUri],
    directAccessGrantsEnabled: c.directAccessGrantsEnabled,
  });
  if (r.groupsScope.attachAs === 'default') {
    await kc.clients.addDefaultClientScope({ id: clientId, clientScopeId: scope.id! });
  } else if (r.groupsScope.attachAs === 'optional') {
    await kc.clients.addOptionalClientScope({ id: clientId, clientScopeId: scope.id! });
  }

  // groups (create-group.ts)
  const groupIds = new Map<string, string>();
  const existingGroups = await kc.groups.find({ max: 1000 });
  for (const g of r.groups) {
    let found = existingGroups.find((x) => x.name === g.name);
    if (!found) {
      const { id } = await kc.groups.create({ name: g.name, attributes: { description: [g.description] } });
      found = { id, name: g.name };
    }
    groupIds.set(g.name, found.id!);
  }

  // personas (create-user.ts: enabled, emailVerified, non-temporary password)
  for (const p of r.personas) {
    let [user] = await kc.users.find({ username: p.username, exact: true });
    const rep = { username: p.username, email: p.email, firstName: p.firstName, lastName: p.lastName, enabled: true, emailVerified: true };
    if (!user) {
      const { id } = await kc.users.create(rep);
      user = { id, ...rep };
    } else {
      await kc.users.update({ id: user.id! }, rep);
    }
    const password = inputs.personaPasswords[p.username];
    if (!password) throw new Error(`no password generated for persona ${p.username}`);
    await kc.users.resetPassword({ id: user.id!, credential: { type: 'password', value: password, temporary: false } });
    const current = await kc.users.listGroups({ id: user.id! });
    for (const g of current) if (!p.groups.includes(g.name!)) await kc.users.delFromGroup({ id: user.id!, groupId: g.id! });
    for (const name of p.groups) {
      const groupId = groupIds.get(name);
      if (!groupId) throw new Error(`persona ${p.username} names unknown group ${name}`);
      if (!current.some((g) => g.id === groupId)) await kc.users.addToGroup({ id: user.id!, groupId });
    }
  }
}

/**
 * What differs between the live realm and the description configureRealm applies: the realm, the `groups` scope and
 * its mapper, client `mlflow` (kind, secret, redirect URI, grants, scope), the groups and the personas' groups. Empty
 * when the realm matches. A provision that reuses a cluster checks this instead of trusting its record.
 */
export async function realmDrift(inputs: RealmInputs): Promise<string[]> {
  const { realm: r } = inputs;
  const drift: string[] = [];
  const kc = await adminClient(inputs.baseUrl, inputs.admin);
  if (!(await kc.realms.findOne({ realm: r.realm }))) return [`realm ${r.realm} does not exist`];
  kc.setConfig({ realmName: r.realm });
  const scope = (await kc.clientScopes.find()).find((s) => s.name === r.groupsScope.name);
  if (!scope) drift.push(`client scope ${r.groupsScope.name} does not exist`);
  else {
    const m = r.groupsScope.mapper;
    const mapper = (await kc.clientScopes.listProtocolMappers({ id: scope.id! })).find((x) => x.name === m.name);
    const want = { 'claim.name': m.claim, 'full.path': String(m.fullPath), 'id.token.claim': String(m.idToken), 'access.token.claim': String(m.accessToken), 'userinfo.token.claim': String(m.userinfo) };
    if (!mapper) drift.push(`mapper ${m.name} of scope ${r.groupsScope.name} does not exist`);
    else for (const [k, v] of Object.entries(want)) if (mapper.config?.[k] !== v) drift.push(`mapper ${m.name}: ${k} is ${mapper.config?.[k] ?? '(unset)'}, not ${v}`);
  }
  const c = r.client;
  const [client] = await kc.clients.find({ clientId: c.clientId });
  if (!client) drift.push(`client ${c.clientId} does not exist`);
  else {
    if (client.publicClient !== !c.confidential) drift.push(`client ${c.clientId} is ${client.publicClient ? 'public' : 'confidential'}`);
    if (JSON.stringify(client.redirectUris ?? []) !== JSON.stringify([inputs.redirectUri])) drift.push(`client ${c.clientId} redirect URIs are ${(client.redirectUris ?? []).join(', ') || '(none)'}`);
    if (!!client.directAccessGrantsEnabled !== c.directAccessGrantsEnabled) drift.push(`client ${c.clientId} direct access grants ${client.directAccessGrantsEnabled ? 'on' : 'off'}`);
    const secret = c.confidential ? (await kc.clients.getClientSecret({ id: client.id! })).value : undefined;
    const wantSecret = c.secretRotated ? rotatedSecret(inputs.clientSecret) : inputs.clientSecret;
    if (c.confidential && secret !== wantSecret) drift.push(`client ${c.clientId} has another secret`);
    if (scope && r.groupsScope.attachAs !== 'none') {
      const attached = r.groupsScope.attachAs === 'default' ? await kc.clients.listDefaultClientScopes({ id: client.id! }) : await kc.clients.listOptionalClientScopes({ id: client.id! });
      if (!attached.some((s) => s.id === scope.id)) drift.push(`scope ${r.groupsScope.name} is not a ${r.groupsScope.attachAs} scope of client ${c.clientId}`);
    }
  }
  const groups = await kc.groups.find({ max: 1000 });
  for (const g of r.groups) if (!groups.some((x) => x.name === g.name)) drift.push(`group ${g.name} does not exist`);
  for (const p of r.personas) {
    const [user] = await kc.users.find({ username: p.username, exact: true });
    if (!user) {
      drift.push(`persona ${p.username} does not exist`);
      continue;
    }
    const has = (await kc.users.listGroups({ id: user.id! })).map((g) => g.name).sort();
    if (JSON.stringify(has) !== JSON.stringify([...p.groups].sort())) drift.push(`persona ${p.username} is in ${has.join(', ') || 'no group'}, not ${p.groups.join(', ') || 'no group'}`);
  }
  return drift;
}
