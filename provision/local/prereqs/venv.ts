import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { cutoff, today } from '../../config/build-dates.ts';
import type { PinSet } from '../../config/pin-sets.ts';
import { HarnessError } from '../../errors.ts';
import { info, step } from '../../progress.ts';
import { installer, type Installer } from './installer.ts';
import { findPython } from './python.ts';

export const locksDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'python', 'locks');

/** What the Python fixtures of the suite use on top of the image (the seed's client examples). */
export const CLIENT_EXTRAS = ['python-dotenv', 'scikit-learn', 'requests'];

/**
 * The three installs that rebuild an image's environment, in the order the image was built: the base image's
 * requirements (its MLflow and what it adds), the Dockerfile's `pip install` line, then what the suite's
 * Python client needs, which may add packages but move none of the image's.
 */
export function installPlan(set: PinSet) {
  return {
    base: { requirements: [`mlflow==${set.pins.mlflow}`, ...set.baseImage.requires], asOf: cutoff(set.dates.baseBuiltOn) },
    layer: { requirements: set.pins.layerRequirements, asOf: cutoff(set.dates.builtOn) },
    client: { requirements: CLIENT_EXTRAS, asOf: cutoff(set.dates.builtOn) },
  };
}

/** The lock of a pin set on a Python minor, kept in the repository (`latest`'s: in its folder under the cache). */
export function lockFile(set: PinSet): string {
  return join(set.lockDir ?? locksDir, `mlflow-${set.pins.mlflow}+oidc-${set.pins.mlflowOidcAuth}+py${set.python}.txt`);
}

const hash = (...parts: string[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 12);
};

/** What a lock was made from, besides its dates: the requirements of each install and the Python minor. */
export function requirementsKey(set: PinSet): string {
  const plan = installPlan(set);
  return hash(set.python, ...plan.base.requirements, '|', ...plan.layer.requirements, '|', ...plan.client.requirements);
}

export interface LockHeader {
  baseBuiltOn?: string;
  builtOn?: string;
  requirements?: string;
}

const FIELDS = { baseBuiltOn: '# base-built-on: ', builtOn: '# built-on: ', requirements: '# requirements: ' } as const;

export function readLockHeader(text: string): LockHeader {
  const lines = text.split('\n');
  const field = (prefix: string) => lines.find((l) => l.startsWith(prefix))?.slice(prefix.length).trim();
  return { baseBuiltOn: field(FIELDS.baseBuiltOn), builtOn: field(FIELDS.builtOn), requirements: field(FIELDS.requirements) };
}

/** Why a lock cannot serve the pin set (one line), or undefined when it can. */
export function staleLock(set: PinSet, header: LockHeader): string | undefined {
  if (header.requirements !== requirementsKey(set)) return 'it was made for other requirements';
  if (header.baseBuiltOn !== set.dates.baseBuiltOn || header.builtOn !== set.dates.builtOn) {
    return `it was resolved as of base ${header.baseBuiltOn ?? '?'} / image ${header.builtOn ?? '?'}, the pin set is built on base ${set.dates.baseBuiltOn} / image ${set.dates.builtOn}`;
  }
  return undefined;
}

const PACKAGE = /^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$/;
const norm = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');

/** Every `name==version` of a lock, by normalised name. */
export function lockPackages(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of text.split('\n')) {
    const m = PACKAGE.exec(l.trim());
    if (m) out.set(norm(m[1]!), m[2]!);
  }
  return out;
}

/**
 * Resolves the pin set as its image was built, in the venv `scratch` (which then holds exactly the lock; it is
 * removed when the resolution fails): the base image's requirements as of
 * `baseBuiltOn`, then the Dockerfile's line as of `builtOn` (keeping the base's versions wherever they satisfy
 * it), then the client's extras constrained to the image. Returns the lock's text.
 */
async function resolveLock(set: PinSet, python: { path: string; version: string }, tool: Installer, scratch: string): Promise<string> {
  const plan = installPlan(set);
  rmSync(scratch, { recursive: true, force: true });
  await tool.venv(python.path, scratch);
  try {
    await tool.install(scratch, plan.base.requirements, plan.base.asOf, undefined, `the base image ${set.pins.baseImage} (MLflow ${set.pins.mlflow} and its requirements)`);
    await tool.install(scratch, plan.layer.requirements, plan.layer.asOf, undefined, `the Dockerfile's layer (${plan.layer.requirements.join(' ')})`);
    const image = await tool.freeze(scratch);
    const imageFile = join(scratch, 'image-freeze.txt');
    writeFileSync(imageFile, `${image.join('\n')}\n`);
    await tool.install(scratch, plan.client.requirements, plan.client.asOf, imageFile, `the suite's client extras (${plan.client.requirements.join(' ')}) without moving the image's packages`);
    const inImage = new Set(image.map((l) => norm(l.split('==')[0]!)));
    const client = (await tool.freeze(scratch)).filter((l) => !inImage.has(norm(l.split('==')[0]!)));
    const layer = set.pins.layerRequirements.join(' ');
    return [
      `# Lock of pin set ${set.name}: ${set.pins.baseImage} + \`pip install ${layer}\`, on Python ${set.python}.`,
      `# As the image was built: the base image's environment as PyPI served it on ${set.dates.baseBuiltOn}, the Dockerfile's layer`,
      `# on ${set.dates.builtOn} (packages uploaded before the end of that day, UTC). Made by the harness on ${today()} with ${tool.name}:`,
      `#   base:   ${tool.describe(plan.base.requirements, plan.base.asOf)}`,
      `#   layer:  ${tool.describe(plan.layer.requirements, plan.layer.asOf)}`,
      `#   client: ${tool.describe(plan.client.requirements, plan.client.asOf, 'image')}`,
      `${FIELDS.baseBuiltOn}${set.dates.baseBuiltOn}`,
      `${FIELDS.builtOn}${set.dates.builtOn}`,
      `${FIELDS.requirements}${requirementsKey(set)}`,
      '# The venv holds exactly these packages. Delete the file, or change the pin set\'s dates, to resolve again.',
      ...image,
      '# added for the suite\'s Python client (not in the image):',
      ...client,
      '',
    ].join('\n');
  } catch (e) {
    rmSync(scratch, { recursive: true, force: true });
    throw e;
  } finally {
    rmSync(join(scratch, 'image-freeze.txt'), { force: true });
  }
}

/** Why the pin set's lock cannot be used as it is (missing, or stale with the reason), or undefined when it can. */
function lockProblem(set: PinSet, lock: string): string | undefined {
  if (!existsSync(lock)) return 'missing';
  return staleLock(set, readLockHeader(readFileSync(lock, 'utf8')));
}

/**
 * The venv the local MLflow server (and the suite's Python client) runs from: exactly the pin set's lock, built
 * once per Python, requirements and build dates under the cache. Without a usable lock (none, or one made for
 * other requirements or dates — said in one line) the pin set is resolved as its image was built right in that
 * venv, and the lock is written from it. Returns the venv folder.
 */
export async function ensureVenv(cache: string, set: PinSet): Promise<string> {
  const python = await findPython(set.python, `pin set ${set.name} (base image ${set.pins.baseImage}: ${set.pythonSource})`);
  const lock = lockFile(set);
  const dir = join(cache, 'venv', `mlflow-${set.pins.mlflow}-oidc-${set.pins.mlflowOidcAuth}-py${python.version}-${hash(python.version, requirementsKey(set), set.dates.baseBuiltOn, set.dates.builtOn)}`);
  const marker = join(dir, '.complete');
  const problem = lockProblem(set, lock);
  if (!problem && existsSync(marker) && readFileSync(marker, 'utf8').split('\n')[0] === hash(readFileSync(lock, 'utf8'))) return dir;

  const tool = await installer(cache, python.path);
  // Scripts in a venv hold its absolute path, so it is built in place and marked complete at the end.
  rmSync(dir, { recursive: true, force: true });
  if (problem) {
    if (problem !== 'missing') info(`The lock ${lock} is stale (${problem}): resolving it again.`);
    const text = await step(`resolve pin set ${set.name} as built (base image as of ${set.dates.baseBuiltOn}, image as of ${set.dates.builtOn}; ${tool.name}) into its venv`,
      () => resolveLock(set, python, tool, dir));
    mkdirSync(dirname(lock), { recursive: true });
    writeFileSync(lock, text);
    info(`  wrote the lock ${lock} ${set.lockDir ? `(${set.name} is resolved at run time: its lock stays in the cache, not in the repository)` : '(commit it to make this pin set reproducible)'}`);
  } else {
    await step(`Python ${python.version} venv for pin set ${set.name} from ${lock.split('/').pop()} (${tool.name})`, async () => {
      try {
        await tool.venv(python.path, dir);
        await tool.sync(dir, lock);
      } catch (e) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    });
  }
  writeFileSync(versionsFile(dir), `${JSON.stringify(await readVersions(dir), null, 2)}\n`);
  writeFileSync(marker, `${hash(readFileSync(lock, 'utf8'))}\n${lock}\n`);
  return dir;
}

/**
 * The versions that matter for a verdict (login, tokens, sessions, storage), as installed in a venv, keyed by
 * the names people know them by. `PostgreSQL driver`: the DBAPI SQLAlchemy picks for `postgresql://` URIs.
 */
export type Versions = Record<string, string>;

export const VERSION_PACKAGES: [label: string, dist: string][] = [
  ['MLflow', 'mlflow'], ['mlflow-oidc-auth', 'mlflow-oidc-auth'], ['Authlib', 'authlib'], ['joserfc', 'joserfc'],
  ['cryptography', 'cryptography'], ['Flask', 'flask'], ['Werkzeug', 'werkzeug'], ['FastAPI', 'fastapi'],
  ['Starlette', 'starlette'], ['uvicorn', 'uvicorn'], ['SQLAlchemy', 'sqlalchemy'], ['boto3', 'boto3'],
];

const VERSIONS_PY = `
import json, sys
from importlib import metadata
def v(d):
    try:
        return metadata.version(d)
    except metadata.PackageNotFoundError:
        return None
out = {"Python": sys.version.split()[0]}
for label, dist in json.loads(sys.argv[1]):
    out[label] = v(dist)
try:
    from sqlalchemy.dialects import registry
    drv = registry.load("postgresql").driver
    dist = {"psycopg2": ["psycopg2-binary", "psycopg2"], "psycopg": ["psycopg", "psycopg-binary"]}.get(drv, [drv])
    found = [(d, v(d)) for d in dist if v(d)]
    out["PostgreSQL driver"] = f"{drv} ({found[0][0]} {found[0][1]})" if found else f"{drv} (not installed)"
except Exception as e:
    out["PostgreSQL driver"] = f"unknown ({type(e).__name__})"
print(json.dumps(out))
`;

const versionsFile = (venv: string) => join(venv, '.harness-versions.json');

/** Reads the versions from a venv's own Python (or from any Python executable). */
export async function readVersions(venvOrPython: string): Promise<Versions> {
  const python = existsSync(join(venvOrPython, 'bin', 'python')) ? join(venvOrPython, 'bin', 'python') : venvOrPython;
  const r = await execa(python, ['-c', VERSIONS_PY, JSON.stringify(VERSION_PACKAGES)], { reject: false, all: true });
  if (r.exitCode !== 0) throw new HarnessError(`Cannot read the package versions of ${venvOrPython}: ${(r.all ?? '').trim().split('\n').pop()}`, 'delete the venv folder and provision again');
  const raw = JSON.parse(String(r.stdout)) as Record<string, string | null>;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v ?? 'not installed']));
}

/** The versions recorded when the venv was built (read again from the venv if the record is missing). */
export async function venvVersions(venv: string): Promise<Versions> {
  const f = versionsFile(venv);
  if (existsSync(f)) return JSON.parse(readFileSync(f, 'utf8')) as Versions;
  const v = await readVersions(venv);
  writeFileSync(f, `${JSON.stringify(v, null, 2)}\n`);
  return v;
}
