import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { HarnessError } from '../errors.ts';
import type { Release } from '../pypi/simple-index.ts';
import { cutoff, IsoDate } from './build-dates.ts';

/**
 * The `latest` pin set: the newest MLflow and mlflow-oidc-auth that install together from the package index,
 * resolved at run time (once per day) instead of written in the repository. The resolution is a pin set folder
 * under the cache — a generated Dockerfile, the record below and the lock — so a run on `latest` leaves the
 * repository as it was.
 */
export const LATEST = 'latest';

/**
 * What the image layer installs on top of the base image: the line of buun-stack's mlflow/image/Dockerfile
 * (image/Dockerfile) with the plugin's version changed, as the team's next bump would. (Plugins 6.x-7.x have no
 * `full` extra: pip and uv only warn.)
 */
export const layerOf = (plugin: string) => [`mlflow-oidc-auth[full]==${plugin}`, 'cachelib[filesystem]'];

const Skip = z.object({ release: z.string(), reason: z.string() }).strict();
export type Skip = z.infer<typeof Skip>;

export const LatestResolution = z.object({
  /** The day it was resolved as of (builtOn): today, or HARNESS_RESOLVE_AS_OF. */
  day: IsoDate,
  resolvedAt: z.string(),
  index: z.string(),
  /** A hash of what the resolution depends on besides the index (base-images.yaml, the adapters, the installer). */
  inputs: z.string(),
  mlflow: z.object({ version: z.string(), uploaded: z.string().optional() }).strict(),
  plugin: z.object({ version: z.string(), uploaded: z.string().optional() }).strict(),
  /** The burakince/mlflow tag whose recipe is assumed when MLflow has no image of its own. */
  like: z.string().optional(),
  /** The day the base image is taken to be built: the day its MLflow was uploaded (only with `like`). */
  baseBuiltOn: IsoDate.optional(),
  /** The Dockerfile's `pip install` arguments, and why each one beyond the plugin's line is there. */
  layer: z.array(z.string()).min(1),
  layerReasons: z.array(z.object({ requirement: z.string(), reason: z.string() }).strict()).default([]),
  /** Newer releases passed over, each with the installer's reason. */
  skipped: z.array(Skip).default([]),
  /** Plugin releases newer than the pick that no adapter covers (newest first). */
  uncovered: z.array(z.object({ version: z.string(), uploaded: z.string().optional() }).strict()).default([]),
}).strict();
export type LatestResolution = z.infer<typeof LatestResolution>;

/** How the walk tries a candidate: by installing it as the image is built (the real one uses uv). */
export interface LatestChecker {
  /** Why the base image of this MLflow does not install, or undefined when it does. */
  base(mlflow: Release): Promise<string | undefined>;
  /** Why the image layer of this plugin does not install on that base (MLflow staying as it is), or undefined. */
  layer(mlflow: Release, plugin: Release): Promise<string | undefined>;
  /** What the layer must add for the stack to run (e.g. the PostgreSQL driver its SQLAlchemy picks), with reasons. */
  additions(mlflow: Release, plugin: Release): Promise<{ requirement: string; reason: string }[]>;
}

/** How far the walk goes down before it gives up: plugin releases, and MLflow releases per plugin release. */
export const WALK = { plugins: 3, mlflowPerPlugin: 4 };

const day = (iso?: string) => iso?.slice(0, 10);
const servedBy = (asOfDay: string) => (r: Release) => !r.uploaded || r.uploaded < cutoff(asOfDay);

export interface LatestPick {
  mlflow: Release;
  plugin: Release;
  layer: string[];
  layerReasons: { requirement: string; reason: string }[];
  skipped: Skip[];
  uncovered: Release[];
}

/**
 * Walks down from the newest pair: the newest plugin release an adapter covers first (a plugin release says which
 * MLflow it supports), with the newest MLflow whose base image installs and on which the plugin's layer installs.
 * Releases uploaded after `asOf` do not count. Plugin releases newer than the newest covered one are returned as
 * `uncovered`; the caller reports them.
 */
export async function pickLatest(opts: {
  mlflow: Release[];
  plugin: Release[];
  asOf: string;
  covered: (pluginVersion: string) => boolean;
  check: LatestChecker;
  walk?: typeof WALK;
}): Promise<LatestPick> {
  const walk = opts.walk ?? WALK;
  const mlflows = opts.mlflow.filter(servedBy(opts.asOf));
  const plugins = opts.plugin.filter(servedBy(opts.asOf));
  const firstCovered = plugins.findIndex((p) => opts.covered(p.version));
  if (firstCovered < 0) {
    throw new HarnessError(`No release of mlflow-oidc-auth on the index${plugins[0] ? ` (newest ${plugins[0].version})` : ''} is covered by an adapter`, 'add one in provision/plugin/');
  }
  const uncovered = plugins.slice(0, firstCovered);
  const skipped: Skip[] = [];
  const baseFailure = new Map<string, string | undefined>();
  const tried: string[] = [];
  for (const plugin of plugins.slice(firstCovered).filter((p) => opts.covered(p.version)).slice(0, walk.plugins)) {
    for (const mlflow of mlflows.slice(0, walk.mlflowPerPlugin)) {
      if (!baseFailure.has(mlflow.version)) {
        const why = await opts.check.base(mlflow);
        baseFailure.set(mlflow.version, why);
        if (why) skipped.push({ release: `mlflow ${mlflow.version}`, reason: why });
      }
      if (baseFailure.get(mlflow.version)) continue;
      tried.push(`${mlflow.version}+${plugin.version}`);
      const why = await opts.check.layer(mlflow, plugin);
      if (why) {
        skipped.push({ release: `mlflow-oidc-auth ${plugin.version} on mlflow ${mlflow.version}`, reason: why });
        continue;
      }
      const additions = await opts.check.additions(mlflow, plugin);
      return { mlflow, plugin, layer: [...layerOf(plugin.version), ...additions.map((a) => a.requirement)], layerReasons: additions, skipped, uncovered };
    }
  }
  const reasons = skipped.slice(0, 3).map((s) => `${s.release}: ${s.reason}`).join('; ');
  throw new HarnessError(
    `No pair of the newest ${walk.plugins} mlflow-oidc-auth releases an adapter covers and the newest ${walk.mlflowPerPlugin} MLflow releases installs together as of ${opts.asOf}${reasons ? ` (${reasons})` : ''}`,
    'pin a pin set by hand (image/pin-sets/) or widen WALK in provision/config/latest.ts');
}

/** The line naming plugin releases no adapter covers, or undefined. */
export function uncoveredLine(r: Pick<LatestResolution, 'uncovered' | 'plugin'>): string | undefined {
  if (!r.uncovered.length) return undefined;
  const named = r.uncovered.map((u) => `${u.version}${u.uploaded ? ` (${day(u.uploaded)})` : ''}`).join(', ');
  return `mlflow-oidc-auth ${named} ${r.uncovered.length > 1 ? 'have' : 'has'} no adapter: add one in provision/plugin/ — latest runs ${r.plugin.version}, the newest release an adapter covers`;
}

/** What `latest` is and why newer releases were passed over, in one line. */
export function latestLine(r: LatestResolution): string {
  const skipped = r.skipped.length ? `; skipped ${r.skipped.map((s) => `${s.release}: ${s.reason}`).join('; ')}` : '; nothing newer on the index';
  const added = r.layerReasons.length ? ` + ${r.layerReasons.map((a) => `${a.requirement} (${a.reason})`).join(', ')}` : '';
  return `latest (${r.index} as of ${r.day}): MLflow ${r.mlflow.version} + mlflow-oidc-auth ${r.plugin.version}${added}${skipped}`;
}

/** The image these pins make, as a Dockerfile (the k3d target builds it; `npm run bump` reads its pins). */
export function latestDockerfile(r: LatestResolution): string {
  return [
    `# Generated by the harness: HARNESS_PINS=latest, the newest MLflow and mlflow-oidc-auth that install together`,
    `# from ${r.index} as of ${r.day} (resolved ${r.resolvedAt}). Not a file of the repository: copy this folder to`,
    '# image/pin-sets/<name>/ (with a pin-set.yaml) to keep these pins.',
    ...r.skipped.map((s) => `# skipped ${s.release}: ${s.reason}`),
    ...r.layerReasons.map((a) => `# ${a.requirement}: ${a.reason}`),
    ...(r.like ? [`# burakince/mlflow publishes no image of MLflow ${r.mlflow.version}: the recipe of ${r.like} is assumed.`] : []),
    `FROM burakince/mlflow:${r.mlflow.version}`,
    '',
    'RUN pip install --no-cache-dir \\',
    r.layer.map((a) => `    ${a}`).join(' \\\n'),
    '',
  ].join('\n');
}

/** Where the resolution of a day lives: `<cache>/pin-sets/latest/<day>/` (Dockerfile, resolution.json, the lock). */
export const latestDir = (cache: string, asOf: string) => join(cache, 'pin-sets', LATEST, asOf);

/** The resolution of a day from the cache, or undefined when there is none (or it is unreadable). */
export function readLatest(cache: string, asOf: string): LatestResolution | undefined {
  const f = join(latestDir(cache, asOf), 'resolution.json');
  if (!existsSync(f) || !existsSync(join(latestDir(cache, asOf), 'Dockerfile'))) return undefined;
  try {
    return LatestResolution.parse(JSON.parse(readFileSync(f, 'utf8')));
  } catch {
    return undefined;
  }
}

/** Writes the day's folder whole (a temporary folder renamed into place); returns it. */
export function writeLatest(cache: string, r: LatestResolution): string {
  const dir = latestDir(cache, r.day);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'resolution.json'), `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(tmp, 'Dockerfile'), latestDockerfile(r));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}
