import type { Claim } from './claims.ts';
import { appliesTo, type Difference } from './differences.ts';
import { matchesCheck, type Gap } from './gaps.ts';

/**
 * A claim's verdict from the checks behind it. `passed` needs every check of the claim that applies to the target
 * to have run and passed: a check skipped for any reason other than `not-applicable` is a coverage gap, and the
 * claim is then `partial` (some ran) or `uncovered` (none ran) — never `passed` or `differs`.
 */
export type Verdict = 'passed' | 'failed' | 'differs' | 'partial' | 'uncovered' | 'not-applicable';
export const VERDICTS: Verdict[] = ['passed', 'failed', 'differs', 'partial', 'uncovered', 'not-applicable'];

export interface CheckRecord {
  /** Stable id: `<spec file under specs/>#<slug>` (the slug is the check's `check-id` annotation or its title). */
  id: string;
  title: string;
  project: string;
  status: 'passed' | 'failed' | 'timedOut' | 'skipped' | 'interrupted';
  durationMs: number;
  differences: string[];
  /** What the check recorded as evidence (status codes, routes, messages) and observations beyond the seed. */
  evidence: string[];
  observations: string[];
  skipReason?: string;
  /** First line of the error. */
  error?: string;
  /** The error message (colour codes removed; past 2,000 characters its first and last 1,000): what controls match their reasons against. */
  message?: string;
}

/** A check skipped because it does not apply to the target (its reason starts with `not-applicable`). */
export const notApplicable = (c: Pick<CheckRecord, 'status' | 'skipReason'>) => c.status === 'skipped' && !!c.skipReason?.startsWith('not-applicable');
/** A check that should have run and did not: skipped for another reason, or not run at all (a failed dependency). */
export const isGap = (c: Pick<CheckRecord, 'status' | 'skipReason'>) => c.status === 'skipped' && !notApplicable(c);

export interface GapRow {
  check: string;
  title: string;
  reason: string;
  /** The declaration that accepts it (conformance/gaps.yaml), if any. */
  accepted?: string;
}

export interface JudgeContext {
  target: string;
  pins: { mlflowOidcAuth?: string; mlflow?: string } | undefined;
  /** The whole suite ran (no grep, file or project filter): coverage and declared differences are judged. */
  fullRun: boolean;
  differences: Map<string, Difference>;
  /** Gap declarations that apply to these pins and this target. */
  gaps: Gap[];
}

export interface ClaimJudgement {
  verdict: Verdict;
  /** Checks that did not run although they apply to the target. */
  gaps: GapRow[];
  /** Declared differences of the claim that no check could confirm in this run (their check did not run). */
  unverifiedDifferences: string[];
  /** Observed declared differences. */
  observed: string[];
  /** What fails the run. */
  problems: string[];
}

export function judgeClaim(claim: Claim, checks: CheckRecord[], ctx: JudgeContext): ClaimJudgement {
  const problems: string[] = [];
  const applicable = (claim.targets as string[]).includes(ctx.target);
  const ran = checks.filter((c) => c.status !== 'skipped');
  const gapChecks = checks.filter(isGap);
  const observed = new Set(ran.filter((c) => c.status === 'passed').flatMap((c) => c.differences));
  for (const id of new Set(checks.flatMap((c) => c.differences))) {
    if (!ctx.differences.has(id)) problems.push(`${claim.id}: check names undeclared difference "${id}"`);
  }
  const declaredGaps = ctx.gaps.filter((g) => g.claim === claim.id);
  const gaps: GapRow[] = gapChecks.map((c) => {
    const by = declaredGaps.find((g) => g.checks?.some((p) => matchesCheck(p, c.id)) ?? false);
    return { check: c.id, title: c.title, reason: c.skipReason ?? 'did not run (a project it depends on failed, or the run stopped)', ...(by ? { accepted: by.reason } : {}) };
  });

  let verdict: Verdict;
  if (!applicable) verdict = 'not-applicable';
  else if (checks.length === 0) verdict = 'uncovered';
  else if (ran.some((c) => c.status !== 'passed')) verdict = 'failed';
  else if (ran.length === 0) verdict = checks.every(notApplicable) ? 'not-applicable' : 'uncovered';
  else if (gapChecks.length > 0) verdict = 'partial';
  else if (observed.size > 0) verdict = 'differs';
  else verdict = 'passed';

  const expected = [...ctx.differences.values()].filter((d) => d.claim === claim.id && appliesTo(d, ctx.pins));
  const unverified: string[] = [];
  if (ctx.fullRun && applicable && ran.length > 0 && verdict !== 'failed') {
    for (const d of expected) {
      if (observed.has(d.id)) continue;
      // every check of the claim ran: the one that observes the difference did, and saw the seed hold
      if (checks.every((c) => c.status !== 'skipped')) {
        problems.push(`${claim.id}: declared difference "${d.id}" was not observed by any passing check`);
        verdict = 'failed';
      } else {
        unverified.push(d.id);
      }
    }
  }

  if (ctx.fullRun && applicable) {
    const claimLevel = declaredGaps.find((g) => !g.checks);
    if (verdict === 'partial' || verdict === 'uncovered') {
      if (checks.length === 0 && !claimLevel) problems.push(`${claim.id}: no check covers this claim on the ${ctx.target} target — write one, or declare the gap in conformance/gaps.yaml with a reason`);
      for (const g of gaps.filter((x) => !x.accepted)) {
        if (claimLevel) g.accepted = claimLevel.reason;
        else problems.push(`${claim.id}: check ${g.check} did not run (${g.reason}); the claim is ${verdict} — write the check for these pins, or declare the gap in conformance/gaps.yaml with a reason`);
      }
    }
    // a declaration that no longer matches a check that did not run is stale
    for (const g of declaredGaps) {
      for (const p of g.checks ?? []) {
        const named = checks.filter((c) => matchesCheck(p, c.id));
        if (named.length === 0) problems.push(`${claim.id}: conformance/gaps.yaml declares check ${p}, which does not exist: remove the declaration`);
        // (a check that does not apply to this target neither runs nor makes a gap: the declaration is moot here)
        else if (!named.some(isGap) && named.some((c) => c.status !== 'skipped')) problems.push(`${claim.id}: conformance/gaps.yaml declares check ${p} as not running, but it ran: remove the declaration`);
      }
      if (!g.checks && gapChecks.length === 0 && checks.some((c) => c.status !== 'skipped')) problems.push(`${claim.id}: conformance/gaps.yaml declares the claim's checks as not running, but they ran: remove the declaration`);
    }
  }
  return { verdict, gaps, unverifiedDifferences: unverified, observed: [...observed], problems };
}

/** A stable check id: the spec file under the project's test folder and a slug of the check's title (or its `check-id`). */
export function checkId(specFile: string, titles: string[], explicit?: string): string {
  const file = specFile.replace(/\\/g, '/').replace(/\.ts$/, '').replace(/\.spec$/, '');
  const slug = explicit ?? slugOf(titles.join(' '));
  return `${file}#${slug}`;
}

/** Lowercase words of a title joined by dashes, without its claim tags and parenthesised counts. */
export function slugOf(title: string): string {
  return title
    .replace(/\[(C\d{2})(?:,\s*C\d{2})*\]/g, ' ')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100)
    .replace(/-+$/, '');
}
