import { existsSync, statSync } from 'node:fs';
import { execa } from 'execa';
import type { StackOverrides } from '../config/overrides.ts';
import { freezeComponent, slowComponent, startComponent, stopComponent, thawComponent } from '../local/running-stack.ts';
import { provisionLocal, teardownLocal } from '../local/target.ts';
import { projectRoot, stateDir } from '../paths.ts';
import { info, step } from '../progress.ts';
import { onInterrupt } from '../interrupts.ts';
import { readDescriptor, type TargetDescriptor } from '../targets/descriptor.ts';

/** A stack held for scenario or control runs: remembers whether it was provisioned here, to tear it down after. */
export class FaultableStack {
  private stopped = new Set<string>();
  private frozen = new Set<string>();
  /** Components slowed by this run, with the function that gives them full speed again. */
  private slowed = new Map<string, () => void>();
  private constructor(readonly descriptor: TargetDescriptor, private readonly own: boolean) {}

  /** True when this run provisioned the stack (so it may be taken down for good). */
  get owned(): boolean {
    return this.own;
  }

  /** Brings the default stack up (or reuses it) and makes sure persona sessions and tokens exist. */
  static async open(): Promise<FaultableStack> {
    const r = await step('stack with the default configuration', () => provisionLocal('test'));
    const stack = new FaultableStack(r.descriptor, !r.reused);
    // interrupted between phases: a stack this run provisioned goes; a user's stack is reconfigured to its
    // default by the next command that provisions (its fingerprint says which configuration it has)
    onInterrupt(async () => {
      for (const c of stack.frozen) await thawComponent(c);
      stack.fullSpeed();
      if (stack.own) await teardownLocal();
      else info('The stack keeps the configuration of the interrupted phase; `npm run provision` restores the default.');
    });
    const setup = await stack.playwright(['--project=setup'], {}, 'silent');
    if (setup !== 0) info('warning: persona setup failed on the default stack; expectations needing tokens will fail');
    return stack;
  }

  /** Applies a configuration (fault, fix or default) and stops/starts, restarts or freezes components as asked. */
  async apply(
    label: string,
    overrides: StackOverrides,
    stop: string[] = [],
    start: string[] = [],
    more: { restart?: string[]; freeze?: string[]; slow?: { component: string; percent: number }[] } = {},
  ): Promise<void> {
    // a new phase starts from running components: whatever an earlier phase froze or slowed resumes first
    this.fullSpeed();
    for (const c of [...this.frozen]) {
      await step(`resume ${c}`, () => thawComponent(c));
      this.frozen.delete(c);
    }
    for (const c of start) {
      await step(`start ${c} again`, () => startComponent(c));
      this.stopped.delete(c);
    }
    // a stack with a stopped component is not "up": reconfigure only when everything runs
    if (this.stopped.size === 0) await provisionLocal('test', overrides, label);
    for (const c of more.restart ?? []) {
      await step(`restart ${c}`, async () => {
        await stopComponent(c);
        await startComponent(c);
      });
    }
    for (const c of stop) {
      await step(`stop ${c}`, () => stopComponent(c));
      this.stopped.add(c);
    }
    for (const c of more.freeze ?? []) {
      await step(`freeze ${c} (SIGSTOP)`, () => freezeComponent(c));
      this.frozen.add(c);
    }
    for (const { component, percent } of more.slow ?? []) {
      await step(`slow ${component} down to ${percent}% of the time (SIGSTOP/SIGCONT every 100 ms)`, async () => {
        this.slowed.set(component, slowComponent(component, percent));
      });
    }
  }

  /** Ends every slow-down this run started. */
  fullSpeed(): void {
    for (const [c, end] of this.slowed) {
      end();
      this.slowed.delete(c);
    }
  }

  /** Sizes of the component logs now: a phase's log expectations only read what comes after. */
  logOffsets(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.descriptor.logs).map(([c, f]) => [c, existsSync(f) ? statSync(f).size : 0]));
  }

  /** Runs Playwright against the stack; returns its exit code. */
  async playwright(args: string[], env: Record<string, string>, output: 'inherit' | 'silent' = 'inherit'): Promise<number> {
    const r = await execa('npx', ['playwright', 'test', ...args], {
      cwd: projectRoot,
      reject: false,
      stdio: output === 'inherit' ? 'inherit' : 'ignore',
      env: { ...(this.descriptor.caCertPath ? { NODE_EXTRA_CA_CERTS: this.descriptor.caCertPath } : {}), ...env },
    });
    return r.exitCode ?? 1;
  }

  /** A stack this run provisioned, made anew (after the lifecycle baseline uninstalled MLflow from it). */
  async rebuild(): Promise<void> {
    if (!this.own) throw new Error('only a stack this run provisioned is rebuilt');
    this.fullSpeed();
    await step('tear the stack down', () => teardownLocal());
    this.stopped.clear();
    this.frozen.clear();
    await step('provision it anew', () => provisionLocal('test'));
  }

  /** Back to the default configuration, stopped components started; torn down if it was provisioned here. */
  async close(): Promise<void> {
    this.fullSpeed();
    if (this.own && process.env.HARNESS_KEEP_STACK !== '1') {
      await step('tear down the stack this run provisioned', () => teardownLocal());
      return;
    }
    await step('restore the default configuration', () => this.apply('default', {}, [], [...this.stopped]));
  }
}

export function currentDescriptor(): TargetDescriptor | undefined {
  return readDescriptor(stateDir());
}
