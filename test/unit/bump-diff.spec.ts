import { test, expect } from '@playwright/test';
import { bumpMarkdown, diffReports, exitCodeOf, type ConformanceReport } from '../../provision/bump/diff.ts';

const check = (title: string, status: string, extra: Partial<ConformanceReport['claims'][number]['checks'][number]> = {}) =>
  ({ title, status, differences: [], evidence: [], observations: [], ...extra });

const report = (pins: string, claims: ConformanceReport['claims']): ConformanceReport => ({ target: 'local', pins: { name: pins, mlflow: '3.6.0', mlflowOidcAuth: '5.6.1' }, claims });

test('claims whose verdict changed come first, worse ones first, with the checks and evidence behind them', () => {
  const a = report('seed', [
    { id: 'C01', verdict: 'passed', checks: [check('[C01] app', 'passed')] },
    { id: 'C10', verdict: 'passed', checks: [check('[C10] sessions', 'passed')] },
    { id: 'C27', verdict: 'differs', checks: [check('[C27] traces', 'passed', { differences: ['trace-spans-not-stored'] })] },
    { id: 'C30', verdict: 'not-applicable', checks: [] },
  ]);
  const b = report('newest', [
    { id: 'C01', verdict: 'failed', checks: [check('[C01] app', 'failed', { error: 'expected 200, got 401' })] },
    { id: 'C10', verdict: 'differs', checks: [check('[C10] sessions', 'passed', { differences: ['sessions-not-cachelib'] })] },
    { id: 'C27', verdict: 'passed', checks: [check('[C27] traces', 'passed')] },
    { id: 'C30', verdict: 'not-applicable', checks: [] },
  ]);
  const d = diffReports(a, b);
  expect(d.changed.map((c) => [c.claim, c.from, c.to, c.worse])).toEqual([
    ['C01', 'passed', 'failed', true],
    ['C10', 'passed', 'differs', true],
    ['C27', 'differs', 'passed', false],
  ]);
  expect(d.changed[0]!.checks).toEqual([{ id: '[C01] app', title: '[C01] app', from: 'passed', to: 'failed', worse: true, evidence: { from: [], to: ['error: expected 200, got 401'] } }]);
  expect(d.unchanged).toEqual(['C30']);
  const md = bumpMarkdown(d);
  expect(md).toContain('| ⚠ C01 | passed | failed |');
  expect(md).toContain('**3** claims changed verdict (**2** worse)');
});

test('not-applicable is never worse, and identical reports have no change', () => {
  const a = report('x', [{ id: 'C02', verdict: 'passed', checks: [] }]);
  const b = report('y', [{ id: 'C02', verdict: 'not-applicable', checks: [] }]);
  expect(diffReports(a, b).changed[0]!.worse).toBe(false);
  expect(diffReports(a, a).changed).toEqual([]);
});

test('a claim that differs for another reason after the bump is shown, not as worse', () => {
  const a = report('x', [{ id: 'C13', verdict: 'differs', checks: [check('[C13] refused', 'passed', { differences: ['no-group-means-group-detection-error'] })] }]);
  const b = report('y', [{ id: 'C13', verdict: 'differs', checks: [check('[C13] refused', 'passed', { differences: ['login-error-wording'] })] }]);
  expect(diffReports(a, b).changed.map((c) => [c.claim, c.from, c.to, c.worse])).toEqual([['C13', 'differs', 'differs', false]]);
});

test('the `latest` side of a bump carries its upstream lines (what it resolved to, releases skipped or uncovered) under its pin line', () => {
  const a = report('image/Dockerfile', [{ id: 'C02', verdict: 'passed', checks: [] }]);
  const upstream = ['latest (https://pypi.org/simple/ as of 2026-12-05): MLflow 3.17.2 + mlflow-oidc-auth 11.0.2; skipped mlflow 3.18.0: mlflow-tracing==3.18.0 was not on the package index',
    'mlflow-oidc-auth 12.0.0 (2026-12-01) has no adapter: add one in provision/plugin/ — latest runs 11.0.2, the newest release an adapter covers'];
  const b: ConformanceReport = { ...report('latest', [{ id: 'C02', verdict: 'passed', checks: [] }]), pins: { name: 'latest', mlflow: '3.17.2', mlflowOidcAuth: '11.0.2', upstream } };
  const md = bumpMarkdown(diffReports(a, b)).split('\n');
  const to = md.findIndex((l) => l.startsWith('- **to:** `latest`'));
  expect(md.slice(to + 1, to + 3)).toEqual(upstream.map((l) => `  - upstream: ${l}`));
  expect(md.filter((l) => l.includes('upstream:'))).toHaveLength(2);
});

test('failed → failed is worse, and so is a new claim that fails; exit 1', () => {
  const a = report('x', [{ id: 'C16', verdict: 'failed', checks: [check('[C16] matrix', 'failed', { id: 'permissions/matrix.api#matrix-user-experiment', error: 'expected allowed' })] }]);
  const b = report('y', [
    { id: 'C16', verdict: 'failed', checks: [check('[C16] matrix (other counts)', 'failed', { id: 'permissions/matrix.api#matrix-user-experiment', error: 'expected allowed' })] },
    { id: 'C33', verdict: 'failed', checks: [check('[C33] new', 'failed')] },
  ]);
  const d = diffReports(a, b);
  expect(d.changed.map((c) => [c.claim, c.from, c.to, c.worse])).toEqual([['C16', 'failed', 'failed', true], ['C33', 'absent', 'failed', true]]);
  expect(exitCodeOf(d)).toBe(1);
  // checks are matched by their stable id, not by their titles' counts
  expect(d.changed[0]!.checks.map((c) => [c.id, c.from, c.to, c.worse])).toEqual([['permissions/matrix.api#matrix-user-experiment', 'failed', 'failed', true]]);
});

test('passed → skipped is worse even when the verdict does not show it; skipped as not-applicable is not; nothing worse: exit 0', () => {
  const api = check('[C17] mint', 'passed', { id: 'tokens/credentials.api#mint' });
  const ui = (status: string, skipReason?: string) => check('[C17] UI', status, { id: 'ui/access-key.browser#ui', ...(skipReason ? { skipReason } : {}) });
  const a = report('seed', [{ id: 'C17', verdict: 'passed', checks: [api, ui('passed')] }]);
  // an old reporter would still have said passed here: the check that skipped is what got worse
  const b = report('newest', [{ id: 'C17', verdict: 'passed', checks: [api, ui('skipped', 'uncovered: no browser check for this UI yet')] }]);
  const d = diffReports(a, b);
  expect(d.changed.map((c) => [c.claim, c.from, c.to, c.worse])).toEqual([['C17', 'passed', 'passed', true]]);
  expect(d.changed[0]!.checks.map((c) => [c.from, c.to, c.worse])).toEqual([['passed', 'skipped', true]]);
  expect(diffReports(a, report('newest', [{ id: 'C17', verdict: 'partial', checks: [api, ui('skipped', 'uncovered: …')] }])).changed[0]!.worse).toBe(true);
  const remote = report('remote', [{ id: 'C17', verdict: 'passed', checks: [api, ui('skipped', 'not-applicable: the remote target has no keycloakAdmin access')] }]);
  expect(diffReports(a, remote).changed[0]!.worse).toBe(false);
  expect(exitCodeOf(diffReports(a, remote))).toBe(0);
  expect(exitCodeOf(diffReports(a, a))).toBe(0);
});

test('a run that cannot be judged (setup failed, a secret found, errors outside the checks) exits 2', () => {
  const ok = report('x', [{ id: 'C01', verdict: 'passed', checks: [check('[C01] app', 'passed')] }]);
  const setupFailed = { ...ok, run: { status: 'failed', setup: 'failed' as const, errors: [] } };
  const leaked = { ...ok, run: { status: 'passed', setup: 'passed' as const, errors: [], secretsFound: [{ secret: 'secrets.clientSecret', where: 'reports/junit.xml' }] } };
  const broken = { ...ok, run: { status: 'failed', setup: 'passed' as const, errors: ['SyntaxError in specs/x.api.spec.ts'] } };
  for (const bad of [setupFailed, leaked, broken]) {
    const d = diffReports(ok, bad);
    expect(d.unjudged.to.length).toBe(1);
    expect(exitCodeOf(d)).toBe(2);
    expect(bumpMarkdown(d)).toContain('cannot be judged');
  }
  expect(exitCodeOf(diffReports(setupFailed, ok))).toBe(2);
});
