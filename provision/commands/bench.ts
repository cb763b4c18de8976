import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../errors.ts';
import { teardownLocal } from '../local/target.ts';
import { projectRoot, reportsDir } from '../paths.ts';
import { info, seconds, step } from '../progress.ts';
import type { Timings } from './test.ts';
import type { CheckTiming } from '../../conformance/timings-reporter.ts';
import { appendHistory, compareRuns, projectTimes, readHistory } from '../bench/history.ts';
import { startCpuSampler } from '../bench/cpu.ts';

/** The targets of the issue that asked for the bench (seconds, and provision/slowest component). */
const TARGETS = { npmTestSeconds: 90, suiteSeconds: 45, overheadRatio: 1.3 };

/** The adversarial security checks' own durations, from reports/security.json (null when they did not run). */
function securityChecks(): { seconds: number; checks: { title: string; seconds: number }[] } | null {
  try {
    const r = JSON.parse(readFileSync(join(reportsDir, 'security.json'), 'utf8')) as { summary: { checkSeconds: number }; checks: { title: string; seconds: number }[] };
    return { seconds: r.summary.checkSeconds, checks: r.checks.map((c) => ({ title: c.title, seconds: c.seconds })) };
  } catch {
    return null;
  }
}

/**
 * `npm run bench`: one `npm test` from no stack up (caches warm), measured; writes reports/bench.json with each
 * component's ready time, provision, suite and teardown seconds, the whole run, and the overhead ratio
 * (provision / slowest component), each against its target.
 */
export async function bench(argv: string[]): Promise<number> {
  const history = join(reportsDir, 'bench-history.jsonl');
  const at = argv.indexOf('--compare');
  if (at >= 0) return compareWith(history, argv[at + 1]);
  const args = argv;
  await step('no stack up before measuring', () => teardownLocal());
  const file = join(reportsDir, 'timings.json');
  // an earlier run's figures must not pass for this one's (npm test writes none when provisioning fails)
  rmSync(file, { force: true });
  const started = Date.now();
  const sampler = startCpuSampler();
  const r = await execa('npx', ['tsx', 'provision/cli.ts', 'test', ...args], { cwd: projectRoot, stdio: 'inherit', reject: false, env: { HARNESS_REPORT_DIR: reportsDir } });
  const npmTestSeconds = Math.round((Date.now() - started) / 100) / 10;
  const cpu = sampler.stop();
  const t = readTimings(file, started);
  const slowest = Object.entries(t.components).filter(([k]) => !['realm', 'mlflow-migration', 'proxy'].includes(k)).sort((a, b) => b[1] - a[1])[0];
  const overheadRatio = slowest ? Math.round((t.provisionSeconds / slowest[1]) * 100) / 100 : null;
  const bench = {
    generatedAt: new Date().toISOString(),
    components: t.components,
    slowestComponent: slowest?.[0],
    provisionSeconds: t.provisionSeconds,
    suiteSeconds: t.suiteSeconds,
    teardownSeconds: t.teardownSeconds,
    npmTestSeconds,
    overheadRatio,
    npmTestExit: r.exitCode,
    securityChecks: securityChecks(),
    cpu,
    targets: TARGETS,
    met: {
      npmTestSeconds: npmTestSeconds <= TARGETS.npmTestSeconds,
      suiteSeconds: t.suiteSeconds <= TARGETS.suiteSeconds,
      overheadRatio: overheadRatio !== null && overheadRatio <= TARGETS.overheadRatio,
    },
  };
  writeFileSync(join(reportsDir, 'bench.json'), `${JSON.stringify({ ...bench, history }, null, 2)}\n`);
  // one line per measured run: the history `--compare` reads
  const checks = join(reportsDir, 'check-timings.json');
  const times = projectTimes(existsSync(checks) ? (JSON.parse(readFileSync(checks, 'utf8')) as CheckTiming[]) : []);
  const commit = (await execa('git', ['rev-parse', 'HEAD'], { cwd: projectRoot, reject: false })).stdout.trim() || 'unknown';
  appendHistory(history, {
    at: bench.generatedAt,
    commit,
    pins: readDescriptorPins() ?? process.env.HARNESS_PINS ?? 'image/Dockerfile',
    phases: { npmTest: npmTestSeconds, provision: t.provisionSeconds, suite: t.suiteSeconds, teardown: t.teardownSeconds },
    components: t.components,
    ...times,
    ...(cpu ? { cpu: { groups: cpu.groups, floorSeconds: cpu.floorSeconds, boundBy: cpu.boundBy } } : {}),
  });
  info(`\nBench: npm test ${seconds(npmTestSeconds * 1000)} (target ${TARGETS.npmTestSeconds}s), provision ${t.provisionSeconds}s, suite ${t.suiteSeconds}s (target ${TARGETS.suiteSeconds}s), teardown ${t.teardownSeconds}s; overhead ${overheadRatio} (target ≤ ${TARGETS.overheadRatio}; slowest ${slowest?.[0]} ${slowest?.[1]}s) — reports/bench.json`);
  if (cpu) {
    const top = Object.entries(cpu.groups).slice(0, 4).map(([g, s]) => `${g} ${s}`).join(', ');
    info(`CPU: ${cpu.totalCoreSeconds} core-s on ${cpu.cores} cores (${top}, …); no run of this work can be shorter than ${cpu.floorSeconds}s here (${cpu.boundBy})`);
  }
  return r.exitCode ?? 1;
}

/** `npm run bench -- --compare <ref>`: the last measured run of that commit against the newest one. */
async function compareWith(history: string, ref: string | undefined): Promise<number> {
  if (!ref) throw new HarnessError('--compare needs a git ref', 'npm run bench -- --compare <commit, branch or tag>');
  const r = await execa('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: projectRoot, reject: false });
  if (r.exitCode !== 0) throw new HarnessError(`\`${ref}\` names no commit of this repository`, 'give a commit, branch or tag');
  const lines = readHistory(history);
  const before = [...lines].reverse().find((l) => l.commit === r.stdout.trim());
  if (!before) throw new HarnessError(`${history} has no measured run of ${ref} (${r.stdout.trim().slice(0, 8)})`, `check it out and run \`npm run bench\` there first (runs recorded: ${[...new Set(lines.map((l) => l.commit.slice(0, 8)))].join(', ') || 'none'})`);
  const after = lines[lines.length - 1]!;
  process.stdout.write(`${compareRuns(before, after).join('\n')}\n`);
  return 0;
}

/** The pin set of the stack the run used, as the reports recorded it. */
function readDescriptorPins(): string | undefined {
  const f = join(reportsDir, 'conformance.json');
  if (!existsSync(f)) return undefined;
  return ((JSON.parse(readFileSync(f, 'utf8')) as { pins?: { name?: string } }).pins?.name);
}

/** The timings `npm test` wrote after `since` (ms since the epoch); an older file or none is an error naming it. */
export function readTimings(file: string, since: number): Timings {
  if (!existsSync(file)) throw new HarnessError(`npm test wrote no ${file}: it stopped before its suite ran`, 'see its output above');
  if (statSync(file).mtimeMs < since) throw new HarnessError(`${file} is from an earlier run, not from this npm test`, 'see its output above');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Timings;
  } catch (e) {
    throw new HarnessError(`${file} is not JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}
