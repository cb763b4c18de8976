import { z } from 'zod';
import { diffPackages, packageLine, type PackageChange } from './packages.ts';

/** The part of reports/conformance.json a comparison reads. */
export const ConformanceReport = z.object({
  target: z.string(),
  pins: z.record(z.string(), z.unknown()).optional(),
  generatedAt: z.string().optional(),
  /** How the run went apart from the claims (reports written before it existed have none). */
  run: z.object({
    status: z.string().optional(),
    wholeRun: z.boolean().optional(),
    setup: z.enum(['passed', 'failed', 'not-run']).optional(),
    errors: z.array(z.string()).default([]),
    /** Names (never values) of the stack's secrets `npm test` found in the run's outputs, and where. */
    secretsFound: z.array(z.object({ secret: z.string(), where: z.string() })).optional(),
    exitCode: z.number().optional(),
  }).optional(),
  claims: z.array(z.object({
    id: z.string(),
    text: z.string().optional(),
    verdict: z.enum(['passed', 'failed', 'differs', 'partial', 'uncovered', 'not-applicable']),
    checks: z.array(z.object({
      /** Stable id (`<spec file>#<slug>`); reports written before ids existed are matched by title. */
      id: z.string().optional(),
      title: z.string(),
      status: z.string(),
      error: z.string().optional(),
      skipReason: z.string().optional(),
      differences: z.array(z.string()).default([]),
      evidence: z.array(z.string()).default([]),
      observations: z.array(z.string()).default([]),
    })),
  })),
});
export type ConformanceReport = z.infer<typeof ConformanceReport>;
type Verdict = ConformanceReport['claims'][number]['verdict'];
type Check = ConformanceReport['claims'][number]['checks'][number];

export interface CheckChange {
  id: string;
  title: string;
  from: string;
  to: string;
  /** The check lost ground: it passed and now fails, did not run or is gone; or it failed and still fails. */
  worse: boolean;
  /** What the checks recorded on each side: the error, the declared differences, evidence and observations. */
  evidence: { from: string[]; to: string[] };
}

export interface ClaimChange {
  claim: string;
  text?: string;
  from: Verdict | 'absent';
  to: Verdict | 'absent';
  /** The claim got worse: its verdict dropped (passed → partial), it fails (failed → failed, or a new claim that fails), or one of its checks got worse. */
  worse: boolean;
  checks: CheckChange[];
}

export interface BumpReport {
  from: { pins: unknown; target: string };
  to: { pins: unknown; target: string };
  /** Why a side's run cannot be judged (setup failed, a secret found, errors outside the checks): then the exit code is 2. */
  unjudged: { from: string[]; to: string[] };
  changed: ClaimChange[];
  unchanged: string[];
  /** The Python packages whose versions differ between the two stacks, the ones that matter for a verdict first. */
  packages: PackageChange[];
}

const RANK: Record<Verdict, number> = { failed: 0, uncovered: 1, partial: 2, differs: 3, passed: 4, 'not-applicable': -1 };

/** A claim's verdict change is worse when it fails now, when it is new and not proven, or when its verdict dropped. */
export function worseVerdict(from: Verdict | 'absent', to: Verdict | 'absent'): boolean {
  if (to === 'failed') return true;
  if (to === 'absent') return from !== 'absent' && from !== 'not-applicable';
  if (from === 'absent') return to === 'uncovered' || to === 'partial';
  if (from === 'not-applicable' || to === 'not-applicable') return false;
  return RANK[to] < RANK[from];
}

const FAILING = new Set(['failed', 'timedOut', 'interrupted']);
const notApplicable = (c: Check | undefined) => c?.status === 'skipped' && !!c.skipReason?.startsWith('not-applicable');

/** A check got worse: passed → failed, skipped (not as not-applicable) or gone; failed → failed. */
export function worseCheck(x: Check | undefined, y: Check | undefined): boolean {
  if (y && FAILING.has(y.status)) return true;
  if (x?.status !== 'passed') return false;
  if (!y) return true;
  return y.status === 'skipped' && !notApplicable(y);
}

/** What a check said, as short lines: the error, the differences it observed, its evidence and observations. */
function said(c: Check | undefined): string[] {
  if (!c) return ['(no such check)'];
  return [
    ...(c.error ? [`error: ${c.error}`] : []),
    ...(c.skipReason ? [`skipped: ${c.skipReason}`] : []),
    ...c.differences.map((d) => `differs: ${d}`),
    ...c.evidence,
    ...c.observations.map((o) => `observed: ${o}`),
  ];
}

const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Why a run cannot be judged: its setup failed, errors occurred outside the checks, it was cut short, or secrets leaked. */
export function unjudgeable(r: ConformanceReport): string[] {
  const run = r.run;
  if (!run) return [];
  const why: string[] = [];
  if (run.setup === 'failed') why.push('the setup project failed (persona logins and tokens): the checks after it did not run');
  if (run.errors.length) why.push(`errors outside the checks: ${run.errors.slice(0, 3).join('; ')}`);
  if (run.status === 'interrupted' || run.status === 'timedout') why.push(`the run was ${run.status === 'timedout' ? 'timed out' : 'interrupted'}`);
  if (run.secretsFound?.length) why.push(`the stack's secrets appear in the run's outputs: ${[...new Set(run.secretsFound.map((s) => s.secret))].join(', ')}`);
  return why;
}

/**
 * The claims whose verdict or checks changed between two conformance reports, worst changes first, each with the
 * checks behind it whose status or recorded evidence changed. Checks are matched by their stable ids.
 */
export function diffReports(a: ConformanceReport, b: ConformanceReport): BumpReport {
  const byId = (r: ConformanceReport) => new Map(r.claims.map((c) => [c.id, c]));
  const A = byId(a);
  const B = byId(b);
  const ids = [...new Set([...A.keys(), ...B.keys()])].sort();
  const changed: ClaimChange[] = [];
  const unchanged: string[] = [];
  const keyOf = (c: Check) => c.id ?? c.title;
  for (const id of ids) {
    const ca = A.get(id);
    const cb = B.get(id);
    const from = ca?.verdict ?? 'absent';
    const to = cb?.verdict ?? 'absent';
    const checksA = new Map((ca?.checks ?? []).map((c) => [keyOf(c), c]));
    const checksB = new Map((cb?.checks ?? []).map((c) => [keyOf(c), c]));
    const checks: CheckChange[] = [];
    let statusChanged = false;
    for (const key of [...new Set([...checksA.keys(), ...checksB.keys()])]) {
      const x = checksA.get(key);
      const y = checksB.get(key);
      const ex = said(x);
      const ey = said(y);
      const worse = worseCheck(x, y);
      if (x?.status !== y?.status) statusChanged = true;
      if (worse || x?.status !== y?.status || !same(ex, ey)) {
        checks.push({ id: key, title: y?.title ?? x?.title ?? key, from: x?.status ?? 'absent', to: y?.status ?? 'absent', worse, evidence: { from: ex, to: ey } });
      }
    }
    checks.sort((x, y) => Number(y.worse) - Number(x.worse));
    const claimWorse = worseVerdict(from, to) || checks.some((c) => c.worse);
    // the same verdict for other reasons (another declared difference) is a change worth showing too
    const diffs = (c: typeof ca) => [...new Set((c?.checks ?? []).flatMap((k) => k.differences))].sort().join(',');
    if (from === to && diffs(ca) === diffs(cb) && !statusChanged && !claimWorse) {
      unchanged.push(id);
      continue;
    }
    changed.push({ claim: id, text: cb?.text ?? ca?.text, from, to, worse: claimWorse, checks });
  }
  changed.sort((x, y) => Number(y.worse) - Number(x.worse) || x.claim.localeCompare(y.claim));
  const versions = (p: unknown) => ((p ?? {}) as { versions?: Record<string, string> }).versions ?? {};
  const packages = diffPackages(versions(a.pins), versions(b.pins), Object.keys({ ...versions(a.pins), ...versions(b.pins) }));
  return { from: { pins: a.pins, target: a.target }, to: { pins: b.pins, target: b.target }, unjudged: { from: unjudgeable(a), to: unjudgeable(b) }, changed, unchanged, packages };
}

/** The exit code of bump and compare: 0 nothing got worse, 1 something did, 2 a run could not be judged. */
export function exitCodeOf(r: BumpReport): 0 | 1 | 2 {
  if (r.unjudged.from.length || r.unjudged.to.length) return 2;
  return r.changed.some((c) => c.worse) ? 1 : 0;
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function pinLine(p: unknown): string {
  const x = (p ?? {}) as Record<string, unknown>;
  return `\`${String(x.name ?? '?')}\` — MLflow ${String(x.mlflow ?? '?')}, mlflow-oidc-auth ${String(x.mlflowOidcAuth ?? '?')}` +
    `${x.generation ? ` (generation ${String(x.generation)})` : ''}${x.python ? `, Python ${String(x.python)}` : ''}${x.chart ? `, chart ${String(x.chart)}` : ''}${x.appName ? `, app ${String(x.appName)}` : ''}`;
}

/** `latest`: what it resolved to and the upstream releases it passed over. */
const upstreamOf = (p: unknown) => ((p ?? {}) as { upstream?: string[] }).upstream ?? [];

function settingLines(p: unknown): string[] {
  const changes = ((p ?? {}) as { settingChanges?: { change: string; reason: string }[] }).settingChanges ?? [];
  return [...changes.map((c) => `  - \`${c.change}\` — ${c.reason}`), ...upstreamOf(p).map((l) => `  - upstream: ${l}`)];
}

/** reports/bump.md: what the bump changed, the claims that got worse first. */
export function bumpMarkdown(r: BumpReport, title = 'What the bump changed'): string {
  const lines = [`# ${title}`, '', `- **from:** ${pinLine(r.from.pins)}`, ...settingLines(r.from.pins), `- **to:** ${pinLine(r.to.pins)}`, ...settingLines(r.to.pins), ''];
  const worseCount = r.changed.filter((c) => c.worse).length;
  for (const [side, why] of [['from', r.unjudged.from], ['to', r.unjudged.to]] as const) {
    if (why.length) lines.push(`**The ${side} run cannot be judged** (exit 2): ${why.join('; ')}`, '');
  }
  lines.push(`**${r.changed.length}** claims changed verdict (**${worseCount}** worse), **${r.unchanged.length}** unchanged.`, '');
  if (r.changed.length) {
    lines.push('| claim | from | to | checks behind it (from → to, evidence) |', '|---|---|---|---|');
    for (const c of r.changed) {
      const checks = c.checks.map((k) => `${k.worse ? '⚠ ' : ''}${k.from} → ${k.to}: ${esc(k.title)}${k.evidence.to.length ? `<br>&nbsp;&nbsp;now: ${esc(k.evidence.to.join('; '))}` : ''}${k.evidence.from.length ? `<br>&nbsp;&nbsp;was: ${esc(k.evidence.from.join('; '))}` : ''}`).join('<br>');
      lines.push(`| ${c.worse ? '⚠ ' : ''}${c.claim} | ${c.from} | ${c.to} | ${checks || '—'} |`);
    }
  }
  lines.push('', `Unchanged: ${r.unchanged.join(', ') || '—'}`, '');
  lines.push(`## Packages that changed (${r.packages.length})`, '', ...(r.packages.length ? r.packages.map((c) => `- ${c.key ? '**' : ''}${packageLine(c)}${c.key ? '**' : ''}`) : ['none']), '');
  return lines.join('\n');
}

/** reports/bump.html: the same tables for a browser. */
export function bumpHtml(r: BumpReport, title = 'What the bump changed'): string {
  const h = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const rows = r.changed.map((c) => `<tr class="${c.worse ? 'worse' : ''}"><td>${h(c.claim)}</td><td>${h(c.from)}</td><td>${h(c.to)}</td><td>${c.checks.map((k) =>
    `<div${k.worse ? ' class="worse"' : ''}><b>${h(k.from)} → ${h(k.to)}</b> ${h(k.title)}<ul>${k.evidence.to.map((e) => `<li>now: ${h(e)}</li>`).join('')}${k.evidence.from.map((e) => `<li>was: ${h(e)}</li>`).join('')}</ul></div>`).join('')}</td></tr>`).join('\n');
  return `<!doctype html><meta charset="utf-8"><title>${h(title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}tr.worse td{background:#fde2e2}div.worse b{color:#a00}p.unjudged{color:#a00}</style>
<h1>${h(title)}</h1><p><b>from:</b> ${h(pinLine(r.from.pins))}${upstreamOf(r.from.pins).map((l) => `<br>&nbsp;&nbsp;upstream: ${h(l)}`).join('')}<br><b>to:</b> ${h(pinLine(r.to.pins))}${upstreamOf(r.to.pins).map((l) => `<br>&nbsp;&nbsp;upstream: ${h(l)}`).join('')}</p>
${[...r.unjudged.from.map((w) => `from: ${w}`), ...r.unjudged.to.map((w) => `to: ${w}`)].map((w) => `<p class="unjudged"><b>cannot be judged</b> — ${h(w)}</p>`).join('\n')}
<table><tr><th>claim</th><th>from</th><th>to</th><th>checks</th></tr>
${rows}
</table><p>Unchanged: ${h(r.unchanged.join(', '))}</p>
<h2>Packages that changed (${r.packages.length})</h2><ul>${r.packages.map((c) => `<li>${c.key ? '<b>' : ''}${h(packageLine(c))}${c.key ? '</b>' : ''}</li>`).join('')}</ul>
`;
}
