import { test, expect } from '../support/fixtures.ts';

test('[C18] the Python client logs a param, a metric and an artifact with an access token as Basic password', async ({ page, target, loginAs, python, request }) => {
  const user = await loginAs(page, 'user1');
  const expiration = new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString();
  // The same REST call the permissions UI's "Create access key" dialog makes.
  const created = await page.request.patch(`${target.mlflowUrl}/api/2.0/mlflow/permissions/users/access-token`, {
    data: { username: user.email, expiration },
  });
  expect(created.status()).toBe(200);
  const { token } = (await created.json()) as { token: string };
  expect(token).toMatch(/^[A-Za-z0-9]{16,}$/);

  const experiment = `smoke-${test.info().workerIndex}-${Date.now()}`;
  const run = await python('log_run.py', { MLFLOW_TRACKING_USERNAME: user.email, MLFLOW_TRACKING_PASSWORD: token }, [experiment, 'payload-for-smoke']);
  expect(run.exitCode, run.stderr).toBe(0);
  const runId = String(run.json?.run_id);

  const basic = { Authorization: `Basic ${Buffer.from(`${user.email}:${token}`).toString('base64')}` };
  const got = await request.get(`${target.mlflowUrl}/api/2.0/mlflow/runs/get?run_id=${runId}`, { headers: basic });
  expect(got.status()).toBe(200);
  const data = ((await got.json()) as { run: { data: { params: { key: string; value: string }[]; metrics: { key: string; value: number }[] } } }).run.data;
  expect(data.params).toContainEqual({ key: 'alpha', value: '0.5' });
  expect(data.metrics).toContainEqual(expect.objectContaining({ key: 'rmse', value: 0.786 }));

  const listed = await request.get(`${target.mlflowUrl}/api/2.0/mlflow/artifacts/list?run_id=${runId}`, { headers: basic });
  expect(((await listed.json()) as { files?: { path: string }[] }).files?.map((f) => f.path)).toContain('model.pkl');
});
