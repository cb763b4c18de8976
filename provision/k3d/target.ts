import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadHarnessEnv } from '../config/env.ts';
import { describePinSet, loadPinSet, type PinSet } from '../config/pin-sets.ts';
import { describeStack, publicUrl, type StackDescription } from '../config/stack.ts';
import { HarnessError } from '../errors.ts';
import { interrupted, onInterrupt } from '../interrupts.ts';
import { generateSecrets, type StackSecrets } from '../local/context.ts';
import { assertPortFree } from '../local/ports.ts';
import { ensureVenv, readVersions, type Versions } from '../local/prereqs/venv.ts';
import { saveDescription } from '../local/running-stack.ts';
import { createBrowserHome, createStackTls } from '../local/tls.ts';
import { cacheDir, stateDir } from '../paths.ts';
import { info, step } from '../progress.ts';
import { pinsOf, writeDescriptor, type TargetDescriptor } from '../targets/descriptor.ts';
import { executeOrRollBack, rollBack, type ExecContext } from './execute.ts';
import { liveRunner, realmDriftOf } from './live-runner.ts';
import { liveProbes, observeCluster, observeContainers } from './observe.ts';
import { keycloakImageTag } from '../platform/profile.ts';
import { k3dDir, k3dOptions, kubeconfigPath, readK3dEnv, type ClusterNames, type K3dOptions } from './options.ts';
import type { SecretName } from './placeholders.ts';
import { commandEnv, fullPlan, planProvision, planTeardown } from './plan.ts';
import { checkK3dPrerequisites, findOnPath } from './prereqs.ts';
import { renderPlan } from './render.ts';

/** What has and has not run of the k3d target (status, the dry run and reports/k3d-api.json say it). */
export const NEVER_RUN_ON_A_CLUSTER = 'The k3d target has not yet run against a real cluster: its plan was checked by a real Kubernetes API server without kubelets (`npm run k3d-api`, reports/k3d-api.json), its executor against stand-in tools.';

/** What teardown needs when nothing else is left: the state folder's record of the cluster. */
interface ClusterRecord extends ClusterNames {
  owner: 'provision' | 'test';
  createdAt: string;
}

const recordFile = (state: string) => join(k3dDir(state), 'cluster.json');
const secretsFile = (state: string) => join(state, 'secrets.json');

function readRecord(state: string): ClusterRecord | undefined {
  const f = recordFile(state);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as ClusterRecord) : undefined;
}

function loadOrCreateSecrets(state: string, desc: StackDescription): StackSecrets {
  const f = secretsFile(state);
  if (existsSync(f)) return JSON.parse(readFileSync(f, 'utf8')) as StackSecrets;
  const secrets = generateSecrets(desc);
  // the chart generates the Flask secret key itself (hook Secret mlflow-flask-server-secret-key)
  delete secrets.flaskServerSecretKey;
  writeFileSync(f, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

/** Removes the state folder; after a failure only its logs stay. */
function clearState(state: string, keepLogs: boolean): void {
  if (!existsSync(state)) return;
  if (!keepLogs) return rmSync(state, { recursive: true, force: true });
  for (const f of readdirSync(state)) if (f !== 'logs') rmSync(join(state, f), { recursive: true, force: true });
}

function executionContext(state: string, desc: StackDescription, opts: K3dOptions, secrets: StackSecrets): ExecContext {
  const values: Record<SecretName, string> = {
    postgresSuperuser: secrets.postgresSuperuser,
    postgresMlflow: secrets.postgresMlflow,
    s3AccessKey: secrets.s3AccessKey,
    s3SecretKey: secrets.s3SecretKey,
    keycloakAdmin: secrets.keycloakAdmin,
    clientSecret: secrets.clientSecret,
    tlsKey: existsSync(opts.tls.key) ? readFileSync(opts.tls.key, 'utf8') : '',
  };
  const redactions: Record<string, string> = { ...values, ...Object.fromEntries(Object.entries(secrets.personas).map(([u, p]) => [`persona ${u}`, p])) };
  const runner = liveRunner({
    env: commandEnv(opts.workDir),
    kubeconfig: kubeconfigPath(state),
    logDir: join(state, 'logs'),
    caCert: opts.tls.caCert,
    redactions,
    realmInputs: (s) => ({
      baseUrl: s.realm!.baseUrl,
      admin: { username: 'admin', password: secrets.keycloakAdmin },
      realm: desc.keycloak,
      redirectUri: s.realm!.redirectUri,
      clientSecret: secrets.clientSecret,
      personaPasswords: secrets.personas,
    }),
  });
  return { runner, secrets: values, redactions };
}

function k3dDescriptor(desc: StackDescription, set: PinSet, state: string, opts: K3dOptions, python: string, browserHome: string, versions?: Versions): TargetDescriptor {
  const keycloakUrl = publicUrl(desc.hosts.keycloak, opts.httpsPort);
  return {
    target: 'k3d',
    mlflowUrl: publicUrl(desc.hosts.mlflow, opts.httpsPort),
    keycloakUrl,
    realm: desc.keycloak.realm,
    issuer: `${keycloakUrl}/realms/${desc.keycloak.realm}`,
    clientId: desc.keycloak.client.clientId,
    caCertPath: opts.tls.caCert,
    pins: {
      ...pinsOf(set, desc),
      keycloak: opts.keycloakVersion ?? keycloakImageTag(opts.platform),
      ...(versions ? { versions, versionsSource: `not read from the cluster: the pin set's packages as built, in the client's Python (${python}); the cluster's image is built by \`docker build\` today` } : {}),
    },
    platform: { name: opts.platform.name, localDeclared: [], note: NEVER_RUN_ON_A_CLUSTER },
    personas: desc.keycloak.personas.map((p) => ({ key: p.key, username: p.username, email: p.email, groups: p.groups })),
    python,
    secretsFile: secretsFile(state),
    browserHome,
    // Off: the checks behind `database` and `bucket` read PostgreSQL and S3 on loopback ports (`internal`), those
    // behind `serverLogs` the local server's command line, venv and direct port; in the cluster these stay
    // inside (a port-forward would have to live as long as the spec run). Their checks are not-applicable.
    capabilities: { database: false, bucket: false, serverLogs: false, keycloakAdmin: true, keycloakUsers: true, cluster: true, metrics: opts.platform.monitoring },
    logs: {},
  };
}

function selection() {
  const env = loadHarnessEnv();
  const set = loadPinSet(env.HARNESS_PINS);
  const desc = describeStack(env, set);
  const state = stateDir();
  return { env, set, desc, state, opts: k3dOptions(env, desc, set, state) };
}

/** The plan of a provision from nothing, as text (`provision --dry-run`): needs neither Docker nor a cluster. */
export function dryRunK3d(): string {
  const { desc, set, opts } = selection();
  const p = opts.platform;
  const head = `# platform ${p.name}: ${p.title} (${p.source.repository}@${p.source.commit}, ${p.source.date}); pin set ${set.name}\n# ${NEVER_RUN_ON_A_CLUSTER}`;
  return renderPlan(planProvision(desc, opts), commandEnv(opts.workDir), head);
}

export interface K3dProvisionResult {
  /** The cluster existed before (steps may still have been re-applied: see `applied`). */
  reused: boolean;
  /** Ids of the steps that changed the cluster in this run (none when it already matched the description). */
  applied: string[];
  descriptor: TargetDescriptor;
}

/**
 * Brings the k3d stack up, or brings an existing cluster of this state folder to the description (only the
 * steps whose result is missing or different run). Any failure or Ctrl-C deletes the cluster and its registry.
 */
export async function provisionK3d(owner: ClusterRecord['owner']): Promise<K3dProvisionResult> {
  const { set, desc, state, opts } = selection();
  if (existsSync(join(state, 'ledger.json'))) {
    throw new HarnessError(`The state folder ${state} records a local stack`, 'run `npm run teardown` first (or set HARNESS_STATE_DIR to another folder)');
  }
  const recorded = readRecord(state);
  if (recorded && (recorded.clusterName !== opts.clusterName || recorded.registry.name !== opts.registry.name)) {
    throw new HarnessError(`The state folder ${state} records k3d cluster ${recorded.clusterName} (registry ${recorded.registry.name}), not ${opts.clusterName}`,
      'run `npm run teardown` first, or set HARNESS_K3D_CLUSTER / HARNESS_K3D_REGISTRY back');
  }
  info(`Pin set ${describePinSet(set)}`);
  await step('prerequisites (docker, k3d, helm, kubectl, openssl, certutil)', () => checkK3dPrerequisites(desc, opts.platform));
  const env = commandEnv(opts.workDir);
  // steps that make no object (databases, bucket, realm) are observed by their effect, never trusted from the record
  const realmStep = fullPlan(desc, opts).find((s) => s.kind === 'realm')!;
  const realmDrift = async () => {
    if (!existsSync(secretsFile(state))) return ['the state folder holds no secrets for the realm'];
    const s = JSON.parse(readFileSync(secretsFile(state), 'utf8')) as StackSecrets;
    const inputs = { baseUrl: realmStep.realm!.baseUrl, admin: { username: 'admin', password: s.keycloakAdmin }, realm: desc.keycloak, redirectUri: realmStep.realm!.redirectUri, clientSecret: s.clientSecret, personaPasswords: s.personas };
    return realmDriftOf(inputs, opts.tls.caCert, { keycloakAdmin: s.keycloakAdmin, clientSecret: s.clientSecret });
  };
  const observed = await step(`observe k3d cluster ${opts.clusterName}`, () => observeCluster(opts, fullPlan(desc, opts), env, liveProbes(realmDrift)));
  if ((observed.cluster !== 'absent' || observed.registry) && !existsSync(secretsFile(state))) {
    throw new HarnessError(`k3d cluster ${opts.clusterName} (or registry ${opts.registry.name}) exists, but the state folder ${state} holds no secrets for it`,
      `delete it (\`k3d cluster delete ${opts.clusterName}; k3d registry delete ${opts.registry.name}\`) or set HARNESS_K3D_CLUSTER / HARNESS_K3D_REGISTRY to other names`);
  }
  if (observed.cluster === 'absent') {
    await assertPortFree(opts.httpsPort, '127.0.0.1', 'HARNESS_HTTPS_PORT');
    if (!observed.registry) await assertPortFree(opts.registry.port, '127.0.0.1', 'IMAGE_REGISTRY');
  }
  const python = process.env.HARNESS_PYTHON ?? join(await step(`Python ${set.python} with the pinned MLflow client`, () => ensureVenv(cacheDir(), set)), 'bin', 'python');

  mkdirSync(k3dDir(state), { recursive: true });
  const secrets = loadOrCreateSecrets(state, desc);
  const tls = await createStackTls(join(state, 'tls'), [desc.hosts.mlflow, desc.hosts.keycloak]);
  const browserHome = await createBrowserHome(join(state, 'browser-home'), tls.caCert);
  const record: ClusterRecord = recorded ?? { clusterName: opts.clusterName, registry: { name: opts.registry.name }, owner, createdAt: new Date().toISOString() };
  writeFileSync(recordFile(state), `${JSON.stringify(record, null, 2)}\n`);
  saveDescription(state, desc);

  const steps = planProvision(desc, opts, observed);
  const ctx = executionContext(state, desc, opts, secrets);
  const rollback = () => planTeardown(opts, { cluster: 'running', registry: true });
  // Ctrl-C, SIGTERM or SIGHUP: delete the cluster, keep the logs
  ctx.observeContainers = () => observeContainers(opts, env);
  const release = onInterrupt(async () => {
    const outcome = await rollBack(rollback(), ctx);
    info(`${outcome.remaining.length || outcome.unconfirmed ? '✖' : '✔'} ${outcome.summary}`);
    clearState(state, true);
  });
  try {
    await executeOrRollBack(steps, rollback, ctx);
  } catch (error) {
    if (interrupted()) await new Promise(() => undefined); // the signal handler is deleting the cluster and exits
    clearState(state, true);
    throw error;
  } finally {
    release();
  }
  const descriptor = k3dDescriptor(desc, set, state, opts, python, browserHome, await readVersions(python));
  writeDescriptor(state, descriptor);
  return { reused: !steps.some((s) => s.id === 'cluster'), applied: steps.filter((s) => s.digest).map((s) => s.id), descriptor };
}

/**
 * Deletes the cluster and registry the state folder records (or, with HARNESS_TARGET=k3d, those the settings
 * name) and removes the state folder. Returns what was deleted; nothing to do is not an error.
 */
export async function teardownK3d(): Promise<{ deleted: string[] }> {
  const state = stateDir();
  const record = readRecord(state);
  if (!record && loadHarnessEnv().HARNESS_TARGET !== 'k3d') return { deleted: [] };
  const k3dEnv = readK3dEnv();
  const names: ClusterNames = record ?? { clusterName: k3dEnv.HARNESS_K3D_CLUSTER, registry: { name: k3dEnv.HARNESS_K3D_REGISTRY ?? `${k3dEnv.HARNESS_K3D_CLUSTER}-registry` } };
  if (!findOnPath('k3d')) {
    if (!record) return { deleted: [] };
    throw new HarnessError(`The state folder records k3d cluster ${names.clusterName}, but k3d is not on PATH`, 'install k3d (https://k3d.io) and run `npm run teardown` again');
  }
  const observed = await observeContainers(names);
  const steps = planTeardown(names, observed);
  const runner = liveRunner({ env: commandEnv(k3dDir(state)), kubeconfig: kubeconfigPath(state), logDir: join(state, 'logs'), caCert: '', redactions: {}, realmInputs: () => { throw new Error('no realm in a teardown'); } });
  const outcome = steps.length ? await rollBack(steps, { runner, secrets: {}, redactions: {}, observeContainers: () => observeContainers(names) }) : undefined;
  if (outcome && (outcome.remaining.length || outcome.unconfirmed)) {
    // the state folder stays: it names what is still there
    throw new HarnessError(`Teardown incomplete: ${outcome.summary}`, 'run `npm run teardown` again once fixed');
  }
  clearState(state, false);
  return { deleted: steps.filter((s) => s.id === 'cluster-delete').map(() => `k3d cluster ${names.clusterName}`).concat(observed.registry ? [`registry ${names.registry.name}`] : []) };
}
