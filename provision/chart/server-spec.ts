import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadHarnessEnv } from '../config/env.ts';
import { HarnessError } from '../errors.ts';
import type { LocalContext } from '../local/context.ts';
import { databaseClient } from '../local/components/mlflow.ts';
import { fill } from '../render/mlflow-server.ts';
import { DECLARED, type Declarations, type PlacementValues } from './declared.ts';
import { placementValues } from './local.ts';
import { describeOrigin, extractChartSpec, parseManifest, renderedSecretValue, type ChartEnvVar, type K8sObject, type UnrenderedEnvFrom } from './manifest.ts';
import { splitArgs } from './parity.ts';
import { clusterChartValues, helmTemplate, prepareChart, resolveChart, type ResolvedChart } from './render.ts';
import { HELM_VERSION, ensureHelm } from '../local/prereqs/helm.ts';

// HARNESS_SERVER_SPEC=chart: the local MLflow server runs the chart's rendered container spec — its command,
// arguments and environment, and its migration init container's script — instead of the harness's own renderer.
// Every value the chart spells for a cluster is placed on this machine by exactly the declarations chart-parity
// accepts (provision/chart/declared.ts), read in the other direction; the secrets the chart expects next to it
// (buun-stack's ExternalSecrets) are the stack's own.

/** How the local target starts MLflow when its spec comes from the chart. */
export interface ChartServerSpec {
  chart: { version: string; path: string; source: ResolvedChart['source'] };
  /** Program name (the venv's executable of that name runs) and its arguments. */
  command: string;
  args: string[];
  env: Record<string, string>;
  /** The chart's migration init container: interpreter, its script (the mounted ConfigMap file), environment. */
  migration?: { command: string; scriptPath: string; script: string; env: Record<string, string> };
  /** Chart variables that hold secrets (shown as present, never with a value). */
  secretKeys: string[];
}

/** Variables of the chart's environment whose value a Secret holds: from the stack's secrets, per secret and key. */
function externalSecretValues(ctx: LocalContext): Record<string, Record<string, string>> {
  const { desc, secrets } = ctx;
  const db = databaseClient(ctx);
  return {
    'mlflow-db-secret': { username: db.user, password: db.password },
    'mlflow-s3-secret': { AWS_ACCESS_KEY_ID: secrets.s3AccessKey, AWS_SECRET_ACCESS_KEY: secrets.s3SecretKey },
    'mlflow-oidc-config': {
      OIDC_CLIENT_ID: desc.keycloak.client.clientId,
      OIDC_CLIENT_SECRET: secrets.clientSecret,
      OIDC_USERS_DB_URI: `postgresql://${db.user}:${encodeURIComponent(db.password)}@${db.host}:${db.port}/${desc.postgres.databases.auth}`,
    },
  };
}

/**
 * Secrets the chart generates (helm keeps them across upgrades through `lookup`): the stack keeps one value, so a
 * restarted server keeps its sessions, as a rolled-out pod does.
 */
function chartGeneratedValues(ctx: LocalContext): Record<string, string | undefined> {
  return { MLFLOW_FLASK_SERVER_SECRET_KEY: ctx.secrets.flaskServerSecretKey };
}

/** The chart's spelling of a value, placed on this machine by the declarations that apply to `key`. */
export function toLocal(kind: 'arg' | 'env', key: string, chart: string, values: PlacementValues, d: Declarations = DECLARED): string {
  for (const p of d.statePaths) {
    const keys = kind === 'arg' ? p.applies.arg : p.applies.env;
    if (keys?.includes(key) && chart.startsWith('/')) return `${fill(p.under, values).replace(/\/$/, '')}${chart}`;
  }
  const pairs: { chart: string; local: string }[] = [];
  for (const s of d.substitutions) {
    const list = kind === 'arg' ? s.applies.arg : s.applies.env;
    if (!(list === '*' || (Array.isArray(list) && list.includes(key)))) continue;
    for (const [c, l] of s.pairs) {
      const pc = fill(c, values);
      const pl = fill(l, values);
      if (pc !== pl && pc !== '') pairs.push({ chart: pc, local: pl });
    }
  }
  // longest spelling first, each replaced by a token, then the tokens by the local spellings: no value is placed twice
  const sorted = pairs.sort((a, b) => b.chart.length - a.chart.length);
  let out = chart;
  sorted.forEach((p, i) => {
    out = out.split(p.chart).join(`\u0000${i}\u0000`);
  });
  sorted.forEach((p, i) => {
    out = out.split(`\u0000${i}\u0000`).join(p.local);
  });
  return out;
}

/** `--flag=value` arguments (and values given as the next word) placed on this machine. */
export function argsToLocal(args: string[], values: PlacementValues, d: Declarations = DECLARED): string[] {
  let flag = '';
  return args.map((a) => {
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      flag = eq < 0 ? a : a.slice(0, eq);
      return eq < 0 ? a : `${flag}=${toLocal('arg', flag, a.slice(eq + 1), values, d)}`;
    }
    return flag ? toLocal('arg', flag, a, values, d) : a;
  });
}

interface EnvInputs {
  env: ChartEnvVar[];
  unrenderedEnvFrom: UnrenderedEnvFrom[];
}

/** The chart's effective environment of one container, with cluster spellings placed and secrets filled. */
function envToLocal(container: string, c: EnvInputs, docs: K8sObject[], ctx: LocalContext, values: PlacementValues): { env: Record<string, string>; secretKeys: string[] } {
  const external = externalSecretValues(ctx);
  const generated = chartGeneratedValues(ctx);
  const env: Record<string, string> = {};
  const secretKeys: string[] = [];
  const unknownSecret = (what: string) => new HarnessError(
    `Chart container \`${container}\` reads ${what}, which the local target cannot provide`,
    'add it to provision/chart/server-spec.ts (externalSecretValues) and provision/chart/declared.ts, or use HARNESS_SERVER_SPEC=harness');
  // envFrom sources the chart does not render come first (Kubernetes order: envFrom, then env wins)
  for (const u of c.unrenderedEnvFrom) {
    if (u.type !== 'secretRef') throw unknownSecret(`ConfigMap ${u.name} (envFrom), not rendered by the chart`);
    const keys = external[u.name];
    if (!keys) throw unknownSecret(`Secret ${u.name} (envFrom), not rendered by the chart`);
    for (const [k, v] of Object.entries(keys)) {
      if (u.prefix + k in env) continue;
      env[u.prefix + k] = v;
      secretKeys.push(u.prefix + k);
    }
  }
  for (const v of c.env) {
    const o = v.origin;
    if (!v.secret) {
      if (v.value === undefined) throw unknownSecret(`${v.name} from ${describeOrigin(o)}`);
      env[v.name] = toLocal('env', v.name, v.value, values);
      continue;
    }
    secretKeys.push(v.name);
    const fromStack = generated[v.name];
    if ((o.type === 'secretRef' || (o.type === 'secretKeyRef' && o.rendered)) && fromStack === undefined) {
      const value = renderedSecretValue(docs, o.name, o.key);
      if (value === undefined) throw unknownSecret(`${v.name} from ${describeOrigin(o)}`);
      env[v.name] = value;
    } else if (fromStack !== undefined && (o.type === 'secretRef' || o.type === 'secretKeyRef')) {
      env[v.name] = fromStack;
    } else if (o.type === 'secretKeyRef') {
      const value = external[o.name]?.[o.key];
      if (value === undefined) throw unknownSecret(`${v.name} from ${describeOrigin(o)}`);
      env[v.name] = value;
    } else {
      throw unknownSecret(`${v.name} from ${describeOrigin(o)}`);
    }
  }
  return { env, secretKeys };
}

/**
 * What a plain process needs that the image provides, and the local placements chart-parity declares as
 * local-only (provision/chart/declared.ts): taken from the harness's own environment of the component.
 */
function localOnly(harnessEnv: Record<string, string>, d: Declarations = DECLARED): Record<string, string> {
  const out: Record<string, string> = {};
  for (const lo of d.localOnly) for (const k of lo.keys) if (harnessEnv[k] !== undefined) out[k] = harnessEnv[k]!;
  return out;
}

/** The spec from a rendered manifest (`helm template` output): pure apart from creating the state-folder paths. */
export function serverSpecFromManifest(manifest: string, chart: ChartServerSpec['chart'], ctx: LocalContext, harnessEnv: Record<string, string>): ChartServerSpec {
  const docs = parseManifest(manifest);
  const spec = extractChartSpec(docs);
  const values = placementValues(ctx);
  const { command } = splitArgs(spec.container.command, []);
  if (command !== 'mlflow') {
    throw new HarnessError(`Chart ${chart.version} starts its container with \`${[...spec.container.command, ...spec.container.args].slice(0, 3).join(' ')}\`, not \`mlflow …\``,
      'the local target runs the venv\'s mlflow; use HARNESS_SERVER_SPEC=harness for this chart, and teach provision/chart/server-spec.ts its command');
  }
  const main = envToLocal(spec.container.name, spec.container, docs, ctx, values);
  const env = { ...localOnly(harnessEnv), ...main.env };
  for (const k of ['SESSION_CACHE_DIR']) if (env[k]?.startsWith('/')) mkdirSync(env[k]!, { recursive: true });
  const args = argsToLocal(spec.container.args, values);
  for (const a of args) if (a.startsWith('--expose-prometheus=')) mkdirSync(a.slice('--expose-prometheus='.length), { recursive: true });

  let migration: ChartServerSpec['migration'];
  const init = spec.initContainers.find((i) => i.name === 'mlflow-db-migration');
  if (init) {
    const [interpreter, script] = [init.command[0] ?? '', [...init.command.slice(1), ...init.args][0] ?? ''];
    const file = init.files.find((f) => f.path === script);
    if (!/python3?$/.test(interpreter) || !file?.content) {
      throw new HarnessError(`Chart ${chart.version}'s mlflow-db-migration runs \`${[...init.command, ...init.args].join(' ')}\`, not a Python script from a ConfigMap`,
        'teach provision/chart/server-spec.ts how to run it, or use HARNESS_SERVER_SPEC=harness');
    }
    const initEnv = envToLocal(init.name, init, docs, ctx, values);
    migration = { command: 'python', scriptPath: join(values.localFs!, script), script: file.content, env: { ...localOnly(harnessEnv), ...initEnv.env } };
  }
  return { chart, command, args, env, ...(migration ? { migration } : {}), secretKeys: main.secretKeys };
}

const rendered = new Map<string, ChartServerSpec>();

/**
 * Renders the chart of `desc.serverSpec` with the description's chart values (`helm template`) and returns the
 * local server spec; written (secrets shown as present) to <state>/mlflow/server-spec.json for the user.
 */
export async function chartServerSpec(ctx: LocalContext, harnessEnv: Record<string, string>): Promise<ChartServerSpec> {
  const source = ctx.desc.serverSpec;
  if (source.from !== 'chart') throw new Error('chartServerSpec called for a harness-rendered server');
  const key = JSON.stringify([ctx.desc, ctx.ports, ctx.state]);
  const known = rendered.get(key);
  if (known) return known;
  const env = loadHarnessEnv();
  const helm = await ensureHelm(ctx.cache, HELM_VERSION);
  // a folder (MLFLOW_CHART_PATH, resolved when the description was made) or a version to pull
  const chart = await resolveChart({ ...(source.chart.includes('/') ? { envPath: source.chart } : { chart: source.chart }), defaultVersion: ctx.desc.versions.chart, helm, cache: ctx.cache });
  const values = clusterChartValues(ctx.desc, env);
  const prepared = prepareChart(chart.path, values);
  let manifest: string;
  try {
    manifest = await helmTemplate(helm, ctx.cache, prepared.renderDir, ctx.desc.namespace, values);
  } finally {
    prepared.cleanup();
  }
  const spec = serverSpecFromManifest(manifest, { version: chart.version, path: chart.path, source: chart.source }, ctx, harnessEnv);
  const shown = (e: Record<string, string>) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, spec.secretKeys.includes(k) || /PASSWORD|SECRET|_KEY$|_KEY_ID$|_DB_URI$/.test(k) ? '(secret, present)' : v]));
  const file = join(ctx.state, 'mlflow', 'server-spec.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ chart: spec.chart, command: spec.command, args: spec.args, env: shown(spec.env), migration: spec.migration ? { command: spec.migration.command, script: spec.migration.scriptPath } : undefined }, null, 2)}\n`);
  rendered.set(key, spec);
  return spec;
}
