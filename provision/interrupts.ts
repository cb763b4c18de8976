import { readFileSync } from 'node:fs';
import { info } from './progress.ts';

/**
 * Ctrl-C (once or twice), SIGTERM and SIGHUP while the harness works: what was started is stopped before the
 * process exits. A terminal sends SIGINT to the whole foreground group, and tsx relays it once more, so a
 * second signal must never cut a clean-up short: while stopping, further signals only say so.
 */
type Cleanup = () => Promise<unknown>;

const cleanups: Cleanup[] = [];
const deferred: ((signal: NodeJS.Signals) => void)[] = [];
let stopping = false;

const CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Runs `cleanup` if the process is interrupted before the returned function is called. */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.push(cleanup);
  return () => {
    const i = cleanups.indexOf(cleanup);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/**
 * The caller finishes by itself on a signal (e.g. `npm test` waits for Playwright, which got the same Ctrl-C,
 * and tears down in its `finally`): the signal is only acknowledged.
 */
export function deferInterrupts(onSignal: (signal: NodeJS.Signals) => void = () => undefined): () => void {
  deferred.push(onSignal);
  return () => {
    const i = deferred.indexOf(onSignal);
    if (i >= 0) deferred.splice(i, 1);
  };
}

/** True once a signal has asked the harness to stop. */
export const interrupted = () => stopping;

async function handle(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    info(`${signal} again: still stopping what was started — it takes a few seconds more.`);
    return;
  }
  stopping = true;
  if (cleanups.length === 0 && deferred.length > 0) {
    info(`${signal}: finishing the run and tearing down what it provisioned.`);
    for (const d of deferred) d(signal);
    return;
  }
  if (cleanups.length > 0) info(`${signal}: stopping what was started.`);
  for (const c of [...cleanups].reverse()) {
    await c().catch((e: unknown) => info(`  clean-up step failed: ${(e as Error).message.split('\n')[0]}`));
  }
  process.exit(CODES[signal] ?? 1);
}

/** The parent of a process, from /proc (Linux); undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ')'
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * `kill <pid of npm>` ends npm (and may end the shell and tsx between us and it) without a signal reaching this
 * process, which would then go on alone. The nearest ancestors (tsx, sh, npm) are watched: when one is gone, it is
 * handled as a hang-up.
 */
function watchAncestors(levels = 3): void {
  const chain: number[] = [];
  let pid = process.pid;
  for (let i = 0; i < levels; i++) {
    const parent = parentOf(pid);
    if (!parent || parent <= 1) break;
    chain.push(parent);
    pid = parent;
  }
  if (chain.length === 0) return;
  setInterval(() => {
    if (!stopping && chain.some((p) => !alive(p))) void handle('SIGHUP');
  }, 1000).unref();
}

let installed = false;
/** Installs the handlers once, for the whole CLI run. */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => void handle(s));
  // the terminal or the parent may be gone while we clean up: a failed write must not end the clean-up
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  watchAncestors();
}
