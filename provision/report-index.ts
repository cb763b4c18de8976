import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * reports/index.html: one page per run, to start from. The verdict of each claim, a link to every report the run wrote
 * (those that exist), the runs it is made of (a bump's two suites), and the gallery of the UI checks' screenshots.
 */

/** Reports a run may write, in the order a reader wants them: file (relative to the run's folder) and what it is. */
export const KNOWN_REPORTS: { file: string; title: string }[] = [
  { file: 'conformance.md', title: 'Conformance: verdict and checks per claim' },
  { file: 'conformance.json', title: 'Conformance (data)' },
  { file: 'html/index.html', title: 'Playwright report: every check, its steps, screenshots and attachments' },
  { file: 'permissions.html', title: 'Permission matrix and bypass audit' },
  { file: 'permissions.json', title: 'Permission matrix (data)' },
  { file: 'security.html', title: 'Security report' },
  { file: 'security.md', title: 'Security report' },
  { file: 'security.json', title: 'Security report (data)' },
  { file: 'bump.html', title: 'Bump: what changed between the two pin sets, with the UI before and after' },
  { file: 'bump.md', title: 'Bump (markdown)' },
  { file: 'bump.json', title: 'Bump (data)' },
  { file: 'compare.html', title: 'Comparison of two conformance reports' },
  { file: 'compare.md', title: 'Comparison (markdown)' },
  { file: 'chart-parity.json', title: 'Chart parity: the chart\'s mlflow container against the local target' },
  { file: 'bench.json', title: 'Bench: where the time of one npm test went' },
  { file: 'timings.json', title: 'Timings of this run (provision, suite, teardown)' },
  { file: 'controls.json', title: 'Negative controls' },
  { file: 'scenarios.json', title: 'Troubleshooting scenarios' },
  { file: 'diagnostics/diagnosis.json', title: 'Diagnostics of the failed run (component logs, configuration, traces)' },
  { file: 'junit.xml', title: 'JUnit XML' },
  { file: 'k3d-plan.txt', title: 'k3d plan (dry run)' },
];

interface Claim {
  id: string;
  text?: string;
  verdict: string;
  checks: { title: string; status: string }[];
}
interface CheckShots {
  title: string;
  status?: string;
  steps: { step: string; file: string; failed?: boolean }[];
}

const h = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const COLOURS: Record<string, string> = { passed: '#d9f2d9', differs: '#fff2cc', failed: '#f8d0d0', uncovered: '#e6e6e6', 'not-applicable': '#f2f2f2' };

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The reports present in a run's folder: the known ones first, then any other top-level HTML page; each with its time. */
export function presentReports(dir: string): { file: string; title: string; written: number }[] {
  const known = KNOWN_REPORTS.filter((r) => existsSync(join(dir, r.file)));
  const others = existsSync(dir)
    ? readdirSync(dir).filter((f) => f.endsWith('.html') && f !== 'index.html' && !known.some((k) => k.file === f)).map((f) => ({ file: f, title: f }))
    : [];
  return [...known, ...others].map((r) => ({ ...r, written: statSync(join(dir, r.file)).mtimeMs }));
}

/** The screenshot gallery: ui/<pin set>/<check>/check.json and its images. */
function gallery(dir: string): string {
  const ui = join(dir, 'ui');
  if (!existsSync(ui)) return '';
  const parts: string[] = [];
  for (const pins of readdirSync(ui).filter((d) => statSync(join(ui, d)).isDirectory()).sort()) {
    const checks = readdirSync(join(ui, pins)).filter((c) => existsSync(join(ui, pins, c, 'check.json'))).sort();
    if (!checks.length) continue;
    parts.push(`<h3>Pin set ${h(pins)}</h3>`);
    for (const check of checks) {
      const c = readJson<CheckShots>(join(ui, pins, check, 'check.json'));
      if (!c) continue;
      const shots = c.steps.map((s) => {
        const src = h(`ui/${pins}/${check}/${s.file}`);
        return `<figure><a href="${src}"><img src="${src}" alt="${h(s.step)}" loading="lazy"></a><figcaption>${s.failed ? '✖ ' : ''}${h(s.step)}</figcaption></figure>`;
      });
      parts.push(`<h4 id="${h(`${pins}-${check}`)}">${h(check)} <span class="v" style="background:${COLOURS[c.status === 'passed' ? 'passed' : 'failed']}">${h(c.status ?? '?')}</span></h4><p>${h(c.title)}</p><div class="g">${shots.join('')}</div>`);
    }
  }
  return parts.length ? `<h2>Screens of the UI checks</h2>\n${parts.join('\n')}` : '';
}

/**
 * Writes `<dir>/index.html` and returns its path. `runs` names sub-runs (a bump's `bump/from`, `bump/to`) whose own
 * index pages it links.
 */
export function writeReportIndex(dir: string, opts: { title?: string; runs?: { label: string; dir: string }[]; since?: number } = {}): string {
  mkdirSync(dir, { recursive: true });
  const conformance = readJson<{ target?: string; pins?: Record<string, unknown>; generatedAt?: string; summary?: Record<string, number>; claims: Claim[] }>(join(dir, 'conformance.json'));
  const pins = conformance?.pins ?? {};
  const pinLine = conformance ? `target <b>${h(String(conformance.target ?? '?'))}</b>, pin set <b>${h(String(pins.name ?? '?'))}</b> — MLflow ${h(String(pins.mlflow ?? '?'))}, mlflow-oidc-auth ${h(String(pins.mlflowOidcAuth ?? '?'))}${pins.generation ? ` (generation ${h(String(pins.generation))})` : ''}; ${h(conformance.generatedAt ?? '')}` : '';
  const summary = conformance?.summary ? Object.entries(conformance.summary).map(([k, v]) => `<span class="v" style="background:${COLOURS[k] ?? '#eee'}">${v} ${h(k)}</span>`).join(' ') : '';
  const claims = conformance?.claims.length
    ? `<h2>Claims</h2><table><tr><th>claim</th><th>verdict</th><th>checks</th></tr>${conformance.claims.map((c) => {
        const counts = ['passed', 'failed', 'skipped'].map((s) => [s, c.checks.filter((k) => k.status === s).length] as const).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ');
        return `<tr><td><b>${h(c.id)}</b> ${h(c.text ?? '')}</td><td style="background:${COLOURS[c.verdict] ?? '#fff'}">${h(c.verdict)}</td><td>${h(counts || '—')}</td></tr>`;
      }).join('\n')}</table>`
    : '';
  // reports older than this run were written by earlier commands into the same folder: listed apart, with their time
  const all = presentReports(dir);
  const reports = all.filter((r) => !opts.since || r.written >= opts.since);
  const earlier = all.filter((r) => opts.since && r.written < opts.since);
  const runs = (opts.runs ?? []).filter((r) => existsSync(join(r.dir, 'index.html')));
  const html = `<!doctype html><meta charset="utf-8"><title>${h(opts.title ?? 'Harness run')}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
.v{padding:1px 6px;border-radius:3px}.g{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0;width:320px}figure img{width:320px;border:1px solid #aaa}figcaption{font-size:85%}</style>
<h1>${h(opts.title ?? 'Harness run')}</h1>
${pinLine ? `<p>${pinLine}</p>` : ''}
${summary ? `<p>${summary}</p>` : ''}
<h2>Reports</h2>
<ul>${reports.map((r) => `<li><a href="${h(r.file)}">${h(r.title)}</a> <code>${h(r.file)}</code></li>`).join('')}${runs.map((r) => `<li><a href="${h(relative(dir, join(r.dir, 'index.html')))}">${h(r.label)}</a></li>`).join('')}</ul>
${earlier.length ? `<p>Written by earlier commands into this folder:</p><ul>${earlier.map((r) => `<li><a href="${h(r.file)}">${h(r.title)}</a> <code>${h(r.file)}</code> (${h(new Date(r.written).toISOString())})</li>`).join('')}</ul>` : ''}
${claims}
${gallery(dir)}
`;
  const file = join(dir, 'index.html');
  writeFileSync(file, html);
  return file;
}
