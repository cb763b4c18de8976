import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { PinSet } from '../../config/pin-sets.ts';
import { HarnessError } from '../../errors.ts';
import { info, step } from '../../progress.ts';
import { findPython } from './python.ts';

export const locksDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'python', 'locks');

/** What the Python fixtures of the suite use on top of the image (the seed's client examples). */
const CLIENT_EXTRAS = ['python-dotenv', 'scikit-learn', 'requests'];

/**
 * Requirements of the local MLflow venv: the Dockerfile's pins, what the base image adds next to MLflow
 * (database drivers, S3 client, Prometheus exporter), and what the Python fixtures use.
 */
export function venvRequirements(set: PinSet): string[] {
  const { pins } = set;
  const extras = pins.mlflowOidcAuthExtras.length ? `[${pins.mlflowOidcAuthExtras.join(',')}]` : '';
  return [`mlflow==${pins.mlflow}`, `mlflow-oidc-auth${extras}==${pins.mlflowOidcAuth}`, ...pins.extraRequirements, ...set.baseImageAdds, ...CLIENT_EXTRAS];
}

/** The lock of a pin set on a Python minor: a full `pip freeze` used as constraints, kept in the repository. */
export function lockFile(set: PinSet): string {
  return join(locksDir, `mlflow-${set.pins.mlflow}+oidc-${set.pins.mlflowOidcAuth}+py${set.python}.txt`);
}

const REQS_LINE = '# requirements: ';
const hash = (...parts: string[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 12);
};

/** The requirement list a lock was resolved for (its header), or undefined when the file has none. */
function lockedRequirements(file: string): string | undefined {
  return readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(REQS_LINE))?.slice(REQS_LINE.length);
}

/**
 * pip's resolver error shortened to what conflicts: "mlflow-oidc-auth 7.3.1 depends on mlflow<3.13" and what
 * was asked, or the requirement that is not served at all.
 */
export function pipFailure(output: string): string {
  const lines = output.split('\n').map((l) => l.trim());
  const cannot = lines.find((l) => /^ERROR: Cannot install /.test(l));
  if (cannot) {
    const causes = lines.filter((l) => / depends on |^The user requested /.test(l));
    return `${cannot.replace(/^ERROR: /, '').replace(/ because these package versions have conflicting dependencies\.?/, '')} — ${causes.join('; ') || 'conflicting dependencies'}`;
  }
  const missing = lines.find((l) => /No matching distribution found for /.test(l));
  if (missing) return `${missing.replace(/^ERROR: /, '')} (not served by the package index)`;
  const err = lines.filter((l) => l.startsWith('ERROR:')).pop();
  return (err ?? lines.filter(Boolean).pop() ?? 'pip failed').replace(/^ERROR: /, '');
}

async function pip(dir: string, args: string[]) {
  return execa(join(dir, 'bin', 'python'), ['-m', 'pip', '--disable-pip-version-check', ...args], {
    reject: false,
    all: true,
    env: { ...process.env, PIP_NO_INPUT: '1' },
  });
}

/**
 * Creates (once per pin set, Python version and lock) the venv the local MLflow server runs from, under the
 * cache. With a lock the install is reproducible; without one the requirements are resolved, and the result is
 * written as the pin set's lock next to the others. Returns the venv folder.
 */
export async function ensureVenv(cache: string, set: PinSet): Promise<string> {
  const python = await findPython(set.python, `pin set ${set.name} (base image ${set.pins.baseImage}: ${set.pythonSource})`);
  const reqs = venvRequirements(set);
  const reqKey = hash(...reqs);
  const lock = lockFile(set);
  const locked = existsSync(lock) && lockedRequirements(lock) === reqKey;
  const dir = join(cache, 'venv', `mlflow-${set.pins.mlflow}-oidc-${set.pins.mlflowOidcAuth}-py${python.version}-${hash(python.version, reqKey)}`);
  const marker = join(dir, '.complete');
  const lockHash = locked ? hash(readFileSync(lock, 'utf8')) : 'unlocked';
  if (existsSync(marker) && readFileSync(marker, 'utf8').split('\n')[0] === lockHash && locked) return dir;

  const title = `Python ${python.version} venv for pin set ${set.name} (mlflow ${set.pins.mlflow}, mlflow-oidc-auth ${set.pins.mlflowOidcAuth}${locked ? '' : '; no lock yet: resolving'}; ~2 min first time)`;
  await step(title, async () => {
    // Scripts in a venv hold its absolute path, so it is built in place and marked complete at the end.
    rmSync(dir, { recursive: true, force: true });
    const made = await execa(python.path, ['-m', 'venv', dir], { reject: false, all: true });
    if (made.exitCode !== 0) throw new HarnessError(`${python.path} -m venv failed: ${pipFailure(made.all ?? '')}`, `install the venv module of Python ${set.python}`);
    const r = await pip(dir, ['install', '-q', ...(locked ? ['-c', lock] : []), ...reqs]);
    if (r.exitCode !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new HarnessError(`The pins of ${set.name} do not install on Python ${python.version}: ${pipFailure(r.all ?? '')}`,
        locked ? `the lock is ${lock}` : `fix the pins in ${set.dockerfile}`);
    }
    if (!locked) {
      const frozen = await pip(dir, ['freeze', '--exclude-editable']);
      mkdirSync(locksDir, { recursive: true });
      writeFileSync(lock, [
        `# Lock of pin set ${set.name}: mlflow ${set.pins.mlflow}, mlflow-oidc-auth ${set.pins.mlflowOidcAuth} on Python ${python.version},`,
        `# resolved by the harness on ${new Date().toISOString().slice(0, 10)} from: ${reqs.join(' ')}`,
        '# Used as pip constraints for this pin set. Delete it to resolve again.',
        `${REQS_LINE}${reqKey}`,
        frozen.stdout.trim(),
        '',
      ].join('\n'));
      info(`  wrote the lock ${lock} (commit it to make this pin set reproducible)`);
    }
    writeFileSync(marker, `${hash(readFileSync(lock, 'utf8'))}\n${reqs.join('\n')}\n`);
  });
  return dir;
}
