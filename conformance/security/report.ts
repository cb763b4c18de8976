import type { Outcome } from './outcomes.ts';
import type { SecurityVerdict } from './declarations.ts';

/**
 * reports/security.json and reports/security.html: what the adversarial checks tried on the stack as it was built
 * (its pins, build date and the security-relevant versions it runs) — token attacks, request shapes, the route
 * inventory with each route's decision, and the sweep without credentials. Pure: the reporter collects, this builds.
 */

export interface TokenRow {
  attack: string;
  via: string;
  outcome: Outcome;
  evidence: string;
  verdict?: SecurityVerdict;
  declared?: string;
}
export interface ShapeRow {
  route: string;
  variant: string;
  outcome: Outcome;
  evidence: string;
  verdict?: SecurityVerdict;
  declared?: string;
}
export interface RoutesSection {
  source?: string;
  total: number;
  probed: number;
  declared: number;
  uncovered: string[];
  decisions?: Record<string, { decision: string; by: string }>;
}
export interface UnauthenticatedRow {
  route: string;
  outcome: string;
  evidence?: string;
}
export interface CheckTime {
  title: string;
  status: string;
  seconds: number;
}

export interface SecurityReport {
  pins: unknown;
  builtOn?: string;
  versions?: Record<string, string>;
  versionsSource?: string;
  generatedAt: string;
  summary: Record<string, number>;
  tokens: TokenRow[];
  shapes: ShapeRow[];
  routes: RoutesSection | null;
  unauthenticated: UnauthenticatedRow[];
  /** The security checks and their durations (the time they add to the suite, against its 30 s budget). */
  checks: CheckTime[];
}

/** The versions that decide an attack's fate, shown first (the rest of `versions` follows). */
export const SECURITY_PACKAGES = ['mlflow-oidc-auth', 'MLflow', 'Authlib', 'joserfc', 'Flask', 'Werkzeug', 'FastAPI', 'Starlette'];

export function buildSecurityReport(input: { pins: unknown; tokens: TokenRow[]; shapes: ShapeRow[]; routes: RoutesSection | null; unauthenticated: UnauthenticatedRow[]; checks: CheckTime[] }): SecurityReport {
  const p = (input.pins ?? {}) as { builtOn?: string; versions?: Record<string, string>; versionsSource?: string };
  const n = <T extends { outcome: string }>(xs: T[], o: string) => xs.filter((x) => x.outcome === o).length;
  const v = <T extends { verdict?: string }>(xs: T[], o: string) => xs.filter((x) => x.verdict === o).length;
  const versions = p.versions ? Object.fromEntries([...SECURITY_PACKAGES.filter((k) => k in p.versions!).map((k) => [k, p.versions![k]!] as const), ...Object.entries(p.versions).filter(([k]) => !SECURITY_PACKAGES.includes(k))]) : undefined;
  return {
    pins: input.pins,
    builtOn: p.builtOn,
    versions,
    versionsSource: p.versionsSource,
    generatedAt: new Date().toISOString(),
    summary: {
      tokenAttacks: input.tokens.length,
      tokensAccepted: n(input.tokens, 'accepted'),
      tokensDeclared: v(input.tokens, 'declared'),
      tokensFailed: v(input.tokens, 'failed'),
      tokensNotApplicable: n(input.tokens, 'not-applicable'),
      shapes: input.shapes.length,
      shapesAccepted: n(input.shapes, 'accepted'),
      shapesFailed: v(input.shapes, 'failed'),
      shapesBroken: n(input.shapes, 'broken'),
      shapesError: n(input.shapes, 'error'),
      routes: input.routes?.total ?? 0,
      routesProbed: input.routes?.probed ?? 0,
      routesDeclared: input.routes?.declared ?? 0,
      routesUncovered: input.routes?.uncovered.length ?? 0,
      unauthenticated: input.unauthenticated.length,
      unauthenticatedAnswered: input.unauthenticated.filter((u) => u.outcome === 'accepted' || u.outcome === 'error').length,
      checkSeconds: Math.round(input.checks.reduce((s, c) => s + c.seconds, 0) * 10) / 10,
    },
    tokens: [...input.tokens].sort((a, b) => a.via.localeCompare(b.via) || a.attack.localeCompare(b.attack)),
    shapes: [...input.shapes].sort((a, b) => a.route.localeCompare(b.route) || a.variant.localeCompare(b.variant)),
    routes: input.routes,
    unauthenticated: [...input.unauthenticated].sort((a, b) => a.route.localeCompare(b.route)),
    checks: input.checks,
  };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const cls = (verdict?: string, outcome?: string) => (verdict === 'failed' ? 'bad' : verdict === 'declared' ? 'declared' : outcome === 'not-applicable' ? 'na' : 'ok');

/** The page: versions, then what got through, then everything tried. */
export function renderSecurityHtml(r: SecurityReport): string {
  const s = r.summary;
  const pins = (r.pins ?? {}) as Record<string, unknown>;
  const versions = Object.entries(r.versions ?? {}).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('');
  const tokenRows = r.tokens.map((t) => `<tr class="${cls(t.verdict, t.outcome)}"><td><code>${esc(t.attack)}</code></td><td>${esc(t.via)}</td><td>${esc(t.outcome)}</td><td>${esc(t.verdict ?? '')}</td><td>${esc(t.evidence)}${t.declared ? `<br><i>declared: ${esc(t.declared)}</i>` : ''}</td></tr>`).join('\n');
  const through = r.shapes.filter((x) => x.outcome !== 'refused');
  const shapeRows = (xs: ShapeRow[]) => xs.map((x) => `<tr class="${cls(x.verdict, x.outcome)}"><td><code>${esc(x.route)}</code></td><td>${esc(x.variant)}</td><td>${esc(x.outcome)}</td><td>${esc(x.verdict ?? '')}</td><td>${esc(x.evidence)}${x.declared ? `<br><i>declared: ${esc(x.declared)}</i>` : ''}</td></tr>`).join('\n');
  const decisions = Object.entries(r.routes?.decisions ?? {}).map(([k, d]) => `<tr class="${d.decision === 'uncovered' ? 'bad' : ''}"><td><code>${esc(k)}</code></td><td>${esc(d.decision)}</td><td>${esc(d.by)}</td></tr>`).join('\n');
  const unauth = r.unauthenticated.filter((u) => u.outcome !== 'refused').map((u) => `<tr class="${u.outcome === 'accepted' || u.outcome === 'error' ? 'bad' : ''}"><td><code>${esc(u.route)}</code></td><td>${esc(u.outcome)}</td><td>${esc(u.evidence ?? '')}</td></tr>`).join('\n');
  const head = (...h: string[]) => `<tr>${h.map((x) => `<th>${x}</th>`).join('')}</tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Security checks</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse;font-size:12px;margin-bottom:1rem}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}tr.bad td{background:#f4a6a6}
tr.declared td{background:#ffe08a}tr.na td{color:#777}code{font-size:11px}
</style></head><body>
<h1>Security checks</h1>
<p>Pins <code>${esc(String(pins.name ?? '?'))}</code>: MLflow ${esc(String(pins.mlflow ?? '?'))}, mlflow-oidc-auth ${esc(String(pins.mlflowOidcAuth ?? '?'))}; image built ${esc(r.builtOn ?? '?')}.</p>
<table>${versions}</table>
<p>${r.versionsSource ? `Versions: ${esc(r.versionsSource)}.` : ''}</p>
<p><b>${s.tokensAccepted}</b> of ${s.tokenAttacks} token attacks work (${s.tokensDeclared} declared, ${s.tokensFailed} failed, ${s.tokensNotApplicable} not applicable) ·
<b>${s.shapesAccepted}</b> of ${s.shapes} request shapes get through (${s.shapesFailed} failed, ${s.shapesBroken} broken, ${s.shapesError} error) ·
${s.routes} routes: ${s.routesProbed} probed, ${s.routesDeclared} declared, <b>${s.routesUncovered}</b> uncovered ·
without credentials: ${s.unauthenticatedAnswered} of ${s.unauthenticated} answered · the checks took ${s.checkSeconds} s.</p>
<p>Red: failed (an attack that works and is not declared, a declared one that stopped working, a broken control, an error). Yellow: works, declared (specs/security/declared.yaml, specs/permissions/leaks.yaml).</p>
<h2>Token attacks</h2>
<table>${head('attack', 'via', 'outcome', 'verdict', 'evidence')}
${tokenRows}</table>
<h2>Request shapes that got through</h2>
<table>${head('route', 'variant', 'outcome', 'verdict', 'evidence')}
${shapeRows(through)}</table>
<details><summary>All ${r.shapes.length} request shapes</summary><table>${head('route', 'variant', 'outcome', 'verdict', 'evidence')}
${shapeRows(r.shapes)}</table></details>
<h2>Routes</h2>
<p>${r.routes ? `${r.routes.total} route × method pairs, read from ${esc(r.routes.source ?? '?')}: ${r.routes.probed} probed, ${r.routes.declared} declared, ${r.routes.uncovered.length} uncovered.` : 'The route inventory did not run.'}</p>
<details><summary>Every route's decision</summary><table>${head('route', 'decision', 'by / reason')}
${decisions}</table></details>
<h2>Without credentials</h2>
<p>${r.unauthenticated.length} routes tried; the ones not refused:</p>
<table>${head('route', 'outcome', 'answer')}
${unauth}</table>
<h2>Time</h2>
<table>${head('check', 'status', 'seconds')}
${r.checks.map((c) => `<tr><td>${esc(c.title)}</td><td>${esc(c.status)}</td><td>${c.seconds}</td></tr>`).join('\n')}</table>
</body></html>
`;
}
