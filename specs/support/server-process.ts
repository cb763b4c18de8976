import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { execa } from 'execa';
import { join } from 'node:path';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';

/**
 * The MLflow server as the operating system sees it (capability `serverLogs`): the process that listens on the
 * server's port, its command line and the environment it runs with — what runs, not what the harness meant to start.
 */

/** The inode of the socket listening on `port` (IPv4 or IPv6), from /proc/net/tcp{,6}. */
function listeningInode(port: number): string | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is f[1] (addr:port), st is f[3] (0A = LISTEN), inode is f[9]
      if (f.length > 9 && f[1]!.endsWith(`:${hex}`) && f[3] === '0A') return f[9];
    }
  }
  return undefined;
}

/** The pid of the process holding the listening socket of `port`. */
export function listenerPid(port: number): number {
  const inode = listeningInode(port);
  if (!inode) throw new Error(`nothing listens on port ${port}`);
  const wanted = `socket:[${inode}]`;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let fds: string[];
    try {
      fds = readdirSync(join('/proc', pid, 'fd'));
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(join('/proc', pid, 'fd', fd)) === wanted) return Number(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  throw new Error(`no process holds the socket listening on port ${port}`);
}

/** The command line of a running process, word by word. */
export function commandOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

/** One variable of a running process's environment (only that one is read into memory as a value). */
export function environOf(pid: number, name: string): string | undefined {
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')) {
    if (entry.startsWith(`${name}=`)) return entry.slice(name.length + 1);
  }
  return undefined;
}

/** The MLflow server process that answers on the target's internal port. */
export function runningServer(target: TargetDescriptor): { pid: number; command: string[] } {
  if (!target.internal) throw new Error(`the ${target.target} target exposes no internal MLflow endpoint`);
  const pid = listenerPid(Number(new URL(target.internal.mlflowUrl).port));
  return { pid, command: commandOf(pid) };
}

/** The ASGI app the server process runs: the `module:attribute` its uvicorn command line names. */
export function servedApp(command: string[]): string | undefined {
  return command.find((w) => /^[A-Za-z_][\w.]*:[A-Za-z_]\w*$/.test(w));
}

/** The installation's `mlflow.app` entry points (name → module:attribute), read by the server's own Python. */
export async function appEntryPoints(venv: string): Promise<Record<string, string>> {
  const r = await execa(join(venv, 'bin', 'python'), ['-c', 'import importlib.metadata as m, json; print(json.dumps({e.name: e.value for e in m.entry_points(group="mlflow.app")}))']);
  return JSON.parse(r.stdout) as Record<string, string>;
}
