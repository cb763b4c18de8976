import { HarnessError } from '../errors.ts';
import { interrupted } from '../interrupts.ts';
import { info, step as progress } from '../progress.ts';
import { fill, fillObject, redactSecrets, type SecretName } from './placeholders.ts';
import { shellWord, toYaml } from './render.ts';
import type { PlanStep, WaitTarget } from './steps.ts';

/** What executing a plan touches; the live implementation is in live-runner.ts, tests pass their own. */
export interface Runner {
  /** Runs a program; `input` is its stdin (placeholders filled). runStep redacts the output before showing any of it. */
  command(step: PlanStep, argv: string[], input: string | undefined): Promise<{ exitCode: number; output: string }>;
  wait(target: WaitTarget): Promise<void>;
  realm(step: PlanStep): Promise<void>;
  writeFile(path: string, text: string): void;
  /** Records in the cluster that the step's digest was applied (the observer reads it back). */
  record(id: string, digest: string): Promise<void>;
}

export interface ExecContext {
  runner: Runner;
  /** Values of the `<secret:name>` placeholders. */
  secrets: Partial<Record<SecretName, string>>;
  /** Every secret of the stack by name (the above plus persona passwords): removed from any text shown. */
  redactions: Record<string, string>;
  /** Text of `<file:path>` placeholders (defaults to reading the file). */
  readFile?: (path: string) => string;
  /** What k3d lists after a rollback (the cluster, the registry): a deletion counts only when it is gone from there. */
  observeContainers?: () => Promise<{ cluster: 'absent' | 'running' | 'stopped'; registry: boolean }>;
}

/** What a rollback did, as k3d shows it afterwards. */
export interface RollbackOutcome {
  /** Steps that failed, with their redacted error. */
  failures: string[];
  /** What k3d still lists (`cluster <name>`, `registry <name>`); empty when confirmed gone. */
  remaining: string[];
  /** Why nothing could be confirmed (no observer, or it failed). */
  unconfirmed?: string;
  /** One line for the user: what was deleted, what was not and how to delete it. */
  summary: string;
}

/**
 * Deletes what a failed provision made: runs each rollback step (a failure is printed, the next still runs), then asks
 * k3d what is left. Only what k3d no longer lists is reported deleted.
 */
export async function rollBack(steps: PlanStep[], ctx: ExecContext): Promise<RollbackOutcome> {
  const failures: string[] = [];
  for (const s of steps) {
    try {
      await progress(s.title, () => runStep(s, ctx));
    } catch (e) {
      const line = redactSecrets((e as Error).message.split('\n')[0] ?? String(e), ctx.redactions);
      failures.push(`${s.title}: ${line}`);
      info(`  ✖ ${s.title} failed: ${line}`);
    }
  }
  const names = (kind: 'cluster' | 'registry') => steps.filter((s) => s.id === `${kind}-delete`).map((s) => s.argv![s.argv!.length - 1]!);
  if (!ctx.observeContainers) return { failures, remaining: [], unconfirmed: 'nothing observes k3d here', summary: `the deletion could not be confirmed${failures.length ? ` (${failures.join('; ')})` : ''}` };
  let seen: { cluster: string; registry: boolean };
  try {
    seen = await ctx.observeContainers();
  } catch (e) {
    const why = (e as Error).message.split('\n')[0] ?? String(e);
    return { failures, remaining: [], unconfirmed: why, summary: `the deletion could not be confirmed (k3d could not be asked: ${why}); check with \`k3d cluster list\` and \`k3d registry list\`` };
  }
  const remaining = [
    ...(seen.cluster !== 'absent' ? names('cluster').map((n) => `cluster ${n}`) : []),
    ...(seen.registry ? names('registry').map((n) => `registry ${n}`) : []),
  ];
  const gone = [...names('cluster').map((n) => `cluster ${n}`), ...names('registry').map((n) => `registry ${n}`)].filter((x) => !remaining.includes(x));
  const summary = remaining.length
    ? `NOT deleted: ${remaining.join(', ')} (k3d still lists ${remaining.length > 1 ? 'them' : 'it'}${failures.length ? `; ${failures.join('; ')}` : ''}) — delete with ${remaining.map((r) => `\`k3d ${r.split(' ')[0]} delete ${r.split(' ')[1]}\``).join(' and ')}${gone.length ? `; deleted: ${gone.join(', ')}` : ''}`
    : `the k3d ${gone.join(' and ') || 'cluster and registry'} ${gone.length > 1 ? 'were' : 'was'} deleted (k3d lists neither)`;
  return { failures, remaining, summary };
}

function tail(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).map((l) => `  ${l}`).join('\n');
}

/** Runs one step; throws a HarnessError naming the step (secret values never reach the message). */
export async function runStep(s: PlanStep, ctx: ExecContext): Promise<void> {
  const filled = (text: string) => fill(text, ctx.secrets, ctx.readFile);
  if (s.argv?.some((a) => a.includes('<secret:'))) throw new Error(`step ${s.id}: a secret in a command line would show in the process list`);
  switch (s.kind) {
    case 'values': {
      const text = toYaml(s.manifest);
      if (text.includes('<secret:')) throw new Error(`step ${s.id}: values files must hold no secrets (they are written to disk and printed)`);
      ctx.runner.writeFile(s.file!, text);
      break;
    }
    case 'wait':
      await ctx.runner.wait(s.wait!);
      break;
    case 'realm':
      await ctx.runner.realm(s);
      break;
    case 'command':
    case 'manifest': {
      const input = s.kind === 'manifest' ? toYaml(fillObject(s.manifest, ctx.secrets, ctx.readFile)) : s.stdin === undefined ? undefined : filled(s.stdin);
      const r = await ctx.runner.command(s, s.argv!, input);
      if (r.exitCode !== 0) {
        const output = redactSecrets(r.output, ctx.redactions);
        throw new HarnessError(`Step ${s.id} (${s.title}) failed: \`${s.argv!.map(shellWord).join(' ')}\` exited ${r.exitCode}${output.trim() ? `\n${tail(output)}` : ''}`);
      }
      break;
    }
  }
}

/**
 * Runs the steps in order, with progress lines; records each applied digest. Stops at the first failure, and
 * before the next step once a signal asked the harness to stop (unless this is the clean-up itself).
 */
export async function executePlan(steps: PlanStep[], ctx: ExecContext, opts: { cleanup?: boolean } = {}): Promise<void> {
  for (const s of steps) {
    if (!opts.cleanup && interrupted()) throw new HarnessError('Interrupted: no further step starts');
    try {
      await progress(s.title, () => runStep(s, ctx));
    } catch (e) {
      if (!s.allowFailure) throw redacted(e, ctx);
      info(`  (ignored: ${redactSecrets((e as Error).message.split('\n')[0] ?? '', ctx.redactions)})`);
      continue;
    }
    if (s.digest) await ctx.runner.record(s.id, s.digest);
  }
}

/** The same error with every secret value replaced by its placeholder. */
function redacted(e: unknown, ctx: ExecContext): Error {
  if (!(e instanceof Error)) return new Error(redactSecrets(String(e), ctx.redactions));
  const message = redactSecrets(e.message, ctx.redactions);
  if (e instanceof HarnessError) return new HarnessError(message, e.hint && redactSecrets(e.hint, ctx.redactions), e.exitCode);
  const copy = new Error(message);
  copy.stack = redactSecrets(e.stack ?? message, ctx.redactions);
  return copy;
}

/**
 * Runs the provision steps; on any failure runs `rollback` (deleting the cluster and its registry), so nothing
 * half-created is left, and rethrows the failure saying so.
 */
export async function executeOrRollBack(steps: PlanStep[], rollback: () => PlanStep[], ctx: ExecContext): Promise<void> {
  try {
    await executePlan(steps, ctx);
  } catch (error) {
    // after Ctrl-C, SIGTERM or SIGHUP the signal handler deletes the cluster (provisionK3d registers it)
    if (interrupted()) throw error;
    info('A step failed: deleting the cluster so that nothing half-created is left.');
    const outcome = await rollBack(rollback(), ctx);
    info(outcome.remaining.length || outcome.unconfirmed ? `✖ ${outcome.summary}` : `✔ ${outcome.summary}`);
    const e = error as Error;
    const hint = `${outcome.summary}; the log of each command is in the logs folder of the state folder`;
    throw e instanceof HarnessError ? new HarnessError(e.message, e.hint ? `${e.hint}; ${hint}` : hint, e.exitCode) : e;
  }
}
