import { expect, test, request as playwrightRequest, type APIRequestContext, type APIResponse } from '@playwright/test';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { keycloakAdmin } from './stack-access.ts';
import { basicAuth, createAccessToken, unique } from './mlflow-api.ts';
import { oidcLogin } from './oidc-flow.ts';
import { pluginOf } from './plugin.ts';
import { passwordOf, persona } from './target.ts';
import { recordSecret } from '../../provision/secret-ledger.ts';

/**
 * Users, groups and grants made for one permission check: a Keycloak user (and group) of its own, logged in
 * through the OIDC flow (so the plugin stores the user and the groups of the ID token), with an access token
 * of its own. Everything is removed by `cleanup()`; nothing is shared between checks.
 */

export const API = '/api/2.0/mlflow';
export type GrantResource = 'experiments' | 'registered-models' | 'prompts';
const patternsOf: Record<GrantResource, string> = { experiments: 'experiment-patterns', 'registered-models': 'registered-models-patterns', prompts: 'prompts-patterns' };

export interface Actor {
  username: string;
  email: string;
  /** Basic headers: the actor's e-mail and its own access token. */
  headers: Record<string, string>;
  /** The logged-in session (cookies) of the actor. */
  session: APIRequestContext;
  /** Logs in again through the OIDC flow (fresh session, the plugin refreshes groups and admin status). */
  relogin(): Promise<APIRequestContext>;
}

/**
 * One Keycloak admin client per worker process, logged in again when its token nears expiry (60 s in the master
 * realm): every admin login hashes the admin password in Keycloak, which cost each check ~6 logins before.
 */
let adminClient: { kc: Awaited<ReturnType<typeof keycloakAdmin>>; at: number; realm: string } | undefined;
const groupIds = new Map<string, string>();

async function sharedKeycloakAdmin(target: TargetDescriptor) {
  if (!adminClient || adminClient.realm !== target.realm || Date.now() - adminClient.at > 45_000) {
    adminClient = { kc: await keycloakAdmin(target), at: Date.now(), realm: target.realm };
  }
  return adminClient.kc;
}

/** What a workspace takes from the check's fixtures: the personas' sessions and tokens. */
export interface PersonaAccess {
  sessionAs: (personaKey: string) => Promise<APIRequestContext>;
  sessionHeadersAs: (personaKey: string) => Record<string, string>;
  tokenOf: (personaKey: string) => string;
}

/** The groups every persona of the stack may be in: an actor in other groups needs a Keycloak user of its own. */
const PERSONA_GROUPS: Record<string, string> = { 'mlflow-users': 'user2', 'mlflow-admins': 'admin' };

/** A grant given to a persona actor, taken back when the check ends (a persona outlives the check). */
interface GivenGrant {
  how: { kind: 'user' | 'group' | 'user-regex' | 'group-regex'; subject: string; resource: GrantResource; ref: string; regex?: string };
}
const workspaces = new Set<Workspace>();

/**
 * Everything one permission check makes — users, groups, grants, experiments, models, prompts — removed by
 * `cleanup()`. With `keycloakUsers` (local, k3d, a remote target given a realm-scoped admin) each actor is a Keycloak
 * user of its own. Without it (a remote target with only its personas) an actor is a persona: `user2` (restricted:
 * every grant the check gives it is taken back at the end) or `admin`; a check that needs its own groups or group
 * memberships states `needs('keycloakUsers', …)` and is not-applicable there.
 */
export class Workspace {
  private removals: (() => Promise<unknown>)[] = [];
  private revocations: GivenGrant[] = [];
  private personaActors = new Set<string>();
  readonly prefix: string;

  constructor(private readonly target: TargetDescriptor, prefix = 'pm', private readonly personas?: PersonaAccess) {
    // names of everything made here start with it: regex grants match on it and nothing else
    this.prefix = unique(prefix).toLowerCase();
    workspaces.add(this);
    if (personas) this.adminHeaders = () => personas.sessionHeadersAs('admin');
  }

  /** Whether the target lets the check make Keycloak users and groups of its own. */
  get ownUsers(): boolean {
    return this.target.capabilities.keycloakUsers;
  }

  private async kc() {
    if (!this.ownUsers) throw new Error(`the ${this.target.target} target gives no Keycloak access for users and groups: state needs('keycloakUsers', …) on the check`);
    return sharedKeycloakAdmin(this.target);
  }

  /** A Keycloak group of this check's own, removed afterwards. */
  async group(suffix = 'grp'): Promise<{ name: string; id: string }> {
    const kc = await this.kc();
    const name = `${this.prefix}-${suffix}`;
    const { id } = await kc.groups.create({ name });
    groupIds.set(name, id);
    this.removals.push(async () => {
      groupIds.delete(name);
      await (await this.kc()).groups.del({ id });
    });
    return { name, id };
  }

  private async groupId(name: string): Promise<string> {
    const known = groupIds.get(name);
    if (known) return known;
    const kc = await this.kc();
    const found = (await kc.groups.find({ search: name, max: 100 })).find((g) => g.name === name);
    if (!found?.id) throw new Error(`group ${name} not found in realm ${this.target.realm}`);
    groupIds.set(name, found.id);
    return found.id;
  }

  /** Adds / removes a Keycloak group membership of a user made here (takes effect at the user's next login). */
  async setMembership(username: string, group: string, member: boolean): Promise<void> {
    const kc = await this.kc();
    const [u] = await kc.users.find({ username, exact: true });
    if (!u?.id) throw new Error(`user ${username} not found`);
    const groupId = await this.groupId(group);
    if (member) await kc.users.addToGroup({ id: u.id, groupId });
    else await kc.users.delFromGroup({ id: u.id, groupId });
  }

  /**
   * A user in the given groups, logged into MLflow, with an access token (`token: false`: none — `headers` is then
   * empty, and the user works through its session, which the plugin checks without hashing a password per request).
   * A Keycloak user of its own when the target allows; otherwise the persona of those groups.
   */
  async actor(groups: string[], suffix = 'u', opts: { token?: boolean } = {}): Promise<Actor> {
    if (!this.ownUsers) return this.personaActor(groups, opts);
    const kc = await this.kc();
    const username = `${this.prefix}-${suffix}`;
    const email = `${username}@example.com`;
    const password = `Pw-${unique('x')}`;
    recordSecret(`password of Keycloak user ${username}`, password, username);
    const { id } = await kc.users.create({ username, email, firstName: 'Perm', lastName: 'Check', enabled: true, emailVerified: true });
    this.removals.push(async () => (await this.kc()).users.del({ id }));
    await kc.users.resetPassword({ id, credential: { type: 'password', value: password, temporary: false } });
    for (const g of groups) await kc.users.addToGroup({ id, groupId: await this.groupId(g) });
    const login = this.loginAs(username, password);
    const session = await login();
    const token = opts.token === false ? undefined : await createAccessToken(session, this.target, email, 1);
    const actor: Actor = { username, email, headers: token ? basicAuth(email, token) : {}, session, relogin: login };
    this.removals.push(() => this.deletePluginUser(email));
    return actor;
  }

  /** The persona standing in for a user of `groups` (only mlflow-users or mlflow-admins), with its own session and token. */
  private async personaActor(groups: string[], opts: { token?: boolean }): Promise<Actor> {
    const keys = [...new Set(groups.map((g) => PERSONA_GROUPS[g]))];
    if (keys.length !== 1 || !keys[0]) throw new Error(`no persona is in exactly the groups ${groups.join(', ')}: the check needs Keycloak users of its own (state needs('keycloakUsers', …))`);
    if (!this.personas) throw new Error('a workspace without persona access cannot stand in a persona');
    const key = keys[0];
    const p = persona(this.target, key);
    if (this.personaActors.has(p.email)) throw new Error(`the check asks for a second actor, but the ${this.target.target} target has only persona ${key} for it`);
    this.personaActors.add(p.email);
    const relogin = this.loginAs(p.username, passwordOf(this.target, p));
    const headers = opts.token === false ? {} : basicAuth(p.email, this.personas.tokenOf(key));
    return { username: p.username, email: p.email, headers, session: await this.personas.sessionAs(key), relogin };
  }

  /** A fresh OIDC login of the user each call (its request context disposed at cleanup); a failed login fails the check. */
  private loginAs(username: string, password: string): () => Promise<APIRequestContext> {
    const contexts: APIRequestContext[] = [];
    this.removals.push(async () => Promise.all(contexts.map((c) => c.dispose())));
    return async () => {
      const ctx = await playwrightRequest.newContext();
      contexts.push(ctx);
      const flow = await oidcLogin(ctx, this.target, { username, password });
      expect(flow.loggedIn, `${username} could not log in: ${flow.outcome}`).toBe(true);
      return ctx;
    };
  }

  /** Notes a grant given during the check: one that names a persona actor is taken back at the end. */
  given(how: GivenGrant['how']): void {
    if (this.personaActors.has(how.subject)) this.revocations.push({ how });
  }

  /** Removes the plugin's user row (best effort: 5.x refuses users that still have permission rows). */
  private async deletePluginUser(email: string): Promise<void> {
    const ctx = await playwrightRequest.newContext();
    try {
      const admin = this.adminHeaders?.();
      if (admin) await ctx.delete(`${this.target.mlflowUrl}${pluginOf(this.target).routes.deleteUser}`, { data: { username: email }, headers: admin });
    } finally {
      await ctx.dispose();
    }
  }

  /** Headers of an admin, used only to remove what the check made (resources, the plugin's user rows) at the end. */
  adminHeaders?: () => Record<string, string>;

  /** Takes back the grants given to persona actors: direct grants by resource, regex grants by their pattern. */
  private async revoke(): Promise<void> {
    const admin = this.adminHeaders?.();
    if (!admin || !this.revocations.length) return;
    const ctx = await playwrightRequest.newContext();
    const base = `${this.target.mlflowUrl}${API}/permissions/users`;
    try {
      for (const { how } of this.revocations.reverse()) {
        const who = `${base}/${encodeURIComponent(how.subject)}`;
        if (how.kind === 'user') {
          const res = await ctx.delete(`${who}/${how.resource}/${encodeURIComponent(how.ref)}`, { headers: admin });
          if (res.status() >= 300 && res.status() !== 404) throw new Error(`revoking ${how.resource} ${how.ref} of ${how.subject} → ${res.status()}`);
        } else if (how.kind === 'user-regex') {
          const list = await ctx.get(`${who}/${patternsOf[how.resource]}`, { headers: admin });
          const regex = how.regex ?? `^${how.ref}`;
          for (const id of patternIds(await list.json().catch(() => ({})), regex)) {
            const res = await ctx.delete(`${who}/${patternsOf[how.resource]}/${id}`, { headers: admin });
            if (res.status() >= 300) throw new Error(`removing pattern ${regex} of ${how.subject} → ${res.status()}`);
          }
        }
      }
    } finally {
      this.revocations = [];
      await ctx.dispose();
    }
  }

  /**
   * Deletes the experiments, registered models and prompts whose names start with this workspace's prefix. Left
   * behind, they would pile up on a long-lived deployment, and the plugin's per-user listings
   * (`permissions/users/<user>/experiments` and the UI pages built on them) check every active resource: at 180
   * experiments one such listing took 9 s of the server's CPU.
   */
  private async removeResources(): Promise<void> {
    const admin = this.adminHeaders?.();
    if (!admin) return;
    const ctx = await playwrightRequest.newContext();
    try {
      const base = `${this.target.mlflowUrl}${API}`;
      const like = `name LIKE '${this.prefix}%'`;
      const exps = (await (await ctx.post(`${base}/experiments/search`, { data: { filter: like, max_results: 1000 }, headers: admin })).json()) as { experiments?: { experiment_id: string }[] };
      for (const e of exps.experiments ?? []) await ctx.post(`${base}/experiments/delete`, { data: { experiment_id: e.experiment_id }, headers: admin });
      // prompts are registered models tagged mlflow.prompt.is_prompt, which a plain search leaves out on MLflow 3
      for (const filter of [like, `${like} AND tags.\`mlflow.prompt.is_prompt\` = 'true'`]) {
        const models = (await (await ctx.get(`${base}/registered-models/search`, { params: { filter, max_results: 1000 }, headers: admin })).json()) as { registered_models?: { name: string }[] };
        for (const m of models.registered_models ?? []) await ctx.delete(`${base}/registered-models/delete`, { data: { name: m.name }, headers: admin });
      }
    } finally {
      await ctx.dispose();
    }
  }

  async cleanup(): Promise<void> {
    const errors: string[] = [];
    for (const [what, step] of [['grants', () => this.revoke()], ['resources', () => this.removeResources()]] as const) {
      try {
        await step();
      } catch (e) {
        errors.push(`${what}: ${String(e).slice(0, 200)}`);
      }
    }
    for (const r of this.removals.reverse()) {
      try {
        await r();
      } catch (e) {
        errors.push(String(e).slice(0, 200));
      }
    }
    this.removals = [];
    workspaces.delete(this);
    if (errors.length) test.info().annotations.push({ type: 'observation', description: `cleanup: ${errors.join('; ')}` });
  }
}

/** The ids of the pattern entries with this regex in a listing (whatever the generation calls the list). */
function patternIds(json: unknown, regex: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.regex === regex && (typeof o.id === 'number' || typeof o.id === 'string')) out.push(String(o.id));
      else Object.values(o).forEach(walk);
    }
  };
  walk(json);
  return out;
}

/** Grants a level to a user or group, directly or through a regex pattern `^<prefix>` (priority 1 unless given). */
export async function grant(
  request: APIRequestContext,
  target: TargetDescriptor,
  how: { kind: 'user' | 'group' | 'user-regex' | 'group-regex'; subject: string; resource: GrantResource; ref: string; regex?: string; priority?: number },
  level: string,
  headers: Record<string, string>,
): Promise<APIResponse> {
  const base = `${target.mlflowUrl}${API}/permissions`;
  const who = how.kind.startsWith('user') ? `users/${encodeURIComponent(how.subject)}` : `groups/${encodeURIComponent(how.subject)}`;
  const res = how.kind.endsWith('regex')
    ? await request.post(`${base}/${who}/${patternsOf[how.resource]}`, { data: { regex: how.regex ?? `^${how.ref}`, priority: how.priority ?? 1, permission: level }, headers })
    : await request.post(`${base}/${who}/${how.resource}/${encodeURIComponent(how.ref)}`, { data: { permission: level, ...(how.resource === 'prompts' ? { name: how.ref } : {}) }, headers });
  expect(res.status(), `grant ${level} (${how.kind} ${how.subject} on ${how.resource} ${how.ref}) → ${res.status()} ${res.status() >= 300 ? (await res.text()).slice(0, 200) : ''}`).toBeLessThan(300);
  for (const ws of workspaces) ws.given(how);
  return res;
}

/** Changes (PATCH) a user's direct grant. */
export async function regrant(request: APIRequestContext, target: TargetDescriptor, user: string, resource: GrantResource, ref: string, level: string, headers: Record<string, string>): Promise<void> {
  const res = await request.patch(`${target.mlflowUrl}${API}/permissions/users/${encodeURIComponent(user)}/${resource}/${encodeURIComponent(ref)}`, { data: { permission: level }, headers });
  expect(res.status(), `regrant ${level} → ${res.status()}`).toBeLessThan(300);
}
