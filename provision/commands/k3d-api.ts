import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ensureEtcd, ensureKubeApiserver, ETCD_VERSION, KUBERNETES_VERSION } from '../api-server/build.ts';
import { checkPlan, crdSources, goModuleDir, installCrds, yamlObjects, type ApiRow } from '../api-server/check.ts';
import { startApiServer } from '../api-server/server.ts';
import { parseManifest } from '../chart/manifest.ts';
import { helmTemplate, prepareChart } from '../chart/render.ts';
import { loadHarnessEnv } from '../config/env.ts';
import { loadPinSet } from '../config/pin-sets.ts';
import { describeStack } from '../config/stack.ts';
import { HarnessError } from '../errors.ts';
import { k3dOptions, readK3dEnv } from '../k3d/options.ts';
import type { PlanStep } from '../k3d/steps.ts';
import { NEVER_RUN_ON_A_CLUSTER } from '../k3d/target.ts';
import { generateSecrets } from '../local/context.ts';
import { ensureHelm } from '../local/prereqs/helm.ts';
import { createStackTls } from '../local/tls.ts';
import { cacheDir, reportsDir } from '../paths.ts';
import { info, step } from '../progress.ts';
import { loadPlatform, platformNames } from '../platform/profile.ts';

const USAGE = 'npm run k3d-api -- [--platform <name>]… (default: every profile)';

function parseArgs(args: string[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--platform' && args[i + 1]) names.push(args[++i]!);
    else if (a.startsWith('--platform=')) names.push(a.slice('--platform='.length));
    else throw new HarnessError(`Unknown argument \`${a}\``, USAGE);
  }
  return names.length ? names : platformNames();
}

/**
 * Charts a Go module carries, for when their Helm repository is out of reach (the Go module proxy is reachable where
 * Helm repositories are not): MinIO's chart lives in github.com/minio/minio under helm/minio, and stayed at 5.4.0
 * to that repository's last commit. The chart's own Chart.yaml must name the version asked for.
 */
export const CHARTS_IN_GO_MODULES: Record<string, { module: string; version: string; path: string }> = {
  'minio/minio@5.4.0': { module: 'github.com/minio/minio', version: 'v0.0.0-20260212201848-7aac2a2c5b7c', path: 'helm/minio' },
};

/** The chart folder of a release from a Go module (CHARTS_IN_GO_MODULES), or why not. */
export async function chartFromGoModule(chart: string, version: string): Promise<{ dir: string } | { notRun: string }> {
  const m = CHARTS_IN_GO_MODULES[`${chart}@${version}`];
  if (!m) return { notRun: 'no Go module carries it' };
  let root: string;
  try {
    root = await goModuleDir(m.module, m.version);
  } catch (e) {
    return { notRun: (e as Error).message.split('\n')[0]! };
  }
  const dir = join(root, m.path);
  const file = join(dir, 'Chart.yaml');
  const found = existsSync(file) ? /^version:\s*"?([^"\s]+)"?\s*$/m.exec(readFileSync(file, 'utf8'))?.[1] : undefined;
  if (found !== version) return { notRun: `${m.module}@${m.version} ${m.path} holds chart version ${found ?? 'none'}, not ${version}` };
  return { dir };
}

/** A chart folder from the cache (`<cache>/helm/charts/<name>-<version>/<name>`, as chart-parity's `helm pull` leaves it) or MLFLOW_CHART_PATH. */
function chartDir(cache: string, chart: string, version: string, mlflowChartPath?: string): string | undefined {
  const name = chart.split('/').pop()!;
  const cached = join(cache, 'helm', 'charts', `${name}-${version}`, name);
  if (existsSync(join(cached, 'Chart.yaml'))) return cached;
  if (name === 'mlflow' && mlflowChartPath && new RegExp(`^version:\\s*"?${version.replace(/\./g, '\\.')}"?\\s*$`, 'm').test(readFileSync(join(mlflowChartPath, 'Chart.yaml'), 'utf8'))) return mlflowChartPath;
  return undefined;
}

async function checkProfile(name: string, bins: { kubeApiserver: string; etcd: string }) {
  const platform = loadPlatform(name);
  const env = { ...loadHarnessEnv({ ...process.env, HARNESS_TARGET: 'k3d', HARNESS_PLATFORM: name }), HARNESS_PINS: process.env.HARNESS_PINS ?? platform.pinSet };
  const set = loadPinSet(env.HARNESS_PINS);
  const desc = describeStack(env, set);
  const work = mkdtempSync(join(tmpdir(), `k3d-api-${name}-`));
  const server = await step(`kube-apiserver ${KUBERNETES_VERSION} and etcd ${ETCD_VERSION} on loopback (platform ${name})`, () => startApiServer(bins, join(work, 'server')));
  try {
    const tls = await createStackTls(join(work, 'state', 'tls'), [desc.hosts.mlflow, desc.hosts.keycloak]);
    const opts = k3dOptions(env, desc, set, join(work, 'state'), readK3dEnv({}, join(work, 'no-env-file')));
    const s = generateSecrets(desc);
    const secrets = { postgresSuperuser: s.postgresSuperuser, postgresMlflow: s.postgresMlflow, s3AccessKey: s.s3AccessKey, s3SecretKey: s.s3SecretKey, keycloakAdmin: s.keycloakAdmin, clientSecret: s.clientSecret, tlsKey: readFileSync(tls.key, 'utf8') };
    const kcResources = process.env.HARNESS_KEYCLOAK_K8S_RESOURCES;
    const sources = await crdSources(platform, kcResources);
    const crdRows = await step('CRDs: CloudNativePG, Traefik, Keycloak operator', () => installCrds(server.kubeconfig, sources));
    const cache = cacheDir();
    let helm: string | undefined;
    const renderRelease = async (st: PlanStep): Promise<KubernetesObject[] | { notRun: string }> => {
      const r = st.release!;
      let dir = chartDir(cache, r.chart, r.version, env.MLFLOW_CHART_PATH);
      if (!dir) {
        const fromGo = await chartFromGoModule(r.chart, r.version);
        if ('notRun' in fromGo) return { notRun: `chart ${r.chart} ${r.version} is neither in ${join(cache, 'helm', 'charts')} nor at MLFLOW_CHART_PATH, its repository is served by no registry reached here, and ${fromGo.notRun}` };
        dir = fromGo.dir;
      }
      helm ??= await ensureHelm(cache);
      const prepared = prepareChart(dir, r.values ?? {});
      try {
        return parseManifest(await helmTemplate(helm, cache, prepared.renderDir, r.namespace, r.values ?? {}, r.release, ['--kube-version', KUBERNETES_VERSION.slice(1)])) as KubernetesObject[];
      } finally {
        prepared.cleanup();
      }
    };
    const keycloakOperator = kcResources && existsSync(join(kcResources, 'kubernetes', 'kubernetes.yml')) ? yamlObjects(join(kcResources, 'kubernetes'), (f) => f === 'kubernetes.yml') : undefined;
    const rows = await step(`the k3d plan of platform ${name} against the API server`, () => checkPlan({ kubeconfig: server.kubeconfig, desc, opts, secrets, renderRelease, ...(keycloakOperator ? { keycloakOperator } : {}) }));
    return { platform: name, buunStack: platform.source.commit, pinSet: set.name, apiServer: { kubernetes: KUBERNETES_VERSION, etcd: ETCD_VERSION, startSeconds: server.startMs / 1000 }, crds: sources.map((c) => ({ name: c.name, source: c.source, count: c.objects.length })), rows: [...crdRows, ...rows] };
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function counts(rows: ApiRow[]) {
  const n: Record<string, number> = {};
  for (const r of rows) n[r.result] = (n[r.result] ?? 0) + 1;
  return n;
}

/**
 * `npm run k3d-api`: the k3d plan of each platform profile against a real kube-apiserver (built from the Go module
 * proxy once, cached) — reports/k3d-api.json, a row per object; exit 1 when the server refuses one or a wait fails.
 * Where no API server can be built, one line says so and the command exits 0 (the unit tests still run).
 */
export async function k3dApi(args: string[]): Promise<number> {
  const names = parseArgs(args);
  const cache = cacheDir();
  let bins: { kubeApiserver: string; etcd: string };
  const t0 = Date.now();
  try {
    bins = { kubeApiserver: await ensureKubeApiserver(cache), etcd: await ensureEtcd(cache) };
  } catch (e) {
    process.stdout.write(`No real Kubernetes API server on this machine (${(e as Error).message.split('\n')[0]}): the k3d plan is checked by the unit tests only.\n`);
    return 0;
  }
  const buildSeconds = (Date.now() - t0) / 1000;
  const profiles = [];
  for (const name of names) profiles.push(await checkProfile(name, bins));
  const report = { note: NEVER_RUN_ON_A_CLUSTER, binariesReadySeconds: buildSeconds, profiles: profiles.map((p) => ({ ...p, counts: counts(p.rows) })) };
  mkdirSync(reportsDir, { recursive: true });
  writeFileSync(join(reportsDir, 'k3d-api.json'), `${JSON.stringify(report, null, 2)}\n`);
  let bad = 0;
  for (const p of report.profiles) {
    const problems = p.rows.filter((r) => r.result === 'refused' || r.result === 'failed');
    bad += problems.length;
    info(`platform ${p.platform}: ${Object.entries(p.counts).map(([k, v]) => `${v} ${k}`).join(', ')} (API server ready in ${p.apiServer.startSeconds.toFixed(1)} s)`);
    for (const r of problems) info(`  ${r.result}: ${r.step} ${r.object}: ${r.message ?? ''}`);
  }
  process.stdout.write(`reports/k3d-api.json — ${NEVER_RUN_ON_A_CLUSTER}\n`);
  return bad > 0 ? 1 : 0;
}
