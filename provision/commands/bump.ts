import { existsSync, readFileSync, rmSync } from 'node:fs';
import { diffPackages } from '../bump/packages.ts';
import { lockFile, lockPackages, VERSION_PACKAGES } from '../local/prereqs/venv.ts';
import { join } from 'node:path';
import { execa } from 'execa';
import { diffReports, exitCodeOf } from '../bump/diff.ts';
import { describePinSet, loadPinSet } from '../config/pin-sets.ts';
import { HarnessError } from '../errors.ts';
import { projectRoot, reportsDir } from '../paths.ts';
import { info, seconds, step } from '../progress.ts';
import { selectedTarget } from './target.ts';
import { readConformance, UNJUDGED, writeDiff } from './compare.ts';

/**
 * `npm run bump -- [<from>] [<to>]`: runs the suite on two pin sets one after the other (each a pin set name, a
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
  const dirs: string[] = [];
  const codes: number[] = [];
  for (const [i, s] of sides.entries()) {
    const dir = join(reportsDir, 'bump', `${i === 0 ? 'from' : 'to'}`);
    rmSync(dir, { recursive: true, force: true });
    dirs.push(dir);
    const code = await step(`suite on ${s.sel} (provision, specs, teardown)`, async () => {
      const r = await execa('npx', ['tsx', 'provision/cli.ts', 'test', ...playwrightArgs], {
        cwd: projectRoot,
        stdio: 'inherit',
        reject: false,
        env: { HARNESS_PINS: s.sel, HARNESS_REPORT_DIR: dir, HARNESS_OUTPUT_DIR: join(dir, 'results') },
      });
      return r.exitCode ?? 1;
    });
    if (!existsSync(join(dir, 'conformance.json'))) {
      throw new HarnessError(`The suite on ${s.sel} wrote no conformance report (exit ${code}): nothing to judge`, 'see the output above', UNJUDGED);
    }
    info(`suite on ${s.sel}: exit ${code}`);
    codes.push(code);
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
  writeDiff(report, 'bump', `What the bump ${from} → ${to} changed`);
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
