import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { test, expect } from '@playwright/test';
import { parse } from 'yaml';
import { loadHarnessEnv } from '../../provision/config/env.ts';
import { loadPinSet } from '../../provision/config/pin-sets.ts';
import { describeStack, type StackDescription } from '../../provision/config/stack.ts';
import { HarnessError } from '../../provision/errors.ts';
import { generateSecrets } from '../../provision/local/context.ts';
import { extraEnv, placeholders } from '../../provision/render/mlflow-server.ts';
import { executeOrRollBack, rollBack, runStep, type Runner } from '../../provision/k3d/execute.ts';
import { effectPresent } from '../../provision/k3d/observe.ts';
import { k3dOptions, readK3dEnv, type K3dOptions } from '../../provision/k3d/options.ts';
import { fill } from '../../provision/k3d/placeholders.ts';
import { fullPlan, planProvision, planTeardown, stateAfter } from '../../provision/k3d/plan.ts';
import { assertTools } from '../../provision/k3d/prereqs.ts';
import { renderPlan } from '../../provision/k3d/render.ts';
import { NOTHING_OBSERVED, type PlanStep } from '../../provision/k3d/steps.ts';

const none = join(tmpdir(), 'no-such-env-file');
const state = '/tmp/harness-k3d-test-state';

function setup(pins = 'seed', vars: Record<string, string> = {}): { desc: StackDescription; opts: K3dOptions } {
  const env = loadHarnessEnv({ HARNESS_TARGET: 'k3d', ...vars }, none);
  const set = loadPinSet(pins);
  const desc = describeStack(env, set);
  return { desc, opts: k3dOptions(env, desc, set, state, readK3dEnv({}, none)) };
}

const ids = (steps: PlanStep[]) => steps.map((s) => s.id);
const at = (steps: PlanStep[], id: string) => {
  const i = steps.findIndex((s) => s.id === id);
  expect(i, `step ${id} is in the plan`).toBeGreaterThanOrEqual(0);
  return i;
};
const stepOf = (steps: PlanStep[], id: string) => steps[at(steps, id)]!;

test('the plan follows buun-stack\'s order: cluster, TLS, operator before cluster, database before Keycloak, realm, secrets, image before chart', () => {
  const { desc, opts } = setup();
  const p = planProvision(desc, opts);
  expect(ids(p).slice(0, 3)).toEqual(['registries', 'cluster', 'kubeconfig']);
  expect(at(p, 'traefik-crd-tlsstores')).toBeLessThan(at(p, 'tls-store'));
  expect(at(p, 'tls-secret')).toBeLessThan(at(p, 'cnpg-operator'));
  expect(at(p, 'cnpg-operator')).toBeLessThan(at(p, 'postgres-cluster'));
  expect(at(p, 'postgres-superuser-secret')).toBeLessThan(at(p, 'postgres-cluster'));
  expect(at(p, 'postgres-cluster')).toBeLessThan(at(p, 'postgres-ready'));
  expect(at(p, 'postgres-ready')).toBeLessThan(at(p, 'databases'));
  expect(at(p, 'databases')).toBeLessThan(at(p, 'keycloak'));
  expect(at(p, 'minio-ready')).toBeLessThan(at(p, 'bucket'));
  expect(at(p, 'keycloak-operator-ready')).toBeLessThan(at(p, 'keycloak'));
  expect(at(p, 'keycloak-https')).toBeLessThan(at(p, 'realm'));
  for (const s of ['mlflow-db-secret', 'mlflow-s3-secret', 'mlflow-oidc-config', 'mlflow-headers', 'realm', 'bucket']) expect(at(p, s)).toBeLessThan(at(p, 'mlflow'));
  expect(at(p, 'image-build')).toBeLessThan(at(p, 'image-push'));
  expect(at(p, 'image-push')).toBeLessThan(at(p, 'mlflow'));
  expect(at(p, 'helm-repo-community-charts')).toBeLessThan(at(p, 'mlflow'));
  expect(ids(p).slice(-2)).toEqual(['mlflow-ready', 'mlflow-https']);
});

test('commands are the ones buun-stack runs, with the k3d cluster\'s registry and loopback https port', () => {
  const { desc, opts } = setup();
  const p = planProvision(desc, opts);
  const cluster = stepOf(p, 'cluster').argv!;
  expect(cluster.slice(0, 4)).toEqual(['k3d', 'cluster', 'create', 'mlflow-harness']);
  expect(cluster).toContain('mlflow-harness-registry:127.0.0.1:30500');
  expect(cluster).toContain('127.0.0.1:8443:443@loadbalancer');
  // buun-head: CNPG 0.28.3 with cnpg-values.yaml and a bare --wait, the cluster chart without a wait, MLflow with Helm 4's --wait=legacy
  expect(stepOf(p, 'cnpg-operator').argv).toEqual(['helm', 'upgrade', '--cleanup-on-fail', '--install', 'cnpg', 'cnpg/cloudnative-pg', '--version', '0.28.3', '-n', 'postgres', '--wait', '--timeout', '10m', '-f', join(opts.workDir, 'cnpg-values.yaml')]);
  expect(stepOf(p, 'postgres-cluster').argv).toEqual(['helm', 'upgrade', '--cleanup-on-fail', '--install', 'postgres-cluster', 'cnpg/cluster', '--version', '0.6.1', '-n', 'postgres', '-f', join(opts.workDir, 'postgres-cluster-values.yaml')]);
  expect(stepOf(p, 'image-build').argv!.slice(0, 3)).toEqual(['docker', 'build', '-t']);
  expect(stepOf(p, 'image-build').argv).toContain('localhost:30500/mlflow:3.6.0-oidc');
  expect(stepOf(p, 'image-push').argv).toEqual(['docker', 'push', 'localhost:30500/mlflow:3.6.0-oidc']);
  expect(stepOf(p, 'helm-repo-community-charts').argv!.slice(0, 5)).toEqual(['helm', 'repo', 'add', 'community-charts', 'https://community-charts.github.io/helm-charts']);
  expect(stepOf(p, 'mlflow').argv).toEqual(['helm', 'upgrade', '--cleanup-on-fail', '--install', 'mlflow', 'community-charts/mlflow', '--version', '1.8.0', '-n', 'mlflow', '--wait=legacy', '--timeout', '10m', '-f', join(opts.workDir, 'values.yaml')]);
  const mw = stepOf(p, 'mlflow-headers').manifest as { spec: { headers: { customRequestHeaders: Record<string, string> } } };
  expect(mw.spec.headers.customRequestHeaders).toEqual({ 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'mlflow.localhost', 'X-Forwarded-Port': '8443' });
  const kc = stepOf(p, 'keycloak').manifest as { spec: { hostname: { hostname: string }; proxy: { headers: string } } };
  expect(kc.spec.hostname.hostname).toBe('https://keycloak.localhost:8443');
  expect(kc.spec.proxy.headers).toBe('xforwarded');
});

test('each platform profile renders its own components: Helm wait, CNPG, PostgreSQL, Keycloak, MinIO, MLflow pod, monitoring', () => {
  type Kc = { apiVersion: string; spec: { image: string; resources: { requests: { memory: string }; limits: { memory: string } }; startupProbe?: unknown; unsupported?: unknown } };
  const head = setup('seed', { HARNESS_PLATFORM: 'buun-head' });
  const seed = setup('seed', { HARNESS_PLATFORM: 'seed' });
  const ph = planProvision(head.desc, head.opts);
  const ps = planProvision(seed.desc, seed.opts);
  const kh = stepOf(ph, 'keycloak').manifest as Kc;
  const ks = stepOf(ps, 'keycloak').manifest as Kc;
  expect([kh.apiVersion, kh.spec.image, kh.spec.resources.requests.memory, kh.spec.resources.limits.memory]).toEqual(['k8s.keycloak.org/v2beta1', 'quay.io/keycloak/keycloak:26.4', '2Gi', '3Gi']);
  expect(kh.spec.startupProbe).toEqual({ periodSeconds: 10, failureThreshold: 20 });
  expect(kh.spec.unsupported).toBeTruthy();
  expect([ks.apiVersion, ks.spec.image, ks.spec.resources.requests.memory, ks.spec.resources.limits.memory]).toEqual(['k8s.keycloak.org/v2alpha1', 'quay.io/keycloak/keycloak:26.3.4', '1.5Gi', '2Gi']);
  expect(stepOf(ph, 'keycloak-ready').wait).toMatchObject({ version: 'v2beta1' });
  expect(stepOf(ps, 'keycloak-ready').wait).toMatchObject({ version: 'v2alpha1' });
  expect(stepOf(ph, 'keycloak-operator').argv!.at(-1)).toContain('/26.6.3/');
  expect(stepOf(ps, 'keycloak-operator').argv!.at(-1)).toContain('/26.3.4/');
  expect(ids(ph)).toEqual(expect.arrayContaining(['postgres-seccomp', 'keycloak-operator-memory', 'cnpg-operator-values']));
  expect(ids(ps)).not.toEqual(expect.arrayContaining(['postgres-seccomp']));
  expect(ids(ps)).not.toContain('keycloak-operator-memory');
  const pg = (p: PlanStep[]) => stepOf(p, 'postgres-cluster-values').manifest as { version: { postgresql: string }; cluster: { resources?: unknown; postgresql: { parameters: Record<string, string> } } };
  expect(pg(ph).version.postgresql).toBe('18');
  expect(pg(ph).cluster.postgresql.parameters.io_method).toBe('io_uring');
  expect(pg(ps).version.postgresql).toBe('16');
  expect(pg(ps).cluster.resources).toBeUndefined();
  const mn = (p: PlanStep[]) => stepOf(p, 'minio-values').manifest as { image: { repository: string; tag: string }; resources?: { limits: { cpu: string } } };
  expect(mn(ph).image).toMatchObject({ repository: 'pgsty/minio' });
  expect(mn(ph).resources!.limits.cpu).toBe('100m');
  expect(mn(ps).image).toMatchObject({ repository: 'quay.io/minio/minio', tag: 'RELEASE.2024-12-18T13-15-44Z' });
  expect(stepOf(ph, 'minio').argv).toContain('--wait=legacy');
  expect(stepOf(ps, 'minio').argv).toContain('--wait');
  expect(stepOf(ps, 'mlflow').argv).not.toContain('--wait=legacy');
  for (const p of [ph, ps]) {
    const v = stepOf(p, 'mlflow-values').manifest as { resources: unknown; securityContext: { runAsUser: number }; serviceMonitor: { enabled: boolean } };
    expect(v.resources).toEqual({ limits: { cpu: '1000m', memory: '2Gi' }, requests: { cpu: '100m', memory: '512Mi' } });
    expect(v.securityContext.runAsUser).toBe(1001);
    // buun-stack enables the ServiceMonitor only where kube-prometheus-stack is installed; the k3d cluster has none
    expect(v.serviceMonitor.enabled).toBe(false);
  }
  // the realm's client sessions: 86400 at HEAD (ea328fe), 43200 at the seed
  expect(head.desc.keycloak.tokenSettings.clientSessionMaxLifespan).toBe(86400);
  expect(seed.desc.keycloak.tokenSettings.clientSessionMaxLifespan).toBe(43200);
});

test('the Secrets carry the keys the chart and buun-stack\'s recipes read', () => {
  const { desc, opts } = setup();
  const p = planProvision(desc, opts);
  const keys = (id: string) => Object.keys((stepOf(p, id).manifest as { stringData: Record<string, string> }).stringData).sort();
  expect(keys('mlflow-db-secret')).toEqual(['password', 'username']);
  expect(keys('mlflow-s3-secret')).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
  expect(keys('mlflow-oidc-config')).toEqual(['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_USERS_DB_URI']);
  expect(keys('minio-secret')).toEqual(['rootPassword', 'rootUser']);
});

test('the values that reach the chart come from the description (renderChartValues) and pin the migration image', () => {
  for (const [pins, appName, mlflow, chart] of [['seed', 'oidc-auth-fastapi', '3.6.0', '1.8.0'], ['buun-bump', 'oidc-auth', '3.13.0', '1.8.5']] as const) {
    const { desc, opts } = setup(pins);
    const p = planProvision(desc, opts);
    const v = stepOf(p, 'mlflow-values').manifest as {
      image: { repository: string; tag: string }; initImages: { mlflowDbMigration: { tag: string } };
      extraArgs: Record<string, string>; extraEnvVars: Record<string, string>; extraVolumeMounts: { mountPath: string }[];
    };
    expect(v.extraArgs.appName).toBe(appName);
    expect(v.extraArgs.allowedHosts).toBe('mlflow.localhost,mlflow.localhost:8443,mlflow.mlflow.svc.cluster.local,mlflow.mlflow.svc.cluster.local:5000,*');
    expect(v.image).toMatchObject({ repository: 'localhost:30500/mlflow', tag: `${mlflow}-oidc` });
    expect(v.initImages.mlflowDbMigration.tag).toBe(mlflow);
    const described = extraEnv(desc.mlflow, placeholders(desc, { service: 'mlflow.mlflow.svc.cluster.local', servicePort: 5000, s3Endpoint: 'http://minio.minio.svc.cluster.local:9000' }));
    expect(v.extraEnvVars).toMatchObject(described);
    expect(v.extraEnvVars.OIDC_DISCOVERY_URL).toBe('https://keycloak.localhost:8443/realms/buunstack/.well-known/openid-configuration');
    // the pod trusts the stack CA, as the local MLflow process does
    expect(v.extraEnvVars.REQUESTS_CA_BUNDLE).toBe(`${v.extraVolumeMounts[0]!.mountPath}/ca.pem`);
    expect(stepOf(p, 'mlflow').argv).toContain(chart);
  }
});

test('a second provision against what the first left plans no creation and no upgrade', () => {
  const { desc, opts } = setup();
  const first = planProvision(desc, opts);
  const second = planProvision(desc, opts, stateAfter(first));
  expect(second.filter((s) => s.digest)).toEqual([]);
  expect(second.filter((s) => s.creates)).toEqual([]);
  expect(second.every((s) => s.kind === 'wait' || s.id === 'kubeconfig')).toBe(true);
  const text = renderPlan(second);
  expect(text).not.toContain('helm upgrade');
  expect(text).not.toContain('k3d cluster create');
  expect(text).not.toContain('docker build');
});

test('only what is missing or changed is planned again', () => {
  const { desc, opts } = setup();
  const after = stateAfter(planProvision(desc, opts));

  // the mlflow release was uninstalled: its repo, values and release, nothing else
  const noRelease = { ...after, present: after.present.filter((k) => !k.startsWith('release:mlflow/')) };
  expect(ids(planProvision(desc, opts, noRelease).filter((s) => s.kind !== 'wait' && s.id !== 'kubeconfig'))).toEqual(['helm-repo-community-charts', 'mlflow-values', 'mlflow']);

  // a changed setting upgrades the release with new values; the image stays
  const changed = structuredClone(desc);
  changed.mlflow.env.OIDC_GROUP_DETECTION_PLUGIN = 'oidc';
  const upgrade = planProvision(changed, opts, after);
  expect(ids(upgrade.filter((s) => s.digest))).toEqual(['mlflow']);
  expect((stepOf(upgrade, 'mlflow-values').manifest as { extraEnvVars: Record<string, string> }).extraEnvVars.OIDC_GROUP_DETECTION_PLUGIN).toBe('oidc');

  // an edited Dockerfile (same tag) is built and pushed again, then the release is left as is
  expect(ids(planProvision(desc, { ...opts, dockerfileDigest: 'edited' }, after).filter((s) => s.kind === 'command'))).toEqual(['kubeconfig', 'image-build', 'image-push']);

  // another chart version is an upgrade
  expect(ids(planProvision(desc, { ...opts, chartVersion: '1.8.5' }, after).filter((s) => s.digest))).toEqual(['mlflow']);

  // a deleted Secret is applied again
  const noSecret = { ...after, present: after.present.filter((k) => k !== 'k8s:mlflow/secrets/mlflow-oidc-config') };
  expect(ids(planProvision(desc, opts, noSecret).filter((s) => s.digest))).toEqual(['mlflow-oidc-config']);

  // a changed realm description configures the realm again
  const realm = structuredClone(desc);
  realm.keycloak.groups.push({ name: 'extra', description: 'x' });
  expect(ids(planProvision(realm, opts, after).filter((s) => s.digest))).toEqual(['realm']);
});

test('a cluster made with other settings, or stopped, is deleted and made anew; a lone registry is deleted first', () => {
  const { desc, opts } = setup();
  const after = stateAfter(planProvision(desc, opts));
  const otherPort = planProvision(desc, { ...opts, httpsPort: 9443 }, after);
  expect(ids(otherPort).slice(0, 4)).toEqual(['cluster-delete', 'registry-delete', 'registries', 'cluster']);
  expect(otherPort.length).toBe(fullPlan(desc, opts).length + 2);
  expect(ids(planProvision(desc, opts, { ...NOTHING_OBSERVED, cluster: 'stopped', registry: true })).slice(0, 2)).toEqual(['cluster-delete', 'registry-delete']);
  const lone = planProvision(desc, opts, { ...NOTHING_OBSERVED, registry: true });
  expect(lone[0]).toMatchObject({ id: 'registry-delete', argv: ['k3d', 'registry', 'delete', 'mlflow-harness-registry'] });
  expect(lone[0]!.allowFailure).toBeFalsy();
});

test('teardown deletes the cluster and its registry, and nothing when nothing exists', () => {
  const { opts } = setup();
  const t = planTeardown(opts, { cluster: 'running', registry: true });
  expect(t.map((s) => s.argv)).toEqual([['k3d', 'cluster', 'delete', 'mlflow-harness'], ['k3d', 'registry', 'delete', 'mlflow-harness-registry']]);
  expect(t[1]!.allowFailure).toBe(true);
  expect(planTeardown(opts, { cluster: 'absent', registry: false })).toEqual([]);
});

test('no secret value appears in the plan or its rendering; they are filled only when a step runs', () => {
  const { desc, opts } = setup();
  const secrets = generateSecrets(desc);
  const values = [secrets.postgresSuperuser, secrets.postgresMlflow, secrets.s3AccessKey, secrets.s3SecretKey, secrets.keycloakAdmin, secrets.clientSecret, ...Object.values(secrets.personas)];
  const p = planProvision(desc, opts);
  const text = `${renderPlan(p)}${JSON.stringify(p)}`;
  for (const v of values) expect(text).not.toContain(v);
  // the MinIO root user is buun-stack's fixed `minioadmin`, not a secret; its password is one
  for (const name of ['postgresSuperuser', 'postgresMlflow', 's3SecretKey', 'keycloakAdmin', 'clientSecret', 'tlsKey']) expect(text).toContain(`<secret:${name}>`);
  for (const s of p) expect(s.argv?.join(' ') ?? '').not.toContain('<secret:');
  const filled = fill(stepOf(p, 'databases').stdin!, { postgresMlflow: secrets.postgresMlflow });
  expect(filled).toContain(`PASSWORD '${secrets.postgresMlflow}'`);
  expect(filled).not.toContain('<secret:');
});

test('the dry run prints every command, manifest and values file in order', () => {
  const { desc, opts } = setup();
  const p = planProvision(desc, opts);
  const text = renderPlan(p, { KUBECONFIG: '/k' });
  expect(text).toContain('# Commands run with KUBECONFIG=/k');
  let last = -1;
  for (const [i, s] of p.entries()) {
    const pos = text.indexOf(`## ${i + 1}. ${s.id} — `);
    expect(pos).toBeGreaterThan(last);
    last = pos;
  }
  expect(text).toContain('$ k3d cluster create mlflow-harness');
  expect(text).toContain('kind: TLSStore');
  expect(text).toContain("sh -c 'mc alias set local");
  expect(text).toContain(`# file ${join(opts.workDir, 'values.yaml')}\nreplicaCount: 1`);
  expect(text).not.toMatch(/[&*]a\d/); // no YAML anchors: every object is written out
});

test('missing tools stop the k3d target with one line naming them and how to install them', () => {
  const onlyDocker = (name: string) => (name === 'docker' ? '/usr/bin/docker' : undefined);
  let error: unknown;
  try {
    assertTools(onlyDocker);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(HarnessError);
  const line = (error as HarnessError).line();
  expect(line).toContain('needs k3d, helm, kubectl, openssl, certutil, not found on PATH; nothing was created');
  expect(line).toContain('https://k3d.io');
  expect(line).toContain('https://helm.sh/docs/intro/install/');
  expect(line).not.toContain('\n');
  expect(() => assertTools((name) => `/usr/bin/${name}`)).not.toThrow();
});

/** A runner that records what it is asked and fails the step `failAt`, echoing its stdin (as a failing psql might). */
function fakeRunner(failAt?: string) {
  const calls: { id: string; argv: string[]; input?: string }[] = [];
  const recorded: string[] = [];
  const runner: Runner = {
    async command(s, argv, input) {
      calls.push({ id: s.id, argv, input });
      return s.id === failAt ? { exitCode: 1, output: `ERROR near: ${input ?? ''}` } : { exitCode: 0, output: '' };
    },
    async wait() {},
    async realm() {},
    writeFile() {},
    async record(id) {
      recorded.push(id);
    },
  };
  return { runner, calls, recorded };
}

test('a failing step deletes the cluster and its registry, and the error names the step without the secret', async () => {
  const { desc, opts } = setup();
  const secrets = generateSecrets(desc);
  const values = { postgresSuperuser: secrets.postgresSuperuser, postgresMlflow: secrets.postgresMlflow, s3AccessKey: secrets.s3AccessKey, s3SecretKey: secrets.s3SecretKey, keycloakAdmin: secrets.keycloakAdmin, clientSecret: secrets.clientSecret, tlsKey: 'KEY' };
  const { runner, calls, recorded } = fakeRunner('databases');
  const quiet = process.env.HARNESS_QUIET;
  process.env.HARNESS_QUIET = '1';
  const error = await executeOrRollBack(planProvision(desc, opts), () => planTeardown(opts, { cluster: 'running', registry: true }), {
    runner, secrets: values, redactions: values, readFile: () => 'PEM', observeContainers: async () => ({ cluster: 'absent', registry: false }),
  }).then(() => undefined, (e: unknown) => e).finally(() => {
    if (quiet === undefined) delete process.env.HARNESS_QUIET;
    else process.env.HARNESS_QUIET = quiet;
  });
  expect(error).toBeInstanceOf(HarnessError);
  const message = (error as HarnessError).line();
  expect(message).toContain('Step databases');
  expect(message).toContain('<secret:postgresMlflow>');
  expect(message).not.toContain(secrets.postgresMlflow);
  expect(message).toContain('the k3d cluster mlflow-harness and registry mlflow-harness-registry were deleted (k3d lists neither)');
  // the secret reached the program on stdin only
  expect(calls.find((c) => c.id === 'databases')!.input).toContain(secrets.postgresMlflow);
  expect(calls.slice(-2).map((c) => c.argv.join(' '))).toEqual(['k3d cluster delete mlflow-harness', 'k3d registry delete mlflow-harness-registry']);
  expect(ids(planProvision(desc, opts).filter((s) => s.digest)).slice(0, recorded.length)).toEqual(recorded);
  expect(recorded).not.toContain('databases');
});

test('a manifest is filled before it is rendered: a multi-line PEM and the secrets reach kubectl as valid YAML', async () => {
  const { desc, opts } = setup();
  const p = planProvision(desc, opts);
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB8TCCAZegAwIBAgIU\n-----END CERTIFICATE-----\n';
  // a PEM-shaped stand-in (not a key), assembled so no key marker sits in the source
  const marker = (edge: string) => `-----${edge} ${['PRIVATE', 'KEY'].join(' ')}-----`;
  const key = `${marker('BEGIN')}\nnot-a-key-only-its-shape\n${marker('END')}\n`;
  const { runner, calls } = fakeRunner();
  const ctx = { runner, secrets: { tlsKey: key, clientSecret: 'C'.repeat(48), postgresMlflow: 'P'.repeat(48) }, redactions: {}, readFile: () => pem };
  for (const id of ['tls-secret', 'mlflow-oidc-config', 'mlflow-stack-ca']) await runStep(stepOf(p, id), ctx);
  const [tls, oidc, ca] = calls.map((c) => parse(c.input!) as { stringData?: Record<string, string>; data?: Record<string, string> });
  expect(tls!.stringData).toEqual({ 'tls.crt': pem, 'tls.key': key });
  expect(oidc!.stringData!.OIDC_CLIENT_SECRET).toBe('C'.repeat(48));
  expect(oidc!.stringData!.OIDC_USERS_DB_URI).toBe(`postgresql://mlflow:${'P'.repeat(48)}@postgres-cluster-rw.postgres.svc.cluster.local:5432/mlflow_auth`);
  expect(ca!.data!['ca.pem']).toBe(pem);
});

/** Runs `fn` with progress lines off. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const quiet = process.env.HARNESS_QUIET;
  process.env.HARNESS_QUIET = '1';
  try {
    return await fn();
  } finally {
    if (quiet === undefined) delete process.env.HARNESS_QUIET;
    else process.env.HARNESS_QUIET = quiet;
  }
}

test('a rollback reports only what k3d no longer lists: a deletion that failed is printed and named, with the command that finishes it', async () => {
  const { opts } = setup();
  const steps = planTeardown(opts, { cluster: 'running', registry: true });
  // the cluster delete fails and k3d still lists the cluster
  const { runner } = fakeRunner('cluster-delete');
  const stuck = await quietly(() => rollBack(steps, { runner, secrets: {}, redactions: {}, observeContainers: async () => ({ cluster: 'running', registry: false }) }));
  expect(stuck.failures).toEqual([expect.stringContaining('delete k3d cluster mlflow-harness')]);
  expect(stuck.remaining).toEqual(['cluster mlflow-harness']);
  expect(stuck.summary).toContain('NOT deleted: cluster mlflow-harness');
  expect(stuck.summary).toContain('`k3d cluster delete mlflow-harness`');
  expect(stuck.summary).toContain('deleted: registry mlflow-harness-registry');
  expect(stuck.summary).not.toContain('were deleted');
  // the registry delete failed only because the cluster delete took it along: k3d lists neither, so both are gone
  const along = await quietly(() => rollBack(steps, { runner: fakeRunner('registry-delete').runner, secrets: {}, redactions: {}, observeContainers: async () => ({ cluster: 'absent', registry: false }) }));
  expect(along.remaining).toEqual([]);
  expect(along.summary).toBe('the k3d cluster mlflow-harness and registry mlflow-harness-registry were deleted (k3d lists neither)');
  // nobody can ask k3d: nothing is claimed
  const blind = await quietly(() => rollBack(steps, { runner: fakeRunner().runner, secrets: {}, redactions: {}, observeContainers: async () => { throw new Error('k3d: command not found'); } }));
  expect(blind.unconfirmed).toContain('k3d: command not found');
  expect(blind.summary).toContain('could not be confirmed');
});

test('on reuse, steps that make no object are observed by their effect: a dropped database, bucket or changed realm is applied again', async () => {
  const { desc, opts } = setup();
  const full = planProvision(desc, opts);
  for (const id of ['databases', 'bucket', 'realm']) expect(stepOf(full, id).creates, id).toBeTruthy();
  const after = stateAfter(full);
  expect(planProvision(desc, opts, after).filter((s) => s.digest)).toEqual([]);
  // the observer did not find the databases (dropped since): the recorded digest alone does not satisfy the step
  const dropped = { ...after, present: after.present.filter((k) => k !== 'effect:databases') };
  expect(ids(planProvision(desc, opts, dropped).filter((s) => s.digest))).toEqual(['databases']);
  const realmChanged = { ...after, present: after.present.filter((k) => !k.startsWith('realm:')) };
  expect(ids(planProvision(desc, opts, realmChanged).filter((s) => s.digest))).toEqual(['realm']);

  // the probes: every expected line of the probe's output, or no drift of the realm
  const databases = stepOf(full, 'databases');
  expect(databases.effect!.expect).toEqual(['database mlflow', 'database mlflow_auth', 'database keycloak', 'role mlflow']);
  const run = (stdout: string, exitCode = 0) => ({ run: async () => ({ exitCode, stdout }) });
  await quietly(async () => {
    expect(await effectPresent(databases, {}, run('database mlflow\ndatabase mlflow_auth\ndatabase keycloak\nrole mlflow\n'))).toBe(true);
    expect(await effectPresent(databases, {}, run('database mlflow_auth\ndatabase keycloak\nrole mlflow\n'))).toBe(false);
    expect(await effectPresent(databases, {}, run('', 1))).toBe(false);
    expect(await effectPresent(stepOf(full, 'bucket'), {}, run('bucket mlflow\n'))).toBe(true);
    expect(await effectPresent(stepOf(full, 'bucket'), {}, run('', 1))).toBe(false);
    const realm = stepOf(full, 'realm');
    expect(await effectPresent(realm, {}, { run: async () => ({ exitCode: 0, stdout: '' }), realmDrift: async () => [] })).toBe(true);
    expect(await effectPresent(realm, {}, { run: async () => ({ exitCode: 0, stdout: '' }), realmDrift: async () => ['client mlflow redirect URIs are https://x/callback'] })).toBe(false);
    expect(await effectPresent(realm, {}, { run: async () => ({ exitCode: 0, stdout: '' }) })).toBe(false);
  });
});
