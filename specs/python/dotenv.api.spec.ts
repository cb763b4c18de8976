import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from '../../provision/paths.ts';
import { test, expect } from '../support/fixtures.ts';
import { expectJson, unique } from '../support/mlflow-api.ts';
import { persona } from '../support/target.ts';

// Node's spawn leaves out variables whose value is undefined: this removes the URI the python fixture sets by default.
const UNSET = undefined as unknown as string;

interface RunAnswer {
  run: { info: { run_id: string; experiment_id: string; user_id: string; status: string }; data: { params?: { key: string; value: string }[] } };
}

test('[C22] a .env file with the tracking URI, username and token, read by load_dotenv(), is enough to log a run', async ({ target, python, tokenOf, basicAs, request }, testInfo) => {
  const user = persona(target, 'user1');
  // The seed's layout: a project folder holding the script and its .env (load_dotenv() searches from the
  // script's own folder upwards, not from the working directory).
  const project = testInfo.outputDir;
  mkdirSync(project, { recursive: true });
  copyFileSync(join(projectRoot, 'fixtures', 'python', 'dotenv_run.py'), join(project, 'dotenv_run.py'));
  const dotenv = join(project, '.env');
  writeFileSync(dotenv, [`MLFLOW_TRACKING_URI=${target.mlflowUrl}`, `MLFLOW_TRACKING_USERNAME=${user.email}`, `MLFLOW_TRACKING_PASSWORD=${tokenOf('user1')}`, ''].join('\n'), { mode: 0o600 });

  const experiment = unique('dotenv');
  const script = relative(join(projectRoot, 'fixtures', 'python'), join(project, 'dotenv_run.py'));
  // Nothing MLflow-related in the environment: only the CA bundle (set by the fixture) and the .env file.
  const out = await python(script, { MLFLOW_TRACKING_URI: UNSET }, [experiment]).finally(() => rmSync(dotenv, { force: true }));
  expect(out.exitCode, out.stderr).toBe(0);
  const json = out.json as { mlflow_env_before: string[]; mlflow_env_after: string[]; tracking_uri: string; run_id: string; experiment_id: string };
  // nothing about the server or the credentials came from the process environment
  expect(json.mlflow_env_before.filter((k) => k.startsWith('MLFLOW_TRACKING_'))).toEqual([]);
  // (set_experiment adds MLFLOW_EXPERIMENT_ID itself.)
  expect(json.mlflow_env_after).toEqual(expect.arrayContaining(['MLFLOW_TRACKING_PASSWORD', 'MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_USERNAME']));
  expect(json.tracking_uri).toBe(target.mlflowUrl);

  // The run exists on the server, under the experiment the script named, with param1=5, logged as user1.
  const got = (await expectJson(await request.get(`${target.mlflowUrl}/api/2.0/mlflow/runs/get?run_id=${json.run_id}`, { headers: basicAs('user1') }))) as unknown as RunAnswer;
  expect(got.run.info).toMatchObject({ run_id: json.run_id, experiment_id: json.experiment_id, user_id: user.email, status: 'FINISHED' });
  expect(got.run.data.params).toEqual([{ key: 'param1', value: '5' }]);
  const exp = (await expectJson(await request.get(`${target.mlflowUrl}/api/2.0/mlflow/experiments/get?experiment_id=${json.experiment_id}`, { headers: basicAs('user1') }))) as { experiment: { name: string } };
  expect(exp.experiment.name).toBe(experiment);
});
