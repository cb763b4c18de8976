import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { freemem } from 'node:os';
import { createInterface } from 'node:readline';
import { loadHarnessEnv } from '../config/env.ts';
import { diffPackages } from '../bump/packages.ts';
import { lockFile, lockPackages, VERSION_PACKAGES } from '../local/prereqs/venv.ts';
import { join } from 'node:path';
import { execa } from 'execa';
import { diffReports, exitCodeOf } from '../bump/diff.ts';
import { addSecurityToReports, securityDiff, securityLines } from '../bump/security-diff.ts';
import { describePinSet, loadPinSet } from '../config/pin-sets.ts';
import { HarnessError } from '../errors.ts';
import { projectRoot, reportsDir } from '../paths.ts';
import { info, seconds, step } from '../progress.ts';
import { selectedTarget } from './target.ts';
import { readConformance, UNJUDGED, writeDiff } from './compare.ts';
import { readShots, screenshotPairs, screenshotSection } from '../bump/screenshots.ts';
import { writeReportIndex } from '../report-index.ts';

/**
 * `npm run bump -- [<from>] [<to>] [--serial]`: runs the suite on two pin sets — at once, each on its own stack,
 * when the machine has the memory, otherwise one after the other (each a pin set name, a
 * Dockerfile path or git:<ref>; defaults git:HEAD and the working tree's image/Dockerfile) and writes
 * reports/bump.{json,md,html}: the claims whose verdict changed first, with the checks and evidence behind them.
 * Exit 0 when nothing got worse, 1 when a claim got worse, 2 when a run could not be judged (it provisioned nothing,
 * its setup failed, a secret was found in its outputs, an error outside the checks).
 */
export async function bump(args: string[]): Promise<number> {
  if (selectedTarget() !== 'local') throw new HarnessError('A bump run provisions each pin set', 'use HARNESS_TARGET=local', UNJUDGED);
  const extra = args.indexOf('--');
  const names = (extra >= 0 ? args.slice(0, extra) : args).filter((a) => !a.startsWith('--'));
  const playwrightArgs = extra >= 0 ? args.slice(extra + 1) : [];
  const [from = 'git:HEAD', to = 'image/Dockerfile'] = names;
  // validate both before anything starts: an unknown name or a Dockerfile without pins fails here
  const sides = [from, to].map((sel) => ({ sel, set: unjudgedOnError(() => loadPinSet(sel)) }));
  for (const s of sides) info(`Pin set ${describePinSet(s.set)}`);
  const started = Date.now();
  const dirs = sides.map((_, i) => join(reportsDir, 'bump', i === 0 ? 'from' : 'to'));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  const mode = await concurrency(args.includes('--serial'));
  info(mode.parallel ? `Both suites at once, each on its own stack (${mode.why}); --serial runs them one after the other` : `One suite after the other (${mode.why})`);
  const runSide = (i: number) => {
    const s = sides[i]!;
    const side = i === 0 ? 'from' : 'to';
    const env: Record<string, string> = { HARNESS_PINS: s.sel, HARNESS_REPORT_DIR: dirs[i]!, HARNESS_OUTPUT_DIR: join(dirs[i]!, 'results') };
    // side by side: a state folder and an HTTPS port each (the other ports are picked free per stack)
    if (mode.parallel) Object.assign(env, { HARNESS_STATE_DIR: join(projectRoot, '.harness', `bump-${side}`), HARNESS_HTTPS_PORT: String(mode.ports[i]) });
    return step(`suite on ${s.sel} (provision, specs, teardown)`, async () => {
      const child = execa('npx', ['tsx', 'provision/cli.ts', 'test', ...playwrightArgs], {
        cwd: projectRoot,
        reject: false,
        env,
        ...(mode.parallel ? { stdout: 'pipe', stderr: 'pipe', buffer: false } : { stdio: 'inherit' }),
      });
      // two suites at once: each line says whose it is
      if (mode.parallel) for (const stream of [child.stdout, child.stderr]) prefixLines(stream, `[${side}] `);
      return (await child).exitCode ?? 1;
    });
  };
  const codes = mode.parallel ? await Promise.all(sides.map((_, i) => runSide(i))) : [await runSide(0), await runSide(1)];
  for (const [i, s] of sides.entries()) {
    if (!existsSync(join(dirs[i]!, 'conformance.json'))) {
      throw new HarnessError(`The suite on ${s.sel} wrote no conformance report (exit ${codes[i]}): nothing to judge`, 'see the output above', UNJUDGED);
    }
    info(`suite on ${s.sel}: exit ${codes[i]}`);
  }
  const [a, b] = dirs.map((d) => readConformance(join(d, 'conformance.json')));
  const report = diffReports(a!, b!);
  // npm test records its outcome in the report after its search; a suite that ended otherwise cannot be judged
  for (const [i, r] of [a!, b!].entries()) {
    if (r.run?.exitCode === undefined) report.unjudged[i === 0 ? 'from' : 'to'].push(`npm test ended (exit ${codes[i]}) before it recorded its outcome`);
  }
  // every package of the two images, from their locks (the reports carry only the ones that matter most)
  const [lockA, lockB] = sides.map((s) => lockFile(s.set));
  if (existsSync(lockA!) && existsSync(lockB!)) {
    const keys = VERSION_PACKAGES.map(([, dist]) => dist);
    report.packages = diffPackages(lockPackages(readFileSync(lockA!, 'utf8')), lockPackages(readFileSync(lockB!, 'utf8')), keys);
  }
  // security first: the attacks and leak routes that open or close
  const security = securityDiff(dirs[0]!, dirs[1]!);
  for (const line of securityLines(security)) info(line);
  writeDiff(report, 'bump', `What the bump ${from} → ${to} changed`);
  addSecurityToReports(reportsDir, 'bump', security);
  // the UI checks' screenshots, before and after, for the steps whose check status or page changed
  rmSync(join(reportsDir, 'bump', 'ui-diff'), { recursive: true, force: true });
  const pairs = screenshotPairs(dirs[0]!, dirs[1]!, join(reportsDir, 'bump', 'ui-diff'));
  appendFileSync(join(reportsDir, 'bump.html'), screenshotSection(pairs, reportsDir, readShots(dirs[1]!).size));
  info(`UI screenshots: ${pairs.length} steps changed — reports/bump.html`);
  writeReportIndex(reportsDir, { title: `Bump ${from} → ${to}`, since: started, runs: [{ label: `the suite on ${from}`, dir: dirs[0]! }, { label: `the suite on ${to}`, dir: dirs[1]! }] });
  info(`Bump run took ${seconds(Date.now() - started)}.`);
  return exitCodeOf(report);
}

/** A selector that names no pin set leaves nothing to judge: exit 2, as for a run that could not be judged. */
function unjudgedOnError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof HarnessError) throw new HarnessError(e.message, e.hint, UNJUDGED);
    throw e;
  }
}

/** Memory one stack and its suite take at most here (Keycloak, MLflow, PostgreSQL, two Chromium workers), in GiB. */
const STACK_GIB = 4;

/**
 * Whether both suites run at once: when the machine has the memory for two stacks and two free HTTPS ports (the
 * default one and the next); otherwise one after the other, as before.
 */
async function concurrency(serial: boolean): Promise<{ parallel: true; ports: number[]; why: string } | { parallel: false; why: string }> {
  if (serial) return { parallel: false, why: '--serial' };
  const available = memAvailableGiB();
  if (available < 2 * STACK_GIB + 1) return { parallel: false, why: `${available.toFixed(1)} GiB of memory available, two stacks need about ${2 * STACK_GIB + 1}` };
  const base = loadHarnessEnv().HARNESS_HTTPS_PORT;
  const ports = [base, base + 1];
  for (const p of ports) {
    if (!(await portIsFree(p))) return { parallel: false, why: `port ${p} is in use (a stack is up?)` };
  }
  return { parallel: true, ports, why: `${available.toFixed(1)} GiB available, ports ${ports.join(' and ')}` };
}

/** MemAvailable of /proc/meminfo in GiB (the free memory otherwise). */
function memAvailableGiB(): number {
  try {
    const kb = Number(/^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
    if (kb > 0) return kb / 1024 / 1024;
  } catch {
    /* not Linux */
  }
  return freemem() / 1024 ** 3;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Copies a child's output to ours line by line, each line prefixed. */
function prefixLines(stream: NodeJS.ReadableStream | null | undefined, prefix: string): void {
  if (!stream) return;
  const lines = createInterface({ input: stream });
  lines.on('line', (l) => info(`${prefix}${l}`));
}
