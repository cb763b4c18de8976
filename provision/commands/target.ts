import { loadHarnessEnv } from '../config/env.ts';
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
