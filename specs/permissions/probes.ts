import type { ProbeRequest } from '../../conformance/security/shapes.ts';
import { inPep440Range } from '../../conformance/security/ranges.ts';

/**
 * The bypass audit's probes as data: for each route MLflow offers to read or change another user's experiment,
 * model or prompt, the request a user with NO_PERMISSIONS sends (ids of the victim's resource, and for each id
 * field the attacker's own id, which the request-shape variants mix in), what must not be seen (reads) or where
 * the owner reads the change afterwards (writes). The same probe runs as the owner first (its positive control).
 */

/** The owner's resources (the victim's) and the attacker's own, of one family. */
export interface ExperimentRefs {
  exp: string;
  expName: string;
  run: string;
  lm: string;
  traceId: string;
  content: string;
  own: { exp: string; expName: string; run: string; lm: string };
}

export interface ModelRefs {
  exp: string;
  run: string;
  model: string;
  prompt: string;
  template: string;
  content: string;
  own: { model: string; prompt: string };
}

/** Where the owner reads a write's effect: one read serves every write probe of the same state. */
export type StateKey = 'experiment' | 'run' | 'runs' | 'artifacts' | 'logged-model' | 'trace' | 'model' | 'model-version' | 'prompt-versions';

export interface Probe<R> {
  /** The route as the reports name it (unchanged across releases: leaks.yaml declares by it). */
  route: string;
  /** The MLflow versions whose server serves the route for its owner (PEP 440; absent: every version). */
  mlflow?: string;
  /** The request; `marker` is unique per sender and shape (writes put it where the owner reads it back). */
  build(r: R, marker: string): ProbeRequest;
  /** Reads: what must not be seen, by name. */
  markers?(r: R): Record<string, string>;
  /** Writes: where the owner reads the change; `removes`: the change is the marker's disappearance. */
  write?: {
    state: StateKey;
    removes?: boolean;
    prepare?: (owner: Sender, r: R, marker: string) => Promise<void>;
    /** The change overwrites one value (a name, a description): each request is sent alone and read back at once. */
    sequential?: boolean;
  };
}

/** Sends one request as the owner (setup of a write probe). */
export type Sender = (req: ProbeRequest) => Promise<unknown>;

const API = (prefix: string) => `/${prefix}/2.0/mlflow`;
const artifactPath = (exp: string, run: string, file: string) => `${exp}/${run}/artifacts/${file}`;
const trace3 = (id: string) => `/api/3.0/mlflow/traces/${id}`;
/** MLflow 3 leaves prompts out of a version search unless the filter names their tag. */
const promptFilter = (name: string) => `name = '${name}' AND tags.\`mlflow.prompt.is_prompt\` = 'true'`;

/** The probes whose route the MLflow version serves. */
export const forMlflow = <R>(probes: Probe<R>[], mlflow: string) => probes.filter((p) => !p.mlflow || inPep440Range(mlflow, p.mlflow));

/** Probes on an experiment, its runs, logged models, artifacts, metrics, GraphQL and traces. */
export function experimentProbes(): Probe<ExperimentRefs>[] {
  const out: Probe<ExperimentRefs>[] = [];
  for (const prefix of ['api', 'ajax-api']) {
    const p = API(prefix);
    const art = (r: ExperimentRefs, file: string) => `/${prefix}/2.0/mlflow-artifacts/artifacts/${artifactPath(r.exp, r.run, file)}`;
    out.push(
      { route: `GET ${p}/experiments/get`, build: (r) => ({ method: 'GET', path: `${p}/experiments/get`, query: { experiment_id: r.exp }, swap: { experiment_id: r.own.exp } }), markers: (r) => ({ 'the experiment name': r.expName }) },
      { route: `GET ${p}/experiments/get-by-name`, build: (r) => ({ method: 'GET', path: `${p}/experiments/get-by-name`, query: { experiment_name: r.expName }, swap: { experiment_name: r.own.expName } }), markers: (r) => ({ 'the experiment id': `"${r.exp}"` }) },
      { route: `POST ${p}/experiments/search`, build: (r) => ({ method: 'POST', path: `${p}/experiments/search`, json: { filter: `name = '${r.expName}'`, max_results: 10 } }), markers: (r) => ({ 'the experiment name': r.expName }) },
      { route: `GET ${p}/runs/get`, build: (r) => ({ method: 'GET', path: `${p}/runs/get`, query: { run_id: r.run }, swap: { run_id: r.own.run } }), markers: (r) => ({ 'the run id': r.run, 'the metric': 'secret_metric' }) },
      { route: `POST ${p}/runs/search`, build: (r) => ({ method: 'POST', path: `${p}/runs/search`, json: { experiment_ids: [r.exp], max_results: 10 }, swap: { experiment_ids: [r.own.exp] as unknown as string } }), markers: (r) => ({ 'the run id': r.run }) },
      { route: `GET ${p}/metrics/get-history`, build: (r) => ({ method: 'GET', path: `${p}/metrics/get-history`, query: { run_id: r.run, metric_key: 'secret_metric', max_results: '10' }, swap: { run_id: r.own.run } }), markers: () => ({ 'the metric value': '0.4242' }) },
      { route: `GET ${p}/artifacts/list`, build: (r) => ({ method: 'GET', path: `${p}/artifacts/list`, query: { run_id: r.run }, swap: { run_id: r.own.run } }), markers: () => ({ 'the artifact name': 'probe.txt' }) },
      { route: `POST ${p}/logged-models/search`, build: (r) => ({ method: 'POST', path: `${p}/logged-models/search`, json: { experiment_ids: [r.exp] }, swap: { experiment_ids: [r.own.exp] as unknown as string } }), markers: (r) => ({ 'the logged model id': r.lm }) },
      { route: `GET ${p}/logged-models/<id>`, build: (r) => ({ method: 'GET', path: `${p}/logged-models/${r.lm}` }), markers: (r) => ({ 'the logged model id': r.lm }) },
      { route: `GET /${prefix}/2.0/mlflow-artifacts/artifacts/<path> (get)`, build: (r) => ({ method: 'GET', path: art(r, 'probe.txt') }), markers: (r) => ({ 'the artifact content': r.content }) },
      {
        route: `GET /${prefix}/2.0/mlflow-artifacts/artifacts?path= (list)`,
        build: (r) => ({ method: 'GET', path: `/${prefix}/2.0/mlflow-artifacts/artifacts`, query: { path: `${r.exp}/${r.run}/artifacts` }, swap: { path: `${r.own.exp}/${r.own.run}/artifacts` } }),
        markers: () => ({ 'the artifact name': 'probe.txt' }),
      },
      { route: `PUT /${prefix}/2.0/mlflow-artifacts/artifacts/<path>`, build: (r, m) => ({ method: 'PUT', path: art(r, `intruder-${m}.txt`), text: 'intruder' }), write: { state: 'artifacts' } },
      {
        route: `DELETE /${prefix}/2.0/mlflow-artifacts/artifacts/<path>`,
        build: (r, m) => ({ method: 'DELETE', path: art(r, `victim-${m}.txt`) }),
        write: { state: 'artifacts', removes: true, prepare: async (owner, r, m) => void (await owner({ method: 'PUT', path: `/api/2.0/mlflow-artifacts/artifacts/${artifactPath(r.exp, r.run, `victim-${m}.txt`)}`, text: 'victim' })) },
      },
      { route: `POST ${p}/experiments/set-experiment-tag`, build: (r, m) => ({ method: 'POST', path: `${p}/experiments/set-experiment-tag`, json: { experiment_id: r.exp, key: m, value: 'intruder' }, swap: { experiment_id: r.own.exp } }), write: { state: 'experiment' } },
      { route: `POST ${p}/runs/log-metric`, build: (r, m) => ({ method: 'POST', path: `${p}/runs/log-metric`, json: { run_id: r.run, key: m, value: 1, timestamp: Date.now(), step: 0 }, swap: { run_id: r.own.run } }), write: { state: 'run' } },
      { route: `POST ${p}/runs/create`, build: (r, m) => ({ method: 'POST', path: `${p}/runs/create`, json: { experiment_id: r.exp, run_name: m, start_time: Date.now() }, swap: { experiment_id: r.own.exp } }), write: { state: 'runs' } },
    );
  }
  const own = (req: ProbeRequest) => async (owner: Sender) => void (await owner(req));
  out.push(
    { route: 'GET /api/2.0/mlflow/experiments/search', build: (r) => ({ method: 'GET', path: '/api/2.0/mlflow/experiments/search', query: { filter: `name = '${r.expName}'`, max_results: '10' } }), markers: (r) => ({ 'the experiment name': r.expName }) },
    {
      route: 'POST /api/2.0/mlflow/experiments/delete-experiment-tag',
      build: (r, m) => ({ method: 'POST', path: '/api/2.0/mlflow/experiments/delete-experiment-tag', json: { experiment_id: r.exp, key: m }, swap: { experiment_id: r.own.exp } }),
      write: { state: 'experiment', removes: true, prepare: (o, r, m) => own({ method: 'POST', path: '/api/2.0/mlflow/experiments/set-experiment-tag', json: { experiment_id: r.exp, key: m, value: 'victim' } })(o) },
    },
    { route: 'POST /api/2.0/mlflow/runs/log-batch', build: (r, m) => ({ method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', json: { run_id: r.run, metrics: [{ key: m, value: 1, timestamp: Date.now(), step: 0 }] }, swap: { run_id: r.own.run } }), write: { state: 'run' } },
    {
      route: 'POST /api/2.0/mlflow/runs/log-inputs',
      build: (r, m) => ({ method: 'POST', path: '/api/2.0/mlflow/runs/log-inputs', json: { run_id: r.run, datasets: [{ dataset: { name: m, digest: 'd1', source_type: 'code', source: '{}' } }] }, swap: { run_id: r.own.run } }),
      write: { state: 'run' },
    },
    { route: 'POST /api/2.0/mlflow/runs/log-model', build: (r, m) => ({ method: 'POST', path: '/api/2.0/mlflow/runs/log-model', json: { run_id: r.run, model_json: JSON.stringify({ artifact_path: m, run_id: r.run, utc_time_created: '2026-01-01 00:00:00.000000', flavors: { python_function: {} } }) }, swap: { run_id: r.own.run } }), write: { state: 'run' } },
    { route: 'POST /api/2.0/mlflow/runs/update', build: (r, m) => ({ method: 'POST', path: '/api/2.0/mlflow/runs/update', json: { run_id: r.run, run_name: m }, swap: { run_id: r.own.run } }), write: { state: 'run', sequential: true } },
    {
      route: 'POST /api/2.0/mlflow/runs/delete-tag',
      build: (r, m) => ({ method: 'POST', path: '/api/2.0/mlflow/runs/delete-tag', json: { run_id: r.run, key: m }, swap: { run_id: r.own.run } }),
      write: { state: 'run', removes: true, prepare: (o, r, m) => own({ method: 'POST', path: '/api/2.0/mlflow/runs/set-tag', json: { run_id: r.run, key: m, value: 'victim' } })(o) },
    },
    {
      route: 'DELETE /api/2.0/mlflow/logged-models/<id>/tags/<key>',
      build: (r, m) => ({ method: 'DELETE', path: `/api/2.0/mlflow/logged-models/${r.lm}/tags/${m}` }),
      write: { state: 'logged-model', removes: true, prepare: (o, r, m) => own({ method: 'PATCH', path: `/api/2.0/mlflow/logged-models/${r.lm}/tags`, json: { tags: [{ key: m, value: 'victim' }] } })(o) },
    },
    { route: 'POST /api/2.0/mlflow-artifacts/mpu/create/<path>', build: (r, m) => ({ method: 'POST', path: `/api/2.0/mlflow-artifacts/mpu/create/${artifactPath(r.exp, r.run, `mpu-${m}.bin`)}`, json: { path: `mpu-${m}.bin`, num_parts: 1 } }), markers: () => ({ 'a multipart upload id': 'upload_id' }) },
    {
      route: 'GET /api/2.0/mlflow-artifacts/presigned/<path>',
      // a presigned download URL of the artifact (MLflow 3.7+; S3 signs it)
      mlflow: '>3.6.0',
      build: (r) => ({ method: 'GET', path: `/api/2.0/mlflow-artifacts/presigned/${artifactPath(r.exp, r.run, 'probe.txt')}` }),
      markers: () => ({ 'a presigned URL': 'X-Amz-Signature' }),
    },
    { route: 'GET /api/2.0/mlflow/traces/<id>/info', build: (r) => ({ method: 'GET', path: `/api/2.0/mlflow/traces/${r.traceId}/info` }), markers: () => ({ 'the trace question': 'What does MLflow track' }) },
    {
      route: 'DELETE /api/3.0/mlflow/traces/<id>/tags',
      // MLflow 3.6.0's handler fails for everyone (_delete_trace_tag() got an unexpected keyword argument 'trace_id')
      mlflow: '>3.6.0',
      build: (r, m) => ({ method: 'DELETE', path: `${trace3(r.traceId)}/tags`, json: { key: m } }),
      write: { state: 'trace', removes: true, prepare: (o, r, m) => own({ method: 'PATCH', path: `${trace3(r.traceId)}/tags`, json: { key: m, value: 'victim' } })(o) },
    },
  );
  const gql = (route: string, query: (r: ExperimentRefs) => string, markers: (r: ExperimentRefs) => Record<string, string>): Probe<ExperimentRefs> => ({ route, build: (r) => ({ method: 'POST', path: '/graphql', json: { query: query(r) } }), markers });
  out.push(
    { route: 'POST /api/2.0/mlflow/runs/set-tag', build: (r, m) => ({ method: 'POST', path: '/api/2.0/mlflow/runs/set-tag', json: { run_id: r.run, key: m, value: 'intruder' }, swap: { run_id: r.own.run } }), write: { state: 'run' } },
    { route: 'POST /api/2.0/mlflow/runs/log-parameter', build: (r, m) => ({ method: 'POST', path: '/api/2.0/mlflow/runs/log-parameter', json: { run_id: r.run, key: m, value: 'intruder' }, swap: { run_id: r.own.run } }), write: { state: 'run' } },
    { route: 'PATCH /api/2.0/mlflow/logged-models/<id>/tags', build: (r, m) => ({ method: 'PATCH', path: `/api/2.0/mlflow/logged-models/${r.lm}/tags`, json: { tags: [{ key: m, value: 'intruder' }] } }), write: { state: 'logged-model' } },
    { route: 'GET /ajax-api/2.0/mlflow/metrics/get-history-bulk', build: (r) => ({ method: 'GET', path: '/ajax-api/2.0/mlflow/metrics/get-history-bulk', query: { run_id: r.run, metric_key: 'secret_metric' }, swap: { run_id: r.own.run } }), markers: () => ({ 'the metric value': '0.4242' }) },
    {
      route: 'GET /ajax-api/2.0/mlflow/metrics/get-history-bulk-interval',
      build: (r) => ({ method: 'GET', path: '/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval', query: { run_ids: r.run, metric_key: 'secret_metric', max_results: '10' }, swap: { run_ids: r.own.run } }),
      markers: () => ({ 'the metric value': '0.4242' }),
    },
    { route: 'GET /get-artifact', build: (r) => ({ method: 'GET', path: '/get-artifact', query: { path: 'probe.txt', run_uuid: r.run }, swap: { run_uuid: r.own.run } }), markers: (r) => ({ 'the artifact content': r.content }) },
    gql('POST /graphql mlflowGetExperiment', (r) => `{ mlflowGetExperiment(input: {experimentId: "${r.exp}"}) { experiment { name } } }`, (r) => ({ 'the experiment name': r.expName })),
    // MLflow's GraphQL view reads a GET's query from a JSON body (a query-string query answers 500 for everyone)
    { route: 'GET /graphql mlflowGetExperiment', build: (r) => ({ method: 'GET', path: '/graphql', json: { query: `{ mlflowGetExperiment(input: {experimentId: "${r.exp}"}) { experiment { name } } }` } }), markers: (r) => ({ 'the experiment name': r.expName }) },
    gql('POST /graphql mlflowGetRun', (r) => `{ mlflowGetRun(input: {runId: "${r.run}"}) { run { info { runName experimentId } data { metrics { key value } } } } }`, () => ({ 'the metric value': '0.4242' })),
    gql('POST /graphql mlflowSearchRuns', (r) => `{ mlflowSearchRuns(input: {experimentIds: ["${r.exp}"]}) { runs { info { runId } } } }`, (r) => ({ 'the run id': r.run })),
    gql('POST /graphql mlflowListArtifacts', (r) => `{ mlflowListArtifacts(input: {runId: "${r.run}"}) { files { path } } }`, () => ({ 'the artifact name': 'probe.txt' })),
    { route: 'GET /api/3.0/mlflow/traces/<id>', build: (r) => ({ method: 'GET', path: trace3(r.traceId) }), markers: () => ({ 'the trace question': 'What does MLflow track' }) },
    { route: 'GET /api/2.0/mlflow/traces (search)', build: (r) => ({ method: 'GET', path: '/api/2.0/mlflow/traces', query: { experiment_ids: r.exp }, swap: { experiment_ids: r.own.exp } }), markers: (r) => ({ 'the trace id': r.traceId }) },
    {
      route: 'POST /api/3.0/mlflow/traces/search',
      build: (r) => ({ method: 'POST', path: '/api/3.0/mlflow/traces/search', json: { locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: r.exp } }], max_results: 10 } }),
      markers: (r) => ({ 'the trace id': r.traceId }),
    },
    {
      route: 'POST /api/3.0/mlflow/traces/<id>/assessments',
      build: (r, m) => ({ method: 'POST', path: `${trace3(r.traceId)}/assessments`, json: { assessment: { trace_id: r.traceId, assessment_name: m, source: { source_type: 'HUMAN', source_id: 'intruder' }, feedback: { value: true } } } }),
      write: { state: 'trace' },
    },
    { route: 'PATCH /api/3.0/mlflow/traces/<id>/tags', build: (r, m) => ({ method: 'PATCH', path: `${trace3(r.traceId)}/tags`, json: { key: m, value: 'intruder' } }), write: { state: 'trace' } },
  );
  return out;
}

/** Probes on a registered model, its versions and aliases, and a prompt. */
export function modelProbes(): Probe<ModelRefs>[] {
  const out: Probe<ModelRefs>[] = [];
  const versionSource = (r: ModelRefs) => ({ 'the version source': `${r.exp}/${r.run}` });
  for (const prefix of ['api', 'ajax-api']) {
    const p = API(prefix);
    const f = (name: string) => `name = '${name}'`;
    out.push(
      { route: `GET ${p}/registered-models/get`, build: (r) => ({ method: 'GET', path: `${p}/registered-models/get`, query: { name: r.model }, swap: { name: r.own.model } }), markers: () => ({ 'the model description': 'secret description' }) },
      { route: `GET ${p}/registered-models/search`, build: (r) => ({ method: 'GET', path: `${p}/registered-models/search`, query: { filter: f(r.model) } }), markers: (r) => ({ 'the model name': r.model }) },
      { route: `GET ${p}/model-versions/search`, build: (r) => ({ method: 'GET', path: `${p}/model-versions/search`, query: { filter: f(r.model) } }), markers: versionSource },
      { route: `GET ${p}/model-versions/get`, build: (r) => ({ method: 'GET', path: `${p}/model-versions/get`, query: { name: r.model, version: '1' }, swap: { name: r.own.model } }), markers: versionSource },
      { route: `GET ${p}/model-versions/get-download-uri`, build: (r) => ({ method: 'GET', path: `${p}/model-versions/get-download-uri`, query: { name: r.model, version: '1' }, swap: { name: r.own.model } }), markers: versionSource },
      { route: `GET ${p}/registered-models/alias`, build: (r) => ({ method: 'GET', path: `${p}/registered-models/alias`, query: { name: r.model, alias: 'champion' }, swap: { name: r.own.model } }), markers: versionSource },
      { route: `POST ${p}/registered-models/get-latest-versions`, build: (r) => ({ method: 'POST', path: `${p}/registered-models/get-latest-versions`, json: { name: r.model }, swap: { name: r.own.model } }), markers: versionSource },
      { route: `POST ${p}/registered-models/set-tag`, build: (r, m) => ({ method: 'POST', path: `${p}/registered-models/set-tag`, json: { name: r.model, key: m, value: 'intruder' }, swap: { name: r.own.model } }), write: { state: 'model' } },
      { route: `POST ${p}/registered-models/alias (set)`, build: (r, m) => ({ method: 'POST', path: `${p}/registered-models/alias`, json: { name: r.model, alias: m, version: '1' }, swap: { name: r.own.model } }), write: { state: 'model' } },
      { route: `GET ${p}/registered-models/get (prompt)`, build: (r) => ({ method: 'GET', path: `${p}/registered-models/get`, query: { name: r.prompt }, swap: { name: r.own.prompt } }), markers: (r) => ({ 'the prompt name': `"${r.prompt}"` }) },
      { route: `GET ${p}/model-versions/get (prompt template)`, build: (r) => ({ method: 'GET', path: `${p}/model-versions/get`, query: { name: r.prompt, version: '1' }, swap: { name: r.own.prompt } }), markers: (r) => ({ 'the prompt template': r.template }) },
      { route: `GET ${p}/model-versions/search (prompt)`, build: (r) => ({ method: 'GET', path: `${p}/model-versions/search`, query: { filter: promptFilter(r.prompt) } }), markers: (r) => ({ 'the prompt template': r.template }) },
      {
        route: `POST ${p}/model-versions/create (new prompt version)`,
        build: (r, m) => ({ method: 'POST', path: `${p}/model-versions/create`, json: { name: r.prompt, source: 'dummy-source', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }, { key: 'mlflow.prompt.text', value: `${m} {{x}}` }] }, swap: { name: r.own.prompt } }),
        write: { state: 'prompt-versions' },
      },
    );
  }
  const own = (req: ProbeRequest) => async (owner: Sender) => void (await owner(req));
  out.push(
    { route: 'GET /api/2.0/mlflow/registered-models/get-latest-versions', build: (r) => ({ method: 'GET', path: '/api/2.0/mlflow/registered-models/get-latest-versions', query: { name: r.model }, swap: { name: r.own.model } }), markers: versionSource },
    { route: 'PATCH /api/2.0/mlflow/registered-models/update', build: (r, m) => ({ method: 'PATCH', path: '/api/2.0/mlflow/registered-models/update', json: { name: r.model, description: m }, swap: { name: r.own.model } }), write: { state: 'model', sequential: true } },
    {
      route: 'DELETE /api/2.0/mlflow/registered-models/delete-tag',
      build: (r, m) => ({ method: 'DELETE', path: '/api/2.0/mlflow/registered-models/delete-tag', json: { name: r.model, key: m }, swap: { name: r.own.model } }),
      write: { state: 'model', removes: true, prepare: (o, r, m) => own({ method: 'POST', path: '/api/2.0/mlflow/registered-models/set-tag', json: { name: r.model, key: m, value: 'victim' } })(o) },
    },
    { route: 'POST /api/2.0/mlflow/model-versions/set-tag', build: (r, m) => ({ method: 'POST', path: '/api/2.0/mlflow/model-versions/set-tag', json: { name: r.model, version: '1', key: m, value: 'intruder' }, swap: { name: r.own.model } }), write: { state: 'model-version' } },
    {
      route: 'DELETE /api/2.0/mlflow/model-versions/delete-tag',
      build: (r, m) => ({ method: 'DELETE', path: '/api/2.0/mlflow/model-versions/delete-tag', json: { name: r.model, version: '1', key: m }, swap: { name: r.own.model } }),
      write: { state: 'model-version', removes: true, prepare: (o, r, m) => own({ method: 'POST', path: '/api/2.0/mlflow/model-versions/set-tag', json: { name: r.model, version: '1', key: m, value: 'victim' } })(o) },
    },
    { route: 'GET /model-versions/get-artifact', build: (r) => ({ method: 'GET', path: '/model-versions/get-artifact', query: { name: r.model, version: '1', path: 'MLmodel' }, swap: { name: r.own.model } }), markers: (r) => ({ 'the model file': r.content }) },
    { route: 'POST /graphql mlflowSearchModelVersions', build: (r) => ({ method: 'POST', path: '/graphql', json: { query: `{ mlflowSearchModelVersions(input: {filter: "name = '${r.model}'"}) { modelVersions { name source } } }` } }), markers: versionSource },
  );
  return out;
}

/** The owner's read of the state a write probe changes (its text; a write shows as its marker in it). */
export function stateRequest(key: StateKey, r: ExperimentRefs | ModelRefs): ProbeRequest {
  const e = r as ExperimentRefs;
  const m = r as ModelRefs;
  switch (key) {
    case 'experiment':
      return { method: 'GET', path: '/api/2.0/mlflow/experiments/get', query: { experiment_id: e.exp } };
    case 'run':
      return { method: 'GET', path: '/api/2.0/mlflow/runs/get', query: { run_id: e.run } };
    case 'runs':
      return { method: 'POST', path: '/api/2.0/mlflow/runs/search', json: { experiment_ids: [e.exp], max_results: 1000 } };
    case 'artifacts':
      return { method: 'GET', path: '/api/2.0/mlflow-artifacts/artifacts', query: { path: `${e.exp}/${e.run}/artifacts` } };
    case 'logged-model':
      return { method: 'GET', path: `/api/2.0/mlflow/logged-models/${e.lm}` };
    case 'trace':
      return { method: 'GET', path: trace3(e.traceId) };
    case 'model':
      return { method: 'GET', path: '/api/2.0/mlflow/registered-models/get', query: { name: m.model } };
    case 'model-version':
      return { method: 'GET', path: '/api/2.0/mlflow/model-versions/get', query: { name: m.model, version: '1' } };
    case 'prompt-versions':
      return { method: 'GET', path: '/api/2.0/mlflow/model-versions/search', query: { filter: promptFilter(m.prompt), max_results: '1000' } };
  }
}
