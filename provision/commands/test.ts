import { execa } from 'execa';
import { provisionLocal, teardownLocal } from '../local/target.ts';
import { HarnessError } from '../errors.ts';
import { projectRoot, stateDir } from '../paths.ts';
import { readDescriptor } from '../targets/descriptor.ts';
import { info, step } from '../progress.ts';
import { deferInterrupts } from '../interrupts.ts';
import { describeRemote } from '../targets/remote.ts';
import { remotePython, selectedTarget } from './target.ts';

/**
 * One command for CI: provision if needed, run the specs, and tear down what this command provisioned.
 * A stack brought up by `npm run provision` stays up. Extra arguments go to `playwright test`.
 */
export async function test(args: string[]): Promise<number> {
  const target = selectedTarget();
  let ownStack = false;
  let descriptor;
  if (target === 'remote') {
    descriptor = await describeRemote(await remotePython());
  } else {
    const r = await step('provision the local stack', () => provisionLocal('test'));
    ownStack = !r.reused;
    descriptor = r.descriptor;
  }
  // Ctrl-C reaches Playwright too; stay alive until the teardown below has run.
  let runner: ReturnType<typeof execa> | undefined;
  // a SIGTERM/SIGHUP sent to this process alone must stop the runner too
  const undefer = deferInterrupts((signal) => runner?.kill(signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM'));
  try {
    return await runPlaywright(args, descriptor.caCertPath, (p) => (runner = p));
  } finally {
    if (ownStack && process.env.HARNESS_KEEP_STACK !== '1') {
      await step('tear down the stack this run provisioned', () => teardownLocal());
    } else if (ownStack) {
      info('HARNESS_KEEP_STACK=1: the stack stays up; `npm run teardown` stops it.');
    }
    undefer();
  }
}

/** The stack's spec projects, unless the caller names projects. */
export const SPEC_PROJECTS = ['setup', 'api', 'browser', 'realm', 'lifecycle'];

async function runPlaywright(args: string[], caCertPath: string | undefined, started: (p: ReturnType<typeof execa>) => void = () => undefined): Promise<number> {
  const projects = args.some((a) => a.startsWith('--project')) ? [] : SPEC_PROJECTS.map((p) => `--project=${p}`);
  const child = execa('npx', ['playwright', 'test', ...projects, ...args], {
    cwd: projectRoot,
    stdio: 'inherit',
    reject: false,
    env: { ...(caCertPath ? { NODE_EXTRA_CA_CERTS: caCertPath } : {}) },
  });
  started(child);
  const r = await child;
  return r.exitCode ?? 1;
}

/** Runs the specs against the stack that is up, without provisioning or teardown. */
export async function specs(args: string[]): Promise<number> {
  const descriptor = readDescriptor(stateDir());
  if (!descriptor) throw new HarnessError('No stack is up', 'run `npm run provision` first (or `npm test`, which provisions)');
  return runPlaywright(args, descriptor.caCertPath);
}
