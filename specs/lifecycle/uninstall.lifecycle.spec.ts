import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '../support/fixtures.ts';
import { observeDifference, requireCapability } from '../support/claims.ts';
import { expectJson, unique } from '../support/mlflow-api.ts';
import { oidcLogin } from '../support/oidc-flow.ts';
import { keycloakAdmin } from '../support/stack-access.ts';
import { passwordOf, persona } from '../support/target.ts';
import { cleanupMlflow, installMlflow, uninstallMlflow } from '../../provision/local/lifecycle.ts';
import { stateDir } from '../../provision/paths.ts';
import { superuserQuery } from '../support/superuser.ts';

// buun-stack's uninstall / install / cleanup recipes, run on the local stack. They take MLflow down, so the
// project runs last, and only on a stack that `npm test` provisioned for itself (or with HARNESS_LIFECYCLE=1).
test.describe.configure({ mode: 'serial' });

const disposable = () => {
  const ledger = join(stateDir(), 'ledger.json');
  return process.env.HARNESS_LIFECYCLE === '1' || (existsSync(ledger) && (JSON.parse(readFileSync(ledger, 'utf8')) as { owner: string }).owner === 'test');
};

test.beforeEach(({ target }) => {
  requireCapability(target, 'database', 'runs the uninstall recipes on the local stack');
  test.skip(!disposable(), 'not-applicable: uninstalling would break a stack you provisioned with `npm run provision`; runs under `npm test` on its own stack (or set HARNESS_LIFECYCLE=1)');
});

const databases = async (target: Parameters<typeof superuserQuery>[0]) => (await superuserQuery(target, 'SELECT datname FROM pg_database')).map((r) => r.datname as string);
const roleExists = async (target: Parameters<typeof superuserQuery>[0]) => (await superuserQuery(target, "SELECT 1 FROM pg_roles WHERE rolname = 'mlflow'")).length === 1;
const clientExists = async (target: Parameters<typeof keycloakAdmin>[0]) => (await (await keycloakAdmin(target)).clients.find({ clientId: target.clientId })).length > 0;

test('[C32] uninstall keeps the databases when asked to, and install brings MLflow back with its data', async ({ target, request, basicAs, playwright }) => {
  const name = unique('survives-uninstall');
  const exp = await expectJson(await request.post(`${target.mlflowUrl}/api/2.0/mlflow/experiments/create`, { data: { name }, headers: basicAs('user1') }));

  const uninstalled = await uninstallMlflow(false);
  expect(uninstalled.filter((s) => !s.ok)).toEqual([]);
  expect((await request.get(`${target.mlflowUrl}/health`)).status(), 'MLflow still answers').toBeGreaterThanOrEqual(500);
  expect(await clientExists(target)).toBe(false);
  expect(await databases(target)).toEqual(expect.arrayContaining(['mlflow', 'mlflow_auth']));
  expect(await roleExists(target)).toBe(true);

  const installed = await installMlflow();
  expect(installed.filter((s) => !s.ok)).toEqual([]);
  expect(await clientExists(target)).toBe(true);
  const got = await expectJson(await request.get(`${target.mlflowUrl}/api/2.0/mlflow/experiments/get?experiment_id=${exp.experiment_id}`, { headers: basicAs('user1') }));
  expect((got.experiment as { name: string }).name).toBe(name);
  const ctx = await playwright.request.newContext();
  const user2 = persona(target, 'user2');
  expect((await oidcLogin(ctx, target, { username: user2.username, password: passwordOf(target, user2) })).loggedIn).toBe(true);
  await ctx.dispose();
});

test('[C32] uninstall with delete-db drops the tracking database; cleanup removes the Keycloak client', async ({ target }) => {
  const steps = await uninstallMlflow(true);
  expect(steps.find((s) => s.step.startsWith('delete database'))?.ok).toBe(true);
  const dbs = await databases(target);
  expect(dbs).not.toContain('mlflow');
  const userDropped = steps.find((s) => s.step.startsWith('delete user'))!;
  const authKept = dbs.includes('mlflow_auth');
  observeDifference('uninstall-keeps-auth-db-and-user', !authKept && userDropped.ok && !(await roleExists(target)), `mlflow_auth kept: ${authKept}; DROP USER: ${userDropped.detail ?? 'ok'}`);

  const reinstalled = await installMlflow();
  expect(reinstalled.filter((s) => !s.ok)).toEqual([]);
  expect(await clientExists(target)).toBe(true);
  const cleaned = await cleanupMlflow();
  expect(cleaned.find((s) => s.step.startsWith('delete Keycloak client'))?.ok).toBe(true);
  expect(await clientExists(target)).toBe(false);
  expect(await databases(target)).not.toContain('mlflow');
});
