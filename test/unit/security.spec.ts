import { test, expect } from '@playwright/test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addSecurityToReports, securityDiff, securityLines } from '../../provision/bump/security-diff.ts';
import { attackDeclaration, loadDeclarations, parseDeclarations, shapeDeclaration, verdictOf } from '../../conformance/security/declarations.ts';
import { credentialOutcome, isRefusal } from '../../conformance/security/outcomes.ts';
import { probeOutcome, shapeOutcome } from '../../conformance/security/probe-outcome.ts';
import { concretePath, coverage, globCovers, loadRouteDeclarations, parseRouteDeclarations, resolveRoute, routeKey, type InventoryRoute } from '../../conformance/security/routes.ts';
import { rawOf, variantOf, VARIANTS, type ProbeRequest } from '../../conformance/security/shapes.ts';
import { buildSecurityReport, renderSecurityHtml } from '../../conformance/security/report.ts';

const json = (status: number, body: unknown) => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

test('a probe whose route vanished is broken, not denied: the owner\'s own request fails too', () => {
  // the route is gone: the owner gets 404, the attacker 404 — today's audit would have called that a refusal
  const gone = probeOutcome({ kind: 'read', control: { answer: json(404, { error_code: 'ENDPOINT_NOT_FOUND' }), seen: [] }, attacker: { answer: json(404, { error_code: 'ENDPOINT_NOT_FOUND' }), seen: [] } });
  expect(gone.outcome).toBe('broken');
  expect(gone.evidence).toContain('positive control failed');
  // …and a refusal next to a working control is a denial
  expect(probeOutcome({ kind: 'read', control: { answer: json(200, { name: 'x' }), seen: ['the name'] }, attacker: { answer: json(403, { message: 'Permission denied' }), seen: [] } }).outcome).toBe('denied');
  // a write whose change the owner does not read afterwards is broken, whatever the status
  expect(probeOutcome({ kind: 'write', control: { answer: json(200, {}), changed: false }, attacker: { answer: json(403, {}), changed: false } }).outcome).toBe('broken');
});

test('only 401 and 403 (and a declared 404) are refusals: 400, other 404s, 5xx and exceptions are errors; writes are judged by what the owner reads', () => {
  const control = { answer: json(200, { x: 1 }), seen: ['m'] };
  const attacker = (status: number) => ({ answer: json(status, { message: 'no' }), seen: [] });
  expect(probeOutcome({ kind: 'read', control, attacker: attacker(401) }).outcome).toBe('denied');
  for (const s of [400, 404, 500]) expect(probeOutcome({ kind: 'read', control, attacker: attacker(s) }).outcome).toBe('error');
  expect(probeOutcome({ kind: 'read', control, attacker: attacker(404), hides404: true }).outcome).toBe('denied');
  expect(probeOutcome({ kind: 'read', control, attacker: { failure: 'socket hang up' } }).outcome).toBe('error');
  expect(probeOutcome({ kind: 'read', control, attacker: { answer: json(200, { x: 1 }), seen: ['m'] } }).outcome).toBe('leaked');
  expect(probeOutcome({ kind: 'read', control, attacker: { answer: json(200, {}), seen: [] } }).outcome).toBe('filtered');
  const wrote = { answer: json(200, {}), changed: true };
  // a 403 whose change still landed is a leak; a 200 that changed nothing is not
  expect(probeOutcome({ kind: 'write', control: wrote, attacker: { answer: json(403, {}), changed: true } }).outcome).toBe('leaked');
  expect(probeOutcome({ kind: 'write', control: wrote, attacker: { answer: json(200, {}), changed: false } }).outcome).toBe('filtered');
});

test('a request shape gets through when it shows the data or makes the change; an unexplained answer is asked of the owner', () => {
  const base = { kind: 'read' as const, variant: 'trailing-slash', base: 'denied' as const };
  expect(shapeOutcome({ ...base, attacker: { answer: json(200, {}), seen: ['m'] } }).outcome).toBe('accepted');
  expect(shapeOutcome({ ...base, attacker: { answer: json(403, {}) } }).outcome).toBe('refused');
  expect(shapeOutcome({ ...base, attacker: { answer: json(404, {}) } }).outcome).toBe('needs-control');
  // the owner's own request in that shape fails too: the server does not serve the shape
  expect(shapeOutcome({ ...base, attacker: { answer: json(404, {}) }, control: { answer: json(404, {}), seen: [] } })).toMatchObject({ outcome: 'refused', evidence: expect.stringContaining('not served') });
  expect(shapeOutcome({ ...base, attacker: { answer: json(404, {}) }, control: { answer: json(200, {}), seen: ['m'] } }).outcome).toBe('error');
  // HEAD answered where GET is refused skipped the check
  expect(shapeOutcome({ ...base, variant: 'head', attacker: { answer: { status: 200, body: '', contentLength: '12' } } }).outcome).toBe('accepted');
  expect(shapeOutcome({ ...base, variant: 'head', base: 'filtered', attacker: { answer: { status: 200, body: '' } } }).outcome).toBe('refused');
});

test('the request shapes: duplicate spellings of an id, query and body disagreeing, GET with a body, path spellings, methods, the /ajax-api twin', () => {
  const get: ProbeRequest = { method: 'GET', path: '/api/2.0/mlflow/experiments/get', query: { experiment_id: '7' }, swap: { experiment_id: '9' } };
  const post: ProbeRequest = { method: 'POST', path: '/api/2.0/mlflow/runs/log-metric', json: { run_id: 'v', key: 'k' }, swap: { run_id: 'o' } };
  expect(rawOf(get)).toEqual({ method: 'GET', path: '/api/2.0/mlflow/experiments/get', query: 'experiment_id=7', headers: {} });
  expect(variantOf(get, 'snake-victim-camel-own')!.query).toBe('experiment_id=7&experimentId=9');
  expect(variantOf(get, 'snake-own-camel-victim')!.query).toBe('experiment_id=9&experimentId=7');
  expect(JSON.parse(variantOf(post, 'snake-own-camel-victim')!.body!)).toEqual({ run_id: 'o', key: 'k', runId: 'v' });
  expect(variantOf(post, 'query-own-body-victim')).toMatchObject({ query: 'run_id=o', body: JSON.stringify({ key: 'k', run_id: 'v' }) });
  expect(variantOf(get, 'get-with-body')).toMatchObject({ method: 'GET', query: '', body: '{"experiment_id":"7"}' });
  expect(variantOf(post, 'get-with-body')).toBeUndefined();
  expect(variantOf(get, 'percent-encoded')!.path).toBe('/api/2.0/mlflow/experiments/%67et');
  expect(variantOf(get, 'double-slash')!.path).toBe('/api/2.0/mlflow/experiments//get');
  expect(variantOf(get, 'trailing-slash')!.path).toBe('/api/2.0/mlflow/experiments/get/');
  expect(variantOf(get, 'case-changed')!.path).toBe('/api/2.0/mlflow/experiments/Get');
  expect(variantOf(get, 'head')!.method).toBe('HEAD');
  expect(variantOf(post, 'head')).toBeUndefined();
  expect(variantOf(post, 'method-override')).toMatchObject({ method: 'GET', query: '_method=POST', headers: { 'X-HTTP-Method-Override': 'POST' } });
  expect(variantOf(get, 'ajax-api-twin')!.path).toBe('/ajax-api/2.0/mlflow/experiments/get');
  expect(variantOf(get, 'ajax-api-twin', true)).toBeUndefined();
  // an artifact path's own words are not the route's
  const art: ProbeRequest = { method: 'GET', path: '/api/2.0/mlflow-artifacts/artifacts/1/r1/artifacts/probe.txt' };
  expect(variantOf(art, 'case-changed')!.path).toBe('/api/2.0/mlflow-artifacts/Artifacts/1/r1/artifacts/probe.txt');
  // a probe without id fields has no duplicate-spelling shapes
  expect(VARIANTS.filter((v) => variantOf({ method: 'POST', path: '/graphql', json: { query: '{}' } }, v))).not.toContain('snake-own-camel-victim');
});

test('credential attacks: the current user\'s answer tells who the server took the credential for', () => {
  expect(credentialOutcome(json(200, { username: 'alice@example.com' }), {})).toEqual({ outcome: 'accepted', user: 'alice@example.com' });
  expect(credentialOutcome(json(401, { detail: 'Authentication required' }), {}).outcome).toBe('refused');
  // 5.x answers a missing credential with its login page and 200
  expect(credentialOutcome({ status: 200, contentType: 'text/html', body: '<title>Login</title>' }, { loginPageMarker: '<title>Login</title>' }).outcome).toBe('refused');
  expect(credentialOutcome(json(500, {}), {}).outcome).toBe('error');
  expect(isRefusal({ status: 302, body: '', location: '/oidc/ui' }, {})).toBe(true);
  expect(isRefusal({ status: 302, body: '', location: '/elsewhere' }, {})).toBe(false);
});

test('attack declarations: PEP 440 ranges of the plugin, MLflow and installed packages; a declared attack that stops working fails', () => {
  const d = parseDeclarations(`
attacks:
  - { attack: alg-none, via: bearer, plugin: ">=3.0.0,<7.12.2", packages: { Authlib: "<1.6.7" }, description: d, evidence: e }
shapes:
  - { route: [POST /a, POST /b], variant: head, mlflow: "<3.7", description: d, evidence: e }
`);
  const seed = { mlflow: '3.6.0', mlflowOidcAuth: '5.6.1', versions: { Authlib: '1.6.5' } };
  expect(attackDeclaration(d, 'alg-none', 'bearer', seed)).toBeDefined();
  expect(attackDeclaration(d, 'alg-none', 'bearer', { ...seed, versions: { authlib: '1.9.10' } })).toBeUndefined();
  expect(attackDeclaration(d, 'alg-none', 'bearer', { ...seed, mlflowOidcAuth: '11.0.2' })).toBeUndefined();
  expect(shapeDeclaration(d, 'POST /b', 'head', seed)).toBeDefined();
  expect(shapeDeclaration(d, 'POST /b', 'head', { ...seed, mlflow: '3.17.2' })).toBeUndefined();
  const decl = attackDeclaration(d, 'alg-none', 'bearer', seed);
  expect(verdictOf('accepted', decl, 'x').verdict).toBe('declared');
  expect(verdictOf('accepted', undefined, 'x').verdict).toBe('failed');
  expect(verdictOf('refused', decl, 'x')).toMatchObject({ verdict: 'failed', message: expect.stringContaining('remove or narrow') });
  expect(verdictOf('refused', undefined, 'x').verdict).toBe('passed');
  expect(verdictOf('broken', undefined, 'x').verdict).toBe('failed');
  expect(verdictOf('not-applicable', undefined, 'x').verdict).toBe('not-applicable');
});

test('bad input: a malformed range or an unknown field in a declaration is one line naming the file and the entry', () => {
  expect(() => parseDeclarations('attacks:\n  - { attack: x, via: bearer, plugin: "from 5 to 6", description: d, evidence: e }\n', 'declared.yaml')).toThrow(/^declared\.yaml: attacks\.0 \(x\): plugin: "from 5 to 6" is not a PEP 440 version range/);
  expect(() => parseDeclarations('attacks:\n  - { attack: x, via: carrier-pigeon, description: d, evidence: e }\n', 'declared.yaml')).toThrow(/^declared\.yaml: attacks\.0\.via/);
  expect(() => parseRouteDeclarations('routes:\n  - { match: "GET /x", decision: public, reason: "a long enough reason", mlflow: ">>3" }\n', 'routes.yaml')).toThrow(/^routes\.yaml: routes\.0: mlflow: ">>3" is not a PEP 440 version range/);
  expect(() => parseRouteDeclarations('routes:\n  - { match: "/x", decision: public, reason: "a long enough reason" }\n', 'routes.yaml')).toThrow(/is not "METHOD \/path"/);
  for (const e of [() => parseDeclarations('attacks: []'), () => parseRouteDeclarations('routes: []')]) expect(e).not.toThrow();
});

const inventory: InventoryRoute[] = [
  { method: 'GET', path: '/api/2.0/mlflow/logged-models/<model_id>', framework: 'flask', endpoint: 'a' },
  { method: 'POST', path: '/api/2.0/mlflow/logged-models/search', framework: 'flask', endpoint: 'b' },
  { method: 'POST', path: '/api/2.0/mlflow/logged-models/<model_id>', framework: 'flask', endpoint: 'c' },
  { method: 'GET', path: '/api/2.0/mlflow-artifacts/artifacts/<path:artifact_path>', framework: 'flask', endpoint: 'd' },
  { method: 'GET', path: '/api/3.0/mlflow/traces/{trace_id}', framework: 'fastapi', endpoint: 'e' },
  { method: 'GET', path: '/health', framework: 'flask', endpoint: 'f' },
  { method: 'DELETE', path: '/api/2.0/mlflow/webhooks/<webhook_id>', framework: 'flask', endpoint: 'g' },
];

test('the route inventory: a request resolves to the most specific route; globs cover Flask and FastAPI spellings', () => {
  expect(resolveRoute('POST', '/api/2.0/mlflow/logged-models/search', inventory)?.endpoint).toBe('b');
  expect(resolveRoute('GET', '/api/2.0/mlflow/logged-models/m-1', inventory)?.endpoint).toBe('a');
  expect(resolveRoute('GET', '/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/x.txt', inventory)?.endpoint).toBe('d');
  expect(resolveRoute('GET', '/api/3.0/mlflow/traces/tr-1', inventory)?.endpoint).toBe('e');
  expect(resolveRoute('PUT', '/health', inventory)).toBeUndefined();
  expect(routeKey('GET', '/api/3.0/mlflow/traces/{trace_id}')).toBe('GET /api/3.0/mlflow/traces/{}');
  expect(globCovers('* /*/2.0/mlflow/webhooks/**', 'DELETE /api/2.0/mlflow/webhooks/{}')).toBe(true);
  expect(globCovers('GET|POST /api/2.0/mlflow/logged-models/{}', 'POST /api/2.0/mlflow/logged-models/{}')).toBe(true);
  expect(globCovers('GET /api/2.0/mlflow/logged-models/*', 'DELETE /api/2.0/mlflow/logged-models/{}')).toBe(false);
  expect(concretePath('/api/2.0/mlflow-artifacts/artifacts/<path:artifact_path>')).toBe('/api/2.0/mlflow-artifacts/artifacts/1/x/artifacts/none.txt');
});

test('every route needs a decision: a new route is uncovered; a declaration naming no route of the server is a problem', () => {
  const probed = new Map([['GET /api/2.0/mlflow/logged-models/{}', ['bypass audit: GET …/logged-models/<id>']]]);
  const { routes } = parseRouteDeclarations(`
routes:
  - { match: [GET /health], decision: public, reason: "the readiness probe" }
  - { match: ["* /*/2.0/mlflow/webhooks/**"], decision: not-applicable, reason: "deployment-wide, not owned" }
  - { match: [GET /api/2.0/mlflow/gone], decision: not-applicable, reason: "a route of another version" }
  - { match: [GET /api/2.0/mlflow/other], mlflow: ">=4", decision: not-applicable, reason: "not these pins: ignored" }
`);
  const c = coverage(inventory, probed, routes, { mlflow: '3.6.0', mlflowOidcAuth: '5.6.1' });
  expect({ total: c.total, probed: c.probed, declared: c.declared }).toEqual({ total: 7, probed: 1, declared: 2 });
  expect(c.uncovered).toEqual(['GET /api/2.0/mlflow-artifacts/artifacts/{}', 'GET /api/3.0/mlflow/traces/{}', 'POST /api/2.0/mlflow/logged-models/search', 'POST /api/2.0/mlflow/logged-models/{}']);
  expect(c.problems).toEqual([expect.stringMatching(/"GET \/api\/2\.0\/mlflow\/gone" names no route the server has \(MLflow 3\.6\.0, mlflow-oidc-auth 5\.6\.1\)/)]);
});

test('the shipped declarations parse', () => {
  expect(loadDeclarations().attacks.length).toBeGreaterThan(0);
  expect(loadRouteDeclarations().routes.length).toBeGreaterThan(0);
});

test('the report counts what got through and the page shows it first', () => {
  const r = buildSecurityReport({
    pins: { name: 'seed', mlflow: '3.6.0', mlflowOidcAuth: '5.6.1', builtOn: '2025-11-09', versions: { Flask: '3.1.2', Authlib: '1.6.5' } },
    tokens: [{ attack: 'alg-none', via: 'bearer', outcome: 'accepted', evidence: 'HTTP 200 as <admin>', verdict: 'declared', declared: 'GHSA' }, { attack: 'jku-header', via: 'bearer', outcome: 'refused', evidence: 'HTTP 401', verdict: 'passed' }],
    shapes: [{ route: 'POST /a', variant: 'head', outcome: 'accepted', evidence: 'e', verdict: 'failed' }, { route: 'POST /a', variant: 'options', outcome: 'refused', evidence: 'e', verdict: 'passed' }],
    routes: { total: 3, probed: 1, declared: 1, uncovered: ['GET /x'] },
    unauthenticated: [{ route: 'GET /health', outcome: 'public' }],
    checks: [{ title: 't', status: 'passed', seconds: 2.5 }],
  });
  expect(r.builtOn).toBe('2025-11-09');
  expect(Object.keys(r.versions!)).toEqual(['Authlib', 'Flask']);
  expect(r.summary).toMatchObject({ tokensAccepted: 1, tokensDeclared: 1, shapesAccepted: 1, shapesFailed: 1, routesUncovered: 1, checkSeconds: 2.5 });
  const html = renderSecurityHtml(r);
  expect(html).toContain('<tr class="declared"><td><code>alg-none</code>');
  expect(html).toContain('HTTP 200 as &lt;admin&gt;');
  expect(html.indexOf('Request shapes that got through')).toBeLessThan(html.indexOf('All 2 request shapes'));
});

test('a bump lists the attacks, shapes, leak routes and routes that open or close, ahead of the claims', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sec-bump-'));
  const side = (name: string, security: unknown, permissions: unknown) => {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'security.json'), JSON.stringify(security));
    writeFileSync(join(dir, name, 'permissions.json'), JSON.stringify(permissions));
    return join(dir, name);
  };
  const from = side('from', { tokens: [{ attack: 'alg-none', via: 'bearer', outcome: 'accepted', evidence: 'HTTP 200' }], shapes: [], unauthenticated: [], routes: { decisions: { 'GET /a': {}, 'GET /old': {} } } }, { routes: [{ route: 'GET /get-artifact', outcome: 'leaked', evidence: 'content' }] });
  const to = side('to', { tokens: [{ attack: 'alg-none', via: 'bearer', outcome: 'refused', evidence: 'HTTP 401' }], shapes: [{ route: 'POST /x', variant: 'head', outcome: 'accepted', evidence: 'HTTP 200' }], unauthenticated: [], routes: { decisions: { 'GET /a': {}, 'GET /new': {} } } }, { routes: [{ route: 'GET /get-artifact', outcome: 'denied', evidence: '403' }] });
  const d = securityDiff(from, to);
  expect(d.opened.map((c) => `${c.kind}: ${c.what}`)).toEqual(['request shape: POST /x as head']);
  expect(d.closed.map((c) => `${c.kind}: ${c.what}`)).toEqual(['token attack: alg-none via bearer', 'leak route: GET /get-artifact']);
  expect(d).toMatchObject({ routesAdded: ['GET /new'], routesRemoved: ['GET /old'], missing: [] });
  writeFileSync(join(dir, 'bump.md'), '# What the bump changed\n\n- **from:** a\n\n**2** claims changed verdict (**0** worse), **30** unchanged.\n');
  writeFileSync(join(dir, 'bump.json'), JSON.stringify({ changed: [] }));
  addSecurityToReports(dir, 'bump', d);
  const md = readFileSync(join(dir, 'bump.md'), 'utf8');
  expect(md.indexOf('## Security changes')).toBeLessThan(md.indexOf('claims changed verdict'));
  expect(Object.keys(JSON.parse(readFileSync(join(dir, 'bump.json'), 'utf8')))[0]).toBe('security');
  expect(securityLines(d)[0]).toBe('Security: 1 attacks or leaks open, 2 close; 1 routes added, 1 removed');
  rmSync(dir, { recursive: true, force: true });
});

test('a shape the router has no route for is refused without asking the owner; a handler\'s own 404 is asked', () => {
  const base = { kind: 'read' as const, variant: 'trailing-slash', base: 'denied' as const };
  const werkzeug = { status: 404, contentType: 'text/html', body: '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>' };
  expect(shapeOutcome({ ...base, attacker: { answer: werkzeug } })).toMatchObject({ outcome: 'refused', evidence: expect.stringContaining('router has no route') });
  expect(shapeOutcome({ ...base, attacker: { answer: json(405, { detail: 'Method Not Allowed' }) } }).outcome).toBe('refused');
  expect(shapeOutcome({ ...base, attacker: { answer: json(404, { error_code: 'RESOURCE_DOES_NOT_EXIST' }) } }).outcome).toBe('needs-control');
});
