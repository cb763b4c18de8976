import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { inRange } from '../provision/plugin/adapters.ts';
import { pep440Range } from './differences.ts';

/**
 * The permission matrix (specs/permissions/matrix.yaml) and the bypass audit's declared leaks
 * (specs/permissions/leaks.yaml) as data, their expansion into cases, the verdict of a case or a route, and
 * the report (reports/permissions.json and reports/permissions.html). Pure: the specs and the reporter use it.
 */

export const OPERATIONS = ['read', 'update', 'delete', 'manage'] as const;
export type Operation = (typeof OPERATIONS)[number];
export const LEVELS = ['READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS'] as const;
export type Level = (typeof LEVELS)[number];
export type Outcome = 'allowed' | 'denied';
const range = pep440Range;

/** One value or a list of them (a declaration may cover several cells). */
const list = <T extends z.ZodTypeAny>(t: T) => z.union([t, z.array(t).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

const Matrix = z.object({
  levels: z.record(z.enum(LEVELS), z.array(z.enum(OPERATIONS))),
  resources: z.record(z.string(), z.object({ family: z.string(), operations: z.array(z.enum(OPERATIONS)), how: z.string() }).strict()),
  grants: z.record(z.string(), z.object({
    text: z.string(),
    levels: z.array(z.enum(LEVELS)).min(1),
    expect: z.enum(['level', 'all']),
    claim: z.string().regex(/^C\d{2}$/),
  }).strict()),
  generations: z.array(z.object({
    plugin: range,
    grant: list(z.string()),
    level: list(z.enum(LEVELS)),
    resource: list(z.string()),
    operation: list(z.enum(OPERATIONS)),
    expected: z.enum(['allowed', 'denied']),
    reason: z.string(),
  }).strict()),
}).strict();
export type Matrix = z.infer<typeof Matrix>;

const here = dirname(fileURLToPath(import.meta.url));
export const matrixFile = join(here, '..', 'specs', 'permissions', 'matrix.yaml');
export const leaksFile = join(here, '..', 'specs', 'permissions', 'leaks.yaml');

export function parseMatrix(text: string): Matrix {
  const m = Matrix.parse(parse(text));
  for (const g of m.generations) {
    for (const grant of g.grant) if (!m.grants[grant]) throw new Error(`matrix generation cell names unknown grant ${grant}`);
    for (const r of g.resource) if (!m.resources[r]) throw new Error(`matrix generation cell names unknown resource ${r}`);
  }
  for (const [level] of Object.entries(m.levels)) if (!LEVELS.includes(level as Level)) throw new Error(`unknown level ${level}`);
  return m;
}

export const loadMatrix = (file = matrixFile) => parseMatrix(readFileSync(file, 'utf8'));

export interface MatrixCase {
  /** Stable id: grant/level/resource/operation. */
  id: string;
  grant: string;
  level: Level;
  resource: string;
  family: string;
  operation: Operation;
  claim: string;
  /** From the documented semantics. */
  documented: Outcome;
  /** What the pins under test are declared to do (equals `documented` unless a generation declares otherwise). */
  expected: Outcome;
  /** The reason of the generation's declaration, when there is one. */
  declared?: string;
}

/** One generated check: a grant path at one level on one resource family, with the cases it decides. */
export interface MatrixCheck {
  grant: string;
  level: Level;
  family: string;
  claim: string;
  cases: MatrixCase[];
}

/** Every case of the matrix for the given plugin version (declared generation cells applied). */
export function expandMatrix(m: Matrix, pluginVersion: string): MatrixCheck[] {
  const checks: MatrixCheck[] = [];
  const families = [...new Set(Object.values(m.resources).map((r) => r.family))];
  for (const [grant, g] of Object.entries(m.grants)) {
    for (const level of g.levels) {
      for (const family of families) {
        const cases: MatrixCase[] = [];
        for (const [resource, r] of Object.entries(m.resources)) {
          if (r.family !== family) continue;
          for (const operation of r.operations) {
            const documented: Outcome = g.expect === 'all' || (m.levels[level] ?? []).includes(operation) ? 'allowed' : 'denied';
            // a declaration covers the cells of its lists whose documented outcome it changes
            const decl = m.generations.find((x) => x.expected !== documented && x.grant.includes(grant) && x.level.includes(level) && x.resource.includes(resource)
              && x.operation.includes(operation) && inRange(pluginVersion, x.plugin.trim()));
            cases.push({
              id: `${grant}/${level}/${resource}/${operation}`, grant, level, resource, family, operation, claim: g.claim, documented,
              expected: decl?.expected ?? documented, ...(decl ? { declared: decl.reason } : {}),
            });
          }
        }
        checks.push({ grant, level, family, claim: g.claim, cases });
      }
    }
  }
  return checks;
}

export type CaseVerdict = 'passed' | 'failed' | 'declared';

/** What the server answered an operation: allowed (2xx), denied (401/403) or something else (an error, e.g. 404/500). */
export function observedOf(status: number): Outcome | `error ${number}` {
  if (status >= 200 && status < 300) return 'allowed';
  if (status === 401 || status === 403) return 'denied';
  return `error ${status}`;
}

/**
 * The verdict of one case: `passed` when the outcome is the documented one and nothing is declared,
 * `declared` when a generation's declared outcome occurred, `failed` otherwise (including a declaration that
 * no longer occurs: the documented outcome came back).
 */
export function caseVerdict(c: Pick<MatrixCase, 'documented' | 'expected' | 'declared'>, observed: string): CaseVerdict {
  if (observed !== c.expected) return 'failed';
  return c.declared !== undefined ? 'declared' : 'passed';
}

// ---------------------------------------------------------------------------------------------------------
// Bypass audit

/**
 * `denied` (401/403) · `filtered` (answered without the data, nothing changed) · `leaked` (the data seen, or the owner
 * reads the change) · `broken` (the owner's own request failed: nothing proven) · `error` (any other answer).
 */
export type RouteOutcome = 'denied' | 'filtered' | 'leaked' | 'broken' | 'error';

const Leak = z.object({
  route: z.string(),
  plugin: range,
  data: z.string(),
  reason: z.string(),
}).strict();
export type Leak = z.infer<typeof Leak>;

export function parseLeaks(text: string): Leak[] {
  return z.object({ leaks: z.array(Leak) }).strict().parse(parse(text)).leaks;
}
export const loadLeaks = (file = leaksFile) => parseLeaks(readFileSync(file, 'utf8'));

export type RouteVerdict = 'passed' | 'failed' | 'declared';

/**
 * The verdict of one audited route: a leak passes only as `declared` (declared for the pins); an undeclared
 * leak fails; a declared leak that no longer leaks fails too, asking to remove the declaration.
 */
export function routeVerdict(route: string, outcome: RouteOutcome, leaks: Leak[], pluginVersion: string): { verdict: RouteVerdict; message?: string } {
  const decl = leaks.find((l) => l.route === route && inRange(pluginVersion, l.plugin.trim()));
  if (outcome === 'broken') return { verdict: 'failed', message: `${route}: the probe's positive control failed (the owner's own request), so its outcome proves nothing — has the route changed?` };
  if (outcome === 'error') return { verdict: 'failed', message: `${route}: answered neither a refusal (401/403) nor without the data while the owner's request works` };
  if (outcome === 'leaked') {
    return decl ? { verdict: 'declared' } : { verdict: 'failed', message: `undeclared leak on ${route}: declare it in specs/permissions/leaks.yaml for mlflow-oidc-auth ${pluginVersion}` };
  }
  if (decl) return { verdict: 'failed', message: `declared leak on ${route} no longer occurs (${outcome}) with mlflow-oidc-auth ${pluginVersion}: remove or narrow it in specs/permissions/leaks.yaml` };
  return { verdict: 'passed' };
}

// ---------------------------------------------------------------------------------------------------------
// Report

export interface ReportCase {
  id: string;
  resource: string;
  operation: string;
  grant: string;
  level: string;
  expected: string;
  observed: string;
  verdict: CaseVerdict;
  claim?: string;
  declared?: string;
}
export interface ReportRoute {
  route: string;
  outcome: RouteOutcome;
  evidence: string;
  verdict?: RouteVerdict;
}
export interface PermissionsReport {
  pins: unknown;
  /** When the stack's image was built and the versions it runs (from the pins). */
  baseBuiltOn?: string;
  builtOn?: string;
  versions?: Record<string, string>;
  generatedAt?: string;
  summary?: Record<string, number>;
  cases: ReportCase[];
  routes: ReportRoute[];
}

export function buildReport(pins: unknown, cases: ReportCase[], routes: ReportRoute[]): PermissionsReport {
  const sorted = [...cases].sort((a, b) => a.id.localeCompare(b.id));
  const count = (xs: { verdict?: string }[], v: string) => xs.filter((x) => x.verdict === v).length;
  const built = (pins ?? {}) as { baseBuiltOn?: string; builtOn?: string; versions?: Record<string, string> };
  return {
    pins,
    baseBuiltOn: built.baseBuiltOn,
    builtOn: built.builtOn,
    versions: built.versions,
    generatedAt: new Date().toISOString(),
    summary: {
      cases: cases.length,
      passed: count(cases, 'passed'),
      failed: count(cases, 'failed'),
      declared: count(cases, 'declared'),
      routes: routes.length,
      denied: routes.filter((r) => r.outcome === 'denied').length,
      filtered: routes.filter((r) => r.outcome === 'filtered').length,
      leaked: routes.filter((r) => r.outcome === 'leaked').length,
      broken: routes.filter((r) => r.outcome === 'broken').length,
      error: routes.filter((r) => r.outcome === 'error').length,
    },
    cases: sorted,
    routes: [...routes].sort((a, b) => a.route.localeCompare(b.route)),
  };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The matrix page: rows = grant path × level, columns = resource × operation; then the audited routes. */
export function renderHtml(report: PermissionsReport): string {
  const rows = [...new Map(report.cases.map((c) => [`${c.grant} × ${c.level}`, { grant: c.grant, level: c.level }])).entries()];
  const columns = [...new Map(report.cases.map((c) => [`${c.resource}/${c.operation}`, { resource: c.resource, operation: c.operation }])).entries()];
  const byKey = new Map(report.cases.map((c) => [`${c.grant}|${c.level}|${c.resource}|${c.operation}`, c]));
  const resources = [...new Set(columns.map(([, c]) => c.resource))];
  const cell = (c: ReportCase | undefined) => {
    if (!c) return '<td class="none"></td>';
    const mark = c.verdict === 'declared' ? '◆ ' : c.verdict === 'failed' ? '✖ ' : '';
    const title = `${c.id}: expected ${c.expected}, observed ${c.observed}${c.declared ? ` — declared: ${c.declared}` : ''}`;
    return `<td class="${c.verdict}" title="${esc(title)}">${mark}${esc(c.observed === 'allowed' ? '✔' : c.observed === 'denied' ? '✗' : c.observed)}</td>`;
  };
  const pins = esc(JSON.stringify(report.pins ?? {}));
  const s = report.summary ?? {};
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Permission matrix</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid #ccc;padding:2px 5px;text-align:center}th.row{text-align:left;white-space:nowrap}
td.passed{background:#c8f0c8}td.failed{background:#f4a6a6;font-weight:bold}td.declared{background:#ffe08a}
td.none{background:#eee}.leaked{background:#ffe08a}.denied,.filtered{background:#c8f0c8}.bad{background:#f4a6a6}
code{font-size:11px}
</style></head><body>
<h1>Permission matrix</h1>
<p>Pins: <code>${pins}</code></p>
<p>${s.cases ?? 0} cases: ${s.passed ?? 0} passed, ${s.failed ?? 0} failed, ${s.declared ?? 0} declared · ${s.routes ?? 0} audited routes: ${s.denied ?? 0} denied, ${s.filtered ?? 0} filtered, ${s.leaked ?? 0} leaked.
Cell: ✔ allowed, ✗ denied (what the server did); green = as expected, red = not, ◆ yellow = a declared per-generation finding. Hover for details.</p>
<table>
<tr><th rowspan="2">grant × level</th>${resources.map((r) => `<th colspan="${columns.filter(([, c]) => c.resource === r).length}">${esc(r)}</th>`).join('')}</tr>
<tr>${columns.map(([, c]) => `<th>${esc(c.operation)}</th>`).join('')}</tr>
${rows.map(([label, r]) => `<tr><th class="row">${esc(label)}</th>${columns.map(([, c]) => cell(byKey.get(`${r.grant}|${r.level}|${c.resource}|${c.operation}`))).join('')}</tr>`).join('\n')}
</table>
<h2>Bypass audit</h2>
<p>A user with NO_PERMISSIONS on another user's experiment, model and prompt tries every route. <b>denied</b>: refused; <b>filtered</b>: answered without the protected data; <b>leaked</b>: the data was seen or changed (each leak must be declared in specs/permissions/leaks.yaml).</p>
<table><tr><th>route</th><th>outcome</th><th>verdict</th><th>evidence</th></tr>
${report.routes.map((r) => `<tr><td class="row"><code>${esc(r.route)}</code></td><td class="${r.outcome}">${r.outcome}</td><td class="${r.verdict === 'failed' ? 'bad' : r.verdict ?? ''}">${esc(r.verdict ?? '')}</td><td style="text-align:left">${esc(r.evidence)}</td></tr>`).join('\n')}
</table>
</body></html>
`;
}
