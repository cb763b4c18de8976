import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LedgerFile } from '../local/ledger.ts';
import { writeDiagnostics } from '../diagnostics.ts';
import { execa } from 'execa';
import { scanOutputs, stackSecrets, type Leak, type Unsearched } from '../secret-scan.ts';
import { provisionLocal, teardownLocal } from '../local/target.ts';
import { HarnessError } from '../errors.ts';
import { checkSecurityDeclarations } from '../../conformance/security/declarations.ts';
import { projectRoot, stateDir } from '../paths.ts';
import { readDescriptor } from '../targets/descriptor.ts';
import { info, step } from '../progress.ts';
import { deferInterrupts } from '../interrupts.ts';
import { describeRemote } from '../targets/remote.ts';
import { remotePython, selectedTarget } from './target.ts';
import { SPEC_PROJECTS } from '../../conformance/run-scope.ts';
import { EXPECTED_FILE, listChecks, readShardRecord, shardFile, shardPhases, takeShard, writeShardRecord, type Shard, type ShardRecord } from '../shards.ts';
import { writeReportIndex } from '../report-index.ts';

/**
 * One command for CI: provision if needed, run the specs, and tear down what this command provisioned.
 * A stack brought up by `npm run provision` stays up. Extra arguments go to `playwright test`.
 */
export async function test(argv: string[]): Promise<number> {
  await requireValidDeclarations();
  // validated before anything starts: a malformed --shard fails in one line
  const { shard, rest: args } = takeShard(argv);
  const target = selectedTarget();
  const startedAt = new Date().toISOString();
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
    const { code, output } = shard
      ? await runShard(shard, args, descriptor, startedAt, timings, (p) => (runner = p))
      : await runPlaywright(args, descriptor.caCertPath, (p) => (runner = p));
    timings.suiteSeconds = since(t0);
    // diagnostics first: they are among the outputs the search covers
    if (code !== 0) {
      const d = writeDiagnostics(stateDir(), join(reportDir(), 'diagnostics'), outputDir(), stackSecrets(stateDir(), descriptor.personas.map((p) => p.email)));
      const down = Object.entries(d.components).filter(([, c]) => !c.running).map(([n]) => n);
      info(`Diagnostics in ${d.folder}/: ${d.failed === 'infrastructure' ? `the stack failed (not running: ${down.join(', ')})` : 'the stack was up: the product or a check failed'}; component log tails, the applied configuration and the failed checks' traces`);
    }
    // read after the run: the ledger holds every secret made during it (tokens, users' passwords, rotated secrets)
    const secrets = stackSecrets(stateDir(), descriptor.personas.map((p) => p.email));
    const scan = await step(`search the run's outputs for the stack's ${secrets.length} secrets`, () => scanOutputs(secrets, [reportDir(), outputDir()], { 'the runner\'s output': output }));
    for (const l of scan.leaks) info(`✖ secret ${l.secret} appears in ${l.where}`);
    for (const u of scan.unsearched) info(`✖ ${u.where} could not be searched for secrets: ${u.why}`);
    const exitCode = scan.leaks.length || scan.unsearched.length ? 1 : code;
    recordRunOutcome(join(reportDir(), 'conformance.json'), { exitCode, secretsFound: scan.leaks, unsearched: scan.unsearched });
    if (shard) updateShardRecord(reportDir(), { exitCode, seconds: { provision: timings.provisionSeconds, suite: since(t0) } });
    return exitCode;
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
export { SPEC_PROJECTS };

/** Where Playwright writes its reports and results (as playwright.config.ts reads them). */
const reportDir = () => resolve(projectRoot, process.env.HARNESS_REPORT_DIR ?? 'reports');
const outputDir = () => resolve(projectRoot, process.env.HARNESS_OUTPUT_DIR ?? 'test-results');

async function runPlaywright(args: string[], caCertPath: string | undefined, started: (p: ReturnType<typeof execa>) => void = () => undefined, env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const projects = args.some((a) => a.startsWith('--project')) ? [] : SPEC_PROJECTS.map((p) => `--project=${p}`);
  // shown as it comes and kept, so the run's output can be searched for secrets
  const child = execa('npx', ['playwright', 'test', ...projects, ...args], {
    cwd: projectRoot,
    stdin: 'inherit',
    stdout: ['pipe', 'inherit'],
    stderr: ['pipe', 'inherit'],
    reject: false,
    env: { ...(caCertPath ? { NODE_EXTRA_CA_CERTS: caCertPath } : {}), ...env },
  });
  started(child);
  const r = await child;
  return { code: r.exitCode ?? 1, output: `${String(r.stdout)}\n${String(r.stderr)}` };
}

/** The security declarations (specs/security/*.yaml) parse: a mistake stops the run before anything starts. */
async function requireValidDeclarations(): Promise<void> {
  const problem = await checkSecurityDeclarations();
  if (problem) throw new HarnessError(problem, 'fix the declaration and run again');
}

/**
 * One shard of a sharded run: its part of the parallel projects (setup in full), then — on the last shard, when
 * that passed — realm, cluster and lifecycle. Each phase writes its reports under <reports>/phase-<k>/ and a blob
 * report under <reports>/blob/; <reports>/shard.json records the shard and how each phase ended, for merge-reports.
 */
async function runShard(s: Shard, args: string[], descriptor: { caCertPath?: string; pins: { name: string }; target: string }, startedAt: string, timings: Timings, started: (p: ReturnType<typeof execa>) => void): Promise<{ code: number; output: string }> {
  const dir = reportDir();
  mkdirSync(join(dir, 'blob'), { recursive: true });
  const record: ShardRecord = { shard: s, pins: descriptor.pins.name, target: descriptor.target, phases: [], exitCode: 1, startedAt, seconds: { provision: timings.provisionSeconds } };
  let output = '';
  let code = 0;
  const expected = await listChecks(projectRoot, descriptor.caCertPath ? { NODE_EXTRA_CA_CERTS: descriptor.caCertPath } : {});
  writeFileSync(join(dir, EXPECTED_FILE), `${JSON.stringify(expected)}\n`);
  for (const [k, phase] of shardPhases(s).entries()) {
    if (code !== 0) {
      record.phases.push({ name: phase.name, exitCode: null, status: 'not-run' });
      continue;
    }
    const blob = join('blob', `shard${s.current}-phase${k + 1}.zip`);
    info(`Shard ${s.current}/${s.total}: ${phase.name}`);
    const r = await runPlaywright([...phase.args, ...args], descriptor.caCertPath, started, {
      HARNESS_REPORT_DIR: join(dir, `phase-${k + 1}`),
      HARNESS_BLOB_FILE: join(dir, blob),
    });
    output += r.output;
    code = r.code;
    record.phases.push({ name: phase.name, exitCode: r.code, status: r.code === 0 ? 'passed' : 'failed', ...(existsSync(join(dir, blob)) ? { blob } : {}) });
  }
  record.exitCode = code;
  writeShardRecord(dir, record);
  return { code, output };
}

function updateShardRecord(dir: string, change: { exitCode: number; seconds: Record<string, number> }): void {
  if (!existsSync(shardFile(dir))) return;
  const r = readShardRecord(dir);
  writeShardRecord(dir, { ...r, exitCode: change.exitCode, seconds: { ...r.seconds, ...change.seconds } });
}

/** Runs the specs against the stack that is up, without provisioning or teardown. */
export async function specs(args: string[]): Promise<number> {
  await requireValidDeclarations();
  const descriptor = readDescriptor(stateDir());
  if (!descriptor) throw new HarnessError('No stack is up', 'run `npm run provision` first (or `npm test`, which provisions)');
  const started = Date.now();
  const { code } = await runPlaywright(args, descriptor.caCertPath);
  writeReportIndex(reportDir(), { title: 'npm run specs', since: started });
  return code;
}

/**
 * Adds what only `npm test` knows to the conformance report, after the search: the exit code and the secrets found in
 * the outputs (names and places, never values). `bump` and `compare` read them: such a run cannot be judged.
 */
export function recordRunOutcome(file: string, outcome: { exitCode: number; secretsFound: Leak[]; unsearched: Unsearched[] }): void {
  if (!existsSync(file)) return;
  const report = JSON.parse(readFileSync(file, 'utf8')) as { run?: Record<string, unknown> };
  report.run = { ...(report.run ?? {}), exitCode: outcome.exitCode, secretsFound: [...outcome.secretsFound, ...outcome.unsearched.map((u) => ({ secret: `(could not be searched: ${u.why})`, where: u.where }))] };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
