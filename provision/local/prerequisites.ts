import { execa } from 'execa';
import type { HarnessEnv } from '../config/env.ts';
import type { PinSet } from '../config/pin-sets.ts';
import { HarnessError } from '../errors.ts';
import { localPlatform } from '../platform/profile.ts';
import { cacheDir } from '../paths.ts';
import { aptPackages, ensureAptPackages } from './prereqs/apt.ts';
import { ensureKeycloakDist } from './prereqs/keycloak-dist.ts';
import { ensureVenv } from './prereqs/venv.ts';
import { ensureVersitygw } from './prereqs/versitygw.ts';

export interface Prerequisites {
  keycloakHome: string;
  versitygw: string;
  venv: string;
  javaHome?: string;
}

/** Installs and caches everything the local target runs; each step prints its duration. */
export async function ensurePrerequisites(env: HarnessEnv, set: PinSet): Promise<Prerequisites> {
  const platform = localPlatform(env);
  await ensureAptPackages(aptPackages(platform.postgresMajor));
  for (const tool of ['java', 'mvn', 'go']) {
    const r = await execa(tool, ['--version'], { reject: false });
    if (r.failed && r.exitCode === undefined) {
      throw new HarnessError(`${tool} is not installed`, `install ${tool} (Java 17+, Maven, Go 1.25+) and retry`);
    }
  }
  const cache = cacheDir();
  const javaHome = process.env.JAVA_HOME;
  const [keycloakHome, versitygw, venv] = await Promise.all([
    ensureKeycloakDist(cache, platform.keycloak, javaHome),
    ensureVersitygw(cache, env.VERSITYGW_VERSION),
    ensureVenv(cache, set),
  ]);
  return { keycloakHome, versitygw, venv, javaHome };
}
