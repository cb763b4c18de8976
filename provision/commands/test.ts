import { execa } from 'execa';
import { provisionLocal, teardownLocal } from '../local/target.ts';
import { projectRoot } from '../paths.ts';
import { info, step } from '../progress.ts';
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
    descriptor = describeRemote(await remotePython());
  } else {
    const r = await step('provision the local stack', () => provisionLocal('test'));
    ownStack = !r.reused;
    descriptor = r.descriptor;
  }
  // Ctrl-C reaches Playwright too; stay alive until the teardown below has run.
  process.on('SIGINT', () => info('Interrupted: finishing the run and tearing down what it provisioned.'));
  process.on('SIGTERM', () => info('Terminated: finishing the run and tearing down what it provisioned.'));
  try {
    const projects = args.some((a) => a.startsWith('--project')) ? [] : ['--project=api', '--project=browser'];
    const r = await execa('npx', ['playwright', 'test', ...projects, ...args], {
      cwd: projectRoot,
      stdio: 'inherit',
      reject: false,
      env: { ...(descriptor.caCertPath ? { NODE_EXTRA_CA_CERTS: descriptor.caCertPath } : {}) },
    });
    return r.exitCode ?? 1;
  } finally {
    if (ownStack && process.env.HARNESS_KEEP_STACK !== '1') {
      await step('tear down the stack this run provisioned', () => teardownLocal());
    } else if (ownStack) {
      info('HARNESS_KEEP_STACK=1: the stack stays up; `npm run teardown` stops it.');
    }
  }
}
