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

let installed = false;
/** Installs the handlers once, for the whole CLI run. */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => void handle(s));
}
