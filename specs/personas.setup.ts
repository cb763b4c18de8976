import { existsSync, mkdirSync } from 'node:fs';
import { request as playwrightRequest } from '@playwright/test';
import { test, expect } from './support/fixtures.ts';
import { oidcLogin } from './support/oidc-flow.ts';
import { loadTokens, runDir, saveTokens, storageStateFile } from './support/run-state.ts';
import { passwordOf } from './support/target.ts';
import { basicAuth, createAccessToken } from './support/mlflow-api.ts';
import { answersAs, whoami } from './support/plugin.ts';

const safeLoadTokens = () => {
  try {
    return loadTokens();
  } catch {
    return {};
  }
};

// Logs every persona that may log in through the OIDC flow once per run, keeps its session for the
// checks (storage state) and mints its access token with the REST call of "Create access key".
test('log personas in and mint their access tokens', async ({ target }) => {
  mkdirSync(runDir(), { recursive: true });
  const previous = existsSync(storageStateFile('admin')) ? safeLoadTokens() : {};
  const tokens: Record<string, string> = {};
  for (const p of target.personas.filter((x) => x.groups.length > 0)) {
    // Reuse a session and token that still work: a new token replaces the old one, which would break
    // another run of the specs against the same stack.
    const old = previous[p.key];
    if (old && existsSync(storageStateFile(p.key))) {
      const ctx = await playwrightRequest.newContext({ storageState: storageStateFile(p.key) });
      const viaSession = await whoami(ctx, target);
      // a request context without cookies: the session would otherwise answer for the token
      const bare = await playwrightRequest.newContext();
      const viaToken = await whoami(bare, target, basicAuth(p.email, old));
      // an expired session: 5.x answers with its login page, 6.x+ with 401 JSON — either way, log in again
      const ok = (await answersAs(viaSession, p.email)) && (await answersAs(viaToken, p.email));
      await bare.dispose();
      await ctx.dispose();
      if (ok) {
        tokens[p.key] = old;
        continue;
      }
    }
    const ctx = await playwrightRequest.newContext();
    const flow = await oidcLogin(ctx, target, { username: p.username, password: passwordOf(target, p) });
    expect(flow.loggedIn, `${p.username} could not log in: ${flow.outcome}`).toBe(true);
    tokens[p.key] = await createAccessToken(ctx, target, p.email);
    await ctx.storageState({ path: storageStateFile(p.key) });
    await ctx.dispose();
  }
  saveTokens(tokens);

  // One request to each of MLflow's stores before the checks run in parallel. MLflow builds its tracking and
  // registry stores on the first request that needs them, and MLflow 3.6 runs alembic's upgrade each time it builds
  // one: two first requests at once race in alembic's process-global context, and one of them is answered 500
  // (KeyError: 'config' in alembic's _remove_proxy) — seen on a fresh server when the first experiment and the first
  // registered model were created by two workers together. A real server meets that race once after each start.
  const admin = await playwrightRequest.newContext({ storageState: storageStateFile('admin') });
  for (const path of ['/api/2.0/mlflow/experiments/search?max_results=1', '/api/2.0/mlflow/registered-models/search?max_results=1']) {
    const r = await admin.get(`${target.mlflowUrl}${path}`);
    expect(r.status(), `${path} as the admin before the checks`).toBe(200);
  }
  await admin.dispose();
});
