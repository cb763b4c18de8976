import { test, expect } from '@playwright/test';
import { buildReport, caseVerdict, expandMatrix, loadLeaks, loadMatrix, observedOf, parseLeaks, parseMatrix, renderHtml, routeVerdict } from '../../conformance/permissions.ts';

const small = `
levels: { READ: [read], EDIT: [read, update], MANAGE: [read, update, delete, manage], NO_PERMISSIONS: [] }
resources:
  experiment: { family: experiment, operations: [read, update, delete, manage], how: x }
  run: { family: experiment, operations: [read, update, delete], how: x }
  prompt: { family: prompt, operations: [read, update], how: x }
grants:
  user: { text: t, levels: [READ, NO_PERMISSIONS], expect: level, claim: C16 }
  admin: { text: t, levels: [NO_PERMISSIONS], expect: all, claim: C14 }
generations:
  - { plugin: ">=6.0.0", grant: user, level: [READ, NO_PERMISSIONS], resource: prompt, operation: [read, update], expected: allowed, reason: because }
`;

test('the matrix expands to one check per grant × level × family, each cell expected from the level (or all for admins)', () => {
  const checks = expandMatrix(parseMatrix(small), '5.6.1');
  expect(checks.map((c) => `${c.grant}/${c.level}/${c.family}`)).toEqual(['user/READ/experiment', 'user/READ/prompt', 'user/NO_PERMISSIONS/experiment', 'user/NO_PERMISSIONS/prompt', 'admin/NO_PERMISSIONS/experiment', 'admin/NO_PERMISSIONS/prompt']);
  const read = checks[0]!;
  expect(read.cases.map((c) => `${c.resource}/${c.operation}=${c.expected}`)).toEqual([
    'experiment/read=allowed', 'experiment/update=denied', 'experiment/delete=denied', 'experiment/manage=denied', 'run/read=allowed', 'run/update=denied', 'run/delete=denied',
  ]);
  expect(checks[4]!.cases.every((c) => c.expected === 'allowed' && c.claim === 'C14')).toBe(true);
  expect(checks.flatMap((c) => c.cases).filter((c) => c.declared)).toEqual([]);
});

test('a generation declaration changes only the cells of its range whose documented outcome it contradicts', () => {
  const cases = expandMatrix(parseMatrix(small), '7.3.1').flatMap((c) => c.cases).filter((c) => c.declared);
  // READ/prompt/read is documented `allowed` already: not declared
  expect(cases.map((c) => c.id)).toEqual(['user/READ/prompt/update', 'user/NO_PERMISSIONS/prompt/read', 'user/NO_PERMISSIONS/prompt/update']);
  expect(cases.every((c) => c.documented === 'denied' && c.expected === 'allowed' && c.declared === 'because')).toBe(true);
});

test('a case passes when the documented outcome is observed, is `declared` when a declared one is, and fails otherwise', () => {
  expect(observedOf(200)).toBe('allowed');
  expect(observedOf(403)).toBe('denied');
  expect(observedOf(401)).toBe('denied');
  expect(observedOf(404)).toBe('error 404');
  expect(caseVerdict({ documented: 'denied', expected: 'denied' }, 'denied')).toBe('passed');
  expect(caseVerdict({ documented: 'denied', expected: 'denied' }, 'allowed')).toBe('failed');
  expect(caseVerdict({ documented: 'denied', expected: 'denied' }, 'error 500')).toBe('failed');
  expect(caseVerdict({ documented: 'denied', expected: 'allowed', declared: 'r' }, 'allowed')).toBe('declared');
  // the declared behaviour is gone (the documented outcome came back): the declaration must go
  expect(caseVerdict({ documented: 'denied', expected: 'allowed', declared: 'r' }, 'denied')).toBe('failed');
});

test('an audited route: a leak passes only when declared for the pins, and a declared leak that stopped leaking fails', () => {
  const leaks = parseLeaks('leaks:\n  - { route: "GET /get-artifact", plugin: "<6.0.0", data: content, reason: r }\n');
  expect(routeVerdict('GET /get-artifact', 'leaked', leaks, '5.6.1')).toEqual({ verdict: 'declared' });
  expect(routeVerdict('GET /get-artifact', 'leaked', leaks, '11.0.2').verdict).toBe('failed');
  expect(routeVerdict('GET /get-artifact', 'denied', leaks, '5.6.1')).toMatchObject({ verdict: 'failed', message: expect.stringContaining('no longer occurs') });
  expect(routeVerdict('GET /get-artifact', 'denied', leaks, '11.0.2')).toEqual({ verdict: 'passed' });
  expect(routeVerdict('POST /graphql', 'filtered', leaks, '5.6.1')).toEqual({ verdict: 'passed' });
});

test('the report counts cases and routes, and the page has one row per grant × level and a cell per resource × operation', () => {
  const cases = [
    { id: 'user/READ/experiment/read', resource: 'experiment', operation: 'read', grant: 'user', level: 'READ', expected: 'allowed', observed: 'allowed', verdict: 'passed' as const },
    { id: 'user/READ/experiment/update', resource: 'experiment', operation: 'update', grant: 'user', level: 'READ', expected: 'denied', observed: 'allowed', verdict: 'failed' as const },
    { id: 'group/EDIT/prompt/read', resource: 'prompt', operation: 'read', grant: 'group', level: 'EDIT', expected: 'allowed', observed: 'allowed', verdict: 'declared' as const, declared: 'a <reason>' },
  ];
  const report = buildReport({ mlflowOidcAuth: '5.6.1' }, cases, [{ route: 'GET /get-artifact', outcome: 'leaked', evidence: 'HTTP 200: content', verdict: 'declared' }]);
  expect(report.summary).toMatchObject({ cases: 3, passed: 1, failed: 1, declared: 1, routes: 1, leaked: 1 });
  const html = renderHtml(report);
  expect(html.match(/<th class="row">/g)).toHaveLength(2);
  expect(html).toContain('<td class="failed"');
  expect(html).toContain('<td class="declared" title="group/EDIT/prompt/read: expected allowed, observed allowed — declared: a &lt;reason&gt;">◆ ✔</td>');
  expect(html).toContain('<td class="none"></td>');
  expect(html).toContain('<td class="leaked">leaked</td>');
});

test('the shipped matrix and leak declarations are valid and the matrix has more cases than the plugin\'s own 61-row plan', () => {
  for (const v of ['5.6.1', '7.3.1', '11.0.2']) {
    const cases = expandMatrix(loadMatrix(), v).flatMap((c) => c.cases);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    expect(cases.length).toBeGreaterThan(61);
  }
  expect(loadLeaks().length).toBeGreaterThan(0);
});

test('the shipped declarations per plugin generation: 18 prompt-regex cells on 5.x and 7.x, none on 11.x; leaks 29 / 17 / 0', () => {
  const declared = (v: string) => expandMatrix(loadMatrix(), v).flatMap((c) => c.cases).filter((c) => c.declared).length;
  expect([declared('5.6.1'), declared('7.3.1'), declared('11.0.2')]).toEqual([18, 18, 0]);
  const leaks = loadLeaks();
  const routes = [...new Set(leaks.map((l) => l.route))];
  const count = (v: string) => routes.filter((r) => routeVerdict(r, 'leaked', leaks, v).verdict === 'declared').length;
  expect([count('5.6.1'), count('7.3.1'), count('11.0.2')]).toEqual([29, 17, 0]);
  // every declared leak names the data seen
  expect(leaks.every((l) => l.data.length > 0 && l.route.length > 0)).toBe(true);
});
