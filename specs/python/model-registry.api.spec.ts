import { test, expect } from '../support/fixtures.ts';
import { expectJson, unique } from '../support/mlflow-api.ts';
import { persona } from '../support/target.ts';

interface ModelVersion { name: string; version: string; current_stage: string; run_id: string; status: string; source: string; user_id?: string }

test('[C25] register_model("runs:/<run-id>/model") creates version 1 and transition_model_version_stage moves it to Production', async ({ target, python, tokenOf, basicAs, request }) => {
  const user = persona(target, 'user1');
  const name = unique('my-model');
  const out = await python('register_model.py', { MLFLOW_TRACKING_USERNAME: user.email, MLFLOW_TRACKING_PASSWORD: tokenOf('user1') }, [unique('registry'), name]);
  expect(out.exitCode, out.stderr).toBe(0);
  const json = out.json as { run_id: string; registered_version: string; registered_source: string; transitioned_stage: string };
  expect(json.registered_version).toBe('1');
  expect(json.transitioned_stage).toBe('Production');

  // The server's record of the version, read independently of the client that wrote it.
  const headers = basicAs('user1');
  const got = (await expectJson(await request.get(`${target.mlflowUrl}/api/2.0/mlflow/model-versions/get?name=${encodeURIComponent(name)}&version=1`, { headers }))) as { model_version: ModelVersion };
  expect(got.model_version).toMatchObject({ name, version: '1', current_stage: 'Production', run_id: json.run_id, status: 'READY' });
  // MLflow 3 resolves runs:/<run-id>/model to the run's logged model (models:/m-…) and registers that.
  expect(got.model_version.source).toBe(json.registered_source);
  expect(got.model_version.source).toMatch(/^models:\/m-[0-9a-f]+$/);

  const model = (await expectJson(await request.get(`${target.mlflowUrl}/api/2.0/mlflow/registered-models/get?name=${encodeURIComponent(name)}`, { headers }))) as { registered_model: { name: string; latest_versions?: ModelVersion[] } };
  expect(model.registered_model.latest_versions?.map((v) => [v.version, v.current_stage])).toEqual([['1', 'Production']]);
});
