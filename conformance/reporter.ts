import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { FullConfig, FullResult, Suite, TestCase, TestError } from '@playwright/test/reporter';
import { CLAIMS, claimIds, type Claim } from './claims.ts';
import { loadDifferences, type Difference } from './differences.ts';
import { gapsFor, loadGaps } from './gaps.ts';
import { selection, wholeRun } from './run-scope.ts';
import { readExpectedChecks, readMergedSummary, shardProblems } from '../provision/shards.ts';
import { checkId, isGap, judgeClaim, notApplicable, VERDICTS, type CheckRecord, type ClaimJudgement, type Verdict } from './verdict.ts';
import { FileReporter } from './file-reporter.ts';

/** Claims whose checks include the permission matrix (their report rows link to reports/permissions.html). */
const PERMISSION_CLAIMS = ['C14', 'C15', 'C16'];
/** Claims whose checks include the adversarial security checks (their rows link to reports/security.html). */
const SECURITY_CLAIMS = ['C10', 'C11', 'C16', 'C19', 'C23'];

const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');
/** At most 2,000 characters of an error: its start (the assertion) and its end (a client's final exception). */
const clip = (s: string) => (s.length <= 2000 ? s : `${s.slice(0, 1000)}\n…\n${s.slice(-1000)}`);

/** How the run itself went, apart from the claims: a run whose setup failed or that hit an error cannot be judged. */
export interface RunInfo {
  status: FullResult['status'];
  /** Every check project ran without grep or file filters (coverage and declared differences are judged only then). */
  wholeRun: boolean;
  scope?: string;
  /** The setup project (persona logins and tokens): `not-run` when the run did not include it. */
  setup: 'passed' | 'failed' | 'not-run';
  /** Errors outside any check (a spec file that does not load, a reporter error). */
  errors: string[];
}

interface ClaimReport extends ClaimJudgement {
  id: string;
  text: string;
  targets: Claim['targets'];
  links: { title: string; href: string; data: string }[];
  differences: Difference[];
  checks: CheckRecord[];
}

/**
 * Joins check results to claims by the [Cnn] tags in their titles and writes reports/conformance.json (per claim:
 * verdict, checks with stable ids, coverage gaps) and reports/conformance.md. Fails the run when a claim failed, a
 * declared difference was not observed, a check names an undeclared one, or — in a whole run — a claim's checks did
 * not all run and conformance/gaps.yaml does not declare why.
 */
export default class ConformanceReporter extends FileReporter {
  private target = 'unknown';
  private root?: Suite;
  private scope: { whole: boolean; why?: string } = { whole: false };
  private errors: string[] = [];

  override onBegin(config: FullConfig, suite: Suite): void {
    const project = config.projects.find((p) => p.metadata?.target);
    this.target = (project?.metadata?.target as string | undefined) ?? 'unknown';
    this.pins = project?.metadata?.pins;
    this.root = suite;
    const s = selection(config);
    const shards = readMergedSummary();
    // a merge of shards is the whole run when every shard is there (each ran its part of every project)
    this.scope = shards
      ? (shards.missing.length ? { whole: false, why: `shards ${shards.missing.join(', ')} of ${shards.total} missing` } : { whole: true })
      : wholeRun(s.projects, process.argv.slice(2), s.grep);
  }

  onError(error: TestError): void {
    this.errors.push(stripAnsi(error.message ?? error.value ?? 'error').split('\n')[0]!.slice(0, 300));
  }

  async onEnd(result: FullResult): Promise<{ status?: FullResult['status'] } | undefined> {
    const tests = this.root?.allTests() ?? [];
    const checks = new Map<string, CheckRecord[]>();
    let setup: RunInfo['setup'] = 'not-run';
    let anyClaim = false;
    for (const t of tests) {
      const project = t.parent.project()?.name ?? '';
      if (project === 'setup') {
        const last = t.results[t.results.length - 1];
        if (last) setup = setup === 'failed' || (last.status !== 'passed' && last.status !== 'skipped') ? 'failed' : 'passed';
        continue;
      }
      const ids = claimIds(t.titlePath().join(' '));
      if (ids.length === 0) continue;
      anyClaim = true;
      const record = this.record(t);
      for (const id of ids) checks.set(id, [...(checks.get(id) ?? []), record]);
    }
    // a merge of shards (`npm run merge-reports`): the checks no shard ran are reported as not run
    const shards = readMergedSummary();
    const expected = readExpectedChecks();
    if (expected) {
      const key = (project: string, file: string, titles: string[]) => `${project}|${file}|${titles.join(' › ')}`;
      const present = new Set(tests.map((t) => key(t.parent.project()?.name ?? '', relative(process.cwd(), t.location.file), t.titlePath().slice(3))));
      for (const e of expected) {
        if (present.has(key(e.project, e.file, e.titles))) continue;
        const ids = claimIds(e.titles.join(' '));
        if (ids.length === 0) continue;
        anyClaim = true;
        const record: CheckRecord = {
          id: checkId(relative('specs', e.file), e.titles, e.checkId),
          title: e.titles[e.titles.length - 1] ?? '',
          project: e.project,
          status: 'skipped',
          durationMs: 0,
          differences: [],
          evidence: [],
          observations: [],
          skipReason: 'did not run: no shard of the run ran it (a shard is missing, or stopped before it)',
        };
        for (const id of ids) checks.set(id, [...(checks.get(id) ?? []), record]);
      }
    }
    if (!anyClaim) return undefined;
    const differences = loadDifferences();
    const pins = this.pins as { mlflowOidcAuth?: string; mlflow?: string } | undefined;
    const ctx = { target: this.target, pins, fullRun: this.scope.whole, differences, gaps: gapsFor(loadGaps(), pins, this.target) };
    const permissionPage = tests.some((t) => t.results.some((r) => r.annotations.some((a) => a.type === 'permission-case' || a.type === 'permission-route')));
    const securityPage = tests.some((t) => t.results.some((r) => r.annotations.some((a) => a.type.startsWith('security-'))));
    const claims: ClaimReport[] = CLAIMS.map((claim) => {
      const list = checks.get(claim.id) ?? [];
      const j = judgeClaim(claim, list, ctx);
      return {
        id: claim.id,
        text: claim.text,
        targets: claim.targets,
        ...j,
        links: [
          ...(permissionPage && PERMISSION_CLAIMS.includes(claim.id) ? [{ title: 'permission matrix and bypass audit', href: 'permissions.html', data: 'permissions.json' }] : []),
          ...(securityPage && SECURITY_CLAIMS.includes(claim.id) ? [{ title: 'security checks (token attacks, request shapes, routes)', href: 'security.html', data: 'security.json' }] : []),
        ],
        differences: j.observed.map((id) => differences.get(id)).filter((d): d is Difference => !!d),
        checks: list,
      };
    });
    const problems = [...(shards ? shardProblems(shards) : []), ...claims.flatMap((c) => c.problems)];
    const summary = Object.fromEntries(VERDICTS.map((v) => [v, claims.filter((c) => c.verdict === v).length])) as Record<Verdict, number>;
    const run: RunInfo = { status: result.status, wholeRun: this.scope.whole, ...(this.scope.why ? { scope: this.scope.why } : {}), setup, errors: this.errors };
    const built = builtFrom(this.pins);
    const report = { target: this.target, pins: this.pins, ...built, generatedAt: new Date().toISOString(), runStatus: result.status, run, ...(shards ? { shards } : {}), summary, problems, claims };
    mkdirSync(this.outDir, { recursive: true });
    writeFileSync(join(this.outDir, 'conformance.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(this.outDir, 'conformance.md'), markdown(report.target, summary, claims, problems, run, built));
    process.stdout.write(`\nConformance (${this.target}${this.scope.whole ? '' : `, not a whole run: ${this.scope.why}`}): ${Object.entries(summary).map(([k, v]) => `${v} ${k}`).join(', ')} — ${join(this.outDir, 'conformance.md')}\n`);
    for (const p of problems) process.stdout.write(`  ✖ ${p}\n`);
    if (setup === 'failed') process.stdout.write('  ✖ the setup project failed: the checks that need its sessions and tokens did not run\n');
    const bad = claims.some((c) => c.verdict === 'failed') || problems.length > 0 || setup === 'failed';
    return bad && result.status === 'passed' ? { status: 'failed' } : undefined;
  }

  /** One check's last result, with its stable id. */
  private record(t: TestCase): CheckRecord {
    const result = t.results[t.results.length - 1];
    const project = t.parent.project();
    const annotations = [...t.annotations, ...(result?.annotations ?? [])];
    // a test's annotations show up on the test and on its result: each once
    const annotated = (type: string) => [...new Set(annotations.filter((a) => a.type === type).map((a) => a.description ?? ''))];
    const skip = annotations.find((a) => a.type === 'skip' || a.type === 'fixme')?.description;
    const explicit = annotations.find((a) => a.type === 'check-id')?.description;
    // the titles below the file: describe blocks and the check's own
    const titles = t.titlePath().slice(3);
    const error = result?.error ?? result?.errors[0];
    const message = error ? stripAnsi(error.message ?? error.value ?? '').trim() : '';
    return {
      id: checkId(relative(project?.testDir ?? '', t.location.file), titles, explicit),
      title: t.title,
      project: project?.name ?? '',
      status: result?.status ?? 'skipped',
      durationMs: result?.duration ?? 0,
      differences: annotated('differs'),
      evidence: annotated('evidence'),
      observations: annotated('observation'),
      ...(skip ? { skipReason: skip } : !result ? { skipReason: 'did not run (a project it depends on failed, or the run stopped first)' } : {}),
      ...(message ? { error: message.split('\n')[0]!, message: clip(message) } : {}),
    };
  }
}

function mark(c: CheckRecord): string {
  if (c.status === 'passed') return '✔';
  if (notApplicable(c)) return '–';
  if (isGap(c)) return '○';
  return '✖';
}

/** When the stack's image was built and the versions it runs (the pins as the target descriptor carries them). */
export function builtFrom(pins: unknown): { baseBuiltOn?: string; builtOn?: string; versions?: Record<string, string> } {
  const p = (pins ?? {}) as { baseBuiltOn?: string; builtOn?: string; versions?: Record<string, string> };
  return { baseBuiltOn: p.baseBuiltOn, builtOn: p.builtOn, versions: p.versions };
}

function markdown(target: string, summary: Record<string, number>, claims: ClaimReport[], problems: string[], run: RunInfo, built: ReturnType<typeof builtFrom>): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `# Conformance — target \`${target}\``,
    '',
    Object.entries(summary).map(([k, v]) => `**${v}** ${k}`).join(' · '),
    '',
    ...(built.builtOn ? [`Built as the image was: base image as of ${built.baseBuiltOn}, image as of ${built.builtOn}. ${Object.entries(built.versions ?? {}).map(([k, v]) => `${k} ${v}`).join(' · ')}`, ''] : []),
    ...(run.wholeRun ? [] : [`Not a whole run (${run.scope}): coverage and declared differences are not judged.`, '']),
    ...(run.setup === 'failed' ? ['**The setup project failed**: the checks that need its sessions and tokens did not run.', ''] : []),
    '✔ passed · ✖ failed · – not applicable to the target · ○ did not run (a coverage gap)',
    '',
    '| claim | verdict | checks | seed says / really |',
    '|---|---|---|---|',
  ];
  for (const c of claims) {
    const links = c.links.map((l) => `📊 [${l.title}](${l.href}) ([data](${l.data}))<br>`).join('');
    const checks = links + c.checks.map((k) => `${mark(k)} ${esc(k.title)}`).join('<br>');
    const gaps = c.gaps.map((g) => `<br>○ not run: ${esc(g.title)} — ${esc(g.reason)}${g.accepted ? ` (accepted: ${esc(g.accepted)})` : ''}`).join('');
    const unverified = c.unverifiedDifferences.length ? `<br>*not confirmed in this run (its check did not run):* ${c.unverifiedDifferences.join(', ')}` : '';
    const diff = c.differences.map((d) => `**seed:** ${esc(d.seed)}<br>**really:** ${esc(d.reality)}<br>*why:* ${esc(d.reason)}`).join('<br>');
    lines.push(`| ${c.id} ${esc(c.text)} | ${c.verdict} | ${checks || '—'}${gaps} | ${diff}${unverified} |`);
  }
  if (problems.length) lines.push('', '## Problems', '', ...problems.map((p) => `- ${p}`));
  if (run.errors.length) lines.push('', '## Errors outside the checks', '', ...run.errors.map((e) => `- ${esc(e)}`));
  return `${lines.join('\n')}\n`;
}
