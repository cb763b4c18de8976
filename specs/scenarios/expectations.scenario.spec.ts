import { openSync, readSync, closeSync, fstatSync, readFileSync } from 'node:fs';
import { test, expect } from '../support/fixtures.ts';
import { basicAuth } from '../support/mlflow-api.ts';
import { oidcLogin } from '../support/oidc-flow.ts';
import { loginErrors, pluginOf } from '../support/plugin.ts';
import { passwordOf, persona } from '../support/target.ts';
import { loadYaml, Scenario, type Expectation } from '../../provision/scenarios/schema.ts';

// Asserts one phase (symptom or recovery) of a scenario file; `npm run scenario` sets the stack up for
// the phase and runs this file with SCENARIO_FILE, SCENARIO_PHASE and SCENARIO_LOG_OFFSETS.
const file = process.env.SCENARIO_FILE;
const phase = process.env.SCENARIO_PHASE === 'recovery' ? 'recovery' : 'symptom';
const offsets = JSON.parse(process.env.SCENARIO_LOG_OFFSETS ?? '{}') as Record<string, number>;

/** What a component logged since the phase began. */
function loggedSince(path: string, from: number): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - from));
    readSync(fd, buf, 0, buf.length, from);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function summary(e: Expectation): string {
  if ('login' in e) return `login as ${e.login.persona} ${e.login.loggedIn ? 'succeeds' : 'is refused'}${e.login.errors ? ` with "${e.login.errors.join('", "')}"` : ''}`;
  if ('http' in e) return `${e.http.method} ${e.http.path}${e.http.status ? ` → ${e.http.status}` : ''}${e.http.bodyContains ? ` containing "${e.http.bodyContains}"` : ''}`;
  if ('log' in e) return `${e.log.component} log ${e.log.contains ? `shows "${e.log.contains}"` : `does not show "${e.log.notContains}"`}`;
  return `python ${e.python.script} as ${e.python.as} ${e.python.succeeds ? 'succeeds' : 'fails'}${e.python.outputContains ? ` with "${e.python.outputContains}"` : ''}`;
}

if (file) {
  const scenario = loadYaml(file, Scenario);
  const expectations = phase === 'symptom' ? scenario.spec.symptom : scenario.spec.recovery;
  test.describe(`${scenario.metadata.name} (${phase})`, () => {
    expectations.forEach((e, i) => {
      test(`#${i + 1} ${summary(e)}`, async ({ target, playwright, request, python, tokenOf }) => {
        if ('login' in e) {
          const p = persona(target, e.login.persona);
          const ctx = await playwright.request.newContext();
          const flow = await oidcLogin(ctx, target, { username: p.username, password: passwordOf(target, p) });
          const errors = flow.callback ? await loginErrors(flow.callback, pluginOf(target)) : [];
          await ctx.dispose();
          expect(flow.loggedIn, `login: ${errors.join(' | ') || flow.keycloakPage?.slice(0, 200)}`).toBe(e.login.loggedIn);
          for (const text of e.login.errors ?? []) expect(errors).toContain(text);
          if (e.login.keycloakPageContains) expect(flow.keycloakPage ?? '').toContain(e.login.keycloakPageContains);
        } else if ('http' in e) {
          const base = e.http.base === 'keycloak' ? target.keycloakUrl : e.http.base === 'mlflow-internal' ? target.internal?.mlflowUrl : target.mlflowUrl;
          test.skip(!base, 'not-applicable: the target exposes no internal MLflow endpoint');
          const p = e.http.as ? persona(target, e.http.as) : undefined;
          const res = await request.fetch(`${base}${e.http.path}`, {
            method: e.http.method,
            headers: { ...(p ? basicAuth(p.email, tokenOf(e.http.as!)) : {}), ...(e.http.headers ?? {}) },
            ...(e.http.json !== undefined ? { data: e.http.json } : {}),
            maxRedirects: 0,
          });
          const body = await res.text();
          if (e.http.status !== undefined) expect(res.status(), body.slice(0, 300)).toBe(e.http.status);
          if (e.http.bodyContains) expect(body).toContain(e.http.bodyContains);
          if (e.http.bodyNotContains) expect(body).not.toContain(e.http.bodyNotContains);
        } else if ('log' in e) {
          const path = target.logs[e.log.component];
          test.skip(!path, 'not-applicable: the target gives no access to server logs');
          const read = () => loggedSince(path!, offsets[e.log.component] ?? 0);
          if (e.log.contains) await expect.poll(read, { timeout: 15_000 }).toContain(e.log.contains);
          if (e.log.notContains) expect(read()).not.toContain(e.log.notContains);
        } else {
          const p = persona(target, e.python.as);
          // Basic credentials as the seed sets them, plus what the Method 2 example needs
          const secrets = JSON.parse(readFileSync(target.secretsFile!, 'utf8')) as { clientSecret?: string };
          const r = await python(e.python.script, {
            MLFLOW_TRACKING_USERNAME: p.email,
            MLFLOW_TRACKING_PASSWORD: tokenOf(e.python.as),
            KEYCLOAK_URL: target.keycloakUrl,
            KEYCLOAK_REALM: target.realm,
            KEYCLOAK_USERNAME: p.email,
            KEYCLOAK_PASSWORD: passwordOf(target, p),
            OIDC_CLIENT_SECRET: secrets.clientSecret ?? '',
            // a failing server makes the client retry for minutes; a symptom shows on the first answer
            MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
            MLFLOW_HTTP_REQUEST_TIMEOUT: '60',
          }, e.python.args);
          expect(r.exitCode === 0, `exit ${r.exitCode}: ${r.stderr.slice(-400)}`).toBe(e.python.succeeds);
          if (e.python.outputContains) expect(`${r.stdout}\n${r.stderr}`).toContain(e.python.outputContains);
        }
      });
    });
  });
}
