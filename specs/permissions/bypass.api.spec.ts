import type { APIRequestContext } from '@playwright/test';
import { test, expect } from '../support/fixtures.ts';
import { expectJson } from '../support/mlflow-api.ts';
import { loadTarget, persona } from '../support/target.ts';
import { API, grant, Workspace } from '../support/permissions.ts';
import { expectDeclaredShapesTried, recordShape } from '../support/security.ts';
import { loadLeaks, routeVerdict } from '../../conformance/permissions.ts';
import { experimentProbes, forMlflow, modelProbes, type ExperimentRefs, type ModelRefs } from './probes.ts';
import { runAudit, type BaseResult, type ShapeRun } from './audit-runner.ts';

// The bypass audit: a user with NO_PERMISSIONS on another user's experiment, model and prompt (explicit user
// grants: for that user the same as DEFAULT_MLFLOW_PERMISSION=NO_PERMISSIONS, inside the normal run) tries every
// route MLflow offers to read or change them (probes.ts), each first as the owner (its positive control). Each
// route is `denied` (401/403), `filtered` (answered without the data, nothing changed), `leaked` (the data was
// seen or the owner reads the change afterwards), `broken` (the owner's own request failed: the probe proves
// nothing) or `error` (any other answer). A leak passes only when declared in leaks.yaml; broken and error fail.
// Every probe is also sent in the request shapes a server may parse differently from the plugin (the snake_case
// and camelCase spelling of an id twice, query and body disagreeing, a GET with a body, path spellings, HEAD,
// OPTIONS, method-override headers, the /ajax-api twin): reports/security.json's `shapes`; a shape that gets
// through passes only when declared in specs/security/declared.yaml (or when the route's own shape leaks, declared).
// The users call through their OIDC sessions (as the UI does), which the plugin checks without hashing a token.
// The owner is persona user1; the restricted user is a Keycloak user of the check's own, or persona user2 on a
// target that gives no Keycloak access (remote); the admin persona gives the NO_PERMISSIONS grants through MLflow's
// permission API (taken back from user2 at the end).

const target = loadTarget();
const leaks = loadLeaks();

function record({ base, shapes, timing }: { base: BaseResult[]; shapes: ShapeRun[]; timing: string }): void {
  const leakOf = new Map(base.map((b) => [b.route, routeVerdict(b.route, b.outcome, leaks, target.pins.mlflowOidcAuth)]));
  for (const b of base) {
    const { verdict, message } = leakOf.get(b.route)!;
    test.info().annotations.push({ type: 'permission-route', description: JSON.stringify({ ...b, verdict }) });
    if (b.outcome === 'leaked') test.info().annotations.push({ type: 'observation', description: `leak (${verdict}): ${b.route} — ${b.evidence}` });
    expect.soft(verdict, `${message ?? b.route}: ${b.evidence}`).not.toBe('failed');
  }
  expectDeclaredShapesTried(target, new Set(base.map((b) => b.route)), new Set(shapes.map((s) => `${s.route} ${s.variant}`)));
  for (const s of shapes) {
    const inherited = leakOf.get(s.route)?.verdict === 'declared' ? `the route's own shape leaks (declared in specs/permissions/leaks.yaml)` : undefined;
    recordShape(target, { route: s.route, variant: s.variant, outcome: s.outcome, evidence: s.evidence }, inherited);
  }
  test.info().annotations.push({ type: 'evidence', description: `bypass audit: ${base.length} routes (${count(base, 'denied')} denied, ${count(base, 'filtered')} filtered, ${count(base, 'leaked')} leaked, ${count(base, 'broken')} broken, ${count(base, 'error')} error); ${shapes.length} request shapes (${shapes.filter((s) => s.outcome === 'accepted').length} got through); ${timing}` });
}
const count = (xs: { outcome: string }[], o: string) => xs.filter((x) => x.outcome === o).length;

/** The attacker's own experiment with a run and a logged model (ids the request-shape variants mix in). */
async function ownExperiment(ctx: APIRequestContext, prefix: string): Promise<ExperimentRefs['own']> {
  const u = (p: string) => `${target.mlflowUrl}${p}`;
  const expName = `${prefix}-own`;
  const exp = String((await expectJson(await ctx.post(u(`${API}/experiments/create`), { data: { name: expName } }))).experiment_id);
  const run = ((await expectJson(await ctx.post(u(`${API}/runs/create`), { data: { experiment_id: exp, start_time: Date.now() } }))).run as { info: { run_id: string } }).info.run_id;
  const lm = ((await expectJson(await ctx.post(u(`${API}/logged-models`), { data: { experiment_id: exp, name: `${prefix}-own-lm` } }))).model as { info: { model_id: string } }).info.model_id;
  return { exp, expName, run, lm };
}

test.describe('bypass audit', () => {
  test('[C16] bypass audit: experiment, runs, logged models, artifacts, metrics, GraphQL and traces of an experiment the user has NO_PERMISSIONS on, in every request shape', async ({ sessionHeadersAs, sessionAs, python, tokenOf }) => {
    test.setTimeout(180_000);
    const ws = new Workspace(target, 'bp', { sessionAs, sessionHeadersAs, tokenOf });
    const ownerCtx = await sessionAs('user1');
    const adminCtx = await sessionAs('admin');
    const u = (p: string) => `${target.mlflowUrl}${p}`;
    try {
      // the owner's experiment with a trace (real client), a run with a metric, a logged model and an artifact
      const expName = `${ws.prefix}-exp`;
      const [traced, actor] = await Promise.all([
        python('llm_trace.py', { MLFLOW_TRACKING_USERNAME: persona(target, 'user1').email, MLFLOW_TRACKING_PASSWORD: tokenOf('user1') }, [expName]),
        ws.actor(['mlflow-users'], 'u', { token: false }),
      ]);
      expect(traced.exitCode, traced.stderr.slice(-400)).toBe(0);
      const { trace_id: traceId, experiment_id: exp } = traced.json as { trace_id: string; experiment_id: string };
      const run = ((await expectJson(await ownerCtx.post(u(`${API}/runs/create`), { data: { experiment_id: exp, start_time: Date.now() } }))).run as { info: { run_id: string } }).info.run_id;
      await expectJson(await ownerCtx.post(u(`${API}/runs/log-metric`), { data: { run_id: run, key: 'secret_metric', value: 0.4242, timestamp: Date.now(), step: 0 } }));
      const lm = ((await expectJson(await ownerCtx.post(u(`${API}/logged-models`), { data: { experiment_id: exp, name: `${ws.prefix}-lm` } }))).model as { info: { model_id: string } }).info.model_id;
      const content = `secret artifact of ${ws.prefix}`;
      expect((await ownerCtx.put(u(`/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/probe.txt`), { data: content, headers: { 'Content-Type': 'text/plain' } })).status()).toBe(200);
      await grant(adminCtx, target, { kind: 'user', subject: actor.email, resource: 'experiments', ref: exp }, 'NO_PERMISSIONS', {});
      const own = await ownExperiment(actor.session, ws.prefix);
      const refs: ExperimentRefs = { exp, expName, run, lm, traceId, content, own };
      record(await runAudit({ probes: forMlflow(experimentProbes(), target.pins.mlflow), refs, owner: ownerCtx, attacker: actor.session, baseUrl: target.mlflowUrl }));
      // the owner still sees the experiment (nothing the audit was refused changed it)
      await expectJson(await ownerCtx.get(u(`${API}/experiments/get?experiment_id=${exp}`)));
    } finally {
      await ws.cleanup();
    }
  });

  test('[C16] bypass audit: registered model, versions, aliases and a prompt the user has NO_PERMISSIONS on, in every request shape', async ({ sessionHeadersAs, sessionAs, tokenOf }) => {
    test.setTimeout(120_000);
    const ws = new Workspace(target, 'bp', { sessionAs, sessionHeadersAs, tokenOf });
    const ownerCtx = await sessionAs('user1');
    const adminCtx = await sessionAs('admin');
    const u = (p: string) => `${target.mlflowUrl}${p}`;
    try {
      const actorP = ws.actor(['mlflow-users'], 'u', { token: false });
      const exp = String((await expectJson(await ownerCtx.post(u(`${API}/experiments/create`), { data: { name: `${ws.prefix}-src` } }))).experiment_id);
      const run = ((await expectJson(await ownerCtx.post(u(`${API}/runs/create`), { data: { experiment_id: exp } }))).run as { info: { run_id: string } }).info.run_id;
      const content = `secret model file of ${ws.prefix}`;
      expect((await ownerCtx.put(u(`/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/model/MLmodel`), { data: content, headers: { 'Content-Type': 'text/plain' } })).status()).toBe(200);
      const model = `${ws.prefix}-model`;
      await expectJson(await ownerCtx.post(u(`${API}/registered-models/create`), { data: { name: model, description: 'secret description' } }));
      await expectJson(await ownerCtx.post(u(`${API}/model-versions/create`), { data: { name: model, source: `mlflow-artifacts:/${exp}/${run}/artifacts/model`, run_id: run } }));
      await expectJson(await ownerCtx.post(u(`${API}/registered-models/alias`), { data: { name: model, alias: 'champion', version: '1' } }));
      const prompt = `${ws.prefix}-prompt`;
      const template = `Secret template of ${ws.prefix} {{x}}`;
      const promptTags = (text: string) => [{ key: 'mlflow.prompt.is_prompt', value: 'true' }, { key: 'mlflow.prompt.text', value: text }];
      await expectJson(await ownerCtx.post(u(`${API}/registered-models/create`), { data: { name: prompt, tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] } }));
      await expectJson(await ownerCtx.post(u(`${API}/model-versions/create`), { data: { name: prompt, source: 'dummy-source', tags: promptTags(template) } }));

      const actor = await actorP;
      for (const [resource, ref] of [['experiments', exp], ['registered-models', model], ['prompts', prompt]] as const) {
        await grant(adminCtx, target, { kind: 'user', subject: actor.email, resource, ref }, 'NO_PERMISSIONS', {});
      }
      // the attacker's own model (with a version and the same alias) and prompt
      const a = actor.session;
      const ownExp = String((await expectJson(await a.post(u(`${API}/experiments/create`), { data: { name: `${ws.prefix}-own-src` } }))).experiment_id);
      const ownRun = ((await expectJson(await a.post(u(`${API}/runs/create`), { data: { experiment_id: ownExp } }))).run as { info: { run_id: string } }).info.run_id;
      const ownModel = `${ws.prefix}-own-model`;
      await expectJson(await a.post(u(`${API}/registered-models/create`), { data: { name: ownModel } }));
      await expectJson(await a.post(u(`${API}/model-versions/create`), { data: { name: ownModel, source: `mlflow-artifacts:/${ownExp}/${ownRun}/artifacts/model`, run_id: ownRun } }));
      await expectJson(await a.post(u(`${API}/registered-models/alias`), { data: { name: ownModel, alias: 'champion', version: '1' } }));
      const ownPrompt = `${ws.prefix}-own-prompt`;
      await expectJson(await a.post(u(`${API}/registered-models/create`), { data: { name: ownPrompt, tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] } }));
      await expectJson(await a.post(u(`${API}/model-versions/create`), { data: { name: ownPrompt, source: 'dummy-source', tags: promptTags('own {{x}}') } }));

      const refs: ModelRefs = { exp, run, model, prompt, template, content, own: { model: ownModel, prompt: ownPrompt } };
      record(await runAudit({ probes: forMlflow(modelProbes(), target.pins.mlflow), refs, owner: ownerCtx, attacker: actor.session, baseUrl: target.mlflowUrl }));
    } finally {
      await ws.cleanup();
    }
  });
});
