import type { APIRequestContext, APIResponse } from '@playwright/test';
import { test, expect } from '../support/fixtures.ts';
import { expectJson } from '../support/mlflow-api.ts';
import { loadTarget, persona } from '../support/target.ts';
import { API, grant, Workspace } from '../support/permissions.ts';
import { loadLeaks, routeVerdict, type RouteOutcome } from '../../conformance/permissions.ts';

// The bypass audit: a user with NO_PERMISSIONS on another user's experiment, model and prompt (explicit user
// grants: for that user the same as DEFAULT_MLFLOW_PERMISSION=NO_PERMISSIONS, inside the normal run) tries every
// route MLflow offers to read or change them. Each route is `denied`, `filtered` (answered without the data) or
// `leaked` (the data was seen or the change was made); a leak passes only when declared in leaks.yaml. The user
// calls through its OIDC session (as the UI does; the plugin resolves the same user and permissions as for its
// access token, without hashing a token on every request). The owner is persona user1; the restricted user is a
// Keycloak user of the check's own, or persona user2 on a target that gives no Keycloak access (remote); the admin
// persona gives the NO_PERMISSIONS grants through MLflow's permission API (taken back from user2 at the end).

const target = loadTarget();
const leaks = loadLeaks();
const enc = encodeURIComponent;

interface Probe {
  route: string;
  call: (rq: APIRequestContext, h: Record<string, string>) => Promise<APIResponse>;
  /** Reads: what must not be seen. Writes: absent (a 2xx answer is the leak). */
  markers?: Record<string, string>;
}

/** Classifies one answer: refused (401/403, or an error without data) · answered without the data · data seen / change made. */
async function classify(p: Probe, res: APIResponse): Promise<{ outcome: RouteOutcome; evidence: string }> {
  const status = res.status();
  const body = await res.text();
  const ok = status >= 200 && status < 300;
  if (!p.markers) {
    return ok ? { outcome: 'leaked', evidence: `HTTP ${status}: the change was accepted` } : { outcome: 'denied', evidence: `HTTP ${status} ${body.slice(0, 80).replace(/\s+/g, ' ')}` };
  }
  if (!ok) return { outcome: 'denied', evidence: `HTTP ${status} ${body.slice(0, 80).replace(/\s+/g, ' ')}` };
  const seen = Object.entries(p.markers).filter(([, v]) => body.includes(v)).map(([k]) => k);
  return seen.length ? { outcome: 'leaked', evidence: `HTTP ${status}: response contains ${seen.join(', ')}` } : { outcome: 'filtered', evidence: `HTTP ${status}: none of ${Object.keys(p.markers).join(', ')} in the answer (${body.length} bytes)` };
}

async function audit(probes: Probe[], request: APIRequestContext, headers: Record<string, string>): Promise<void> {
  for (const p of probes) {
    let outcome: RouteOutcome;
    let evidence: string;
    try {
      ({ outcome, evidence } = await classify(p, await p.call(request, headers)));
    } catch (e) {
      // a route that cannot be reached at all gave nothing away; the run goes on
      outcome = 'denied';
      evidence = `request failed: ${String(e).split('\n')[0]!.slice(0, 120)}`;
    }
    const { verdict, message } = routeVerdict(p.route, outcome, leaks, target.pins.mlflowOidcAuth);
    test.info().annotations.push({ type: 'permission-route', description: JSON.stringify({ route: p.route, outcome, evidence, verdict }) });
    if (outcome === 'leaked') test.info().annotations.push({ type: 'observation', description: `leak (${verdict}): ${p.route} — ${evidence}` });
    expect.soft(verdict, message ?? p.route).not.toBe('failed');
  }
}

test.describe('bypass audit', () => {
  test('[C16] bypass audit: experiment, runs, logged models, artifacts, metrics, GraphQL and traces of an experiment the user has NO_PERMISSIONS on', async ({ sessionHeadersAs, sessionAs, python, tokenOf }) => {
    test.setTimeout(180_000);
    const ws = new Workspace(target, 'bp', { sessionAs, sessionHeadersAs, tokenOf });
    const ownerCtx = await sessionAs('user1');
    const adminCtx = await sessionAs('admin');
    const u = (p: string) => `${target.mlflowUrl}${p}`;
    try {
      // the owner's experiment with a trace (real client), a run with a metric, a logged model and artifacts
      const name = `${ws.prefix}-exp`;
      const traced = await python('llm_trace.py', { MLFLOW_TRACKING_USERNAME: persona(target, 'user1').email, MLFLOW_TRACKING_PASSWORD: tokenOf('user1') }, [name]);
      expect(traced.exitCode, traced.stderr.slice(-400)).toBe(0);
      const { trace_id: traceId, experiment_id: exp } = traced.json as { trace_id: string; experiment_id: string };
      const run = ((await expectJson(await ownerCtx.post(u(`${API}/runs/create`), { data: { experiment_id: exp, start_time: Date.now() }, headers: {} }))).run as { info: { run_id: string } }).info.run_id;
      await expectJson(await ownerCtx.post(u(`${API}/runs/log-metric`), { data: { run_id: run, key: 'secret_metric', value: 0.4242, timestamp: Date.now(), step: 0 }, headers: {} }));
      const lm = ((await expectJson(await ownerCtx.post(u(`${API}/logged-models`), { data: { experiment_id: exp, name: `${ws.prefix}-lm` }, headers: {} }))).model as { info: { model_id: string } }).info.model_id;
      const content = `secret artifact of ${ws.prefix}`;
      const art = (file: string, ajax = false) => u(`/${ajax ? 'ajax-api' : 'api'}/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/${file}`);
      for (const f of ['probe.txt', 'victim.txt', 'victim-ajax.txt']) {
        expect((await ownerCtx.put(art(f), { data: content, headers: { 'Content-Type': 'text/plain' } })).status()).toBe(200);
      }
      const actor = await ws.actor(['mlflow-users'], 'u', { token: false });
      await grant(adminCtx, target, { kind: 'user', subject: actor.email, resource: 'experiments', ref: exp }, 'NO_PERMISSIONS', {});

      const expM = { 'the experiment name': name };
      const runM = { 'the run id': run };
      const gql = (query: string) => (rq: APIRequestContext, h: Record<string, string>) => rq.post(u('/graphql'), { data: { query }, headers: h });
      const probes: Probe[] = [];
      for (const prefix of ['api', 'ajax-api']) {
        const p = (s: string) => u(`/${prefix}/2.0/mlflow${s}`);
        probes.push(
          { route: `GET /${prefix}/2.0/mlflow/experiments/get`, call: (rq, h) => rq.get(p(`/experiments/get?experiment_id=${exp}`), { headers: h }), markers: expM },
          { route: `GET /${prefix}/2.0/mlflow/experiments/get-by-name`, call: (rq, h) => rq.get(p(`/experiments/get-by-name?experiment_name=${enc(name)}`), { headers: h }), markers: { 'the experiment id': `"${exp}"` } },
          { route: `POST /${prefix}/2.0/mlflow/experiments/search`, call: (rq, h) => rq.post(p('/experiments/search'), { data: { filter: `name = '${name}'`, max_results: 10 }, headers: h }), markers: expM },
          { route: `GET /${prefix}/2.0/mlflow/runs/get`, call: (rq, h) => rq.get(p(`/runs/get?run_id=${run}`), { headers: h }), markers: { ...runM, 'the metric': 'secret_metric' } },
          { route: `POST /${prefix}/2.0/mlflow/runs/search`, call: (rq, h) => rq.post(p('/runs/search'), { data: { experiment_ids: [exp], max_results: 10 }, headers: h }), markers: runM },
          { route: `GET /${prefix}/2.0/mlflow/metrics/get-history`, call: (rq, h) => rq.get(p(`/metrics/get-history?run_id=${run}&metric_key=secret_metric`), { headers: h }), markers: { 'the metric value': '0.4242' } },
          { route: `GET /${prefix}/2.0/mlflow/artifacts/list`, call: (rq, h) => rq.get(p(`/artifacts/list?run_id=${run}`), { headers: h }), markers: { 'the artifact name': 'probe.txt' } },
          { route: `POST /${prefix}/2.0/mlflow/logged-models/search`, call: (rq, h) => rq.post(p('/logged-models/search'), { data: { experiment_ids: [exp] }, headers: h }), markers: { 'the logged model id': lm } },
          { route: `GET /${prefix}/2.0/mlflow/logged-models/<id>`, call: (rq, h) => rq.get(p(`/logged-models/${lm}`), { headers: h }), markers: { 'the logged model id': lm } },
          { route: `GET /${prefix}/2.0/mlflow-artifacts/artifacts/<path> (get)`, call: (rq, h) => rq.get(art('probe.txt', prefix === 'ajax-api'), { headers: h }), markers: { 'the artifact content': content } },
          { route: `GET /${prefix}/2.0/mlflow-artifacts/artifacts?path= (list)`, call: (rq, h) => rq.get(u(`/${prefix}/2.0/mlflow-artifacts/artifacts?path=${enc(`${exp}/${run}/artifacts`)}`), { headers: h }), markers: { 'the artifact name': 'probe.txt' } },
          { route: `PUT /${prefix}/2.0/mlflow-artifacts/artifacts/<path>`, call: (rq, h) => rq.put(art(`intruder-${prefix}.txt`, prefix === 'ajax-api'), { data: 'intruder', headers: { ...h, 'Content-Type': 'text/plain' } }) },
          { route: `DELETE /${prefix}/2.0/mlflow-artifacts/artifacts/<path>`, call: (rq, h) => rq.delete(art(prefix === 'api' ? 'victim.txt' : 'victim-ajax.txt', prefix === 'ajax-api'), { headers: h }) },
          { route: `POST /${prefix}/2.0/mlflow/experiments/set-experiment-tag`, call: (rq, h) => rq.post(p('/experiments/set-experiment-tag'), { data: { experiment_id: exp, key: 'intruder', value: 'yes' }, headers: h }) },
          { route: `POST /${prefix}/2.0/mlflow/runs/log-metric`, call: (rq, h) => rq.post(p('/runs/log-metric'), { data: { run_id: run, key: 'intruder', value: 1, timestamp: Date.now(), step: 0 }, headers: h }) },
          { route: `POST /${prefix}/2.0/mlflow/runs/create`, call: (rq, h) => rq.post(p('/runs/create'), { data: { experiment_id: exp, start_time: Date.now() }, headers: h }) },
        );
      }
      probes.push(
        { route: 'GET /ajax-api/2.0/mlflow/metrics/get-history-bulk', call: (rq, h) => rq.get(u(`/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id=${run}&metric_key=secret_metric`), { headers: h }), markers: { 'the metric value': '0.4242' } },
        { route: 'GET /ajax-api/2.0/mlflow/metrics/get-history-bulk-interval', call: (rq, h) => rq.get(u(`/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=${run}&metric_key=secret_metric&max_results=10`), { headers: h }), markers: { 'the metric value': '0.4242' } },
        { route: 'GET /get-artifact', call: (rq, h) => rq.get(u(`/get-artifact?path=probe.txt&run_uuid=${run}`), { headers: h }), markers: { 'the artifact content': content } },
        { route: 'POST /graphql mlflowGetExperiment', call: gql(`{ mlflowGetExperiment(input: {experimentId: "${exp}"}) { experiment { name } } }`), markers: expM },
        { route: 'POST /graphql mlflowGetRun', call: gql(`{ mlflowGetRun(input: {runId: "${run}"}) { run { info { runName experimentId } data { metrics { key value } } } } }`), markers: { 'the metric value': '0.4242' } },
        { route: 'POST /graphql mlflowSearchRuns', call: gql(`{ mlflowSearchRuns(input: {experimentIds: ["${exp}"]}) { runs { info { runId } } } }`), markers: runM },
        { route: 'POST /graphql mlflowListArtifacts', call: gql(`{ mlflowListArtifacts(input: {runId: "${run}"}) { files { path } } }`), markers: { 'the artifact name': 'probe.txt' } },
        { route: 'GET /api/3.0/mlflow/traces/<id>', call: (rq, h) => rq.get(u(`/api/3.0/mlflow/traces/${traceId}`), { headers: h }), markers: { 'the trace question': 'What does MLflow track' } },
        { route: 'GET /api/2.0/mlflow/traces (search)', call: (rq, h) => rq.get(u(`/api/2.0/mlflow/traces?experiment_ids=${exp}`), { headers: h }), markers: { 'the trace id': traceId } },
        { route: 'POST /api/3.0/mlflow/traces/search', call: (rq, h) => rq.post(u('/api/3.0/mlflow/traces/search'), { data: { locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } }], max_results: 10 }, headers: h }), markers: { 'the trace id': traceId } },
        { route: 'GET /ajax-api/2.0/mlflow/get-trace-artifact', call: (rq, h) => rq.get(u(`/ajax-api/2.0/mlflow/get-trace-artifact?request_id=${traceId}`), { headers: h }), markers: { 'the trace question': 'What does MLflow track' } },
        { route: 'POST /api/3.0/mlflow/traces/<id>/assessments', call: (rq, h) => rq.post(u(`/api/3.0/mlflow/traces/${traceId}/assessments`), { data: { assessment: { trace_id: traceId, assessment_name: 'intruder', source: { source_type: 'HUMAN', source_id: 'intruder' }, feedback: { value: true } } }, headers: h }) },
        { route: 'PATCH /api/3.0/mlflow/traces/<id>/tags', call: (rq, h) => rq.patch(u(`/api/3.0/mlflow/traces/${traceId}/tags`), { data: { key: 'intruder', value: 'yes' }, headers: h }) },
      );
      await audit(probes, actor.session, {});
      // the owner still sees the experiment (the audit changed nothing it was refused)
      await expectJson(await ownerCtx.get(u(`${API}/experiments/get?experiment_id=${exp}`), { headers: {} }));
    } finally {
      await ws.cleanup();
    }
  });

  test('[C16] bypass audit: registered model, versions, aliases and a prompt the user has NO_PERMISSIONS on', async ({ sessionHeadersAs, sessionAs, tokenOf }) => {
    const ws = new Workspace(target, 'bp', { sessionAs, sessionHeadersAs, tokenOf });
    const ownerCtx = await sessionAs('user1');
    const adminCtx = await sessionAs('admin');
    const u = (p: string) => `${target.mlflowUrl}${p}`;
    try {
      const exp = String((await expectJson(await ownerCtx.post(u(`${API}/experiments/create`), { data: { name: `${ws.prefix}-src` }, headers: {} }))).experiment_id);
      const run = ((await expectJson(await ownerCtx.post(u(`${API}/runs/create`), { data: { experiment_id: exp }, headers: {} }))).run as { info: { run_id: string } }).info.run_id;
      const content = `secret model file of ${ws.prefix}`;
      expect((await ownerCtx.put(u(`/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/model/MLmodel`), { data: content, headers: { 'Content-Type': 'text/plain' } })).status()).toBe(200);
      const model = `${ws.prefix}-model`;
      await expectJson(await ownerCtx.post(u(`${API}/registered-models/create`), { data: { name: model, description: 'secret description' }, headers: {} }));
      await expectJson(await ownerCtx.post(u(`${API}/model-versions/create`), { data: { name: model, source: `mlflow-artifacts:/${exp}/${run}/artifacts/model`, run_id: run }, headers: {} }));
      await expectJson(await ownerCtx.post(u(`${API}/registered-models/alias`), { data: { name: model, alias: 'champion', version: '1' }, headers: {} }));
      const prompt = `${ws.prefix}-prompt`;
      const template = `Secret template of ${ws.prefix} {{x}}`;
      await expectJson(await ownerCtx.post(u(`${API}/registered-models/create`), { data: { name: prompt, tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] }, headers: {} }));
      await expectJson(await ownerCtx.post(u(`${API}/model-versions/create`), { data: { name: prompt, source: 'dummy-source', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }, { key: 'mlflow.prompt.text', value: template }] }, headers: {} }));

      const actor = await ws.actor(['mlflow-users'], 'u', { token: false });
      await grant(adminCtx, target, { kind: 'user', subject: actor.email, resource: 'experiments', ref: exp }, 'NO_PERMISSIONS', {});
      await grant(adminCtx, target, { kind: 'user', subject: actor.email, resource: 'registered-models', ref: model }, 'NO_PERMISSIONS', {});
      await grant(adminCtx, target, { kind: 'user', subject: actor.email, resource: 'prompts', ref: prompt }, 'NO_PERMISSIONS', {});

      const modelM = { 'the model description': 'secret description' };
      const probes: Probe[] = [];
      for (const prefix of ['api', 'ajax-api']) {
        const p = (s: string) => u(`/${prefix}/2.0/mlflow${s}`);
        probes.push(
          { route: `GET /${prefix}/2.0/mlflow/registered-models/get`, call: (rq, h) => rq.get(p(`/registered-models/get?name=${enc(model)}`), { headers: h }), markers: modelM },
          { route: `GET /${prefix}/2.0/mlflow/registered-models/search`, call: (rq, h) => rq.get(p(`/registered-models/search?filter=${enc(`name = '${model}'`)}`), { headers: h }), markers: { 'the model name': model } },
          { route: `GET /${prefix}/2.0/mlflow/model-versions/search`, call: (rq, h) => rq.get(p(`/model-versions/search?filter=${enc(`name = '${model}'`)}`), { headers: h }), markers: { 'the version source': `${exp}/${run}` } },
          { route: `GET /${prefix}/2.0/mlflow/model-versions/get`, call: (rq, h) => rq.get(p(`/model-versions/get?name=${enc(model)}&version=1`), { headers: h }), markers: { 'the version source': `${exp}/${run}` } },
          { route: `GET /${prefix}/2.0/mlflow/model-versions/get-download-uri`, call: (rq, h) => rq.get(p(`/model-versions/get-download-uri?name=${enc(model)}&version=1`), { headers: h }), markers: { 'the version source': `${exp}/${run}` } },
          { route: `GET /${prefix}/2.0/mlflow/registered-models/alias`, call: (rq, h) => rq.get(p(`/registered-models/alias?name=${enc(model)}&alias=champion`), { headers: h }), markers: { 'the version source': `${exp}/${run}` } },
          { route: `POST /${prefix}/2.0/mlflow/registered-models/get-latest-versions`, call: (rq, h) => rq.post(p('/registered-models/get-latest-versions'), { data: { name: model }, headers: h }), markers: { 'the version source': `${exp}/${run}` } },
          { route: `POST /${prefix}/2.0/mlflow/registered-models/set-tag`, call: (rq, h) => rq.post(p('/registered-models/set-tag'), { data: { name: model, key: 'intruder', value: 'yes' }, headers: h }) },
          { route: `POST /${prefix}/2.0/mlflow/registered-models/alias (set)`, call: (rq, h) => rq.post(p('/registered-models/alias'), { data: { name: model, alias: `intruder-${prefix.replace('-', '')}`, version: '1' }, headers: h }) },
          { route: `GET /${prefix}/2.0/mlflow/registered-models/get (prompt)`, call: (rq, h) => rq.get(p(`/registered-models/get?name=${enc(prompt)}`), { headers: h }), markers: { 'the prompt name': `"${prompt}"` } },
          { route: `GET /${prefix}/2.0/mlflow/model-versions/get (prompt template)`, call: (rq, h) => rq.get(p(`/model-versions/get?name=${enc(prompt)}&version=1`), { headers: h }), markers: { 'the prompt template': template } },
          { route: `GET /${prefix}/2.0/mlflow/model-versions/search (prompt)`, call: (rq, h) => rq.get(p(`/model-versions/search?filter=${enc(`name = '${prompt}'`)}`), { headers: h }), markers: { 'the prompt template': template } },
          { route: `POST /${prefix}/2.0/mlflow/model-versions/create (new prompt version)`, call: (rq, h) => rq.post(p('/model-versions/create'), { data: { name: prompt, source: 'dummy-source', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }, { key: 'mlflow.prompt.text', value: 'intruder {{x}}' }] }, headers: h }) },
        );
      }
      probes.push(
        { route: 'GET /model-versions/get-artifact', call: (rq, h) => rq.get(u(`/model-versions/get-artifact?name=${enc(model)}&version=1&path=MLmodel`), { headers: h }), markers: { 'the model file': content } },
        { route: 'POST /graphql mlflowSearchModelVersions', call: (rq, h) => rq.post(u('/graphql'), { data: { query: `{ mlflowSearchModelVersions(input: {filter: "name = '${model}'"}) { modelVersions { name source } } }` }, headers: h }), markers: { 'the version source': `${exp}/${run}` } },
      );
      await audit(probes, actor.session, {});
    } finally {
      await ws.cleanup();
    }
  });
});
