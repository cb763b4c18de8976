import { request as playwrightRequest, type APIRequestContext } from '@playwright/test';
import { randomBytes, randomUUID } from 'node:crypto';
import { test, expect } from '../support/fixtures.ts';
import { basicAuth, bearer } from '../support/mlflow-api.ts';
import { pluginOf } from '../support/plugin.ts';
import { loadTarget, passwordOf, persona } from '../support/target.ts';
import { createEphemeralUser, keycloakAdmin } from '../support/stack-access.ts';
import { oidcLogin } from '../support/oidc-flow.ts';
import { attackerKey, forgedTokens, KeyListener, realmSigningKey } from '../support/jwt-forge.ts';
import { claimsOf, mlflowClientToken, otherRealmToken, probeClient } from '../support/keycloak-tokens.ts';
import { answerOf, recordAttack, refusalShape, type TokenResult } from '../support/security.ts';
import { credentialOutcome, evidenceOf, type Outcome } from '../../conformance/security/outcomes.ts';
import { recordSecret } from '../../provision/secret-ledger.ts';

// Token attacks (RFC 8725's classes, the plugin's GHSA-g765-w658-6cr2): every credential the server takes — a
// Bearer JWT, a Basic password, the session cookie — forged or used when it must no longer work, each next to its
// positive twin (a genuine credential of the same user works on the same request). Each attack is `refused`,
// `accepted` (declared in specs/security/declared.yaml, or the check fails), `broken` (the twin failed) or `error`.
// The request is the current-user route: its answer names the user the server took the credential for.

const target = loadTarget();
const plugin = pluginOf(target);
const shape = refusalShape(target);
const me = `${target.mlflowUrl}${plugin.routes.currentUser}`;
const adminCapable = target.capabilities.keycloakAdmin;

/** The current user as the server sees the headers (no cookies: a fresh context per call). */
async function whoamiWith(headers: Record<string, string>): Promise<{ outcome: Outcome; user?: string; evidence: string }> {
  const ctx = await playwrightRequest.newContext();
  try {
    const a = await answerOf(await ctx.get(me, { headers, maxRedirects: 0 }));
    const r = credentialOutcome(a, shape);
    return { ...r, evidence: r.outcome === 'accepted' ? `HTTP ${a.status}: authenticated as ${r.user}` : evidenceOf(a) };
  } catch (e) {
    return { outcome: 'error', evidence: `request failed: ${String(e).split('\n')[0]!.slice(0, 120)}` };
  } finally {
    await ctx.dispose();
  }
}

/** The attack's outcome, given the twin's: a refusal next to a failed twin proves nothing (`broken`). */
function judged(attack: { outcome: Outcome; evidence: string }, twin: { outcome: Outcome; evidence: string }, twinLabel: string): { outcome: Outcome; evidence: string } {
  if (twin.outcome !== 'accepted' && attack.outcome !== 'accepted') return { outcome: 'broken', evidence: `${attack.evidence}; twin (${twinLabel}) failed: ${twin.evidence}` };
  return { outcome: attack.outcome, evidence: `${attack.evidence}; twin (${twinLabel}): ${twin.evidence}` };
}

const notApplicable = (attack: string, via: TokenResult['via'], why: string): TokenResult => ({ attack, via, outcome: 'not-applicable', evidence: `not-applicable: ${why}` });

/** On a target without Keycloak admin access: the attacks are reported `not-applicable` with the reason, and the check is skipped. */
function skipWithout(attacks: string[], needs: string): void {
  if (adminCapable) return;
  // a remote target may give a realm-scoped admin for users and groups (keycloakUsers): not enough to make clients
  const why = target.capabilities.keycloakUsers
    ? `the ${target.target} target's Keycloak admin manages users and groups only, and the check ${needs} with a client of its own (short-lived tokens, direct grants)`
    : `the ${target.target} target has no Keycloak admin access (the check ${needs})`;
  for (const a of attacks) recordAttack(target, notApplicable(a, 'bearer', why));
  test.skip(true, `not-applicable: ${why}`);
}

test.describe('token attacks', () => {
  test('[C23] forged Bearer tokens (alg none in any spelling, HMAC keyed with the realm key, a foreign key under the realm kid, jwk/jku/x5u headers) are refused; the admin\'s genuine token works', async ({ sessionHeadersAs }) => {
    const admin = persona(target, 'admin');
    const realmKey = await realmSigningKey(target.issuer);
    const key = await attackerKey();
    await using listener = await KeyListener.start(key);
    // the positive twin: a genuine token of the admin (its claims are what the forgeries claim), or on a target
    // without Keycloak admin access the admin's login session
    let twin: () => Promise<{ outcome: Outcome; evidence: string }>;
    let twinLabel: string;
    let claims: Record<string, unknown>;
    if (adminCapable) {
      const genuine = (await mlflowClientToken(target, admin.username, passwordOf(target, admin))).access_token;
      claims = claimsOf(genuine);
      twin = () => whoamiWith(bearer(genuine));
      twinLabel = 'the admin\'s genuine access token from client mlflow';
    } else {
      const now = Math.floor(Date.now() / 1000);
      claims = { iss: target.issuer, sub: randomUUID(), aud: 'account', azp: target.clientId, typ: 'Bearer', email: admin.email, preferred_username: admin.username, email_verified: true, groups: admin.groups, iat: now, exp: now + 300 };
      twin = () => whoamiWith(sessionHeadersAs('admin'));
      twinLabel = 'the admin\'s login session (no genuine JWT without the Keycloak admin access that makes a client of its own)';
    }
    const forged = await forgedTokens(realmKey, claims, key, listener);
    const [twinResult, ...results] = await Promise.all([twin(), ...forged.map((f) => whoamiWith(bearer(f.token)))]);
    for (const [i, f] of forged.entries()) {
      const r = judged(results[i]!, twinResult!, twinLabel);
      const fetched = f.attack === 'jku-header' || f.attack === 'x5u-header' ? `; the key listener was ${listener.fetched.length ? `fetched: ${listener.fetched.join(', ')}` : 'not fetched'}` : '';
      recordAttack(target, { attack: f.attack, via: 'bearer', ...r, evidence: `${f.description}: ${r.evidence}${fetched}` });
    }
    expect(twinResult!.outcome, `the positive twin must work: ${twinResult!.evidence}`).toBe('accepted');
  });

  test('[C19] JWTs as a Basic password (forged, and a genuine one) are refused; the admin\'s access key works', async ({ tokenOf }) => {
    const admin = persona(target, 'admin');
    const realmKey = await realmSigningKey(target.issuer);
    const key = await attackerKey();
    await using listener = await KeyListener.start(key);
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: target.issuer, sub: randomUUID(), azp: target.clientId, email: admin.email, preferred_username: admin.username, iat: now, exp: now + 300 };
    // a few representative forgeries: every Basic request costs the server a password hash on 5.x and 7.x
    const forged = (await forgedTokens(realmKey, claims, key, listener)).filter((f) => ['alg-none', 'hmac-realm-public-key-pem', 'unknown-key-realm-kid'].includes(f.attack));
    const genuine = adminCapable ? (await mlflowClientToken(target, admin.username, passwordOf(target, admin))).access_token : undefined;
    const twin = await whoamiWith(basicAuth(admin.email, tokenOf('admin')));
    const tries = [...forged.map((f) => ({ attack: f.attack, description: f.description, token: f.token })), ...(genuine ? [{ attack: 'genuine-jwt', description: 'the admin\'s genuine access token (client mlflow)', token: genuine }] : [])];
    const results = await Promise.all(tries.map((t) => whoamiWith(basicAuth(admin.email, t.token))));
    for (const [i, t] of tries.entries()) {
      const r = judged(results[i]!, twin, 'Basic with the admin\'s access key');
      recordAttack(target, { attack: t.attack, via: 'basic', ...r, evidence: `${t.description} as the Basic password of ${admin.email}: ${r.evidence}` });
    }
    if (!genuine) recordAttack(target, notApplicable('genuine-jwt', 'basic', 'no genuine JWT without the Keycloak admin access that makes a client of its own'));
    expect(twin.outcome, `the positive twin must work: ${twin.evidence}`).toBe('accepted');
  });

  test('[C23] realm-signed tokens that must not work: another realm, another client (aud/azp), nbf in the future', async () => {
    const viaBearer = ['other-realm', 'other-client', 'nbf-future'];
    skipWithout(viaBearer, 'makes clients of its own and a user in another realm');
    const admin = persona(target, 'admin');
    const password = passwordOf(target, admin);
    const genuine = (await mlflowClientToken(target, admin.username, password)).access_token;
    const client = await probeClient(target);
    const future = Math.floor(Date.now() / 1000) + 3600;
    const nbfClient = await probeClient(target, { claims: { nbf: future } });
    const other = await otherRealmToken(target, { username: admin.username, email: admin.email });
    try {
      const otherClient = (await client.tokenFor(admin.username, password)).access_token;
      const nbf = (await nbfClient.tokenFor(admin.username, password)).access_token;
      const tokens: Record<string, { token: string; description: string }> = {
        'other-realm': { token: other.token.access_token, description: `a token of realm ${other.realm} (client admin-cli) for a user with the admin's e-mail (issuer ${String(claimsOf(other.token.access_token).iss)})` },
        'other-client': { token: otherClient, description: `the admin's token issued to client ${client.clientId} (azp ${String(claimsOf(otherClient).azp)}, aud ${JSON.stringify(claimsOf(otherClient).aud ?? null)})` },
        'nbf-future': { token: nbf, description: `the admin's token with nbf ${String(claimsOf(nbf).nbf ?? '(Keycloak left it out)')} (an hour ahead)` },
      };
      const [twin, ...results] = await Promise.all([whoamiWith(bearer(genuine)), ...viaBearer.map((a) => whoamiWith(bearer(tokens[a]!.token)))]);
      for (const [i, attack] of viaBearer.entries()) {
        const r = judged(results[i]!, twin!, 'the admin\'s genuine token from client mlflow');
        if (attack === 'nbf-future' && claimsOf(nbf).nbf !== future) {
          recordAttack(target, { attack, via: 'bearer', outcome: 'broken', evidence: `Keycloak did not put the nbf claim into the token: ${tokens[attack]!.description}` });
          continue;
        }
        recordAttack(target, { attack, via: 'bearer', ...r, evidence: `${tokens[attack]!.description}: ${r.evidence}` });
      }
    } finally {
      await Promise.all([client.remove(), nbfClient.remove(), other.remove()]);
    }
  });

  test('[C23] a user\'s genuine token after the user\'s Keycloak sessions are logged out, after it expired, after the user is disabled and deleted', async () => {
    skipWithout(['after-logout', 'expired', 'disabled-user', 'deleted-user'], 'makes, logs out, disables and deletes a user');
    test.setTimeout(90_000);
    // short-lived tokens, so "until it expires" is measured within the check; the realm's own lifespan is reported
    const lifespan = 4;
    const client = await probeClient(target, { lifespanSeconds: lifespan });
    const kc = await keycloakAdmin(target);
    const realmLifespan = (await kc.realms.findOne({ realm: target.realm }))?.accessTokenLifespan;
    const users = await Promise.all([createEphemeralUser(target, ['mlflow-users'], 'sec-logout'), createEphemeralUser(target, ['mlflow-users'], 'sec-disable')]);
    try {
      // each user logs in to MLflow once: the plugin knows a Bearer user only once it has logged in
      await Promise.all(users.map(async (u) => {
        const ctx = await playwrightRequest.newContext();
        try {
          expect((await oidcLogin(ctx, target, { username: u.username, password: u.password })).loggedIn, `${u.username} logs in`).toBe(true);
        } finally {
          await ctx.dispose();
        }
      }));
      const idOf = async (username: string) => (await kc.users.find({ username, exact: true }))[0]!.id!;
      const afterLogout = async () => {
        const u = users[0]!;
        const token = (await client.tokenFor(u.username, u.password)).access_token;
        const exp = Number(claimsOf(token).exp) * 1000;
        const twin = await whoamiWith(bearer(token));
        await kc.users.logout({ id: await idOf(u.username) });
        const loggedOut = Date.now();
        let lastAccepted: number | undefined;
        let after: { outcome: Outcome; evidence: string } = twin;
        // until it is refused, or a few seconds past its expiry
        while (Date.now() < exp + 4000) {
          after = await whoamiWith(bearer(token));
          if (after.outcome !== 'accepted') break;
          lastAccepted = Date.now();
          await new Promise((r) => setTimeout(r, 1000));
        }
        const refusedAt = Date.now();
        const worked = lastAccepted !== undefined ? `accepted for ${((lastAccepted - loggedOut) / 1000).toFixed(1)} s after the logout, refused ${((refusedAt - exp) / 1000).toFixed(1)} s after its exp (lifespan ${lifespan} s here; the realm's access-token lifespan is ${realmLifespan ?? '?'} s)` : 'refused at once after the logout';
        const logout = judged({ outcome: lastAccepted !== undefined ? 'accepted' : after.outcome, evidence: worked }, twin, 'the same token before the logout');
        recordAttack(target, { attack: 'after-logout', via: 'bearer', ...logout });
        const expired = after.outcome === 'accepted' ? { outcome: 'accepted' as const, evidence: `still accepted ${((Date.now() - exp) / 1000).toFixed(1)} s after its exp` } : { outcome: after.outcome, evidence: `after its exp: ${after.evidence}` };
        recordAttack(target, { attack: 'expired', via: 'bearer', ...judged(expired, twin, 'the same token before it expired') });
      };
      const disabledDeleted = async () => {
        const u = users[1]!;
        const token = (await client.tokenFor(u.username, u.password)).access_token;
        const twin = await whoamiWith(bearer(token));
        const id = await idOf(u.username);
        await kc.users.update({ id }, { enabled: false });
        const disabled = await whoamiWith(bearer(token));
        recordAttack(target, { attack: 'disabled-user', via: 'bearer', ...judged(disabled, twin, 'the same token before the user was disabled') });
        await kc.users.del({ id });
        const deleted = await whoamiWith(bearer(token));
        recordAttack(target, { attack: 'deleted-user', via: 'bearer', ...judged(deleted, twin, 'the same token before the user was deleted') });
      };
      await Promise.all([afterLogout(), disabledDeleted()]);
    } finally {
      await Promise.all([client.remove(), ...users.map((u) => u.remove().catch(() => undefined))]);
    }
  });

  test('[C10] forged session cookies and a session replayed after logout are refused; the session works before', async ({ sessionHeadersAs }) => {
    const cookieName = plugin.session.cookie;
    const own = sessionHeadersAs('user1').Cookie!;
    const value = new RegExp(`(?:^|; )${cookieName}=([^;]+)`).exec(own)?.[1];
    expect(value, `user1's login session has a ${cookieName} cookie`).toBeTruthy();
    const cookie = (v: string) => ({ Cookie: `${cookieName}=${v}` });
    const twin = await whoamiWith(cookie(value!));
    const flip = (s: string, at: number) => `${s.slice(0, at)}${s[at] === 'A' ? 'B' : 'A'}${s.slice(at + 1)}`;
    const forgeries: { attack: string; description: string; value?: string; why?: string }[] = [
      { attack: 'cookie-random', description: 'a random cookie value of the same length', value: randomBytes(value!.length).toString('base64url').slice(0, value!.length) },
      { attack: 'cookie-tampered', description: 'user1\'s cookie with one character changed', value: flip(value!, Math.floor(value!.length / 2)) },
    ];
    // Starlette's signed cookie (6.x+): base64 JSON payload . timestamp . signature — the payload re-written
    const parts = value!.split('.');
    const payload = (() => {
      try {
        return parts.length === 3 ? (JSON.parse(Buffer.from(parts[0]!, 'base64').toString()) as Record<string, unknown>) : undefined;
      } catch {
        return undefined;
      }
    })();
    if (payload) {
      const admin = persona(target, 'admin');
      const edited = Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, typeof v === 'string' && /@/.test(v) ? admin.email : v]));
      if (!Object.values(payload).some((v) => typeof v === 'string' && v.includes('@'))) edited.username = admin.email;
      forgeries.push({ attack: 'cookie-claims-edited', description: `the signed cookie's payload re-written to claim ${admin.email} (signature kept)`, value: [Buffer.from(JSON.stringify(edited)).toString('base64'), parts[1], parts[2]].join('.') });
    } else {
      forgeries.push({ attack: 'cookie-claims-edited', description: 'the cookie carries no signed payload', why: `the ${plugin.session.mechanism} session cookie is an opaque id (nothing to re-write)` });
    }
    for (const f of forgeries) {
      if (!f.value) {
        recordAttack(target, notApplicable(f.attack, 'cookie', f.why!));
        continue;
      }
      const r = judged(await whoamiWith(cookie(f.value)), twin, 'user1\'s own cookie');
      recordAttack(target, { attack: f.attack, via: 'cookie', ...r, evidence: `${f.description}: ${r.evidence}` });
    }

    // a session of its own (a throwaway user where Keycloak admin access allows, else user2), logged out through /logout
    const who = adminCapable ? await createEphemeralUser(target, ['mlflow-users'], 'sec-replay') : undefined;
    const user2 = who ? undefined : persona(target, 'user2');
    const ctx: APIRequestContext = await playwrightRequest.newContext();
    try {
      const flow = await oidcLogin(ctx, target, who ? { username: who.username, password: who.password } : { username: user2!.username, password: passwordOf(target, user2!) });
      expect(flow.loggedIn).toBe(true);
      const saved = (await ctx.storageState()).cookies.find((c) => c.name === cookieName && target.mlflowUrl.includes(c.domain.replace(/^\./, '')))?.value;
      expect(saved, 'the login set a session cookie').toBeTruthy();
      recordSecret(`session cookie of ${who?.username ?? user2!.username} (replayed after logout)`, saved!, who?.username ?? user2!.username);
      const before = await whoamiWith(cookie(saved!));
      const logout = await ctx.get(`${target.mlflowUrl}/logout`, { maxRedirects: 0 });
      const replay = await whoamiWith(cookie(saved!));
      const r = judged(replay, before, 'the same cookie before the logout');
      recordAttack(target, { attack: 'cookie-after-logout', via: 'cookie', ...r, evidence: `the session cookie saved before GET /logout (HTTP ${logout.status()}), sent again: ${r.evidence}` });
    } finally {
      await ctx.dispose();
      await who?.remove();
    }
    expect(twin.outcome, `the positive twin must work: ${twin.evidence}`).toBe('accepted');
  });
});
