import { lookup } from 'node:dns/promises';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyOverrides, fingerprints, type StackOverrides } from '../config/overrides.ts';
import { describePinSet, loadPinSet, type PinSet } from '../config/pin-sets.ts';
import { loadHarnessEnv } from '../config/env.ts';
import { describeStack, publicUrl, type StackDescription } from '../config/stack.ts';
import { recordSecret } from '../secret-ledger.ts';
import { secretsOf } from '../secret-scan.ts';
import { HarnessError } from '../errors.ts';
import { configureRealm } from '../keycloak/realm.ts';
import { cacheDir, stateDir } from '../paths.ts';
import { info, step } from '../progress.ts';
import { interrupted, onInterrupt } from '../interrupts.ts';
import { pinsOf, writeDescriptor, type TargetDescriptor } from '../targets/descriptor.ts';
import { generateSecrets, logPath, type LocalContext, type StackPorts } from './context.ts';
import { LedgerFile, type Ledger, type LedgerEntry } from './ledger.ts';
import { assertPortFree, freePort } from './ports.ts';
import { isAlive, stopProcess } from './process.ts';
import { createBrowserHome, createStackTls } from './tls.ts';
import { COMPONENTS, keycloak, mlflow, postgres, proxy, s3 } from './components/index.ts';
import { ensurePrerequisites, type Prerequisites } from './prerequisites.ts';
import { venvVersions, type Versions } from './prereqs/venv.ts';
import { adoptTemplateAdmin, restoreTemplate, saveTemplate } from './components/keycloak-template.ts';
import { realmInputs, reconcile, saveDescription } from './running-stack.ts';


/** Fingerprint of the applied configuration: a running stack is reused only when it matches. */
export function fingerprint(desc: StackDescription): string {
  return fingerprints(desc).all;
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
  const set = loadPinSet(env.HARNESS_PINS);
  const desc = applyOverrides(describeStack(env, set), overrides);
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

  info(`Pin set ${describePinSet(set)}`);
  const prereqs = await step('prerequisites', () => ensurePrerequisites(env, set));
  // Ctrl-C, SIGTERM or SIGHUP from here on: stop what was started (the ledger records it as it starts)
  const release = onInterrupt(() => teardownLocal({ keepLogs: true }));
  await assertLocalhostNames(desc);
  await assertPortFree(desc.hosts.httpsPort, '127.0.0.1', 'HARNESS_HTTPS_PORT');

  mkdirSync(join(state, 'logs'), { recursive: true });
  const secrets = generateSecrets(desc);
  writeFileSync(join(state, 'secrets.json'), `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  for (const s of secretsOf(secrets, 'secrets')) recordSecret(s.name, s.value, undefined, state);
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
  saveDescription(state, desc);
  const record = (name: string, entry: LedgerEntry) => {
    ledgerFile.update((l) => {
      l.components[name] = entry;
    });
    return entry;
  };

  let readySeconds: Record<string, number> = {};
  try {
    readySeconds = await startComponents(ctx, prereqs, record);
  } catch (error) {
    if (interrupted()) await new Promise(() => undefined); // the signal handler is stopping everything and exits
    info('Start failed: stopping what was started (logs are kept in the message above).');
    await teardownLocal({ keepLogs: true });
    throw error;
  } finally {
    release();
  }

  const descriptor = localDescriptor(ctx, set, prereqs, browserHome, await venvVersions(prereqs.venv));
  writeDescriptor(state, descriptor);
  ledgerFile.update((l) => {
    l.readyAt = new Date().toISOString();
    l.readySeconds = readySeconds;
  });
  return { reused: false, descriptor };
}

/** Seconds from `since` until `fn` is done, recorded under `name` (the bench reads them from the ledger). */
async function timed<T>(timings: Record<string, number>, name: string, since: number, fn: () => Promise<T>): Promise<T> {
  const r = await fn();
  timings[name] = Math.round((Date.now() - since) / 100) / 10;
  return r;
}

async function startComponents(ctx: LocalContext, prereqs: Prerequisites, record: (n: string, e: LedgerEntry) => LedgerEntry): Promise<Record<string, number>> {
  const { desc } = ctx;
  const t: Record<string, number> = {};
  await step('PostgreSQL and S3', async () => {
    const started = Date.now();
    const pg = record(postgres.NAME, await postgres.start(ctx));
    const gw = record(s3.NAME, s3.start(ctx, prereqs.versitygw));
    await Promise.all([timed(t, postgres.NAME, started, () => postgres.ready(ctx, pg)), timed(t, s3.NAME, started, () => s3.ready(ctx, gw))]);
    await Promise.all([postgres.configure(ctx), s3.configure(ctx)]);
  });
  const kcUrl = publicUrl(desc.hosts.keycloak, desc.hosts.httpsPort);
  const mlflowUrl = publicUrl(desc.hosts.mlflow, desc.hosts.httpsPort);
  // Keycloak's schema and master realm from the cached template, when there is one (its first start is half migration)
  const templatePassword = await restoreTemplate(ctx);
  const kcStarted = Date.now();
  const kc = record(keycloak.NAME, keycloak.start(ctx, prereqs.keycloakHome, prereqs.javaHome));
  const px = record(proxy.NAME, await proxy.start(ctx));
  const mlStarted = Date.now();
  await step('MLflow database migration', () => timed(t, 'mlflow-migration', mlStarted, () => mlflow.migrate(ctx, prereqs.venv)));
  const ml = record(mlflow.NAME, await mlflow.start(ctx, prereqs.venv));
  await Promise.all([
    step(`Keycloak ${desc.versions.keycloak} and realm ${desc.keycloak.realm}`, async () => {
      await timed(t, keycloak.NAME, kcStarted, () => keycloak.ready(ctx, kc));
      if (templatePassword) await adoptTemplateAdmin(ctx, templatePassword);
      else await saveTemplate(ctx);
      await timed(t, proxy.NAME, kcStarted, () => proxy.ready(ctx, px, `${kcUrl}/realms/master`));
      const realmStarted = Date.now();
      await timed(t, 'realm', realmStarted, () => configureRealm(realmInputs(ctx)));
    }),
    step(`MLflow ${desc.versions.mlflow} + mlflow-oidc-auth ${desc.versions.mlflowOidcAuth}`, async () => {
      // MLflow's own ready time: from its start to /health (after the migration)
      await timed(t, mlflow.NAME, mlStarted, async () => {
        await mlflow.ready(ctx, ml);
        await proxy.ready(ctx, px, `${mlflowUrl}/health`);
      });
    }),
  ]);
  return t;
}

function localDescriptor(ctx: LocalContext, set: PinSet, prereqs: Prerequisites, browserHome: string, versions: Versions): TargetDescriptor {
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
    pins: { ...pinsOf(set, desc), keycloak: desc.versions.keycloak, versions, versionsSource: `the venv the MLflow server runs (${prereqs.venv})` },
    platform: { name: desc.platform.name, localDeclared: desc.platform.localDeclared },
    personas: desc.keycloak.personas.map((p) => ({ key: p.key, username: p.username, email: p.email, groups: p.groups })),
    python: join(prereqs.venv, 'bin', 'python'),
    secretsFile: join(ctx.state, 'secrets.json'),
    browserHome,
    capabilities: { database: true, bucket: true, serverLogs: true, keycloakAdmin: true, keycloakUsers: true, cluster: false, metrics: desc.mlflow.exposePrometheus },
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
  // PostgreSQL's folder lives outside the state folder when the server runs as another user
  rmSync(postgres.serverDir({ state }), { recursive: true, force: true });
  if (existsSync(state)) {
    if (opts.keepLogs) {
      // a failed start keeps only its logs: data, secrets and the CA key go
      for (const f of readdirSync(state)) if (f !== 'logs') rmSync(join(state, f), { recursive: true, force: true });
    } else {
      rmSync(state, { recursive: true, force: true });
    }
  }
  return { stopped };
}

