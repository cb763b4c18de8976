import { test, expect } from './ui-test.ts';
import { observeDifference, requireCapability } from '../support/claims.ts';
import { browserLogin } from '../support/browser-login.ts';
import { basicAuth, expectJson, unique } from '../support/mlflow-api.ts';
import { createEphemeralUser } from '../support/stack-access.ts';
import { DATES } from './volatile.ts';

/** An instant as the server wrote it (RFC 1123 or ISO; a naive ISO timestamp is UTC). */
const instant = (s: string) => Date.parse(/^\d{4}-\d{2}-\d{2}[T ][\d:.]+$/.test(s) ? `${s}Z` : s);

test('[C17] access key: the user creates a key in the permissions UI — at most one year ahead, shown once — and the real Python client logs a run with it as the Basic password of the full email', async ({ page, target, plugin, ui, screens, rest, python, sessionHeadersAs }) => {
  requireCapability(target, 'keycloakAdmin', 'creates a fresh Keycloak user: a new token replaces the previous one, so the shared personas must not get one');
  // A user of its own: requesting a token replaces that user's previous one.
  const user = await createEphemeralUser(target, ['mlflow-users'], 'c17');
  const experiment = unique('c17-ui-key');
  const admin = sessionHeadersAs('admin');
  const keys = ui.accessKey(page, user);
  screens.volatile(user.email, user.username, experiment, ...DATES);
  screens.secret(...keys.secrets(), ...keys.volatile());
  try {
    await test.step('MLflow and Keycloak login', () => browserLogin(page, target, user, (leg) => screens.shot(leg)));
    await screens.step('first stop: the permissions UI', () => ui.expectSignedIn(page, { email: user.email, admin: false }));

    const label = await screens.step('access-key dialog', () => keys.open());
    observeDifference('ui-access-key-named-token', /^create access key$/i.test(label), `the control reads "${label}"`);

    const refused = await screens.step('days past one year are refused', () => keys.refuseTooLate());
    test.info().annotations.push({ type: 'evidence', description: `C17: ${refused.evidence}` });
    observeDifference('ui-access-key-day-past-year', refused.dayPastLimit === 'refused', refused.evidence);
    const latest = await screens.step('the latest day allowed is chosen', () => keys.chooseLatest());
    const { token, expiresAt } = await screens.step('the key is shown', () => keys.request());
    test.info().annotations.push({ type: 'evidence', description: `C17: the dialog accepted ${latest} and showed a ${token.length}-character key expiring ${new Date(expiresAt).toISOString()}` });

    // The key is the HTTP Basic password of the full email, and the server recorded the chosen expiry.
    const me = await expectJson(await rest.get(`${target.mlflowUrl}${plugin.routes.currentUser}`, { headers: basicAuth(user.email, token) }));
    expect(me).toMatchObject({ username: user.email, is_admin: false });
    // (not `.not.toContain(token)`: an expectation's argument is recorded in the step, and the blob reports of a sharded run keep it)
    expect(JSON.stringify(me).includes(token), 'the current-user answer echoes the access key').toBe(false);
    const recorded = plugin.tokenExpiry.read(await expectJson(await rest.get(`${target.mlflowUrl}${plugin.tokenExpiry.route}`, { headers: basicAuth(user.email, token) })));
    expect(recorded.map(instant), `expiries the server lists: ${recorded.join(', ')}`).toContain(expiresAt);
    expect((await rest.get(`${target.mlflowUrl}${plugin.routes.currentUser}`, { headers: basicAuth(user.email, `${token}x`) })).status()).toBe(401);

    // The real Python client logs a run with it (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD, as the seed says).
    const run = await python('log_run.py', { MLFLOW_TRACKING_USERNAME: user.email, MLFLOW_TRACKING_PASSWORD: token }, [experiment, 'payload-for-c17']);
    expect(run.exitCode, run.stderr.slice(-800)).toBe(0);
    const runId = String(run.json?.run_id);
    const logged = (await expectJson(await rest.get(`${target.mlflowUrl}/api/2.0/mlflow/runs/get?run_id=${runId}`, { headers: admin }))).run as { data: { params: { key: string; value: string }[]; metrics: { key: string; value: number }[] } };
    expect(logged.data.params).toContainEqual({ key: 'alpha', value: '0.5' });
    expect(logged.data.metrics).toContainEqual(expect.objectContaining({ key: 'rmse', value: 0.786 }));

    await screens.step('closed and opened again: no key shown', () => keys.expectShownOnce());
  } finally {
    const exp = await rest.get(`${target.mlflowUrl}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(experiment)}`, { headers: admin });
    if (exp.ok()) await rest.post(`${target.mlflowUrl}/api/2.0/mlflow/experiments/delete`, { headers: admin, data: { experiment_id: ((await exp.json()) as { experiment: { experiment_id: string } }).experiment.experiment_id } });
    await rest.delete(`${target.mlflowUrl}${plugin.routes.deleteUser}`, { headers: admin, data: { username: user.email } });
    await user.remove();
  }
});
