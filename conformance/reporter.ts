import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { CLAIMS, claimIds, type Claim } from './claims.ts';
import { appliesTo, loadDifferences, type Difference } from './differences.ts';

/** Claims whose checks include the permission matrix (their report rows link to reports/permissions.html). */
const PERMISSION_CLAIMS = ['C14', 'C15', 'C16'];

type Verdict = 'passed' | 'failed' | 'differs' | 'uncovered' | 'not-applicable';

interface CheckRecord {
  title: string;
  project: string;
  status: TestResult['status'];
  durationMs: number;
  differences: string[];
  /** What the check recorded as evidence (status codes, routes, messages) and observations beyond the seed. */
  evidence: string[];
  observations: string[];
  skipReason?: string;
  error?: string;
}

/**
 * Joins check results to claims by the [Cnn] tags in their titles and writes reports/conformance.json
 * (per claim: id, verdict, checks) and reports/conformance.md. Fails the run when a declared difference
 * was not observed by the checks of its claim, or a check names an undeclared one.
 */
export default class ConformanceReporter implements Reporter {
  private checks = new Map<string, CheckRecord[]>();
  private target = 'unknown';
  private pins: unknown;
  private ran = false;
  /** Only a run of the whole suite can tell that a declared difference no longer occurs. */
  private fullRun = true;
  private readonly outDir: string;
  /** The permission matrix or the bypass audit ran: C14–C16 link to its page (permissions-reporter.ts writes it). */
  private permissionPage = false;

  constructor(options: { outputDir?: string } = {}) {
    this.outDir = options.outputDir ?? 'reports';
  }

  printsToStdio(): boolean {
    return false;
  }

  onBegin(config: FullConfig, suite: Suite): void {
    const project = config.projects.find((p) => p.metadata?.target);
    this.target = (project?.metadata?.target as string | undefined) ?? 'unknown';
    this.pins = project?.metadata?.pins;
    this.ran = suite.allTests().some((t) => claimIds(t.titlePath().join(' ')).length > 0);
    const args = process.argv.slice(2);
    this.fullRun = !args.some((a) => /^(-g|--grep|--grep-invert|--last-failed|--only-changed)/.test(a) || /\.(spec|setup)\.ts(:\d+)?$/.test(a) || /^specs\//.test(a));
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const ids = claimIds(test.titlePath().join(' '));
    if (ids.length === 0) return;
    if (result.annotations.some((a) => a.type === 'permission-case' || a.type === 'permission-route')) this.permissionPage = true;
    const skip = test.annotations.find((a) => a.type === 'skip')?.description ?? result.annotations.find((a) => a.type === 'skip')?.description;
    // a test's annotations show up on the test and on its result: each once
    const annotated = (type: string) => [...new Set([...test.annotations, ...result.annotations].filter((a) => a.type === type).map((a) => a.description ?? ''))];
    const record: CheckRecord = {
      title: test.title,
      project: test.parent.project()?.name ?? '',
      status: result.status,
      durationMs: result.duration,
      differences: annotated('differs'),
      evidence: annotated('evidence'),
      observations: annotated('observation'),
      ...(skip ? { skipReason: skip } : {}),
      ...(result.error?.message ? { error: result.error.message.split('\n')[0] } : {}),
    };
    for (const id of ids) {
      const list = this.checks.get(id) ?? [];
      // a retried check keeps only its last result
      this.checks.set(id, [...list.filter((c) => !(c.title === record.title && c.project === record.project)), record]);
    }
  }

  async onEnd(result: FullResult): Promise<{ status?: FullResult["status"] } | undefined> {
    if (!this.ran) return undefined;
    const declared = loadDifferences();
    const problems: string[] = [];
    const claims = CLAIMS.map((claim) => this.judge(claim, declared, problems));
    const summary = Object.fromEntries((['passed', 'failed', 'differs', 'uncovered', 'not-applicable'] as Verdict[]).map((v) => [v, claims.filter((c) => c.verdict === v).length]));
    const built = builtFrom(this.pins);
    const report = { target: this.target, pins: this.pins, ...built, generatedAt: new Date().toISOString(), runStatus: result.status, summary, problems, claims };
    mkdirSync(this.outDir, { recursive: true });
    writeFileSync(join(this.outDir, 'conformance.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(this.outDir, 'conformance.md'), markdown(report.target, summary, claims, problems, built));
    process.stdout.write(`\nConformance (${this.target}): ${Object.entries(summary).map(([k, v]) => `${v} ${k}`).join(', ')} — reports/conformance.md\n`);
    for (const p of problems) process.stdout.write(`  ✖ ${p}\n`);
    const bad = claims.some((c) => c.verdict === 'failed') || problems.length > 0;
    return bad && result.status === 'passed' ? { status: 'failed' } : undefined;
  }

  private judge(claim: Claim, declared: Map<string, Difference>, problems: string[]) {
    const checks = this.checks.get(claim.id) ?? [];
    const applicable = (claim.targets as string[]).includes(this.target);
    const ran = checks.filter((c) => c.status !== 'skipped');
    const observed = new Set(ran.filter((c) => c.status === 'passed').flatMap((c) => c.differences));
    for (const id of new Set(checks.flatMap((c) => c.differences))) {
      if (!declared.has(id)) problems.push(`${claim.id}: check names undeclared difference "${id}"`);
    }
    const pins = this.pins as { mlflowOidcAuth?: string; mlflow?: string } | undefined;
    const expected = [...declared.values()].filter((d) => d.claim === claim.id && appliesTo(d, pins));
    let verdict: Verdict;
    if (!applicable) verdict = 'not-applicable';
    else if (checks.length === 0) verdict = 'uncovered';
    else if (ran.some((c) => c.status !== 'passed')) verdict = 'failed';
    else if (ran.length === 0) verdict = checks.every((c) => c.skipReason?.startsWith('not-applicable')) ? 'not-applicable' : 'uncovered';
    else if (observed.size > 0) verdict = 'differs';
    else verdict = 'passed';
    // a declared difference must show up — unless some check of the claim did not apply to this target
    // (the one that observes it may be among them)
    const allRan = checks.every((c) => c.status !== 'skipped');
    if (this.fullRun && applicable && allRan && ran.length > 0 && verdict !== 'failed') {
      for (const d of expected) {
        if (!observed.has(d.id)) {
          problems.push(`${claim.id}: declared difference "${d.id}" was not observed by any passing check`);
          verdict = 'failed';
        }
      }
    }
    return {
      id: claim.id,
      text: claim.text,
      targets: claim.targets,
      verdict,
      links: this.permissionPage && PERMISSION_CLAIMS.includes(claim.id) ? [{ title: 'permission matrix and bypass audit', href: 'permissions.html', data: 'permissions.json' }] : [],
      differences: [...observed].map((id) => declared.get(id)).filter((d): d is Difference => !!d),
      checks,
    };
  }
}

/** When the stack's image was built and the versions it runs (the pins as the target descriptor carries them). */
export function builtFrom(pins: unknown): { baseBuiltOn?: string; builtOn?: string; versions?: Record<string, string> } {
  const p = (pins ?? {}) as { baseBuiltOn?: string; builtOn?: string; versions?: Record<string, string> };
  return { baseBuiltOn: p.baseBuiltOn, builtOn: p.builtOn, versions: p.versions };
}

function markdown(target: string, summary: Record<string, number>, claims: ReturnType<ConformanceReporter['judge']>[], problems: string[], built: ReturnType<typeof builtFrom>): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `# Conformance — target \`${target}\``,
    '',
    ...(built.builtOn ? [`Built as the image was: base image as of ${built.baseBuiltOn}, image as of ${built.builtOn}. ${Object.entries(built.versions ?? {}).map(([k, v]) => `${k} ${v}`).join(' · ')}`, ''] : []),
    Object.entries(summary).map(([k, v]) => `**${v}** ${k}`).join(' · '),
    '',
    '| claim | verdict | checks | seed says / really |',
    '|---|---|---|---|',
  ];
  for (const c of claims) {
    const links = c.links.map((l) => `📊 [${l.title}](${l.href}) ([data](${l.data}))<br>`).join('');
    const checks = links + c.checks.map((k) => `${k.status === 'passed' ? '✔' : k.status === 'skipped' ? '–' : '✖'} ${esc(k.title)}`).join('<br>');
    const diff = c.differences.map((d) => `**seed:** ${esc(d.seed)}<br>**really:** ${esc(d.reality)}<br>*why:* ${esc(d.reason)}`).join('<br>');
    lines.push(`| ${c.id} ${esc(c.text)} | ${c.verdict} | ${checks || '—'} | ${diff} |`);
  }
  if (problems.length) lines.push('', '## Problems', '', ...problems.map((p) => `- ${p}`));
  return `${lines.join('\n')}\n`;
}
