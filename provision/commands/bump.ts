import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { diffPackages } from '../bump/packages.ts';
import { lockFile, lockPackages, VERSION_PACKAGES } from '../local/prereqs/venv.ts';
import { join } from 'node:path';
import { execa } from 'execa';
import { diffReports } from '../bump/diff.ts';
import { describePinSet, loadPinSet } from '../config/pin-sets.ts';
import { HarnessError } from '../errors.ts';
import { projectRoot, reportsDir } from '../paths.ts';
import { info, seconds, step } from '../progress.ts';
import { selectedTarget } from './target.ts';
import { readConformance, writeDiff } from './compare.ts';
import { readShots, screenshotPairs, screenshotSection } from '../bump/screenshots.ts';
import { writeReportIndex } from '../report-index.ts';

/**
 * `npm run bump -- [<from>] [<to>]`: runs the suite on two pin sets one after the other (each a pin set name, a
 * Dockerfile path or git:<ref>; defaults git:HEAD and the working tree's image/Dockerfile) and writes
 * reports/bump.{json,md,html}: the claims whose verdict changed first, with the checks and evidence behind them.
 * Exit 1 when a claim got worse.
 */
export async function bump(args: string[]): Promise<number> {
  if (selectedTarget() !== 'local') throw new HarnessError('A bump run provisions each pin set', 'use HARNESS_TARGET=local');
  const extra = args.indexOf('--');
  const names = (extra >= 0 ? args.slice(0, extra) : args).filter((a) => !a.startsWith('--'));
  const playwrightArgs = extra >= 0 ? args.slice(extra + 1) : [];
  const [from = 'git:HEAD', to = 'image/Dockerfile'] = names;
  // validate both before anything starts: an unknown name or a Dockerfile without pins fails here
  const sides = [from, to].map((sel) => ({ sel, set: loadPinSet(sel) }));
  for (const s of sides) info(`Pin set ${describePinSet(s.set)}`);
  const started = Date.now();
  const dirs: string[] = [];
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
      throw new HarnessError(`The suite on ${s.sel} wrote no conformance report (exit ${code})`, 'see the output above');
    }
    info(`suite on ${s.sel}: exit ${code}`);
  }
  const report = diffReports(readConformance(join(dirs[0]!, 'conformance.json')), readConformance(join(dirs[1]!, 'conformance.json')));
  // every package of the two images, from their locks (the reports carry only the ones that matter most)
  const [lockA, lockB] = sides.map((s) => lockFile(s.set));
  if (existsSync(lockA!) && existsSync(lockB!)) {
    const keys = VERSION_PACKAGES.map(([, dist]) => dist);
    report.packages = diffPackages(lockPackages(readFileSync(lockA!, 'utf8')), lockPackages(readFileSync(lockB!, 'utf8')), keys);
  }
  writeDiff(report, 'bump', `What the bump ${from} → ${to} changed`);
  // the UI checks' screenshots, before and after, for the steps whose check status or page changed
  rmSync(join(reportsDir, 'bump', 'ui-diff'), { recursive: true, force: true });
  const pairs = screenshotPairs(dirs[0]!, dirs[1]!, join(reportsDir, 'bump', 'ui-diff'));
  appendFileSync(join(reportsDir, 'bump.html'), screenshotSection(pairs, reportsDir, readShots(dirs[1]!).size));
  info(`UI screenshots: ${pairs.length} steps changed — reports/bump.html`);
  writeReportIndex(reportsDir, { title: `Bump ${from} → ${to}`, since: started, runs: [{ label: `the suite on ${from}`, dir: dirs[0]! }, { label: `the suite on ${to}`, dir: dirs[1]! }] });
  info(`Bump run took ${seconds(Date.now() - started)}.`);
  return report.changed.some((c) => c.worse) ? 1 : 0;
}
