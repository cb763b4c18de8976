import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LedgerFile } from '../local/ledger.ts';
import { writeDiagnostics } from '../diagnostics.ts';
import { execa } from 'execa';
import { findLeaks, stackSecrets } from '../secret-scan.ts';
import { provisionLocal, teardownLocal } from '../local/target.ts';
import { HarnessError } from '../errors.ts';
import { projectRoot, stateDir } from '../paths.ts';
import { readDescriptor } from '../targets/descriptor.ts';
import { info, step } from '../progress.ts';
import { deferInterrupts } from '../interrupts.ts';
import { describeRemote } from '../targets/remote.ts';
import { remotePython, selectedTarget } from './target.ts';
import { writeReportIndex } from '../report-index.ts';

/**
 * One command for CI: provision if needed, run the specs, and tear down what this command provisioned.
 * A stack brought up by `npm run provision` stays up. Extra arguments go to `playwright test`.
 */
export async function test(args: string[]): Promise<number> {
  const target = selectedTarget();
  let ownStack = false;
  let descriptor;
  const timings: Timings = { provisionSeconds: 0, suiteSeconds: 0, teardownSeconds: 0, components: {} };
  const since = (t: number) => Math.round((Date.now() - t) / 100) / 10;
  let t0 = Date.now();
  const started = t0;
  if (target === 'remote') {
    descriptor = await describeRemote(await remotePython());
  } else if (target === 'k3d') {
    const { provisionK3d } = await import('../k3d/target.ts');
    const r = await step('provision the k3d cluster', () => provisionK3d('test'));
    ownStack = !r.reused;
    descriptor = r.descriptor;
  } else {
    const r = await step('provision the local stack', () => provisionLocal('test'));
    ownStack = !r.reused;
    descriptor = r.descriptor;
    timings.components = new LedgerFile(stateDir()).read()?.readySeconds ?? {};
  }
  timings.provisionSeconds = since(t0);
  // Ctrl-C reaches Playwright too; stay alive until the teardown below has run.
  let runner: ReturnType<typeof execa> | undefined;
  // a SIGTERM/SIGHUP sent to this process alone must stop the runner too
  const undefer = deferInterrupts((signal) => runner?.kill(signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM'));
  try {
    t0 = Date.now();
    // this run's UI screenshots only (specs/ui/screens.ts writes them)
    rmSync(join(reportDir(), 'ui'), { recursive: true, force: true });
    const { code, output } = await runPlaywright(args, descriptor.caCertPath, (p) => (runner = p));
    timings.suiteSeconds = since(t0);
    const secrets = stackSecrets(stateDir(), descriptor.personas.map((p) => p.email));
    const leaks = await step('search the run\'s outputs for the stack\'s secrets', () => findLeaks(secrets, [reportDir(), outputDir()], { 'the runner\'s output': output }));
    for (const l of leaks) info(`✖ secret ${l.secret} appears in ${l.where}`);
    if (code !== 0) {
      const d = writeDiagnostics(stateDir(), join(reportDir(), 'diagnostics'), outputDir(), secrets);
      const down = Object.entries(d.components).filter(([, c]) => !c.running).map(([n]) => n);
      info(`Diagnostics in ${d.folder}/: ${d.failed === 'infrastructure' ? `the stack failed (not running: ${down.join(', ')})` : 'the stack was up: the product or a check failed'}; component log tails, the applied configuration and the failed checks' traces`);
    }
    return leaks.length ? 1 : code;
  } finally {
    if (ownStack && process.env.HARNESS_KEEP_STACK !== '1') {
      t0 = Date.now();
      await step('tear down the stack this run provisioned', async () => (target === 'k3d' ? (await import('../k3d/target.ts')).teardownK3d() : teardownLocal()));
      timings.teardownSeconds = since(t0);
    } else if (ownStack) {
      info('HARNESS_KEEP_STACK=1: the stack stays up; `npm run teardown` stops it.');
    }
    undefer();
    mkdirSync(reportDir(), { recursive: true });
    writeFileSync(join(reportDir(), 'timings.json'), `${JSON.stringify({ ...timings, reusedStack: !ownStack && target !== 'remote' }, null, 2)}\n`);
    info(`Start page of this run: ${writeReportIndex(reportDir(), { title: 'npm test', since: started })}`);
  }
}

/** Where the time of one `npm test` went (reports/timings.json; `npm run bench` reads it). */
export interface Timings {
  provisionSeconds: number;
  suiteSeconds: number;
  teardownSeconds: number;
  /** Each component's seconds from its start to ready (local target, freshly provisioned). */
  components: Record<string, number>;
}

/** The stack's spec projects, unless the caller names projects. */
export const SPEC_PROJECTS = ['setup', 'api', 'browser', 'realm', 'lifecycle', 'cluster'];

/** Where Playwright writes its reports and results (as playwright.config.ts reads them). */
const reportDir = () => resolve(projectRoot, process.env.HARNESS_REPORT_DIR ?? 'reports');
const outputDir = () => resolve(projectRoot, process.env.HARNESS_OUTPUT_DIR ?? 'test-results');

async function runPlaywright(args: string[], caCertPath: string | undefined, started: (p: ReturnType<typeof execa>) => void = () => undefined): Promise<{ code: number; output: string }> {
  const projects = args.some((a) => a.startsWith('--project')) ? [] : SPEC_PROJECTS.map((p) => `--project=${p}`);
  // shown as it comes and kept, so the run's output can be searched for secrets
  const child = execa('npx', ['playwright', 'test', ...projects, ...args], {
    cwd: projectRoot,
    stdin: 'inherit',
    stdout: ['pipe', 'inherit'],
    stderr: ['pipe', 'inherit'],
    reject: false,
    env: { ...(caCertPath ? { NODE_EXTRA_CA_CERTS: caCertPath } : {}) },
  });
  started(child);
  const r = await child;
  return { code: r.exitCode ?? 1, output: `${String(r.stdout)}\n${String(r.stderr)}` };
}

/** Runs the specs against the stack that is up, without provisioning or teardown. */
export async function specs(args: string[]): Promise<number> {
  const descriptor = readDescriptor(stateDir());
  if (!descriptor) throw new HarnessError('No stack is up', 'run `npm run provision` first (or `npm test`, which provisions)');
  const started = Date.now();
  const { code } = await runPlaywright(args, descriptor.caCertPath);
  writeReportIndex(reportDir(), { title: 'npm run specs', since: started });
  return code;
}
