import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readdirSync, readSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { projectRoot, reportsDir } from '../paths.ts';
import { info, seconds, step } from '../progress.ts';
import type { FaultableStack } from './phases.ts';
import { Control, loadYaml, type FailReason } from './schema.ts';

/** caught: every expected claim was green on the healthy baseline and red for its reason · missed · not evaluable: setup failed. */
export type ControlStatus = 'caught' | 'missed' | 'not-evaluable';

/** How one claim fared: on the batch's healthy baseline, under the fault, and whether it failed for its named reason. */
export interface ClaimOutcome {
  claim: string;
  baseline: string;
  fault: string;
  /** The reason that matched (the pattern), when the claim was red for it. */
  matched?: string;
  caught: boolean;
  /** Why it is not counted as caught. */
  why?: string;
}

export interface ControlResult {
  id: string;
  title: string;
  status: ControlStatus;
  expectedRed: string[];
  observedRed: string[];
  /** Claims that must stay green under a tolerated fault (expectGreen), and those that did not. */
  expectedGreen?: string[];
  notGreen?: string[];
  claims: ClaimOutcome[];
  /** Why the control could not be evaluated (its setup failed). */
  notEvaluable?: string;
  caught: boolean;
  seconds: number;
}

/** Claims that have at least one check in the suite (by the [Cnn] tags of spec titles). */
export function claimsWithChecks(): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(api|browser|realm|lifecycle)\.spec\.ts$/.test(e.name)) {
        for (const m of readFileSync(p, 'utf8').matchAll(/test\(\s*['"`]\[((?:C\d{2}(?:,\s*)?)+)\]/g)) for (const id of m[1]!.split(/,\s*/)) found.add(id);
      }
    }
  };
  walk(join(projectRoot, 'specs'));
  return [...found].sort();
}

/** A claim as a run's conformance report has it: its verdict and what its failing checks said. */
export interface ClaimRun {
  verdict: string;
  /** Error messages and evidence of the checks that failed. */
  failures: string[];
}

/** Claims of the conformance reports in these folders; a claim red in any of them is red. */
export function readClaimRuns(dirs: string[]): Map<string, ClaimRun> {
  const out = new Map<string, ClaimRun>();
  for (const dir of dirs) {
    const f = join(dir, 'conformance.json');
    if (!existsSync(f)) continue;
    const r = JSON.parse(readFileSync(f, 'utf8')) as { claims: { id: string; verdict: string; checks: { status: string; error?: string; message?: string; evidence?: string[] }[] }[] };
    for (const c of r.claims) {
      const failures = c.checks.filter((k) => k.status !== 'passed' && k.status !== 'skipped').flatMap((k) => [k.message ?? k.error ?? '', ...(k.evidence ?? [])]).filter(Boolean);
      const prev = out.get(c.id);
      if (!prev) out.set(c.id, { verdict: c.verdict, failures });
      else out.set(c.id, { verdict: prev.verdict === 'failed' || c.verdict === 'failed' ? 'failed' : ranOver(prev.verdict, c.verdict), failures: [...prev.failures, ...failures] });
    }
  }
  return out;
}

/** Of two verdicts of one claim from runs of different projects, the one that says more (a run where its checks ran). */
function ranOver(a: string, b: string): string {
  const order = ['failed', 'differs', 'passed', 'partial', 'not-applicable', 'uncovered'];
  return order.indexOf(a) <= order.indexOf(b) ? a : b;
}

/** Green on the baseline: the checks that ran passed (a declared difference counts as green). */
const green = (v: string | undefined) => v === 'passed' || v === 'differs' || v === 'partial';

/**
 * Judges a control from the batch's healthy baseline and the run under its fault: an expected claim is caught only
 * when it was green on the baseline and is red under the fault for one of its named reasons (a failing check's error
 * or evidence, or the component's log during the fault).
 */
export function judgeControl(c: Control, baseline: Map<string, ClaimRun>, fault: Map<string, ClaimRun>, logs: Record<string, string>): Pick<ControlResult, 'status' | 'observedRed' | 'notGreen' | 'claims' | 'caught'> {
  const expected = c.spec.expectRed ?? [];
  const greenNamed = c.spec.expectGreen ?? [];
  const claims: ClaimOutcome[] = expected.map((claim) => {
    const b = baseline.get(claim)?.verdict ?? 'absent';
    const f = fault.get(claim);
    const outcome: ClaimOutcome = { claim, baseline: b, fault: f?.verdict ?? 'absent', caught: false };
    if (!green(b)) return { ...outcome, why: `not green on the healthy baseline (${b}): a red under the fault proves nothing` };
    if (f?.verdict !== 'failed') return { ...outcome, why: `not red under the fault (${outcome.fault})` };
    const reasons = (c.spec.failsWith ?? []).filter((r) => !r.claims || r.claims.includes(claim));
    const hit = reasons.find((r) => matches(r, f.failures, logs));
    if (!hit) return { ...outcome, why: `red, but not for the named reason (${reasons.map(describeReason).join(' or ')}): ${f.failures[0]?.split('\n')[0]?.slice(0, 160) ?? 'no error recorded'}` };
    return { ...outcome, matched: describeReason(hit), caught: true };
  });
  // without expectRed (a user's own fault): what the fault turned red that was green before
  const observedRed = [...fault.entries()].filter(([id, r]) => r.verdict === 'failed' && green(baseline.get(id)?.verdict)).map(([id]) => id).sort();
  const notGreen = greenNamed.filter((x) => !green(baseline.get(x)?.verdict) || !green(fault.get(x)?.verdict));
  const caught = (expected.length ? claims.every((x) => x.caught) : greenNamed.length > 0 || observedRed.length > 0) && notGreen.length === 0;
  return { status: caught ? 'caught' : 'missed', observedRed, ...(greenNamed.length ? { notGreen } : {}), claims, caught };
}

export function describeReason(r: FailReason): string {
  return r.error ? `error /${r.error}/` : `${r.log!.component} log /${r.log!.pattern}/`;
}

function matches(r: FailReason, failures: string[], logs: Record<string, string>): boolean {
  if (r.error) {
    const re = new RegExp(r.error, 'i');
    return failures.some((f) => re.test(f));
  }
  return new RegExp(r.log!.pattern, 'i').test(logs[r.log!.component] ?? '');
}

/** What each component logged from the given offsets on (the fault's window). */
function logsSince(files: Record<string, string>, offsets: Record<string, number>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [c, file] of Object.entries(files)) {
    if (!existsSync(file)) continue;
    const fd = openSync(file, 'r');
    try {
      const from = Math.min(offsets[c] ?? 0, fstatSync(fd).size);
      const buf = Buffer.alloc(fstatSync(fd).size - from);
      readSync(fd, buf, 0, buf.length, from);
      out[c] = buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  }
  return out;
}

const grepOf = (claims: string[]) => (claims.length ? [`--grep=\\[[^\\]]*\\b(${claims.join('|')})\\b`] : []);

/**
 * The batch's healthy baseline: the checks of every claim the controls name, on the stack in its default
 * configuration (sessions and tokens made first). Undefined when the setup itself fails: then nothing is evaluable.
 */
export async function runBaseline(stack: FaultableStack, claims: string[], opts: { lifecycle: boolean }): Promise<Map<string, ClaimRun> | undefined> {
  const base = join(reportsDir, 'controls', '_baseline', opts.lifecycle ? 'lifecycle' : 'checks');
  const setup = await stack.playwright(['--project=setup'], { HARNESS_REPORT_DIR: join(base, 'setup'), HARNESS_OUTPUT_DIR: join(base, 'setup', 'results') }, 'silent');
  if (setup !== 0) return undefined;
  const runs: [string, string[]][] = opts.lifecycle ? [['lifecycle', ['--project=lifecycle']]] : [['checks', ['--project=api', '--project=browser']], ['realm', ['--project=realm']]];
  const dirs: string[] = [];
  for (const [name, projects] of runs) {
    const dir = join(base, name);
    dirs.push(dir);
    await stack.playwright([...projects, '--no-deps', ...grepOf(claims)], { HARNESS_REPORT_DIR: dir, HARNESS_OUTPUT_DIR: join(dir, 'results'), HARNESS_LIFECYCLE: opts.lifecycle ? '1' : '' }, 'silent');
  }
  return readClaimRuns(dirs);
}

/**
 * Runs the conformance checks against the stack with the control's fault applied and judges them against the
 * batch's healthy baseline. Sessions and tokens are made on the healthy stack first; if that fails the control is
 * `not-evaluable`.
 */
export async function runControl(file: string, stack: FaultableStack, baseline: Map<string, ClaimRun>, opts: { lifecycle: boolean }): Promise<ControlResult> {
  const c = loadYaml(file, Control);
  const id = c.metadata.name;
  const started = Date.now();
  info(`\n■ Control ${id}: ${c.metadata.title}`);
  const expected = c.spec.expectRed ?? [];
  const green = c.spec.expectGreen ?? [];
  const result = (rest: Partial<ControlResult> & Pick<ControlResult, 'status' | 'claims' | 'observedRed' | 'caught'>): ControlResult => ({
    id, title: c.metadata.title, expectedRed: expected, ...(green.length ? { expectedGreen: green } : {}), ...rest, seconds: Math.round((Date.now() - started) / 100) / 10,
  });
  const setup = await stack.playwright(['--project=setup'], { HARNESS_REPORT_DIR: join(reportsDir, 'controls', id, 'setup'), HARNESS_OUTPUT_DIR: join(reportsDir, 'controls', id, 'setup', 'results') }, 'silent');
  if (setup !== 0) {
    const why = `the setup project failed on the healthy stack (exit ${setup}; reports/controls/${id}/setup/): sessions and tokens could not be made before the fault`;
    info(`✖ ${id}: not evaluable — ${why}`);
    return result({ status: 'not-evaluable', notEvaluable: why, claims: [], observedRed: [], caught: false });
  }
  await step(`fault: ${c.spec.description.split('\n')[0]}`, () => stack.apply(`${id}:fault`, c.spec.fault.overrides, c.spec.fault.stop, [], c.spec.fault));
  const offsets = stack.logOffsets();
  // api and browser checks together, then the serial ones (they must not overlap the others), then the lifecycle
  const runs: [string, string[]][] = [['checks', ['--project=api', '--project=browser']], ['realm', ['--project=realm']]];
  if (opts.lifecycle) runs.push(['lifecycle', ['--project=lifecycle']]);
  const dirs: string[] = [];
  for (const [name, projects] of runs) {
    const dir = join(reportsDir, 'controls', id, name);
    dirs.push(dir);
    await stack.playwright([...projects, '--no-deps', ...grepOf([...expected, ...green])], { HARNESS_REPORT_DIR: dir, HARNESS_OUTPUT_DIR: join(dir, 'results'), HARNESS_LIFECYCLE: opts.lifecycle ? '1' : '' }, 'silent');
  }
  const judged = judgeControl(c, baseline, readClaimRuns(dirs), logsSince(stack.descriptor.logs, offsets));
  // after the lifecycle recipes MLflow is uninstalled for good: the stack is torn down at the end instead
  if (!opts.lifecycle) await step('restore the default configuration', () => stack.apply('default', {}, [], c.spec.fault.stop));
  const r = result(judged);
  const mark = r.status === 'caught' ? '✔' : '✖';
  info(`${mark} ${id}: ${r.status}${expected.length ? '' : `; observed red ${r.observedRed.join(', ') || 'none'}`} (${seconds(Date.now() - started)})`);
  for (const x of r.claims) info(`    ${x.caught ? '✔' : '✖'} ${x.claim}: baseline ${x.baseline}, under the fault ${x.fault}${x.matched ? ` — ${x.matched}` : ''}${x.why ? ` — ${x.why}` : ''}`);
  if (green.length) info(`    must stay green ${green.join(', ')}${r.notGreen?.length ? ` — not green: ${r.notGreen.join(', ')}` : ' — they did'}`);
  return r;
}

export function writeControlsReport(results: ControlResult[], uncoveredClaims: string[], invalid: { file: string; error: string }[] = [], baseline?: Map<string, ClaimRun>): void {
  mkdirSync(reportsDir, { recursive: true });
  writeFileSync(join(reportsDir, 'controls.json'), `${JSON.stringify({
    generatedAt: new Date().toISOString(),
    baseline: baseline ? Object.fromEntries([...baseline].map(([k, v]) => [k, v.verdict])) : undefined,
    controls: results,
    claimsWithoutControl: uncoveredClaims,
    invalid,
  }, null, 2)}\n`);
}

export const controlId = (file: string) => basename(file, '.yaml');
