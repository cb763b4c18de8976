import { test, expect } from '../support/fixtures.ts';
import { observeDifference, requireCapability } from '../support/claims.ts';
import { oidcLogin } from '../support/oidc-flow.ts';
import { loginErrors, pluginOf } from '../support/plugin.ts';
import { groupsMapper, whileFaulted } from '../support/realm-faults.ts';
import { passwordOf, persona } from '../support/target.ts';

// Each check changes the live realm (affecting every login while it lasts), asserts the symptom, undoes
// the change and asserts recovery. The project runs after the others, one check at a time.
test.describe.configure({ mode: 'serial' });

test.beforeEach(({ target }) => requireCapability(target, 'keycloakAdmin', 'changes the realm'));

async function login(target: Parameters<typeof oidcLogin>[1], playwright: { request: { newContext: () => Promise<import('@playwright/test').APIRequestContext> } }) {
  const user = persona(target, 'user2');
  const ctx = await playwright.request.newContext();
  try {
    const flow = await oidcLogin(ctx, target, { username: user.username, password: passwordOf(target, user) });
    return { flow, errors: flow.callback ? await loginErrors(flow.callback, pluginOf(target)) : [] };
  } finally {
    await ctx.dispose();
  }
}

test('[C28] redirect-URI mismatch: Keycloak refuses the login and never returns to MLflow; restoring /callback cures it', async ({ target, playwright }) => {
  const broken = await whileFaulted(target, async (kc, client) => {
    await kc.clients.update({ id: client.id }, { redirectUris: [`${target.mlflowUrl}/oidc/callback`] });
    return () => kc.clients.update({ id: client.id }, { redirectUris: [`${target.mlflowUrl}/callback`] });
  }, () => login(target, playwright));
  expect(broken.flow.loggedIn, broken.flow.outcome).toBe(false);
  expect(broken.flow.callbackUrl, 'Keycloak must not redirect to an unregistered URI').toBeUndefined();
  expect(broken.flow.keycloakPage).toMatch(/Invalid parameter: redirect_uri/);
  const cured = await login(target, playwright);
  expect(cured.flow.loggedIn, `after the cure: ${cured.flow.outcome}`).toBe(true);
});

test('[C28] groups scope missing from the client: the user returns to the login page; adding the scope back cures it', async ({ target, playwright, plugin }) => {
  const broken = await whileFaulted(target, async (kc, client) => {
    const { scopeId } = await groupsMapper(kc);
    await kc.clients.delDefaultClientScope({ id: client.id, clientScopeId: scopeId });
    return () => kc.clients.addDefaultClientScope({ id: client.id, clientScopeId: scopeId });
  }, () => login(target, playwright));
  expect(broken.flow.loggedIn, broken.flow.outcome).toBe(false);
  // Keycloak rejects the requested `groups` scope and sends the user back to MLflow's login page with the error
  // (5.x renders it at /callback; 6.x+ redirect to the UI's login page with it)
  expect(broken.flow.callback, 'Keycloak must redirect back to MLflow with the error').toBeDefined();
  expect(broken.errors).toEqual(plugin.messages.invalidScopes);
  const cured = await login(target, playwright);
  expect(cured.flow.loggedIn, `after the cure: ${cured.flow.outcome}`).toBe(true);
});

test('[C07] group membership is read from the ID token, not from UserInfo', async ({ target, playwright, plugin }) => {
  const withoutIdTokenGroups = await whileFaulted(target, async (kc) => {
    const { scopeId, mapper } = await groupsMapper(kc);
    const original = { ...mapper.config };
    await kc.clientScopes.updateProtocolMapper({ id: scopeId, mapperId: mapper.id! }, { ...mapper, config: { ...original, 'id.token.claim': 'false', 'userinfo.token.claim': 'true' } });
    return () => kc.clientScopes.updateProtocolMapper({ id: scopeId, mapperId: mapper.id! }, { ...mapper, config: original });
  }, () => login(target, playwright));
  observeDifference('groups-from-id-token', withoutIdTokenGroups.flow.loggedIn, `groups only in UserInfo → ${withoutIdTokenGroups.errors.join(' | ') || 'logged in'}`);
  expect(withoutIdTokenGroups.errors).toContain(plugin.messages.noGroups);
  const cured = await login(target, playwright);
  expect(cured.flow.loggedIn, `after the cure: ${cured.flow.outcome}`).toBe(true);
});
