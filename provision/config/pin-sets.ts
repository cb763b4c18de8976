import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { execaSync } from 'execa';
import { parse } from 'yaml';
import { z } from 'zod';
import { HarnessError } from '../errors.ts';
import { cacheDir, projectRoot } from '../paths.ts';
import { adapterFor, type PluginAdapter } from '../plugin/adapters.ts';
import { baseImageFor, baseImages, type BaseImage } from './base-images.ts';
import { checkDate, IsoDate, resolveAsOf, today, type BuildDates } from './build-dates.ts';
import { loadHarnessEnv } from './env.ts';
import { LATEST, latestDir, latestDockerfile, latestLine, readLatest, uncoveredLine, type LatestResolution } from './latest.ts';
import { compareVersions } from '../versions/pep440.ts';
import { StackOverrides } from './overrides.ts';
import { dockerfilePath, parseDockerfilePins, type ImagePins } from './pins.ts';

/**
 * A pin set: the versions of one image (MLflow, mlflow-oidc-auth, base image) plus what goes with them — the
 * base image's Python and the packages it adds, the chart version, and the settings the pins need. Named pin
 * sets live in image/pin-sets/<name>/ (a buildable Dockerfile and pin-set.yaml); image/Dockerfile is the
 * default, so a bump PR that edits only the Dockerfile runs the suite on its pins.
 */
export interface PinSet {
  /** `seed`, `buun-bump`, `newest`, `image/Dockerfile`, a Dockerfile path or `git:<ref>`. */
  name: string;
  title: string;
  /** The Dockerfile the pins were read from (relative to the project when inside it). */
  dockerfile: string;
  pins: ImagePins;
  /** Python major.minor of the base image, and how that is known. */
  python: string;
  pythonSource: string;
  chart: string;
  /**
   * What the base image was built from (image/base-images.yaml), with MLflow at the Dockerfile's version; `like`
   * names the tag whose recipe is assumed when no image of that MLflow exists (with the pin set's reason).
   */
  baseImage: BaseImage & { like?: { tag: string; reason: string } };
  /** When the base image and the team's image were built: their Python packages are resolved as of then. */
  dates: BuildDates;
  /** Changes to the stack description that go with these pins, each with its reason. */
  settings: SettingChange[];
  adapter: PluginAdapter;
  /** Where the lock lives when not in the repository's locks (`latest`: its folder under the cache). */
  lockDir?: string;
  /** `latest`: what it resolved to and which newer releases it passed over, one line each (reports carry them). */
  upstream?: string[];
}

export const SettingChange = z.object({
  /** An override of the stack description, in the grammar of scenario faults. */
  change: StackOverrides,
  reason: z.string(),
}).strict();
export type SettingChange = z.infer<typeof SettingChange>;

/** image/pin-sets/<name>/pin-set.yaml */
export const PinSetFile = z.object({
  $schema: z.string().optional(),
  title: z.string(),
  /** Where these pins come from (a commit, a date). */
  source: z.string(),
  chart: z.string().regex(/^\d+\.\d+\.\d+$/, 'a chart version such as 1.8.0'),
  /** The day the team's image was built (its `pip install` layer resolved as of then). */
  builtOn: IsoDate,
  /** Where builtOn comes from (a commit and its date). */
  builtOnSource: z.string(),
  /** The day the base image was built; default: its entry in image/base-images.yaml (the day its MLflow was released). */
  baseBuiltOn: IsoDate.optional(),
  baseBuiltOnSource: z.string().optional(),
  /** No burakince/mlflow image of this MLflow exists: the recipe of the tag `like` is assumed, with the reason. */
  baseImage: z.object({ like: z.string(), reason: z.string() }).strict().optional(),
  settings: z.array(SettingChange).default([]),
}).strict();
export type PinSetFile = z.infer<typeof PinSetFile>;

export const pinSetsDir = join(projectRoot, 'image', 'pin-sets');

export function pinSetNames(): string[] {
  return readdirSync(pinSetsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(pinSetsDir, e.name, 'pin-set.yaml')))
    .map((e) => e.name)
    .sort();
}

function readPinSetFile(file: string): PinSetFile {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HarnessError(`${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = PinSetFile.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new HarnessError(`${file}: ${i.path.join('.') || '(root)'}: ${i.message}`, 'see image/pin-sets/README.md for the format');
  }
  return r.data;
}

const samePins = (a: ImagePins, b: ImagePins) => a.baseImage === b.baseImage && a.layerRequirements.join(' ') === b.layerRequirements.join(' ');

/** The base image's facts for these pins: its own tag, or the tag whose recipe a pin set assumes. */
function baseOf(pins: ImagePins, like?: { like: string; reason: string }): PinSet['baseImage'] {
  if (!like) return baseImageFor(pins.baseTag);
  const recipe = baseImageFor(like.like);
  // the assumed image carries the Dockerfile's MLflow: its own range on mlflow follows the version
  const requires = recipe.requires.map((r) => (/^mlflow(\[|[<>=!~ ])/.test(r) ? r.replace(/(>=)[^,]+/, `$1${pins.mlflow}`) : r));
  return { ...recipe, tag: pins.baseTag, requires, like: { tag: like.like, reason: like.reason } };
}

function pythonOf(base: PinSet['baseImage']) {
  return {
    python: base.python.split('.').slice(0, 2).join('.'),
    pythonSource: `burakince/mlflow:${base.like ? `${base.like.tag} (assumed for ${base.tag})` : base.tag} builds FROM python:${base.python} (${base.source})`,
  };
}

/**
 * The build dates of a pin set, checked: HARNESS_RESOLVE_AS_OF overrides both; the base cannot be built after the
 * image on top of it; neither in the future.
 */
function datesOf(what: string, builtOn: { date: string; source: string }, base: { date: string; source: string }): BuildDates {
  const asOf = resolveAsOf();
  if (asOf) return { baseBuiltOn: asOf, builtOn: asOf, sources: { baseBuiltOn: 'HARNESS_RESOLVE_AS_OF', builtOn: 'HARNESS_RESOLVE_AS_OF' } };
  checkDate(builtOn.date, `builtOn of ${what}`);
  checkDate(base.date, `baseBuiltOn of ${what}`);
  if (base.date > builtOn.date) {
    throw new HarnessError(`${what}: the base image is built on ${base.date}, after the image on top of it (${builtOn.date})`, 'fix baseBuiltOn or builtOn in the pin set');
  }
  return { baseBuiltOn: base.date, builtOn: builtOn.date, sources: { baseBuiltOn: base.source, builtOn: builtOn.source } };
}

function fromFile(name: string, dockerfile: string, meta: PinSetFile, pins: ImagePins): PinSet {
  if (meta.baseImage && !meta.baseBuiltOn) {
    throw new HarnessError(`pin set ${name}: baseImage.like needs baseBuiltOn (the day MLflow ${pins.mlflow} was uploaded to PyPI)`, 'add baseBuiltOn to its pin-set.yaml');
  }
  const baseImage = baseOf(pins, meta.baseImage);
  return {
    name,
    title: meta.title,
    dockerfile: displayPath(dockerfile),
    pins,
    ...pythonOf(baseImage),
    chart: meta.chart,
    baseImage,
    dates: datesOf(`pin set ${name}`, { date: meta.builtOn, source: meta.builtOnSource },
      meta.baseBuiltOn
        ? { date: meta.baseBuiltOn, source: meta.baseBuiltOnSource ?? 'the pin set' }
        : { date: baseImage.baseBuiltOn, source: `MLflow ${baseImage.like ? baseImage.like.tag : baseImage.tag} uploaded to PyPI (image/base-images.yaml)` }),
    settings: meta.settings,
    adapter: adapterFor(pins.mlflowOidcAuth),
  };
}

function displayPath(p: string): string {
  const rel = relative(projectRoot, p);
  return rel.startsWith('..') ? p : rel;
}

/**
 * A Dockerfile that is not a named pin set: when its pins equal a named set's (a Dockerfile-only bump to a
 * known pin set), that set's Python, chart and settings go with it; otherwise they come from the plugin
 * base image table (Python, added packages, the chart whose default image it is); the settings the plugin
 * generation needs to start are added by the adapter when the description is made.
 */
function fromDockerfile(name: string, dockerfile: string, text: string, builtOn: { date: string; source: string } = { date: today(), source: 'a Dockerfile-only bump is built today' }): PinSet {
  const pins = parseDockerfilePins(text, displayPath(dockerfile));
  for (const known of pinSetNames()) {
    const knownFile = join(pinSetsDir, known, 'Dockerfile');
    const knownPins = parseDockerfilePins(readFileSync(knownFile, 'utf8'), displayPath(knownFile));
    if (samePins(knownPins, pins)) {
      const set = fromFile(name, dockerfile, readPinSetFile(join(pinSetsDir, known, 'pin-set.yaml')), pins);
      return { ...set, title: `${set.title} (pins of ${known})` };
    }
  }
  const adapter = adapterFor(pins.mlflowOidcAuth);
  const baseImage = baseOf(pins);
  return {
    name,
    title: `MLflow ${pins.mlflow}, mlflow-oidc-auth ${pins.mlflowOidcAuth} from ${displayPath(dockerfile)}`,
    dockerfile: displayPath(dockerfile),
    pins,
    ...pythonOf(baseImage),
    chart: baseImage.chart,
    baseImage,
    dates: datesOf(displayPath(dockerfile), builtOn, { date: baseImage.baseBuiltOn, source: `MLflow ${baseImage.tag} uploaded to PyPI (image/base-images.yaml)` }),
    settings: [],
    adapter,
  };
}

/**
 * Resolves `HARNESS_PINS`: a pin set name, a path to a Dockerfile, `git:<ref>` (image/Dockerfile at a commit),
 * or nothing (image/Dockerfile of the working tree).
 */
export function loadPinSet(selector?: string): PinSet {
  if (!selector || selector === 'image/Dockerfile') {
    return fromDockerfile('image/Dockerfile', dockerfilePath, readFileSync(dockerfilePath, 'utf8'));
  }
  if (selector.startsWith('git:')) {
    const ref = selector.slice(4) || 'HEAD';
    const r = execaSync('git', ['show', `${ref}:image/Dockerfile`], { cwd: projectRoot, reject: false });
    if (r.exitCode !== 0) {
      throw new HarnessError(`Cannot read image/Dockerfile at git ref \`${ref}\`: ${String(r.stderr).split('\n')[0]}`, 'name a commit, branch or tag of this repository');
    }
    const dir = mkdtempSync(join(tmpdir(), 'harness-pins-'));
    const file = join(dir, 'Dockerfile');
    writeFileSync(file, String(r.stdout));
    // the image of a commit is built the day it was committed (UTC)
    const when = execaSync('git', ['log', '-1', '--format=%ct', ref], { cwd: projectRoot, reject: false });
    const date = new Date(Number(String(when.stdout).trim()) * 1000).toISOString().slice(0, 10);
    return { ...fromDockerfile(selector, file, String(r.stdout), { date, source: `the commit date of ${ref}` }), dockerfile: `image/Dockerfile@${ref}` };
  }
  if (selector === LATEST) return loadLatest();
  const named = join(pinSetsDir, selector, 'pin-set.yaml');
  if (/^[a-z0-9-]+$/.test(selector) && existsSync(named)) {
    const dockerfile = join(pinSetsDir, selector, 'Dockerfile');
    return fromFile(selector, dockerfile, readPinSetFile(named), parseDockerfilePins(readFileSync(dockerfile, 'utf8'), displayPath(dockerfile)));
  }
  const path = resolve(selector);
  if (existsSync(path) && !selector.match(/^[a-z0-9-]+$/)) {
    return fromDockerfile(displayPath(path), path, readFileSync(path, 'utf8'));
  }
  throw new HarnessError(`Unknown pin set \`${selector}\` (HARNESS_PINS)`, `use one of ${[...pinSetNames(), LATEST].join(', ')}, a path to a Dockerfile, or git:<ref>`);
}

/**
 * The base image of MLflow `mlflow` in `latest`: its own entry in image/base-images.yaml, else the recipe of the
 * newest tag there.
 */
export function latestBase(mlflow: string): { like?: string } {
  const images = baseImages();
  if (images.some((b) => b.tag === mlflow)) return {};
  return { like: [...images].sort((a, b) => compareVersions(b.tag, a.tag))[0]!.tag };
}

/** The chart `latest` runs: the one the user points at (MLFLOW_CHART_VERSION, or the chart at MLFLOW_CHART_PATH), else its base image's. */
function latestChart(base: PinSet['baseImage']): { chart: string; source: string } {
  const env = loadHarnessEnv();
  if (env.MLFLOW_CHART_VERSION) return { chart: env.MLFLOW_CHART_VERSION, source: 'MLFLOW_CHART_VERSION' };
  if (env.MLFLOW_CHART_PATH) {
    const file = join(resolve(env.MLFLOW_CHART_PATH), 'Chart.yaml');
    const version = existsSync(file) ? (parse(readFileSync(file, 'utf8')) as { version?: unknown } | null)?.version : undefined;
    if (typeof version !== 'string') throw new HarnessError(`MLFLOW_CHART_PATH: ${file} names no chart version`, 'point it at the charts/mlflow folder of a community-charts/helm-charts checkout');
    return { chart: version, source: `the chart at MLFLOW_CHART_PATH (${env.MLFLOW_CHART_PATH})` };
  }
  const tag = base.like?.tag ?? base.tag;
  return { chart: base.chart, source: `the chart of burakince/mlflow:${tag} in image/base-images.yaml` };
}

/** The pin set of a `latest` resolution kept in `dir` (its Dockerfile is the one latestDockerfile writes). */
export function latestPinSet(r: LatestResolution, dir: string): PinSet {
  const dockerfile = join(dir, 'Dockerfile');
  const pins = parseDockerfilePins(latestDockerfile(r), dockerfile);
  const reason = `burakince/mlflow publishes no image of MLflow ${r.mlflow.version} (the newest tag image/base-images.yaml describes is ${r.like}): its recipe is assumed with MLflow ${r.mlflow.version}`;
  const like = r.like ? { like: r.like, reason } : undefined;
  const { chart, source } = latestChart(baseOf(pins, like));
  const meta: PinSetFile = {
    title: `Latest on ${r.index} as of ${r.day}: MLflow ${r.mlflow.version}, mlflow-oidc-auth ${r.plugin.version}, chart ${chart} (${source})`,
    source: `${r.index} as of ${r.day} (resolved ${r.resolvedAt})`,
    chart,
    builtOn: r.day,
    builtOnSource: `HARNESS_PINS=latest: the image is built the day it is resolved (${r.day})`,
    ...(like && r.baseBuiltOn ? { baseBuiltOn: r.baseBuiltOn, baseBuiltOnSource: `MLflow ${r.mlflow.version} uploaded to the index on ${r.baseBuiltOn}`, baseImage: like } : {}),
    settings: [],
  };
  const set = fromFile(LATEST, dockerfile, meta, pins);
  return { ...set, lockDir: dir, upstream: [latestLine(r), uncoveredLine(r)].filter((l): l is string => !!l) };
}

/**
 * `HARNESS_PINS=latest`: the day's resolution from the cache (HARNESS_LATEST_ON, set by the command that resolved
 * it, keeps a run and its child processes on one day). Commands resolve it before they load it
 * (provision/local/prereqs/latest.ts).
 */
export function loadLatest(cache = cacheDir()): PinSet {
  const asOf = process.env.HARNESS_LATEST_ON ? checkDate(process.env.HARNESS_LATEST_ON, 'HARNESS_LATEST_ON') : resolveAsOf() ?? today();
  const r = readLatest(cache, asOf);
  if (!r) {
    throw new HarnessError(`The pin set latest is not resolved as of ${asOf} on this machine (no ${latestDir(cache, asOf)})`,
      'run a command with HARNESS_PINS=latest, e.g. `HARNESS_PINS=latest npm run prereqs`: it resolves it first');
  }
  return latestPinSet(r, latestDir(cache, asOf));
}

/** One line naming the pin set, for progress output and reports. */
export function describePinSet(p: PinSet): string {
  return `${p.name}: MLflow ${p.pins.mlflow}, mlflow-oidc-auth ${p.pins.mlflowOidcAuth} (plugin generation ${p.adapter.generation}), Python ${p.python}, chart ${p.chart}; built as of base ${p.dates.baseBuiltOn}, image ${p.dates.builtOn}`;
}

/** The pin set as reports show it. */
export function pinSetSummary(p: PinSet) {
  return {
    name: p.name,
    title: p.title,
    dockerfile: p.dockerfile,
    baseImage: p.pins.baseImage,
    mlflow: p.pins.mlflow,
    mlflowOidcAuth: p.pins.mlflowOidcAuth,
    python: p.python,
    chart: p.chart,
    generation: p.adapter.generation,
    baseBuiltOn: p.dates.baseBuiltOn,
    builtOn: p.dates.builtOn,
    settings: p.settings.map((s) => ({ change: s.change, reason: s.reason })),
    ...(p.upstream ? { upstream: p.upstream } : {}),
  };
}
