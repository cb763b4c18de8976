import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { execaSync } from 'execa';
import { parse } from 'yaml';
import { z } from 'zod';
import { HarnessError } from '../errors.ts';
import { projectRoot } from '../paths.ts';
import { adapterFor, type PluginAdapter } from '../plugin/adapters.ts';
import { baseImageFor } from './base-images.ts';
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
  /** pip requirements the base image provides next to MLflow (database drivers, S3 client, exporter). */
  baseImageAdds: string[];
  /** Changes to the stack description that go with these pins, each with its reason. */
  settings: SettingChange[];
  adapter: PluginAdapter;
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
  python: z.string().regex(/^3\.\d+$/, 'a Python major.minor such as 3.12'),
  pythonSource: z.string(),
  chart: z.string().regex(/^\d+\.\d+\.\d+$/, 'a chart version such as 1.8.0'),
  baseImageAdds: z.array(z.string()).min(1),
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

const samePins = (a: ImagePins, b: ImagePins) => a.mlflow === b.mlflow && a.mlflowOidcAuth === b.mlflowOidcAuth && a.baseImage === b.baseImage;

function fromFile(name: string, dockerfile: string, meta: PinSetFile, pins: ImagePins): PinSet {
  return {
    name,
    title: meta.title,
    dockerfile: displayPath(dockerfile),
    pins,
    python: meta.python,
    pythonSource: meta.pythonSource,
    chart: meta.chart,
    baseImageAdds: meta.baseImageAdds,
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
function fromDockerfile(name: string, dockerfile: string, text: string): PinSet {
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
  const base = baseImageFor(pins.mlflow);
  return {
    name,
    title: `MLflow ${pins.mlflow}, mlflow-oidc-auth ${pins.mlflowOidcAuth} from ${displayPath(dockerfile)}`,
    dockerfile: displayPath(dockerfile),
    pins,
    python: base.python,
    pythonSource: base.pythonSource,
    chart: base.chart,
    baseImageAdds: base.adds,
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
    return { ...fromDockerfile(selector, file, String(r.stdout)), dockerfile: `image/Dockerfile@${ref}` };
  }
  const named = join(pinSetsDir, selector, 'pin-set.yaml');
  if (/^[a-z0-9-]+$/.test(selector) && existsSync(named)) {
    const dockerfile = join(pinSetsDir, selector, 'Dockerfile');
    return fromFile(selector, dockerfile, readPinSetFile(named), parseDockerfilePins(readFileSync(dockerfile, 'utf8'), displayPath(dockerfile)));
  }
  const path = resolve(selector);
  if (existsSync(path) && !selector.match(/^[a-z0-9-]+$/)) {
    return fromDockerfile(displayPath(path), path, readFileSync(path, 'utf8'));
  }
  throw new HarnessError(`Unknown pin set \`${selector}\` (HARNESS_PINS)`, `use one of ${pinSetNames().join(', ')}, a path to a Dockerfile, or git:<ref>`);
}

/** One line naming the pin set, for progress output and reports. */
export function describePinSet(p: PinSet): string {
  return `${p.name}: MLflow ${p.pins.mlflow}, mlflow-oidc-auth ${p.pins.mlflowOidcAuth} (plugin generation ${p.adapter.generation}), Python ${p.python}, chart ${p.chart}`;
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
    settings: p.settings.map((s) => ({ change: s.change, reason: s.reason })),
  };
}
