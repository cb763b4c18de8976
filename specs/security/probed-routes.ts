import type { APIRequestContext } from '@playwright/test';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { resolveRoute, routeKey, type InventoryRoute } from '../../conformance/security/routes.ts';
import { families, type Refs } from '../permissions/families.ts';
import { experimentProbes, forMlflow, modelProbes, type ExperimentRefs, type ModelRefs, type Probe } from '../permissions/probes.ts';
import { twinLabel, variantOf } from '../../conformance/security/shapes.ts';
import { pluginOf } from '../support/plugin.ts';

/**
 * The routes the authorisation checks send requests to, read from their definitions (no request is sent): the
 * bypass audit's probes and the permission matrix's operations (each tried by a user with and without the
 * permission), and the current-user route of the token attacks. Each resolves to the server route it reaches.
 */

const experiment: ExperimentRefs = { exp: '1', expName: 'e', run: 'r1', lm: 'm-1', traceId: 'tr-1', content: 'c', own: { exp: '2', expName: 'o', run: 'r2', lm: 'm-2' } };
const model: ModelRefs = { exp: '1', run: 'r1', model: 'model', prompt: 'prompt', template: 't', content: 'c', own: { model: 'own', prompt: 'own-p' } };

/** `METHOD path` of every request the checks make, with the check that makes it. */
export function checkRequests(target: TargetDescriptor): { method: string; path: string; by: string }[] {
  const out: { method: string; path: string; by: string }[] = [];
  const audit = <R>(probes: Probe<R>[], refs: R) => {
    const labels = new Set(probes.map((p) => p.route));
    for (const p of probes) {
      const req = p.build(refs, 'm');
      out.push({ method: req.method, path: req.path, by: `bypass audit: ${p.route}` });
      // the probe's /api ↔ /ajax-api twin shape, unless the twin is a probe of its own
      const twin = variantOf(req, 'ajax-api-twin', labels.has(twinLabel(p.route) ?? ''));
      if (twin) out.push({ method: twin.method, path: twin.path, by: `bypass audit: ${p.route} (its ajax-api-twin shape)` });
    }
  };
  audit(forMlflow(experimentProbes(), target.pins.mlflow), experiment);
  audit(forMlflow(modelProbes(), target.pins.mlflow), model);
  // the matrix's operations, recorded by a request context that only notes what it is asked to send
  const noted: { method: string; url: string }[] = [];
  const recorder = Object.fromEntries(['get', 'post', 'put', 'patch', 'delete'].map((m) => [m, (url: string) => (noted.push({ method: m.toUpperCase(), url }), Promise.resolve(undefined))])) as unknown as APIRequestContext;
  const refs = { name: 'n', grantResource: 'experiments', grantRef: '1', experimentId: '1', runId: 'r1', loggedModelId: 'm-1', version: '1' } as Refs;
  for (const [family, f] of Object.entries(families(target))) {
    for (const [op, call] of f.operations) {
      noted.length = 0;
      void call(recorder, refs, {});
      for (const n of noted) out.push({ method: n.method, path: new URL(n.url).pathname, by: `permission matrix: ${family} ${op}` });
    }
  }
  out.push({ method: 'GET', path: pluginOf(target).routes.currentUser, by: 'token attacks: the current-user route' });
  return out.map((r) => ({ method: r.method, path: r.path, by: r.by }));
}

/** Route key → the checks whose requests reach it. */
export function probedRoutes(target: TargetDescriptor, inventory: InventoryRoute[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const r of checkRequests(target)) {
    const route = resolveRoute(r.method, r.path, inventory);
    if (!route) continue;
    const key = routeKey(route.method, route.path);
    by.set(key, [...(by.get(key) ?? []), r.by]);
  }
  return by;
}
