import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import pWaitFor, { TimeoutError } from 'p-wait-for';
import { HarnessError } from '../errors.ts';
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
}

/**
 * Starts a long-running process in its own process group, stdout and stderr appended to its log file.
 * (node:child_process, not execa: the log descriptor must go to the child itself so the process outlives this CLI.)
 */
export function spawnDetached(spec: SpawnSpec): LedgerEntry {
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
    return { pid: child.pid, group: true, ports: spec.ports, log: spec.log, command: [spec.command, ...spec.args].join(' ') };
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
  let exited = false;
  try {
    await pWaitFor(
      async () => {
        if (!isAlive(entry.pid)) {
          exited = true;
          return true;
        }
        try {
          return await probe();
        } catch {
          return false;
        }
      },
      { interval: 500, timeout: { milliseconds: timeoutSeconds * 1000, message: 'timeout' } },
    );
  } catch (e) {
    if (e instanceof TimeoutError) {
      throw new HarnessError(`${name} was not ready (${condition}) after ${timeoutSeconds}s`, `see its log ${entry.log}`);
    }
    throw e;
  }
  if (exited) {
    throw new HarnessError(`${name} exited before it was ready (${condition})`, `see its log ${entry.log}:\n${tail(entry.log)}`);
  }
}

/** Stops a process group politely (SIGTERM), then firmly (SIGKILL) after `graceSeconds`. */
export async function stopProcess(entry: Pick<LedgerEntry, 'pid' | 'group'>, graceSeconds = 15): Promise<void> {
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
  send('SIGTERM');
  try {
    await pWaitFor(() => !isAlive(entry.pid), { interval: 200, timeout: graceSeconds * 1000 });
  } catch {
    send('SIGKILL');
    await pWaitFor(() => !isAlive(entry.pid), { interval: 100, timeout: 5000 }).catch(() => undefined);
  }
  send('SIGKILL');
}
