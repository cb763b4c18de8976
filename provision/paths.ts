import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of this project (the folder holding package.json). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where large downloads and builds are kept between runs, keyed by version below it. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HARNESS_CACHE_DIR) return resolve(env.HARNESS_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(base, 'mlflow-oidc-harness');
}

/** The running stack's state folder: ledger, secrets, logs, CA, data directories. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HARNESS_STATE_DIR ? resolve(env.HARNESS_STATE_DIR) : join(projectRoot, '.harness', 'stack');
}

export const reportsDir = join(projectRoot, 'reports');
