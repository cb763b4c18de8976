import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import pWaitFor, { TimeoutError } from 'p-wait-for';
import { HarnessError } from '../errors.ts';
import { interrupted } from '../interrupts.ts';
import type { LedgerEntry } from './ledger.ts';

export interface SpawnSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  log: string;
  uid?: number;
  gid?: number;
  ports: number[];
  /** The signal that asks it to stop cleanly (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
}

/**
 * Starts a long-running process in its own process group, stdout and stderr appended to its log file.
 * (node:child_process, not execa: the log descriptor must go to the child itself so the process outlives this CLI.)
 */
export function spawnDetached(spec: SpawnSpec): LedgerEntry {
  // after a Ctrl-C nothing new starts: the clean-up may already have read the ledger
  if (interrupted()) throw new HarnessError(`${spec.name}: not started, the harness is stopping`);
  const fd = openSync(spec.log, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      env: spec.env ?? {},
      stdio: ['ignore', fd, fd],
      detached: true,
      ...(spec.uid !== undefined ? { uid: spec.uid, gid: spec.gid } : {}),
    });
    child.on('error', () => undefined);
    if (!child.pid) throw new HarnessError(`${spec.name}: could not start ${spec.command}`, `is it installed? see ${spec.log}`);
    child.unref();
    return { pid: child.pid, group: true, ...(spec.stopSignal ? { stopSignal: spec.stopSignal } : {}), ports: spec.ports, log: spec.log, command: [spec.command, ...spec.args].join(' ') };
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Last lines of a log, for error messages. */
export function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Waits until `probe` says ready, failing fast when the process exits and with a message naming the
 * component, the condition, the budget and the log file when the time is up.
 */
export async function waitReady(
  entry: Pick<LedgerEntry, 'pid' | 'log'>,
  name: string,
  condition: string,
  probe: () => Promise<boolean>,
  timeoutSeconds: number,
): Promise<void> {
  let outcome = 'ready' as 'ready' | 'exited' | 'timeout';
  await until(async () => {
    if (!isAlive(entry.pid)) return (outcome = 'exited'), true;
    if (await probe().catch(() => false)) return true;
    return false;
  }, timeoutSeconds * 1000, 500).catch(() => (outcome = 'timeout'));
  if (outcome === 'timeout') {
    throw new HarnessError(`${name} was not ready (${condition}) after ${timeoutSeconds}s`, `see its log ${entry.log}`);
  }
  if (outcome === 'exited') {
    throw new HarnessError(`${name} exited before it was ready (${condition})`, `see its log ${entry.log}:\n${tail(entry.log)}`);
  }
}

/**
 * Polls `condition` every `intervalMs` until it holds; rejects after `timeoutMs`. (p-wait-for with its own
 * timeout adds an abort listener per poll, so the deadline is checked here.)
 */
export function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return pWaitFor(async () => {
    if (await condition()) return true;
    if (Date.now() > deadline) throw new TimeoutError(`condition not met after ${timeoutMs}ms`);
    return false;
  }, { interval: intervalMs });
}

/** Stops a process group politely (SIGTERM), then firmly (SIGKILL) after `graceSeconds`. */
export async function stopProcess(entry: Pick<LedgerEntry, 'pid' | 'group' | 'stopSignal'>, graceSeconds = 15): Promise<void> {
  const target = entry.group ? -entry.pid : entry.pid;
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(target, sig);
    } catch {
      /* already gone */
    }
  };
  if (!isAlive(entry.pid)) {
    send('SIGKILL'); // stray children of a dead leader
    return;
  }
  send('SIGCONT'); // a paused (frozen) process handles no signal until it runs again
  send(entry.stopSignal ?? 'SIGTERM');
  try {
    await until(() => !isAlive(entry.pid), graceSeconds * 1000);
  } catch {
    send('SIGKILL');
    await until(() => !isAlive(entry.pid), 5000, 100).catch(() => undefined);
  }
  send('SIGKILL');
}
