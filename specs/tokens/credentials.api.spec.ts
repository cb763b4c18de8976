import { test, expect } from '../support/fixtures.ts';
import { observeDifference, requireCapability } from '../support/claims.ts';
import { recordSecret } from '../../provision/secret-ledger.ts';
import { basicAuth, bearer, expectJson, inDays, requestAccessToken, unique } from '../support/mlflow-api.ts';
import { expectUnauthenticated, pluginOf, whoami } from '../support/plugin.ts';
import { keycloakAdmin } from '../support/stack-access.ts';
import { passwordOf, persona } from '../support/target.ts';
import { readFileSync } from 'node:fs';

test.describe('Basic credentials', () => {
  test('[C18] the access token is a Basic password with the full e-mail as username', async ({ target, request, tokenOf }) => {
    const user1 = persona(target, 'user1');
    const me = await expectJson(await whoami(request, target, basicAuth(user1.email, tokenOf('user1'))));
    expect(me).toMatchObject({ username: user1.email, is_admin: false });
  });

  test('[C19] Basic auth with the username instead of the full e-mail is refused', async ({ target, request, tokenOf, plugin }) => {
    const user1 = persona(target, 'user1');
    const res = await whoami(request, target, basicAuth(user1.username, tokenOf('user1')));
    expect(res.status()).toBe(plugin.badBasic.status);
    if (plugin.badBasic.wwwAuthenticate) expect(res.headers()['www-authenticate']).toBe(plugin.badBasic.wwwAuthenticate);
  });

  test('[C19] a wrong Basic password is refused with 401', async ({ target, request, plugin }) => {
    const res = await whoami(request, target, basicAuth(persona(target, 'user1').email, 'not-the-token-0123456789'));
    expect(res.status()).toBe(plugin.badBasic.status);
    expect(await res.text()).toContain(plugin.badBasic.bodyContains);
  });

  test('[C19] the UI token sent as a Bearer token is refused', async ({ target, request, tokenOf, plugin }) => {
    const res = await whoami(request, target, bearer(tokenOf('user1')));
    expect(res.status()).toBe(plugin.badBearer.status);
    if (plugin.badBearer.body) expect(await res.json()).toEqual(plugin.badBearer.body);
  });

  test('[C21] MLflow\'s built-in basic-auth credentials do not work', async ({ target, request, plugin }) => {
    for (const [u, p] of [['admin', 'password1234'], ['admin', 'password']]) {
      const res = await request.get(`${target.mlflowUrl}/api/2.0/mlflow/experiments/search?max_results=1`, { headers: basicAuth(u!, p!) });
      expect(res.status(), `${u}:${p}`).toBe(401);
    }
    // and MLflow's own auth routes are not there: the plugin replaces them
    const res = await request.get(`${target.mlflowUrl}${plugin.routes.getUser('admin')}`, { headers: basicAuth('admin', 'password1234') });
    expect(res.status()).toBe(401);
  });

  test('[C11] without credentials the API answers with the login page (6.x+: 401) and leaks no data', async ({ target, request, basicAs, plugin }) => {
    const name = unique('anon-probe');
    const created = await expectJson(await request.post(`${target.mlflowUrl}/api/2.0/mlflow/experiments/create`, { data: { name }, headers: basicAs('user1') }));
    for (const path of [
      `/api/2.0/mlflow/experiments/get?experiment_id=${created.experiment_id}`,
      `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${name}`,
      `/ajax-api/2.0/mlflow/experiments/get?experiment_id=${created.experiment_id}`,
      plugin.routes.currentUser,
      '/version',
    ]) {
      const res = await request.get(`${target.mlflowUrl}${path}`);
      expect(await res.text(), path).not.toContain(name);
      await expectUnauthenticated(res, plugin);
    }
    const search = await request.post(`${target.mlflowUrl}/api/2.0/mlflow/experiments/search`, { data: { max_results: 100 } });
    expect(await search.text()).not.toContain(name);
    expect(search.status()).not.toBe(200);
  });
});

test.describe('token lifetime', () => {
  /** A service account made by the admin, so minting its tokens disturbs no persona. */
  async function serviceAccount(request: import('@playwright/test').APIRequestContext, target: import('../../provision/targets/descriptor.ts').TargetDescriptor, admin: Record<string, string>) {
    const username = `${unique('svc')}@example.com`;
    const res = await request.post(`${target.mlflowUrl}${pluginOf(target).routes.createUser}`, { data: { username, display_name: 'Service Account', is_service_account: true }, headers: admin });
    expect(res.status(), await res.text()).toBe(201);
    return username;
  }

  // Tokens are minted from the admin's signed-in session: from plugin 8.0 on, a request authenticated with an
  // access token may not mint one.
  test('[C20] a token lifetime over one year is refused; one year is accepted', async ({ target, request, basicAs, plugin, sessionAs }) => {
    const svc = await serviceAccount(request, target, basicAs('admin'));
    const admin = await sessionAs('admin');
    const tooLong = await requestAccessToken(admin, target, svc, inDays(367));
    expect(tooLong.status()).toBe(400);
    expect(await tooLong.json()).toEqual(plugin.messages.tokenTooLong);
    const past = await requestAccessToken(admin, target, svc, inDays(-1));
    expect(past.status()).toBe(400);
    expect(await past.json()).toEqual(plugin.messages.tokenInPast);
    const ok = await requestAccessToken(admin, target, svc, inDays(365));
    expect(ok.status()).toBe(200);
  });

  test('[C20] an expired token is refused', async ({ target, request, basicAs, sessionAs }) => {
    const svc = await serviceAccount(request, target, basicAs('admin'));
    const admin = await sessionAs('admin');
    const expiresAt = Date.now() + 4000;
    const minted = await expectJson(await requestAccessToken(admin, target, svc, new Date(expiresAt).toISOString()));
    const token = String(minted.token);
    const status = () => whoami(request, target, basicAuth(svc, token)).then((r) => r.status());
    expect(await status(), 'the fresh token works').toBe(200);
    await expect.poll(status, { timeout: 30_000, intervals: [1000] }).toBe(401);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
  });

  test('[C17] a non-admin cannot mint a token for another user', async ({ target, sessionAs }) => {
    const ctx = await sessionAs('user1');
    const res = await requestAccessToken(ctx, target, persona(target, 'user2').email, inDays(30));
    expect(res.status()).toBe(403);
  });
});

test.describe('JWT bearer', () => {
  function clientSecret(target: { secretsFile?: string }): string {
    return (JSON.parse(readFileSync(target.secretsFile!, 'utf8')) as { clientSecret: string }).clientSecret;
  }

  test('[C23] the seed\'s password grant with client mlflow is refused by buun-stack\'s client (direct access grants off)', async ({ target, request }) => {
    requireCapability(target, 'keycloakAdmin', 'needs the client secret');
    const user1 = persona(target, 'user1');
    const res = await request.post(`${target.issuer}/protocol/openid-connect/token`, {
      form: { grant_type: 'password', client_id: target.clientId, client_secret: clientSecret(target), username: user1.email, password: passwordOf(target, user1), scope: 'openid profile email groups' },
    });
    const body = (await res.json()) as { access_token?: string; error?: string };
    observeDifference('password-grant-disabled', res.status() === 200 && !!body.access_token, `token endpoint → ${res.status()} ${body.error ?? ''}`);
    expect(body.error).toBe('unauthorized_client');
  });

  test('[C23] a realm JWT works as MLFLOW_TRACKING_TOKEN for the Python client (issued to another client: accepted, no audience check)', async ({ target, python, request, basicAs }) => {
    requireCapability(target, 'keycloakAdmin', 'creates a probe client with direct access grants');
    const kc = await keycloakAdmin(target);
    const clientId = unique('harness-probe');
    const { id } = await kc.clients.create({ clientId, publicClient: true, directAccessGrantsEnabled: true, standardFlowEnabled: false });
    try {
      const user1 = persona(target, 'user1');
      const tok = await request.post(`${target.issuer}/protocol/openid-connect/token`, {
        form: { grant_type: 'password', client_id: clientId, username: user1.email, password: passwordOf(target, user1), scope: 'openid profile email' },
      });
      expect(tok.status()).toBe(200);
      const accessToken = ((await tok.json()) as { access_token: string }).access_token;
      recordSecret(`JWT of ${user1.email} from client ${clientId}`, accessToken);
      const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { azp: string; email: string };
      expect(claims).toMatchObject({ azp: clientId, email: user1.email });
      test.info().annotations.push({ type: 'observation', description: `A JWT issued to client ${clientId} (not mlflow) is accepted by mlflow-oidc-auth ${target.pins.mlflowOidcAuth} as Bearer: no audience/azp check.` });
      const experiment = unique('jwt');
      const run = await python('log_run.py', { MLFLOW_TRACKING_TOKEN: accessToken }, [experiment]);
      expect(run.exitCode, run.stderr).toBe(0);
      const got = await expectJson(await request.get(`${target.mlflowUrl}/api/2.0/mlflow/runs/get?run_id=${run.json!.run_id}`, { headers: basicAs('admin') }));
      expect(JSON.stringify(got)).toContain('"alpha"');
    } finally {
      await kc.clients.del({ id });
    }
  });

  test('[C23] an invalid or tampered JWT is refused', async ({ target, request }) => {
    const res = await whoami(request, target, bearer('eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImJvYkBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJl'));
    expect(res.status()).toBe(401);
  });
});
