import { request as playwrightRequest } from '@playwright/test';
import { test, expect } from '../support/fixtures.ts';
import { loadTarget } from '../support/target.ts';
import { refusalShape } from '../support/security.ts';
import { serverInventory, type Inventory } from '../support/server-routes.ts';
import { pool } from '../permissions/audit-runner.ts';
import { appliesTo, concretePath, coverage, globCovers, loadRouteDeclarations, routeKey } from '../../conformance/security/routes.ts';
import { evidenceOf, isRefusal } from '../../conformance/security/outcomes.ts';
import { probedRoutes } from './probed-routes.ts';

// Every route × method of the server (read from its own app: Flask's url_map, FastAPI's routes) needs an
// authorisation decision: probed by the bypass audit or the permission matrix, or declared in
// specs/security/routes.yaml as `public` or `not-applicable` with the reason. A route with neither is `uncovered`
// and fails, so a bump that adds routes is caught without anyone editing the suite. And without credentials, every
// route is tried: only the declared public ones may answer.

const target = loadTarget();
const declarations = loadRouteDeclarations();
const decisions = declarations.routes;
let inventory: Promise<Inventory> | undefined;
const inventoryOnce = () => (inventory ??= serverInventory(target));

test.describe('route inventory', () => {
  // in order in one worker, which reads the server's routes once for both checks (a failure does not skip the other)
  test.describe.configure({ mode: 'default' });
  test('[C16] every route the server serves is probed by the authorisation checks or declared public or not applicable', async () => {
    const inv = await inventoryOnce();
    const cov = coverage(inv.routes, probedRoutes(target, inv.routes), decisions, target.pins);
    test.info().annotations.push({ type: 'security-routes', description: JSON.stringify({ source: inv.source, total: cov.total, probed: cov.probed, declared: cov.declared, uncovered: cov.uncovered, decisions: cov.decisions }) });
    test.info().annotations.push({ type: 'evidence', description: `${cov.total} routes × methods (${inv.source}): ${cov.probed} probed, ${cov.declared} declared, ${cov.uncovered.length} uncovered` });
    for (const p of cov.problems) expect.soft(p).toBe('');
    expect(cov.uncovered, `routes with no authorisation decision: probe them or declare them in specs/security/routes.yaml`).toEqual([]);
  });

  test('[C11] without credentials every route is refused except the declared public ones', async () => {
    test.setTimeout(120_000);
    const inv = await inventoryOnce();
    const shape = refusalShape(target);
    const publicGlobs = decisions.filter((d) => d.decision === 'public' && appliesTo(d, target.pins)).flatMap((d) => d.match);
    const declaredErrors = declarations.unauthenticated.filter((d) => appliesTo(d, target.pins));
    // CONNECT opens a tunnel through a proxy: the TLS proxy in front does not pass it on to MLflow (nor do clients send it)
    const routes = inv.routes.filter((r) => r.method !== 'WEBSOCKET' && r.method !== 'CONNECT');
    const ctx = await playwrightRequest.newContext();
    try {
      const results = await pool(routes, 8, async (r) => {
        const key = routeKey(r.method, r.path);
        const isPublic = publicGlobs.some((g) => globCovers(g, key));
        try {
          const res = await ctx.fetch(`${target.mlflowUrl}${concretePath(r.path)}`, {
            method: r.method,
            maxRedirects: 0,
            timeout: 15_000,
            ...(['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) ? { data: '{}', headers: { 'Content-Type': 'application/json' } } : {}),
          });
          const h = res.headers();
          const a = { status: res.status(), contentType: h['content-type'], body: r.method === 'HEAD' ? '' : await res.text().catch(() => ''), ...(h.location ? { location: h.location } : {}) };
          const refused = isRefusal(a, shape) || (a.status >= 400 && a.status < 500 && /Authentication required|not authenticated/i.test(a.body));
          const declared = declaredErrors.find((d) => d.match.some((g) => globCovers(g, key)));
          const outcome = refused ? 'refused' : isPublic ? 'public' : a.status < 400 ? 'accepted' : declared ? 'declared-error' : 'error';
          return { route: key, outcome, evidence: evidenceOf(a, 100) };
        } catch (e) {
          return { route: key, outcome: isPublic ? 'public' : 'error', evidence: `request failed: ${String(e).split('\n')[0]!.slice(0, 120)}` };
        }
      });
      for (const r of results) test.info().annotations.push({ type: 'security-unauthenticated', description: JSON.stringify(r) });
      for (const r of inv.routes.filter((x) => !routes.includes(x))) {
        test.info().annotations.push({ type: 'security-unauthenticated', description: JSON.stringify({ route: routeKey(r.method, r.path), outcome: 'not-sent', evidence: `${r.method}: not an HTTP request the TLS proxy passes on` }) });
      }
      const answered = results.filter((r) => r.outcome === 'accepted');
      const errors = results.filter((r) => r.outcome === 'error');
      test.info().annotations.push({ type: 'evidence', description: `${results.length} routes without credentials: ${results.filter((r) => r.outcome === 'refused').length} refused, ${results.filter((r) => r.outcome === 'public').length} declared public, ${answered.length} answered, ${errors.length} error` });
      expect.soft(answered.map((r) => `${r.route} → ${r.evidence}`), 'routes that answer without credentials and are not declared public').toEqual([]);
      // a declared answer that no longer occurs: the declaration must go
      for (const d of declaredErrors) {
        for (const g of d.match) {
          const covered = results.filter((r) => globCovers(g, r.route));
          expect.soft(covered.some((r) => r.outcome === 'declared-error'), `specs/security/routes.yaml: unauthenticated "${g}" is declared but ${covered.length ? `now answers ${covered.map((r) => r.outcome).join(', ')}` : 'names no route the server has'}: remove or narrow it`).toBe(true);
        }
      }
      expect(errors.map((r) => `${r.route} → ${r.evidence}`), 'routes that answer without credentials with neither a refusal nor data (declare them under `unauthenticated` in specs/security/routes.yaml with the reason)').toEqual([]);
    } finally {
      await ctx.dispose();
    }
  });
});
