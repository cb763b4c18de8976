import { parse } from 'yaml';
import { test, expect } from '../support/fixtures.ts';
import { observeDifference } from '../support/claims.ts';
import { expectJson, unique } from '../support/mlflow-api.ts';
import { persona } from '../support/target.ts';

interface RunAnswer {
  run: {
    info: { run_id: string; experiment_id: string; user_id: string; status: string };
    data: { params?: { key: string; value: string }[]; metrics?: { key: string; value: number }[] };
    outputs?: { model_outputs?: { model_id: string }[] };
  };
}
interface LoggedModelAnswer {
  model: { info: { model_id: string; name: string; source_run_id: string; status: string; artifact_uri: string } };
}

// What MLflow infers from the seed's input example `X_train[:5]` (a numpy array of 4 float columns).
const tensorOf4Features = [{ type: 'tensor', 'tensor-spec': { dtype: 'float64', shape: [-1, 4] } }];

test('[C24] the seed\'s complete iris example logs params, an accuracy metric and a model with an inferred signature that predicts', async ({ target, python, tokenOf, basicAs, request }) => {
  // the example runs as a user runs it (a fresh interpreter that trains and logs a model), twice where MLflow refuses
  // the model's types the first time: each run is ~15 s of CPU on this machine, more under load
  test.setTimeout(120_000);
  const user = persona(target, 'user1');
  const creds = { MLFLOW_TRACKING_USERNAME: user.email, MLFLOW_TRACKING_PASSWORD: tokenOf('user1') };
  let out = await python('iris_example.py', creds, [unique('iris-classification')]);
  const untrusted = out.exitCode !== 0 && out.stderr.includes('references untrusted types');
  observeDifference('sklearn-untrusted-types', !untrusted, untrusted ? out.stderr.split('\n').filter((l) => l.startsWith('mlflow.exceptions')).join(' ').slice(0, 300) : '');
  if (untrusted) {
    // the rest of the seed's promise, with the one type the model needs named as trusted
    out = await python('iris_example.py', { ...creds, IRIS_SKOPS_TRUSTED_TYPES: 'sklearn.tree._tree.Tree' }, [unique('iris-classification')]);
  }
  expect(out.exitCode, out.stderr).toBe(0);
  expect(out.stdout).toMatch(/^Model logged with accuracy: [01]\.\d+$/m);
  const json = out.json as {
    run_id: string; accuracy: number; model_id: string; model_uri: string;
    signature_inputs: unknown; signature_outputs: unknown; saved_input_example: Record<string, unknown> | null; prediction: number[];
  };

  const headers = basicAs('user1');
  const run = ((await expectJson(await request.get(`${target.mlflowUrl}/api/2.0/mlflow/runs/get?run_id=${json.run_id}`, { headers }))) as unknown as RunAnswer).run;
  expect(run.info).toMatchObject({ user_id: user.email, status: 'FINISHED' });
  expect(run.data.params).toEqual(expect.arrayContaining([{ key: 'n_estimators', value: '100' }, { key: 'max_depth', value: '5' }]));
  const accuracy = run.data.metrics?.find((m) => m.key === 'accuracy')?.value;
  expect(accuracy).toBe(json.accuracy);
  expect(accuracy).toBeGreaterThan(0.8);
  // MLflow 3: log_model creates a logged model, recorded as an output of the run.
  expect(run.outputs?.model_outputs?.map((m) => m.model_id)).toContain(json.model_id);

  const model = ((await expectJson(await request.get(`${target.mlflowUrl}/api/2.0/mlflow/logged-models/${json.model_id}`, { headers }))) as unknown as LoggedModelAnswer).model.info;
  expect(model).toMatchObject({ name: 'model', source_run_id: json.run_id, status: 'LOGGED_MODEL_READY' });

  // The MLmodel file, downloaded through the proxied-artifact route, carries the inferred signature.
  expect(model.artifact_uri).toMatch(/^mlflow-artifacts:\//);
  const mlmodelPath = `${model.artifact_uri.replace(/^mlflow-artifacts:\//, '')}/MLmodel`;
  const mlmodelRes = await request.get(`${target.mlflowUrl}/api/2.0/mlflow-artifacts/artifacts/${mlmodelPath}`, { headers });
  expect(mlmodelRes.status()).toBe(200);
  const mlmodel = parse(await mlmodelRes.text()) as { flavors: Record<string, unknown>; signature?: { inputs: string; outputs: string }; saved_input_example_info?: unknown };
  expect(Object.keys(mlmodel.flavors)).toEqual(expect.arrayContaining(['sklearn', 'python_function']));
  expect(JSON.parse(mlmodel.signature?.inputs ?? 'null')).toEqual(tensorOf4Features);
  expect(JSON.parse(mlmodel.signature?.outputs ?? 'null')).toEqual([{ type: 'tensor', 'tensor-spec': { dtype: 'int64', shape: [-1] } }]);
  expect(mlmodel.saved_input_example_info).toBeTruthy();

  // The Python client reads the same signature back and the loaded pyfunc model predicts setosa (class 0).
  expect(json.signature_inputs).toEqual(tensorOf4Features);
  expect(json.saved_input_example).toBeTruthy();
  expect(json.prediction).toEqual([0]);
});
