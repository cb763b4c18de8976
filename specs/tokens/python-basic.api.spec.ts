import { test, expect } from '../support/fixtures.ts';
import { expectJson, unique } from '../support/mlflow-api.ts';
import { persona } from '../support/target.ts';

test('[C18] the Python client logs a param, a metric and an artifact with MLFLOW_TRACKING_USERNAME (full e-mail) and MLFLOW_TRACKING_PASSWORD (access token)', async ({ target, python, request, tokenOf, basicAs }) => {
  // user1's token was minted by the setup project with the REST call of the UI's "Create access key"
  const user = persona(target, 'user1');
  const experiment = unique('c18');
  const run = await python('log_run.py', { MLFLOW_TRACKING_USERNAME: user.email, MLFLOW_TRACKING_PASSWORD: tokenOf('user1') }, [experiment, 'payload-for-c18']);
  expect(run.exitCode, run.stderr).toBe(0);
  const runId = String(run.json?.run_id);

  const got = await expectJson(await request.get(`${target.mlflowUrl}/api/2.0/mlflow/runs/get?run_id=${runId}`, { headers: basicAs('user1') }));
  const { data, info } = (got as { run: { data: { params: { key: string; value: string }[]; metrics: { key: string; value: number }[] }; info: { user_id: string } } }).run;
  expect(data.params).toContainEqual({ key: 'alpha', value: '0.5' });
  expect(data.metrics).toContainEqual(expect.objectContaining({ key: 'rmse', value: 0.786 }));
  expect(info.user_id).toBe(user.email);

  const listed = await expectJson(await request.get(`${target.mlflowUrl}/api/2.0/mlflow/artifacts/list?run_id=${runId}`, { headers: basicAs('user1') }));
  expect((listed.files as { path: string }[]).map((f) => f.path)).toContain('model.pkl');
});
