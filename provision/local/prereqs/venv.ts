import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { ImagePins } from '../../config/pins.ts';
import { HarnessError } from '../../errors.ts';
import { step } from '../../progress.ts';

const pythonDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'python');
export const constraintsFile = join(pythonDir, 'constraints.txt');

/**
 * Requirements of the local MLflow venv: the Dockerfile's pins, what the server needs from the base
 * image (PostgreSQL driver, S3 client, Prometheus exporter), and what the Python fixtures use.
 */
export function venvRequirements(pins: ImagePins): string[] {
  const extras = pins.mlflowOidcAuthExtras.length ? `[${pins.mlflowOidcAuthExtras.join(',')}]` : '';
  return [
    `mlflow==${pins.mlflow}`,
    `mlflow-oidc-auth${extras}==${pins.mlflowOidcAuth}`,
    ...pins.extraRequirements,
    'psycopg2-binary', 'boto3', 'prometheus-flask-exporter', // from the base image
    'python-dotenv', 'scikit-learn', 'requests', // used by the seed's client examples
  ];
}

/** Creates (once per requirements+constraints+python) the venv under the cache. Returns its folder. */
export async function ensureVenv(cache: string, pins: ImagePins, python = 'python3'): Promise<string> {
  const pyVersion = (await execa(python, ['-c', 'import sys;print(sys.version.split()[0])'], { reject: false })).stdout.trim();
  if (!pyVersion) throw new HarnessError(`${python} is not runnable`, 'install Python 3.11+ or set HARNESS_PYTHON');
  const reqs = venvRequirements(pins);
  const key = createHash('sha256').update(pyVersion).update(reqs.join('\n')).update(readFileSync(constraintsFile)).digest('hex').slice(0, 12);
  const dir = join(cache, 'venv', `mlflow-${pins.mlflow}-oidc-${pins.mlflowOidcAuth}-py${pyVersion}-${key}`);
  if (existsSync(join(dir, '.complete'))) return dir;
  await step(`create Python venv (mlflow ${pins.mlflow}, mlflow-oidc-auth ${pins.mlflowOidcAuth}; ~2 min first time)`, async () => {
    // Scripts in a venv hold its absolute path, so it is built in place and marked complete at the end.
    rmSync(dir, { recursive: true, force: true });
    await execa(python, ['-m', 'venv', dir]);
    const r = await execa(join(dir, 'bin', 'pip'), ['install', '--disable-pip-version-check', '-q', '-c', constraintsFile, ...reqs], {
      reject: false,
      all: true,
      env: { ...process.env, PIP_NO_INPUT: '1' },
    });
    if (r.exitCode !== 0) {
      throw new HarnessError(`pip install of the MLflow venv failed: ${(r.all ?? '').trim().split('\n').slice(-2).join(' ')}`,
        `the constraints live in ${constraintsFile}`);
    }
    writeFileSync(join(dir, '.complete'), reqs.join('\n'));
  });
  return dir;
}
