import { join } from 'node:path';
import { loadHarnessEnv } from '../config/env.ts';
import { loadPinSet } from '../config/pin-sets.ts';
import { ensureVenv } from '../local/prereqs/venv.ts';
import { cacheDir } from '../paths.ts';
import { HarnessError } from '../errors.ts';

/** The configured target, refusing those that cannot run here with the reason. */
export function selectedTarget(): 'local' | 'remote' {
  const { HARNESS_TARGET } = loadHarnessEnv();
  if (HARNESS_TARGET === 'k3d') {
    throw new HarnessError('The k3d target is not available yet: it needs a Docker engine and k3d (not part of this release)',
      'use HARNESS_TARGET=local, or remote against an existing deployment');
  }
  return HARNESS_TARGET;
}

/** The Python that runs the fixture scripts against a remote target: HARNESS_PYTHON, or the cached venv with the pinned client. */
export async function remotePython(): Promise<string> {
  if (process.env.HARNESS_PYTHON) return process.env.HARNESS_PYTHON;
  return join(await ensureVenv(cacheDir(), loadPinSet(loadHarnessEnv().HARNESS_PINS)), 'bin', 'python');
}
