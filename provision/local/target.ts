import { lookup } from 'node:dns/promises';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { applyOverrides, fingerprints, type StackOverrides } from '../config/overrides.ts';
import { readImagePins, type ImagePins } from '../config/pins.ts';
import { loadHarnessEnv, type HarnessEnv } from '../config/env.ts';
import { describeStack, publicUrl, type StackDescription } from '../config/stack.ts';
import { HarnessError } from '../errors.ts';
import { adminClient, configureRealm } from '../keycloak/realm.ts';
import { cacheDir, stateDir } from '../paths.ts';
import { info, step } from '../progress.ts';
import { writeDescriptor, type TargetDescriptor } from '../targets/descriptor.ts';
import { generateSecrets, logPath, type LocalContext, type StackPorts, type StackSecrets } from './context.ts';
import { LedgerFile, type Ledger, type LedgerEntry } from './ledger.ts';
import { assertPortFree, freePort } from './ports.ts';
import { isAlive, stopProcess, until } from './process.ts';
import { aptPackages, ensureAptPackages } from './prereqs/apt.ts';
import { ensureKeycloakDist } from './prereqs/keycloak-dist.ts';
import { ensureVenv } from './prereqs/venv.ts';
import { ensureVersitygw } from './prereqs/versitygw.ts';
import { createBrowserHome, createStackTls } from './tls.ts';
import * as keycloak from './components/keycloak.ts';
import * as mlflow from './components/mlflow.ts';
import * as postgres from './components/postgres.ts';
import * as proxy from './components/proxy.ts';
import * as s3 from './components/s3.ts';

/** Start order; teardown goes in reverse. */
export const COMPONENTS = [postgres.NAME, s3.NAME, keycloak.NAME, proxy.NAME, mlflow.NAME] as const;

export interface Prerequisites {
  keycloakHome: string;
  versitygw: string;
  venv: string;
  javaHome?: string;
}

/** Fingerprint of the applied configuration: a running stack is reused only when it matches. */
export function fingerprint(desc: StackDescription): string {
  return fingerprints(desc).all;
}

/** Installs and caches everything the local target runs; each step prints its duration. */
export async function ensurePrerequisites(env: HarnessEnv, pins: ImagePins): Promise<Prerequisites> {
  await ensureAptPackages(aptPackages(env.POSTGRES_MAJOR));
  for (const tool of ['java', 'mvn', 'go', 'python3']) {
    const r = await execa(tool, ['--version'], { reject: false });
    if (r.failed && r.exitCode === undefined) {
      throw new HarnessError(`${tool} is not installed`, `install ${tool} (Java 17+, Maven, Go 1.25+, Python 3.11+) and retry`);
    }
  }
  const cache = cacheDir();
  const javaHome = process.env.JAVA_HOME;
  const [keycloakHome, versitygw, venv] = await Promise.all([
    ensureKeycloakDist(cache, env.KEYCLOAK_VERSION, javaHome),
    ensureVersitygw(cache, env.VERSITYGW_VERSION),
    ensureVenv(cache, pins, process.env.HARNESS_PYTHON ?? 'python3'),
  ]);
  return { keycloakHome, versitygw, venv, javaHome };
}

async function assertLocalhostNames(desc: StackDescription): Promise<void> {
  for (const host of [desc.hosts.mlflow, desc.hosts.keycloak]) {
    const addrs = await lookup(host, { all: true }).catch(() => []);
    if (!addrs.some((a) => a.address === '127.0.0.1' || a.address === '::1')) {
      throw new HarnessError(
        `Host name ${host} does not resolve to loopback on this machine`,
        host.endsWith('.localhost')
          ? 'install libnss-myhostname (run `npm run prereqs` as root), which resolves *.localhost without /etc/hosts edits'
          : `use names under .localhost (MLFLOW_HOST / KEYCLOAK_HOST) or make ${host} resolve to 127.0.0.1`,
      );
    }
  }
}

function stackIsUp(ledger: Ledger): boolean {
  return !!ledger.readyAt && COMPONENTS.every((c) => ledger.components[c] && isAlive(ledger.components[c]!.pid));
}

export interface ProvisionResult {
  reused: boolean;
  descriptor: TargetDescriptor;
}

/**
 * Brings the local stack up, or reuses a running one: with the same configuration as is; with another realm
 * or server configuration (a fault or its fix) by reconfiguring the realm and restarting MLflow in place.
 * Anything else that differs, or a stack not fully running, is torn down and built anew.
 */
export async function provisionLocal(owner: Ledger['owner'], overrides: StackOverrides = {}, label = 'default'): Promise<ProvisionResult> {
  const env = loadHarnessEnv();
  const pins = readImagePins();
  const desc = applyOverrides(describeStack(env, pins), overrides);
  const state = stateDir();
  const ledgerFile = new LedgerFile(state);
  const fps = fingerprints(desc);
  const fp = fps.all;

  const existing = ledgerFile.read();
  if (existing) {
    const readDesc = () => JSON.parse(readFileSync(join(state, 'target.json'), 'utf8')) as TargetDescriptor;
    if (stackIsUp(existing) && existing.fingerprint === fp) {
      info(`Reusing the running local stack (state ${state}, configuration ${label}, fingerprint ${fp}); \`npm run teardown\` stops it.`);
      return { reused: true, descriptor: readDesc() };
    }
    if (stackIsUp(existing) && existing.parts?.base === fps.base) {
      await reconcile(desc, existing, fps, label);
      return { reused: true, descriptor: readDesc() };
    }
    info(existing.fingerprint === fp ? 'A previous stack is only partly running: tearing it down first.' : `The running stack has another base configuration (${existing.fingerprint} ≠ ${fp}): tearing it down first.`);
    await teardownLocal();
  } else if (existsSync(state)) {
    rmSync(state, { recursive: true, force: true });
  }

  const prereqs = await step('prerequisites', () => ensurePrerequisites(env, pins));
  await assertLocalhostNames(desc);
  await assertPortFree(desc.hosts.httpsPort, '127.0.0.1', 'HARNESS_HTTPS_PORT');

  mkdirSync(join(state, 'logs'), { recursive: true });
  const secrets = generateSecrets(desc);
  writeFileSync(join(state, 'secrets.json'), `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  const ports: StackPorts = {
    postgres: await freePort(),
    s3: await freePort(),
    keycloakHttp: await freePort(),
    keycloakHttps: await freePort(),
    keycloakManagement: await freePort(),
    mlflow: await freePort(),
  };
  const tls = await createStackTls(join(state, 'tls'), [desc.hosts.mlflow, desc.hosts.keycloak]);
  const browserHome = await createBrowserHome(join(state, 'browser-home'), tls.caCert);
  const ctx: LocalContext = {
    desc,
    state,
    cache: cacheDir(),
    secrets,
    ports,
    tls,
    readyTimeout: env.HARNESS_READY_TIMEOUT,
    log: (name) => logPath(state, name),
  };
  ledgerFile.write({ fingerprint: fp, parts: fps, applied: label, createdAt: new Date().toISOString(), owner, ports: { ...ports }, venv: prereqs.venv, components: {} });
  const record = (name: string, entry: LedgerEntry) => {
    ledgerFile.update((l) => {
      l.components[name] = entry;
    });
    return entry;
  };

  // Ctrl-C while components start: stop what was started instead of leaving it running
  const onInterrupt = () => {
    info('Interrupted: stopping what was started.');
    void teardownLocal().finally(() => process.exit(130));
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  try {
    await startComponents(ctx, prereqs, record);
  } catch (error) {
    info('Start failed: stopping what was started (logs are kept in the message above).');
    await teardownLocal({ keepLogs: true });
    throw error;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }

  const descriptor = localDescriptor(ctx, pins, prereqs, browserHome);
  writeDescriptor(state, descriptor);
  ledgerFile.update((l) => {
    l.readyAt = new Date().toISOString();
  });
  return { reused: false, descriptor };
}

async function startComponents(ctx: LocalContext, prereqs: Prerequisites, record: (n: string, e: LedgerEntry) => LedgerEntry) {
  const { desc } = ctx;
  await step('PostgreSQL and S3', async () => {
    const pg = record(postgres.NAME, await postgres.start(ctx));
    const gw = record(s3.NAME, s3.start(ctx, prereqs.versitygw));
    await Promise.all([postgres.ready(ctx, pg), s3.ready(ctx, gw)]);
    await Promise.all([postgres.configure(ctx), s3.configure(ctx)]);
  });
  const kcUrl = publicUrl(desc.hosts.keycloak, desc.hosts.httpsPort);
  const mlflowUrl = publicUrl(desc.hosts.mlflow, desc.hosts.httpsPort);
  const kc = record(keycloak.NAME, keycloak.start(ctx, prereqs.keycloakHome, prereqs.javaHome));
  const px = record(proxy.NAME, proxy.start(ctx));
  await step('MLflow database migration', () => mlflow.migrate(ctx, prereqs.venv));
  const ml = record(mlflow.NAME, mlflow.start(ctx, prereqs.venv));
  await Promise.all([
    step(`Keycloak ${desc.versions.keycloak} and realm ${desc.keycloak.realm}`, async () => {
      await keycloak.ready(ctx, kc);
      await proxy.ready(ctx, px, `${kcUrl}/realms/master`);
      await configureRealm(realmInputs(ctx));
    }),
    step(`MLflow ${desc.versions.mlflow} + mlflow-oidc-auth ${desc.versions.mlflowOidcAuth}`, async () => {
      await mlflow.ready(ctx, ml);
      await proxy.ready(ctx, px, `${mlflowUrl}/health`);
    }),
  ]);
}

function localDescriptor(ctx: LocalContext, pins: ImagePins, prereqs: Prerequisites, browserHome: string): TargetDescriptor {
  const { desc } = ctx;
  const keycloakUrl = publicUrl(desc.hosts.keycloak, desc.hosts.httpsPort);
  return {
    target: 'local',
    mlflowUrl: publicUrl(desc.hosts.mlflow, desc.hosts.httpsPort),
    keycloakUrl,
    realm: desc.keycloak.realm,
    issuer: `${keycloakUrl}/realms/${desc.keycloak.realm}`,
    clientId: desc.keycloak.client.clientId,
    caCertPath: ctx.tls.caCert,
    pins: { mlflow: pins.mlflow, mlflowOidcAuth: pins.mlflowOidcAuth, keycloak: desc.versions.keycloak },
    personas: desc.keycloak.personas.map((p) => ({ key: p.key, username: p.username, email: p.email, groups: p.groups })),
    python: join(prereqs.venv, 'bin', 'python'),
    secretsFile: join(ctx.state, 'secrets.json'),
    browserHome,
    capabilities: { database: true, bucket: true, serverLogs: true, keycloakAdmin: true, cluster: false },
    logs: Object.fromEntries(COMPONENTS.map((c) => [c, ctx.log(c)])),
    internal: {
      mlflowUrl: `http://127.0.0.1:${ctx.ports.mlflow}`,
      keycloakUrl: `http://127.0.0.1:${ctx.ports.keycloakHttp}`,
      postgres: { host: '127.0.0.1', port: ctx.ports.postgres, user: desc.postgres.user, databases: { tracking: desc.postgres.databases.tracking, auth: desc.postgres.databases.auth } },
      s3: { endpoint: s3.endpoint(ctx), bucket: desc.s3.bucket },
      sessionDir: mlflow.environment(ctx).SESSION_CACHE_DIR!,
      venv: prereqs.venv,
    },
  };
}

/** Stops every process in the ledger (reverse order) and removes the state folder. */
export async function teardownLocal(opts: { keepLogs?: boolean } = {}): Promise<{ stopped: string[] }> {
  const state = stateDir();
  const ledgerFile = new LedgerFile(state);
  const ledger = ledgerFile.read();
  const stopped: string[] = [];
  if (ledger) {
    for (const name of [...COMPONENTS].reverse()) {
      const entry = ledger.components[name];
      if (!entry) continue;
      const alive = isAlive(entry.pid);
      await stopProcess(entry, name === postgres.NAME ? 30 : 15);
      if (alive) stopped.push(name);
    }
  }
  if (existsSync(state)) {
    if (opts.keepLogs) {
      for (const f of ['postgres', 's3', 'mlflow', 'proxy', 'browser-home', 'secrets.json', 'ledger.json', 'target.json']) {
        rmSync(join(state, f), { recursive: true, force: true });
      }
    } else {
      rmSync(state, { recursive: true, force: true });
    }
  }
  return { stopped };
}

/** Applies another realm and/or server configuration to a running stack (same base): realm via the admin API, MLflow restarted. */
async function reconcile(desc: StackDescription, existing: Ledger, fps: ReturnType<typeof fingerprints>, label: string): Promise<void> {
  const { ctx, ledgerFile } = loadLocalContext(desc);
  await step(`apply configuration "${label}" to the running stack`, async () => {
    if (existing.parts?.realm !== fps.realm) {
      await step(`reconfigure realm ${desc.keycloak.realm}`, () => configureRealm(realmInputs(ctx)));
    }
    if (existing.parts?.mlflow !== fps.mlflow) {
      await step('restart MLflow with the new settings', () => restartMlflow(ctx, ledgerFile, label !== 'default'));
    }
  });
  ledgerFile.update((l) => {
    l.fingerprint = fps.all;
    l.parts = fps;
    l.applied = label;
  });
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
  const entry = mlflow.start(ctx, ledger.venv);
  ledgerFile.update((l) => {
    l.components[mlflow.NAME] = entry;
  });
  await mlflow.ready(ctx, entry, faulted);
}

/** Stops one component of a running stack (a fault such as "database unreachable"). */
export async function stopComponent(name: string): Promise<void> {
  const ledgerFile = new LedgerFile(stateDir());
  const entry = ledgerFile.read()?.components[name];
  if (!entry) throw new HarnessError(`No component "${name}" in the running stack`, `components: ${COMPONENTS.join(', ')}`);
  await stopProcess(entry);
}

/** Starts again a component that was stopped, with the stack's configuration; waits until it is ready. */
export async function startComponent(name: string): Promise<void> {
  const { ctx, ledger, ledgerFile } = loadLocalContext();
  const entry = ledger.components[name];
  if (entry && isAlive(entry.pid)) return;
  const prereqs = await ensurePrerequisites(loadHarnessEnv(), readImagePins());
  let started: LedgerEntry;
  if (name === postgres.NAME) started = await postgres.start(ctx);
  else if (name === s3.NAME) started = s3.start(ctx, prereqs.versitygw);
  else if (name === keycloak.NAME) started = keycloak.start(ctx, prereqs.keycloakHome, prereqs.javaHome);
  else if (name === proxy.NAME) started = proxy.start(ctx);
  else if (name === mlflow.NAME) {
    await mlflow.migrate(ctx, prereqs.venv);
    started = mlflow.start(ctx, prereqs.venv);
  }
  else throw new HarnessError(`No component "${name}"`, `components: ${COMPONENTS.join(', ')}`);
  ledgerFile.update((l) => {
    l.components[name] = started;
  });
  if (name === postgres.NAME) {
    await postgres.ready(ctx, started);
    await flushStaleKeycloakConnections(ctx);
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
  const desc = descOverride ?? describeStack(env, readImagePins());
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

export { loadHarnessEnv, describeStack };
