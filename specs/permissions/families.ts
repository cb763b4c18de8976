import { expect, type APIRequestContext, type APIResponse } from '@playwright/test';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { expectJson } from '../support/mlflow-api.ts';
import { API, type GrantResource } from '../support/permissions.ts';

/**
 * The resource families of the matrix: what the owner sets up, which object a grant names, and the REST call
 * of each operation (in the order they run: reads, updates, manage, then deletes, children before parents).
 */

export interface Refs {
  /** The name a regex grant matches and the object a direct grant names. */
  name: string;
  grantResource: GrantResource;
  grantRef: string;
  [k: string]: string;
}

type Op = (request: APIRequestContext, refs: Refs, headers: Record<string, string>) => Promise<APIResponse>;

export interface Family {
  setup(request: APIRequestContext, target: TargetDescriptor, prefix: string, owner: Record<string, string>): Promise<Refs>;
  /** `resource/operation` → the call, in execution order. */
  operations: [string, Op][];
}

const enc = encodeURIComponent;

export function families(target: TargetDescriptor): Record<string, Family> {
  const u = (p: string) => `${target.mlflowUrl}${p}`;
  const artifact = (r: Refs, file: string) => u(`/api/2.0/mlflow-artifacts/artifacts/${r.experimentId}/${r.runId}/artifacts/${file}`);
  return {
    experiment: {
      async setup(request, _t, prefix, owner) {
        const name = `${prefix}-exp`;
        const experimentId = String((await expectJson(await request.post(u(`${API}/experiments/create`), { data: { name }, headers: owner }))).experiment_id);
        const run = (await expectJson(await request.post(u(`${API}/runs/create`), { data: { experiment_id: experimentId, start_time: Date.now() }, headers: owner }))).run as { info: { run_id: string } };
        const runId = run.info.run_id;
        await expectJson(await request.post(u(`${API}/runs/log-metric`), { data: { run_id: runId, key: 'secret_metric', value: 0.42, timestamp: Date.now(), step: 0 }, headers: owner }));
        const lm = (await expectJson(await request.post(u(`${API}/logged-models`), { data: { experiment_id: experimentId, name: `${prefix}-lm` }, headers: owner }))).model as { info: { model_id: string } };
        const put = await request.put(artifact({ experimentId, runId } as unknown as Refs, 'probe.txt'), { data: `artifact of ${prefix}`, headers: { ...owner, 'Content-Type': 'text/plain' } });
        expect(put.status(), 'owner uploads the artifact').toBe(200);
        return { name, grantResource: 'experiments', grantRef: experimentId, experimentId, runId, loggedModelId: lm.info.model_id };
      },
      operations: [
        ['experiment/read', (rq, r, h) => rq.get(u(`${API}/experiments/get?experiment_id=${r.experimentId}`), { headers: h })],
        ['run/read', (rq, r, h) => rq.get(u(`${API}/runs/get?run_id=${r.runId}`), { headers: h })],
        ['logged-model/read', (rq, r, h) => rq.get(u(`${API}/logged-models/${r.loggedModelId}`), { headers: h })],
        ['artifact/read', (rq, r, h) => rq.get(artifact(r, 'probe.txt'), { headers: h })],
        ['experiment/update', (rq, r, h) => rq.post(u(`${API}/experiments/set-experiment-tag`), { data: { experiment_id: r.experimentId, key: 'touched', value: 'yes' }, headers: h })],
        ['run/update', (rq, r, h) => rq.post(u(`${API}/runs/log-metric`), { data: { run_id: r.runId, key: 'touched', value: 1, timestamp: Date.now(), step: 1 }, headers: h })],
        ['logged-model/update', (rq, r, h) => rq.patch(u(`${API}/logged-models/${r.loggedModelId}/tags`), { data: { tags: [{ key: 'touched', value: 'yes' }] }, headers: h })],
        ['artifact/update', (rq, r, h) => rq.put(artifact(r, 'touched.txt'), { data: 'touched', headers: { ...h, 'Content-Type': 'text/plain' } })],
        ['experiment/manage', (rq, r, h) => rq.get(u(`${API}/permissions/experiments/${r.experimentId}/users`), { headers: h })],
        ['artifact/delete', (rq, r, h) => rq.delete(artifact(r, 'probe.txt'), { headers: h })],
        ['logged-model/delete', (rq, r, h) => rq.delete(u(`${API}/logged-models/${r.loggedModelId}`), { headers: h })],
        ['run/delete', (rq, r, h) => rq.post(u(`${API}/runs/delete`), { data: { run_id: r.runId }, headers: h })],
        ['experiment/delete', (rq, r, h) => rq.post(u(`${API}/experiments/delete`), { data: { experiment_id: r.experimentId }, headers: h })],
      ],
    },
    model: {
      async setup(request, _t, prefix, owner) {
        const name = `${prefix}-model`;
        // the version's source is a run of the owner's: 8.x+ refuses a version whose source the creator may not read
        // (an s3:// location outside a run or logged model named in the request is refused outright)
        const experimentId = String((await expectJson(await request.post(u(`${API}/experiments/create`), { data: { name: `${prefix}-src` }, headers: owner }))).experiment_id);
        const runId = ((await expectJson(await request.post(u(`${API}/runs/create`), { data: { experiment_id: experimentId, start_time: Date.now() }, headers: owner }))).run as { info: { run_id: string } }).info.run_id;
        await expectJson(await request.post(u(`${API}/registered-models/create`), { data: { name }, headers: owner }));
        const mv = (await expectJson(await request.post(u(`${API}/model-versions/create`), { data: { name, source: `runs:/${runId}/model`, run_id: runId }, headers: owner }))).model_version as { version: string };
        await expectJson(await request.post(u(`${API}/registered-models/alias`), { data: { name, alias: 'champion', version: mv.version }, headers: owner }));
        return { name, grantResource: 'registered-models', grantRef: name, version: mv.version };
      },
      operations: [
        ['registered-model/read', (rq, r, h) => rq.get(u(`${API}/registered-models/get?name=${enc(r.name)}`), { headers: h })],
        ['model-version/read', (rq, r, h) => rq.get(u(`${API}/model-versions/get?name=${enc(r.name)}&version=${r.version}`), { headers: h })],
        ['alias/read', (rq, r, h) => rq.get(u(`${API}/registered-models/alias?name=${enc(r.name)}&alias=champion`), { headers: h })],
        ['registered-model/update', (rq, r, h) => rq.post(u(`${API}/registered-models/set-tag`), { data: { name: r.name, key: 'touched', value: 'yes' }, headers: h })],
        ['model-version/update', (rq, r, h) => rq.patch(u(`${API}/model-versions/update`), { data: { name: r.name, version: r.version, description: 'touched' }, headers: h })],
        ['alias/update', (rq, r, h) => rq.post(u(`${API}/registered-models/alias`), { data: { name: r.name, alias: 'challenger', version: r.version }, headers: h })],
        ['registered-model/manage', (rq, r, h) => rq.get(u(`${API}/permissions/registered-models/${enc(r.name)}/users`), { headers: h })],
        ['alias/delete', (rq, r, h) => rq.delete(u(`${API}/registered-models/alias`), { data: { name: r.name, alias: 'champion' }, headers: h })],
        ['model-version/delete', (rq, r, h) => rq.delete(u(`${API}/model-versions/delete`), { data: { name: r.name, version: r.version }, headers: h })],
        ['registered-model/delete', (rq, r, h) => rq.delete(u(`${API}/registered-models/delete`), { data: { name: r.name }, headers: h })],
      ],
    },
    prompt: {
      async setup(request, _t, prefix, owner) {
        const name = `${prefix}-prompt`;
        await expectJson(await request.post(u(`${API}/registered-models/create`), { data: { name, tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] }, headers: owner }));
        await expectJson(await request.post(u(`${API}/model-versions/create`), {
          data: { name, source: 'dummy-source', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }, { key: 'mlflow.prompt.text', value: 'Summarise {{text}}' }] }, headers: owner,
        }));
        return { name, grantResource: 'prompts', grantRef: name };
      },
      operations: [
        ['prompt/read', (rq, r, h) => rq.get(u(`${API}/registered-models/get?name=${enc(r.name)}`), { headers: h })],
        ['prompt/update', (rq, r, h) => rq.post(u(`${API}/registered-models/set-tag`), { data: { name: r.name, key: 'touched', value: 'yes' }, headers: h })],
        ['prompt/manage', (rq, r, h) => rq.get(u(`${API}/permissions/prompts/${enc(r.name)}/users`), { headers: h })],
        ['prompt/delete', (rq, r, h) => rq.delete(u(`${API}/registered-models/delete`), { data: { name: r.name }, headers: h })],
      ],
    },
  };
}
