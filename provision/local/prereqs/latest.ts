import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { baseImagesFile } from '../../config/base-images.ts';
import { checkDate, resolveAsOf, today } from '../../config/build-dates.ts';
import { LATEST, latestDir, latestLine, LatestResolution, layerOf, pickLatest, readLatest, uncoveredLine, WALK, writeLatest, type LatestChecker } from '../../config/latest.ts';
import { latestBase, latestPinSet } from '../../config/pin-sets.ts';
import { HarnessError } from '../../errors.ts';
import { cacheDir } from '../../paths.ts';
import { ADAPTERS, inRange } from '../../plugin/adapters.ts';
import { info, seconds, step } from '../../progress.ts';
import { indexUrl, listReleases, type Release } from '../../pypi/simple-index.ts';
import { installer, type Installer } from './installer.ts';
import { findPython } from './python.ts';
import { installPlan } from './venv.ts';

/** What a day's resolution depends on besides the index: base-images.yaml, the adapters, the installer, the walk, the layer's shape. */
function inputsKey(): string {
  const h = createHash('sha256');
  for (const part of [readFileSync(baseImagesFile, 'utf8'), ADAPTERS.map((a) => a.range).join(';'), process.env.HARNESS_PYTHON_INSTALLER ?? 'uv', JSON.stringify(WALK), layerOf('<v>').join(' ')]) h.update(part).update('\0');
  return h.digest('hex').slice(0, 12);
}

const covered = (version: string) => ADAPTERS.some((a) => inRange(version, a.range));
const dayOf = (iso?: string) => iso?.slice(0, 10);

/** SQLAlchemy's driver for `postgresql://` URIs (what the MLflow server and the plugin are given), and whether it imports. */
const DRIVER_PY = `
import json
from importlib import metadata
from sqlalchemy.dialects import registry
d = registry.load("postgresql")
out = {"sqlalchemy": metadata.version("sqlalchemy"), "driver": d.driver, "importable": True}
try:
    (d.import_dbapi if hasattr(d, "import_dbapi") else d.dbapi)()
except ImportError as e:
    out["importable"] = False
    out["error"] = str(e)
print(json.dumps(out))
`;

/** The package that provides each DBAPI SQLAlchemy may pick for postgresql:// (binary wheels, as images install them). */
const DRIVER_PACKAGES: Record<string, string> = { psycopg: 'psycopg[binary]', psycopg2: 'psycopg2-binary', pg8000: 'pg8000' };

async function postgresDriver(venv: string): Promise<{ sqlalchemy: string; driver: string; importable: boolean; error?: string }> {
  const r = await execa(join(venv, 'bin', 'python'), ['-c', DRIVER_PY], { reject: false, all: true });
  if (r.exitCode !== 0) throw new HarnessError(`Cannot ask SQLAlchemy for its postgresql:// driver in ${venv}: ${(r.all ?? '').trim().split('\n').pop()}`, 'see the installer output above');
  return JSON.parse(String(r.stdout)) as { sqlalchemy: string; driver: string; importable: boolean; error?: string };
}

/** One line per candidate tried, saying whether it installs (the walk's summary line says why not). */
async function tried(title: string, attempt: () => Promise<string | undefined>): Promise<string | undefined> {
  const t0 = Date.now();
  const why = await attempt();
  info(`  · ${title}: ${why ? 'does not install' : 'installs'} (${seconds(Date.now() - t0)})`);
  return why;
}

/**
 * Tries candidates as the image is built, in scratch venvs under the cache: the base image of an MLflow release
 * installed for real (as of the day that MLflow was uploaded), the plugin's layer resolved on it with `--dry-run`
 * (MLflow must stay), and for the pick the layer installed to ask SQLAlchemy which PostgreSQL driver it uses.
 */
function uvChecker(cache: string, asOf: string, index: string, inputs: string, anyCovered: Release): { check: LatestChecker; cleanup: () => void } {
  const scratch = join(cache, 'venv', `.latest-${process.pid}`);
  const bases = new Map<string, string>();
  const tools = new Map<string, { python: string; tool: Installer }>();
  const candidate = (m: Release, p: Release) => {
    const base = latestBase(m.version);
    const r: LatestResolution = {
      day: asOf, resolvedAt: new Date().toISOString(), index, inputs, mlflow: m, plugin: p, ...base,
      ...(base.like ? { baseBuiltOn: dayOf(m.uploaded) ?? asOf } : {}),
      layer: layerOf(p.version), layerReasons: [], skipped: [], uncovered: [],
    };
    return latestPinSet(r, scratch);
  };
  const toolFor = async (minor: string, why: string) => {
    let t = tools.get(minor);
    if (!t) {
      const python = await findPython(minor, why);
      t = { python: python.path, tool: await installer(cache, python.path) };
      tools.set(minor, t);
    }
    return t;
  };
  const layerRequirements = (m: Release, p: Release) => {
    const plan = installPlan(candidate(m, p));
    return { requirements: [`mlflow==${m.version}`, ...plan.layer.requirements], asOf: plan.layer.asOf };
  };
  const check: LatestChecker = {
    async base(m) {
      const set = candidate(m, anyCovered);
      const { python, tool } = await toolFor(set.python, `MLflow ${m.version}'s base image (${set.pythonSource})`);
      const dir = `${scratch}-${m.version}`;
      rmSync(dir, { recursive: true, force: true });
      await tool.venv(python, dir);
      const plan = installPlan(set);
      const why = await tried(`the base image of MLflow ${m.version} (as of ${set.dates.baseBuiltOn})`, () => tool.attempt(dir, plan.base.requirements, plan.base.asOf));
      if (why) rmSync(dir, { recursive: true, force: true });
      else bases.set(m.version, dir);
      return why;
    },
    async layer(m, p) {
      const { tool } = await toolFor(candidate(m, p).python, `MLflow ${m.version}`);
      const { requirements, asOf: at } = layerRequirements(m, p);
      return tried(`mlflow-oidc-auth ${p.version} on MLflow ${m.version} (dry run)`, () => tool.attempt(bases.get(m.version)!, requirements, at, { dryRun: true }));
    },
    async additions(m, p) {
      const { tool } = await toolFor(candidate(m, p).python, `MLflow ${m.version}`);
      const dir = bases.get(m.version)!;
      const { requirements, asOf: at } = layerRequirements(m, p);
      const why = await tool.attempt(dir, requirements, at);
      if (why) throw new HarnessError(`The layer of mlflow-oidc-auth ${p.version} on MLflow ${m.version} resolved but did not install: ${why}`, 'run the command again; report it if it stays');
      const before = await postgresDriver(dir);
      if (before.importable) return [];
      const requirement = DRIVER_PACKAGES[before.driver];
      if (!requirement) throw new HarnessError(`SQLAlchemy ${before.sqlalchemy} connects postgresql:// URIs with ${before.driver}, which the image lacks (${before.error ?? 'ImportError'}) and the harness knows no package for`, 'add it to DRIVER_PACKAGES in provision/local/prereqs/latest.ts');
      const failed = await tool.attempt(dir, [requirement], at);
      const after = failed ? undefined : await postgresDriver(dir);
      if (!after?.importable) throw new HarnessError(`SQLAlchemy ${before.sqlalchemy} connects postgresql:// URIs with ${before.driver}, and ${requirement} ${failed ? `does not install: ${failed}` : `does not provide it: ${after?.error ?? ''}`}`, 'pin a pin set by hand (image/pin-sets/)');
      return [{ requirement, reason: `SQLAlchemy ${before.sqlalchemy} connects postgresql:// URIs with ${before.driver}, which the image lacks` }];
    },
  };
  return { check, cleanup: () => [...bases.values()].forEach((d) => rmSync(d, { recursive: true, force: true })) };
}

async function resolveLatest(cache: string, asOf: string, index: string, inputs: string): Promise<LatestResolution> {
  const [mlflow, plugin] = await Promise.all([listReleases('mlflow', index), listReleases('mlflow-oidc-auth', index)]);
  const anyCovered = plugin.find((p) => covered(p.version));
  if (!anyCovered) throw new HarnessError(`No release of mlflow-oidc-auth on ${index} is covered by an adapter`, 'add one in provision/plugin/');
  const { check, cleanup } = uvChecker(cache, asOf, index, inputs, anyCovered);
  try {
    const pick = await pickLatest({ mlflow, plugin, asOf, covered, check });
    const base = latestBase(pick.mlflow.version);
    return LatestResolution.parse({
      day: asOf,
      resolvedAt: new Date().toISOString(),
      index,
      inputs,
      mlflow: pick.mlflow,
      plugin: pick.plugin,
      ...base,
      ...(base.like ? { baseBuiltOn: dayOf(pick.mlflow.uploaded) ?? asOf } : {}),
      layer: pick.layer,
      layerReasons: pick.layerReasons,
      skipped: pick.skipped,
      uncovered: pick.uncovered,
    });
  } finally {
    cleanup();
  }
}

/**
 * Resolves `HARNESS_PINS=latest` for the day (today, or HARNESS_RESOLVE_AS_OF) unless the cache holds that day's
 * resolution for the same index and inputs; prints what it is in one line, and a line naming any plugin release no
 * adapter covers (the pin set then runs the newest covered one). The day is passed on to child processes
 * (HARNESS_LATEST_ON) so that one run never straddles two resolutions.
 */
export async function ensureLatest(): Promise<void> {
  const cache = cacheDir();
  const asOf = process.env.HARNESS_LATEST_ON ? checkDate(process.env.HARNESS_LATEST_ON, 'HARNESS_LATEST_ON') : resolveAsOf() ?? today();
  const index = indexUrl();
  const inputs = inputsKey();
  let r = readLatest(cache, asOf);
  const fresh = !r || r.index !== index || r.inputs !== inputs;
  if (r && fresh) info(`The pin set latest as of ${asOf} was resolved ${r.index !== index ? `from another index (${r.index})` : 'for other inputs (image/base-images.yaml, the adapters, the installer or the layer)'}: resolving it again.`);
  if (fresh) {
    const resolved = await step(`resolve the pin set ${LATEST}: the newest MLflow and mlflow-oidc-auth on ${index} that install together as of ${asOf}`, () => resolveLatest(cache, asOf, index, inputs));
    writeLatest(cache, resolved);
    r = resolved;
  }
  info(latestLine(r!));
  const uncovered = uncoveredLine(r!);
  if (uncovered) info(uncovered);
  info(`  ${fresh ? 'resolved' : `resolved earlier (${r!.resolvedAt})`}; its Dockerfile, resolution.json and lock are in ${latestDir(cache, asOf)} (the cache, not the repository)`);
  process.env.HARNESS_LATEST_ON = asOf;
}
