import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadHarnessEnv } from '../config/env.ts';
import type { fingerprints } from '../config/overrides.ts';
import { loadPinSet } from '../config/pin-sets.ts';
import { describeStack, publicUrl, type StackDescription } from '../config/stack.ts';
import { HarnessError } from '../errors.ts';
import { adminClient, configureRealm } from '../keycloak/realm.ts';
import { cacheDir, stateDir } from '../paths.ts';
import { info, step } from '../progress.ts';
import { COMPONENTS, keycloak, mlflow, postgres, proxy, s3 } from './components/index.ts';
import { logPath, type LocalContext, type StackPorts, type StackSecrets } from './context.ts';
import { LedgerFile, type Ledger, type LedgerEntry } from './ledger.ts';
import { ensurePrerequisites } from './prerequisites.ts';
import { isAlive, stopProcess, tail, until } from './process.ts';

// Operations on a local stack that is already up: reconfigure it, stop and start single components.

/** Applies another realm and/or server configuration to a running stack (same base): realm via the admin API, MLflow restarted. */
export async function reconcile(desc: StackDescription, existing: Ledger, fps: ReturnType<typeof fingerprints>, label: string): Promise<void> {
  const { ctx, ledgerFile } = loadLocalContext(desc);
  await step(`apply configuration "${label}" to the running stack`, async () => {
    if (existing.parts?.realm !== fps.realm) {
      await step(`reconfigure realm ${desc.keycloak.realm}`, () => configureRealm(realmInputs(ctx)));
    }
    if (existing.parts?.mlflow !== fps.mlflow) {
      await step('restart MLflow with the new settings', () => restartMlflow(ctx, ledgerFile, label !== 'default'));
    }
    if (existing.parts?.edge !== fps.edge) {
      await step('restart the TLS proxy with the new settings', () => restartProxy(ctx, ledgerFile));
    }
  });
  ledgerFile.update((l) => {
    l.fingerprint = fps.all;
    l.parts = fps;
    l.applied = label;
  });
  saveDescription(ctx.state, desc);
}

const descriptionFile = (state: string) => join(state, 'description.json');

/** The description the running stack was built or reconfigured with (its secrets are not in it). */
export function saveDescription(state: string, desc: StackDescription): void {
  writeFileSync(descriptionFile(state), `${JSON.stringify(desc, null, 2)}\n`);
}

/** What configureRealm needs, for this stack's context. */
export function realmInputs(ctx: LocalContext) {
  const { desc } = ctx;
  return {
    baseUrl: `http://127.0.0.1:${ctx.ports.keycloakHttp}`,
    admin: { username: keycloak.ADMIN_USER, password: ctx.secrets.keycloakAdmin },
    realm: desc.keycloak,
    redirectUri: `${publicUrl(desc.hosts.mlflow, desc.hosts.httpsPort)}${desc.keycloak.client.redirectPath}`,
    clientSecret: ctx.secrets.clientSecret,
    personaPasswords: ctx.secrets.personas,
  };
}

/** Stops MLflow (if running) and starts it with the context's settings; waits until it is ready. */
export async function restartMlflow(ctx: LocalContext, ledgerFile: LedgerFile, faulted = false): Promise<void> {
  const ledger = ledgerFile.read()!;
  const old = ledger.components[mlflow.NAME];
  if (old) await stopProcess(old);
  if (!ledger.venv) throw new HarnessError('The stack ledger names no MLflow venv', 'run `npm run teardown` and `npm run provision`');
  if (!faulted) await mlflow.migrate(ctx, ledger.venv);
  const entry = await mlflow.start(ctx, ledger.venv);
  ledgerFile.update((l) => {
    l.components[mlflow.NAME] = entry;
  });
  // Under a fault, a server that cannot start is the fault's symptom: it exits (a wrong database password) or
  // keeps retrying its database for an hour (MLflow's engine retry). Wait a bounded time, then let the checks
  // meet it (the proxy answers 502 while nothing listens).
  const budget = faulted ? { ...ctx, readyTimeout: Math.min(ctx.readyTimeout, FAULTED_READY_SECONDS) } : ctx;
  try {
    await mlflow.ready(budget, entry, faulted);
  } catch (error) {
    if (!faulted) throw error;
    const last = tail(entry.log, 3).split('\n').pop() ?? '';
    info(isAlive(entry.pid)
      ? `MLflow does not answer under the fault after ${budget.readyTimeout}s (the checks meet it as it is): ${last}`
      : `MLflow exited under the fault (the checks see the proxy's 502): ${last}`);
  }
}

/** How long a deliberately faulted MLflow may take to answer before the checks run against it anyway. */
const FAULTED_READY_SECONDS = 45;

/** Stops the TLS proxy and starts it with the context's settings (forwarded headers, certificate); waits until it answers. */
export async function restartProxy(ctx: LocalContext, ledgerFile: LedgerFile): Promise<void> {
  const old = ledgerFile.read()?.components[proxy.NAME];
  if (old) await stopProcess(old);
  const entry = await proxy.start(ctx);
  ledgerFile.update((l) => {
    l.components[proxy.NAME] = entry;
  });
  await proxy.ready(ctx, entry, `${publicUrl(ctx.desc.hosts.mlflow, ctx.desc.hosts.httpsPort)}/health`);
}

/** Stops one component of a running stack (a fault such as "database unreachable"). */
export async function stopComponent(name: string): Promise<void> {
  const ledgerFile = new LedgerFile(stateDir());
  const entry = ledgerFile.read()?.components[name];
  if (!entry) throw new HarnessError(`No component "${name}" in the running stack`, `components: ${COMPONENTS.join(', ')}`);
  await stopProcess(entry);
}

/** Pauses one component of a running stack (SIGSTOP to its process group): it hangs instead of answering. */
export async function freezeComponent(name: string): Promise<void> {
  signalComponent(name, 'SIGSTOP');
}

/** Resumes a component paused by freezeComponent. */
export async function thawComponent(name: string): Promise<void> {
  signalComponent(name, 'SIGCONT');
}

/**
 * Slows one component down: it runs `percent` ms of every 100 ms and is paused (SIGSTOP to its process group) for
 * the rest — a server starved of CPU, which still answers. Returns the function that ends it (SIGCONT).
 */
export function slowComponent(name: string, percent: number): () => void {
  const entry = new LedgerFile(stateDir()).read()?.components[name];
  if (!entry) throw new HarnessError(`No component "${name}" in the running stack`, `components: ${COMPONENTS.join(', ')}`);
  return slowProcess(entry.group ? -entry.pid : entry.pid, percent);
}

/** Duty-cycles a process (or, with a negative pid, a process group) with SIGSTOP/SIGCONT; see slowComponent. */
export function slowProcess(target: number, percent: number): () => void {
  const send = (signal: NodeJS.Signals) => {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const pause = () => {
    if (ended) return;
    send('SIGSTOP');
    timer = setTimeout(resume, 100 - percent);
    timer.unref();
  };
  const resume = () => {
    send('SIGCONT');
    if (ended) return;
    timer = setTimeout(pause, percent);
    timer.unref();
  };
  pause();
  return () => {
    ended = true;
    clearTimeout(timer);
    send('SIGCONT');
  };
}

function signalComponent(name: string, signal: NodeJS.Signals): void {
  const entry = new LedgerFile(stateDir()).read()?.components[name];
  if (!entry) throw new HarnessError(`No component "${name}" in the running stack`, `components: ${COMPONENTS.join(', ')}`);
  try {
    process.kill(entry.group ? -entry.pid : entry.pid, signal);
  } catch {
    // already gone
  }
}

/** Starts again a component that was stopped, with the stack's configuration; waits until it is ready. */
export async function startComponent(name: string): Promise<void> {
  const { ctx, ledger, ledgerFile } = loadLocalContext();
  const entry = ledger.components[name];
  if (entry && isAlive(entry.pid)) return;
  // the pin set the stack was built from (not whatever HARNESS_PINS says now)
  const prereqs = await ensurePrerequisites(loadHarnessEnv(), loadPinSet(ctx.desc.pinSet.name));
  let started: LedgerEntry;
  if (name === postgres.NAME) started = await postgres.start(ctx);
  else if (name === s3.NAME) started = s3.start(ctx, prereqs.versitygw);
  else if (name === keycloak.NAME) started = keycloak.start(ctx, prereqs.keycloakHome, prereqs.javaHome);
  else if (name === proxy.NAME) started = await proxy.start(ctx);
  else if (name === mlflow.NAME) {
    await mlflow.migrate(ctx, prereqs.venv);
    started = await mlflow.start(ctx, prereqs.venv);
  }
  else throw new HarnessError(`No component "${name}"`, `components: ${COMPONENTS.join(', ')}`);
  ledgerFile.update((l) => {
    l.components[name] = started;
  });
  if (name === postgres.NAME) {
    await postgres.ready(ctx, started);
    // dependents hold pooled connections to the old server: flush Keycloak's, restart MLflow (rollout restart)
    await flushStaleKeycloakConnections(ctx);
    const ml = ledgerFile.read()?.components[mlflow.NAME];
    if (ml && isAlive(ml.pid)) await restartMlflow(ctx, ledgerFile);
  }
  else if (name === s3.NAME) await s3.ready(ctx, started);
  else if (name === keycloak.NAME) await keycloak.ready(ctx, started);
  else if (name === mlflow.NAME) await mlflow.ready(ctx, started);
  else await proxy.ready(ctx, started, `${publicUrl(ctx.desc.hosts.mlflow, ctx.desc.hosts.httpsPort)}/health`);
}

/**
 * After PostgreSQL comes back, Keycloak's pool still holds connections to the old server: each fails one
 * request (a login shows an error page) before it is dropped. Logging the admin in repeatedly (a login
 * writes its session to the database) flushes them, so the stack is whole again before anything else runs.
 */
async function flushStaleKeycloakConnections(ctx: LocalContext): Promise<void> {
  const kcEntry = new LedgerFile(ctx.state).read()?.components[keycloak.NAME];
  if (!kcEntry || !isAlive(kcEntry.pid)) return;
  let streak = 0;
  await until(async () => {
    const ok = await adminClient(`http://127.0.0.1:${ctx.ports.keycloakHttp}`, { username: keycloak.ADMIN_USER, password: ctx.secrets.keycloakAdmin }).then(() => true, () => false);
    streak = ok ? streak + 1 : 0;
    return streak >= 5;
  }, 90_000, 300).catch(() => {
    throw new HarnessError('Keycloak did not recover after PostgreSQL restarted (90s)', `see its log ${ctx.log(keycloak.NAME)}`);
  });
}

/** Rebuilds the running stack's context from its state folder (for lifecycle commands on a stack that is up). */
export function loadLocalContext(descOverride?: StackDescription): { ctx: LocalContext; ledger: Ledger; ledgerFile: LedgerFile } {
  const state = stateDir();
  const ledgerFile = new LedgerFile(state);
  const ledger = ledgerFile.read();
  if (!ledger?.ports) throw new HarnessError('No local stack is up', 'run `npm run provision` first');
  const env = loadHarnessEnv();
  // the stack's own description: commands run later (lifecycle recipes, scenarios) may have another environment
  const saved = existsSync(descriptionFile(state)) ? (JSON.parse(readFileSync(descriptionFile(state), 'utf8')) as StackDescription) : undefined;
  const desc = descOverride ?? saved ?? describeStack(env, loadPinSet(env.HARNESS_PINS));
  const tlsDir = join(state, 'tls');
  const ctx: LocalContext = {
    desc,
    state,
    cache: cacheDir(),
    secrets: readSecrets(join(state, 'secrets.json')),
    ports: ledger.ports as unknown as StackPorts,
    tls: { caCert: join(tlsDir, 'ca.pem'), cert: join(tlsDir, 'server.pem'), key: join(tlsDir, 'server-key.pem') },
    readyTimeout: env.HARNESS_READY_TIMEOUT,
    log: (name) => logPath(state, name),
  };
  return { ctx, ledger, ledgerFile };
}

export function readSecrets(file: string): StackSecrets {
  return JSON.parse(readFileSync(file, 'utf8')) as StackSecrets;
}
