import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a bump changed for security, from the two runs' reports/security.json and reports/permissions.json: the
 * attacks (token attacks, request shapes), the audit's leak routes and the routes answering without credentials
 * that opened or closed, and the routes the server gained or lost. `npm run bump` lists these before the claims.
 */

export interface SecurityChange {
  kind: 'token attack' | 'request shape' | 'leak route' | 'without credentials';
  what: string;
  /** The evidence on the side where it works. */
  evidence: string;
}

export interface SecurityDiff {
  /** Works on the `to` side, not on the `from` side. */
  opened: SecurityChange[];
  /** Worked on the `from` side, no longer on the `to` side. */
  closed: SecurityChange[];
  routesAdded: string[];
  routesRemoved: string[];
  /** The reports one side lacks (the suite did not run the checks there). */
  missing: string[];
}

interface SideReports {
  security?: {
    tokens?: { attack: string; via: string; outcome: string; evidence: string }[];
    shapes?: { route: string; variant: string; outcome: string; evidence: string }[];
    unauthenticated?: { route: string; outcome: string; evidence?: string }[];
    routes?: { decisions?: Record<string, unknown> } | null;
  };
  permissions?: { routes?: { route: string; outcome: string; evidence: string }[] };
}

function read(dir: string, missing: string[], label: string): SideReports {
  const load = (f: string) => {
    const file = join(dir, f);
    if (!existsSync(file)) {
      missing.push(`${label}: ${f}`);
      return undefined;
    }
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  };
  return { security: load('security.json') as SideReports['security'], permissions: load('permissions.json') as SideReports['permissions'] };
}

/** Things that work on each side, keyed. */
function working(r: SideReports): Map<string, SecurityChange> {
  const out = new Map<string, SecurityChange>();
  for (const t of r.security?.tokens ?? []) if (t.outcome === 'accepted') out.set(`token ${t.attack} ${t.via}`, { kind: 'token attack', what: `${t.attack} via ${t.via}`, evidence: t.evidence });
  for (const s of r.security?.shapes ?? []) if (s.outcome === 'accepted') out.set(`shape ${s.route} ${s.variant}`, { kind: 'request shape', what: `${s.route} as ${s.variant}`, evidence: s.evidence });
  for (const l of r.permissions?.routes ?? []) if (l.outcome === 'leaked') out.set(`leak ${l.route}`, { kind: 'leak route', what: l.route, evidence: l.evidence });
  for (const u of r.security?.unauthenticated ?? []) if (u.outcome === 'accepted') out.set(`unauth ${u.route}`, { kind: 'without credentials', what: u.route, evidence: u.evidence ?? '' });
  return out;
}

export function securityDiff(fromDir: string, toDir: string): SecurityDiff {
  const missing: string[] = [];
  const a = read(fromDir, missing, 'from');
  const b = read(toDir, missing, 'to');
  const wa = working(a);
  const wb = working(b);
  const rank: SecurityChange['kind'][] = ['token attack', 'without credentials', 'leak route', 'request shape'];
  const order = (xs: SecurityChange[]) => xs.sort((x, y) => rank.indexOf(x.kind) - rank.indexOf(y.kind) || x.what.localeCompare(y.what));
  const ra = new Set(Object.keys(a.security?.routes?.decisions ?? {}));
  const rb = new Set(Object.keys(b.security?.routes?.decisions ?? {}));
  return {
    opened: order([...wb].filter(([k]) => !wa.has(k)).map(([, v]) => v)),
    closed: order([...wa].filter(([k]) => !wb.has(k)).map(([, v]) => v)),
    routesAdded: ra.size && rb.size ? [...rb].filter((k) => !ra.has(k)).sort() : [],
    routesRemoved: ra.size && rb.size ? [...ra].filter((k) => !rb.has(k)).sort() : [],
    missing,
  };
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const h = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The request shapes of one route in one line (`POST /x as head, double-slash`); the other kinds as they are. */
export function grouped(xs: SecurityChange[]): SecurityChange[] {
  const shapes = new Map<string, SecurityChange[]>();
  const out: SecurityChange[] = [];
  for (const c of xs) {
    if (c.kind !== 'request shape') {
      out.push(c);
      continue;
    }
    const route = c.what.slice(0, c.what.lastIndexOf(' as '));
    shapes.set(route, [...(shapes.get(route) ?? []), c]);
  }
  for (const [route, cs] of shapes) out.push({ kind: 'request shape', what: `${route} as ${cs.map((c) => c.what.slice(c.what.lastIndexOf(' as ') + 4)).join(', ')}`, evidence: cs[0]!.evidence });
  return out;
}

/** One line per change (a route's request shapes together), for the console. */
export function securityLines(d: SecurityDiff): string[] {
  return [
    `Security: ${d.opened.length} attacks or leaks open, ${d.closed.length} close; ${d.routesAdded.length} routes added, ${d.routesRemoved.length} removed`,
    ...grouped(d.opened).map((c) => `  ⚠ opens: ${c.kind} ${c.what}`),
    ...grouped(d.closed).map((c) => `  ✔ closes: ${c.kind} ${c.what}`),
    ...d.missing.map((m) => `  (no ${m})`),
  ];
}

export function securityMarkdown(d: SecurityDiff): string {
  const rows = (xs: SecurityChange[], mark: string) => grouped(xs).map((c) => `| ${mark} | ${c.kind} | \`${esc(c.what)}\` | ${esc(c.evidence)} |`);
  return [
    '## Security changes',
    '',
    `**${d.opened.length}** attacks or leak routes open, **${d.closed.length}** close (reports/bump/{from,to}/security.json and permissions.json).`,
    '',
    ...(d.opened.length + d.closed.length ? ['| | kind | what | evidence (where it works) |', '|---|---|---|---|', ...rows(d.opened, '⚠ opens'), ...rows(d.closed, '✔ closes'), ''] : []),
    `Routes added: ${d.routesAdded.length ? d.routesAdded.map((r) => `\`${r}\``).join(', ') : 'none'}`,
    '',
    `Routes removed: ${d.routesRemoved.length ? d.routesRemoved.map((r) => `\`${r}\``).join(', ') : 'none'}`,
    ...(d.missing.length ? ['', `Not compared (missing): ${d.missing.join(', ')}`] : []),
    '',
  ].join('\n');
}

export function securityHtml(d: SecurityDiff): string {
  const rows = (xs: SecurityChange[], mark: string, cls: string) => grouped(xs).map((c) => `<tr class="${cls}"><td>${mark}</td><td>${h(c.kind)}</td><td><code>${h(c.what)}</code></td><td>${h(c.evidence)}</td></tr>`).join('');
  return `<h2>Security changes</h2><p><b>${d.opened.length}</b> attacks or leak routes open, <b>${d.closed.length}</b> close.</p>
<table><tr><th></th><th>kind</th><th>what</th><th>evidence (where it works)</th></tr>${rows(d.opened, '⚠ opens', 'worse')}${rows(d.closed, '✔ closes', '')}</table>
<p>Routes added: ${h(d.routesAdded.join(', ') || 'none')}<br>Routes removed: ${h(d.routesRemoved.join(', ') || 'none')}</p>`;
}

/**
 * Puts the security changes into the bump's report files ahead of the claims: `security` in <base>.json, a section
 * before the claims table in <base>.md and <base>.html (written by the claim diff, which knows nothing of these).
 */
export function addSecurityToReports(dir: string, base: string, d: SecurityDiff): void {
  const file = (ext: string) => join(dir, `${base}.${ext}`);
  if (existsSync(file('json'))) {
    const report = JSON.parse(readFileSync(file('json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(file('json'), `${JSON.stringify({ security: d, ...report }, null, 2)}\n`);
  }
  if (existsSync(file('md'))) {
    const md = readFileSync(file('md'), 'utf8');
    const at = md.search(/^\*\*\d+\*\* claims changed/m);
    writeFileSync(file('md'), at >= 0 ? `${md.slice(0, at)}${securityMarkdown(d)}\n## Claims\n\n${md.slice(at)}` : `${md}\n${securityMarkdown(d)}`);
  }
  if (existsSync(file('html'))) {
    const html = readFileSync(file('html'), 'utf8');
    const at = html.indexOf('<table>');
    writeFileSync(file('html'), at >= 0 ? `${html.slice(0, at)}${securityHtml(d)}<h2>Claims</h2>${html.slice(at)}` : `${html}${securityHtml(d)}`);
  }
}
