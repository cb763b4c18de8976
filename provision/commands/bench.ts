import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../errors.ts';
import { teardownLocal } from '../local/target.ts';
import { projectRoot, reportsDir } from '../paths.ts';
import { info, seconds, step } from '../progress.ts';
import type { Timings } from './test.ts';

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
export async function bench(args: string[]): Promise<number> {
  await step('no stack up before measuring', () => teardownLocal());
  const started = Date.now();
  const r = await execa('npx', ['tsx', 'provision/cli.ts', 'test', ...args], { cwd: projectRoot, stdio: 'inherit', reject: false });
  const npmTestSeconds = Math.round((Date.now() - started) / 100) / 10;
  let t: Timings;
  try {
    t = JSON.parse(readFileSync(join(reportsDir, 'timings.json'), 'utf8')) as Timings;
  } catch {
    throw new HarnessError('npm test wrote no reports/timings.json', 'see its output above');
  }
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
    targets: TARGETS,
    met: {
      npmTestSeconds: npmTestSeconds <= TARGETS.npmTestSeconds,
      suiteSeconds: t.suiteSeconds <= TARGETS.suiteSeconds,
      overheadRatio: overheadRatio !== null && overheadRatio <= TARGETS.overheadRatio,
    },
  };
  writeFileSync(join(reportsDir, 'bench.json'), `${JSON.stringify(bench, null, 2)}\n`);
  info(`\nBench: npm test ${seconds(npmTestSeconds * 1000)} (target ${TARGETS.npmTestSeconds}s), provision ${t.provisionSeconds}s, suite ${t.suiteSeconds}s (target ${TARGETS.suiteSeconds}s), teardown ${t.teardownSeconds}s; overhead ${overheadRatio} (target ≤ ${TARGETS.overheadRatio}; slowest ${slowest?.[0]} ${slowest?.[1]}s) — reports/bench.json`);
  return r.exitCode ?? 1;
}
