import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import type { HarnessEnv } from '../config/env.ts';
import type { StackDescription } from '../config/stack.ts';
import { HarnessError } from '../errors.ts';
import { renderChartValues } from '../render/chart-values.ts';

export const CHART_REPO_URL = 'https://community-charts.github.io/helm-charts';
export const CHART_REPO_NAME = 'community-charts';
export const CHART_NAME = 'mlflow';

/**
 * Where buun-stack's cluster puts what the chart values name: the public hosts on 443 (Traefik websecure),
 * PostgreSQL and MinIO as in-cluster Services, Prometheus monitoring on (so the chart passes --expose-prometheus).
 */
export const CLUSTER = {
  httpsPort: 443,
  postgresHost: 'postgres-cluster-rw.postgres.svc.cluster.local',
  postgresPort: 5432,
  s3Endpoint: 'http://minio.minio.svc.cluster.local:9000',
  servicePort: 5000,
  /** The chart's `--host` and container port. */
  listenHost: '0.0.0.0',
  containerPort: 5000,
  monitoring: true,
} as const;

export const clusterService = (desc: StackDescription) => `mlflow.${desc.namespace}.svc.cluster.local`;

/** The description as the cluster deployment sees it: the same settings, served on 443. */
export function clusterDescription(desc: StackDescription): StackDescription {
  return { ...desc, hosts: { ...desc.hosts, httpsPort: CLUSTER.httpsPort } };
}

/** The chart values buun-stack's cluster deployment would use, rendered from the description. */
export function clusterChartValues(desc: StackDescription, env: Pick<HarnessEnv, 'IMAGE_REGISTRY' | 'MLFLOW_IMAGE_PULL_POLICY'>) {
  return renderChartValues(clusterDescription(desc), {
    registry: env.IMAGE_REGISTRY,
    pullPolicy: env.MLFLOW_IMAGE_PULL_POLICY,
    s3Endpoint: CLUSTER.s3Endpoint,
    postgresHost: CLUSTER.postgresHost,
    monitoring: CLUSTER.monitoring,
  });
}

export interface ResolvedChart {
  /** The chart's version (from its Chart.yaml). */
  version: string;
  /** The chart folder as given or pulled. */
  path: string;
  source: '--chart' | 'MLFLOW_CHART_PATH' | 'helm pull';
}

const isVersion = (s: string) => /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(s);

function chartYaml(dir: string): { name?: string; version?: string; dependencies?: ChartDependency[] } {
  const file = join(dir, 'Chart.yaml');
  if (!existsSync(file)) throw new HarnessError(`No Chart.yaml in ${dir}`, 'point at the charts/mlflow folder of a checkout of community-charts/helm-charts');
  const raw: unknown = parse(readFileSync(file, 'utf8'));
  return raw && typeof raw === 'object' ? (raw as { name?: string; version?: string }) : {};
}

function localChart(path: string, source: ResolvedChart['source'], wanted: string | undefined): ResolvedChart {
  const dir = resolve(path);
  const meta = chartYaml(dir);
  if (meta.name !== CHART_NAME) throw new HarnessError(`${dir} holds chart \`${meta.name ?? '?'}\`, not \`${CHART_NAME}\``, 'point at the charts/mlflow folder of a checkout of community-charts/helm-charts');
  const version = String(meta.version ?? '');
  if (wanted && version !== wanted) {
    throw new HarnessError(`${source} ${dir} is chart ${version}, not the requested ${wanted}`,
      `check out tag mlflow-${wanted} of community-charts/helm-charts there, or pass --chart <path>`);
  }
  return { version, path: dir, source };
}

const lastLine = (s: string | undefined) => (s ?? '').trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';

/** Why Helm could not reach the repository, in a few words (the last clause of its error: `no such host`, …). */
export function unreachable(output: string | undefined, timedOut: boolean): string {
  if (timedOut) return 'did not answer within 60s';
  const line = lastLine(output);
  if (/cannot be reached|dial tcp|no such host|i\/o timeout|connection refused|network is unreachable/.test(line)) {
    return `cannot be reached (${line.slice(line.lastIndexOf(': ') + 2) || 'network error'})`;
  }
  return `answered: ${line.replace(/^Error: /, '')}`;
}

/** Helm's own folders under the cache, so pulling never touches the user's Helm configuration. */
export function helmEnv(cache: string): Record<string, string> {
  const home = join(cache, 'helm', 'home');
  return { HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
}

/** `helm pull community-charts/mlflow --version <v>` into the cache (kept per version). */
export async function pullChart(helm: string, cache: string, version: string): Promise<ResolvedChart> {
  const base = join(cache, 'helm', 'charts', `${CHART_NAME}-${version}`);
  const dir = join(base, CHART_NAME);
  if (existsSync(join(dir, 'Chart.yaml'))) return { ...localChart(dir, 'helm pull', version), source: 'helm pull' };
  const env = { ...process.env, ...helmEnv(cache) };
  const hint = `set MLFLOW_CHART_PATH (or --chart <path>) to the charts/mlflow folder of a checkout of community-charts/helm-charts at the release's commit (tag mlflow-${version})`;
  const add = await execa(helm, ['repo', 'add', CHART_REPO_NAME, CHART_REPO_URL, '--force-update'], { env, reject: false, all: true, timeout: 60_000 });
  if (add.exitCode !== 0) throw new HarnessError(`Cannot pull chart ${CHART_NAME} ${version}: ${CHART_REPO_URL} ${unreachable(add.all, add.timedOut)}`, hint);
  const tmp = `${base}.dl`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const pull = await execa(helm, ['pull', `${CHART_REPO_NAME}/${CHART_NAME}`, '--version', version, '--untar', '--untardir', tmp], { env, reject: false, all: true, timeout: 120_000 });
  if (pull.exitCode !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new HarnessError(`helm pull ${CHART_REPO_NAME}/${CHART_NAME} --version ${version} failed: ${lastLine(pull.all) || (pull.timedOut ? 'timed out' : `exit ${pull.exitCode}`)}`, hint);
  }
  rmSync(base, { recursive: true, force: true });
  renameSync(tmp, base);
  return localChart(dir, 'helm pull', version);
}

/**
 * Which chart to render: `--chart <path>`, else MLFLOW_CHART_PATH, else `helm pull` of the version
 * (`--chart <version>` or the description's). A path given with a version asked must hold that version.
 */
export async function resolveChart(opts: { chart?: string; envPath?: string; defaultVersion: string; helm: string; cache: string }): Promise<ResolvedChart> {
  const asked = opts.chart && isVersion(opts.chart) ? opts.chart : undefined;
  if (opts.chart && !asked) return localChart(opts.chart, '--chart', undefined);
  if (opts.envPath) return localChart(opts.envPath, 'MLFLOW_CHART_PATH', asked);
  return pullChart(opts.helm, opts.cache, asked ?? opts.defaultVersion);
}

export interface ChartDependency {
  name: string;
  alias?: string;
  condition?: string;
  version?: string;
}

function lookupPath(values: unknown, path: string): unknown {
  let cur: unknown = values;
  for (const part of path.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Whether a dependency's `condition` is off for these values (our values first, then the chart's defaults). */
export function dependencyDisabled(dep: ChartDependency, values: unknown, chartDefaults: unknown): boolean {
  if (!dep.condition) return false;
  for (const path of dep.condition.split(',').map((s) => s.trim()).filter(Boolean)) {
    const v = lookupPath(values, path) ?? lookupPath(chartDefaults, path);
    if (typeof v === 'boolean') return !v;
  }
  return false;
}

function hasSubchart(dir: string, dep: ChartDependency): boolean {
  const charts = join(dir, 'charts');
  if (!existsSync(charts)) return false;
  return readdirSync(charts).some((f) => f === dep.name || (f.startsWith(`${dep.name}-`) && f.endsWith('.tgz')));
}

/**
 * A chart from a git checkout lacks its subcharts (`helm dependency build` needs the Bitnami repository). When
 * those subcharts are disabled by the values, a copy of the chart without them renders the same manifest.
 * Returns the folder to render and the dependencies left out; the given folder is never changed.
 */
export function prepareChart(dir: string, values: unknown): { renderDir: string; omitted: string[]; cleanup: () => void } {
  const meta = chartYaml(dir);
  const missing = (meta.dependencies ?? []).filter((d) => !hasSubchart(dir, d));
  if (missing.length === 0) return { renderDir: dir, omitted: [], cleanup: () => {} };
  const defaults: unknown = existsSync(join(dir, 'values.yaml')) ? parse(readFileSync(join(dir, 'values.yaml'), 'utf8')) : {};
  const enabled = missing.filter((d) => !dependencyDisabled(d, values, defaults));
  if (enabled.length > 0) {
    throw new HarnessError(`Chart dependency ${enabled.map((d) => d.name).join(', ')} is enabled by the values but missing in ${join(dir, 'charts')}`,
      'run `helm dependency build` in the chart folder, or use a packaged chart (`--chart <version>`)');
  }
  const tmp = mkdtempSync(join(tmpdir(), 'chart-parity-'));
  const copy = join(tmp, CHART_NAME);
  cpSync(dir, copy, { recursive: true });
  const chartFile = join(copy, 'Chart.yaml');
  const doc: Record<string, unknown> = parse(readFileSync(chartFile, 'utf8')) as Record<string, unknown>;
  const omitted = new Set(missing.map((d) => d.name));
  doc.dependencies = (meta.dependencies ?? []).filter((d) => !omitted.has(d.name));
  if ((doc.dependencies as unknown[]).length === 0) delete doc.dependencies;
  writeFileSync(chartFile, stringify(doc));
  rmSync(join(copy, 'Chart.lock'), { force: true });
  return { renderDir: copy, omitted: [...omitted], cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

/** `helm template <release> <chart> -n <namespace> -f <values.yaml>`: the manifest text. */
export async function helmTemplate(helm: string, cache: string, chartDir: string, namespace: string, values: unknown, release = 'mlflow', extra: string[] = []): Promise<string> {
  const tmp = mkdtempSync(join(tmpdir(), 'chart-parity-values-'));
  try {
    const file = join(tmp, 'values.yaml');
    writeFileSync(file, stringify(values));
    const r = await execa(helm, ['template', release, chartDir, '-n', namespace, '-f', file, ...extra], { env: { ...process.env, ...helmEnv(cache) }, reject: false, all: false, timeout: 120_000 });
    if (r.exitCode !== 0) throw new HarnessError(`helm template of ${chartDir} failed: ${lastLine(String(r.stderr)) || `exit ${r.exitCode}`}`, 'check that the chart accepts the rendered values');
    return String(r.stdout);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
