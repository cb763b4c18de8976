import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../../errors.ts';
import { step } from '../../progress.ts';

/** Build-time options of the cached Keycloak distribution (runtime options are given at start). */
export const KEYCLOAK_BUILD_OPTIONS = ['--db=postgres', '--health-enabled=true', '--metrics-enabled=true'];

/**
 * The Keycloak server distribution from Maven Central, unpacked and built (`kc.sh build`) once per
 * version and build options under the cache folder. Returns the distribution's home.
 */
export async function ensureKeycloakDist(cache: string, version: string, javaHome?: string): Promise<string> {
  const base = join(cache, 'keycloak', version);
  const home = join(base, `keycloak-${version}`);
  const marker = join(base, 'built-with.txt');
  const wanted = KEYCLOAK_BUILD_OPTIONS.join(' ');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return home;

  mkdirSync(base, { recursive: true });
  const archive = join(base, `keycloak-quarkus-dist-${version}.tar.gz`);
  if (!existsSync(archive)) {
    await step(`download Keycloak ${version} (Maven Central org.keycloak:keycloak-quarkus-dist)`, async () => {
      const r = await execa(
        'mvn',
        ['-B', '-q', 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy',
          `-Dartifact=org.keycloak:keycloak-quarkus-dist:${version}:tar.gz`, `-DoutputDirectory=${base}.dl`],
        { reject: false, all: true },
      );
      if (r.exitCode !== 0) {
        throw new HarnessError(`Could not download Keycloak ${version} from Maven Central: ${lastLine(r.all)}`,
          'check KEYCLOAK_VERSION (served: 26.4.0, 26.4.5, 26.4.7, 26.5.x, 26.7.x) and that mvn reaches Maven Central');
      }
      renameSync(join(`${base}.dl`, `keycloak-quarkus-dist-${version}.tar.gz`), archive);
      rmSync(`${base}.dl`, { recursive: true, force: true });
    });
  }
  await step(`unpack and build Keycloak ${version} (${wanted})`, async () => {
    rmSync(home, { recursive: true, force: true });
    await execa('tar', ['xzf', archive, '-C', base]);
    const env = { ...process.env, ...(javaHome ? { JAVA_HOME: javaHome } : {}) };
    const r = await execa(join(home, 'bin', 'kc.sh'), ['build', ...KEYCLOAK_BUILD_OPTIONS], { env, reject: false, all: true });
    if (r.exitCode !== 0) throw new HarnessError(`kc.sh build failed: ${lastLine(r.all)}`, `run ${home}/bin/kc.sh build to see why`);
    writeFileSync(marker, wanted);
  });
  return home;
}

function lastLine(s: string | undefined): string {
  return (s ?? '').trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
}
