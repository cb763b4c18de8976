import { join } from 'node:path';
import { loadHarnessEnv } from '../config/env.ts';
import { loadPinSet } from '../config/pin-sets.ts';
import { ensureVenv } from '../local/prereqs/venv.ts';
import { cacheDir } from '../paths.ts';

/** The configured target (HARNESS_TARGET). */
export function selectedTarget(): 'local' | 'k3d' | 'remote' {
  return loadHarnessEnv().HARNESS_TARGET;
}

/** The Python that runs the fixture scripts against a remote target: HARNESS_PYTHON, or the cached venv with the pinned client. */
export async function remotePython(): Promise<string> {
  if (process.env.HARNESS_PYTHON) return process.env.HARNESS_PYTHON;
  return join(await ensureVenv(cacheDir(), loadPinSet(loadHarnessEnv().HARNESS_PINS)), 'bin', 'python');
}
