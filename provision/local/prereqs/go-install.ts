import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../../errors.ts';
import { step } from '../../progress.ts';

/**
 * A Go tool built with `go install <pkg>@<version>` once per version into `<cache>/<name>/<version>/`.
 * Returns the binary; a failed build names the tool and what to check.
 */
export async function goInstall(cache: string, name: string, pkg: string, version: string, hint: string): Promise<string> {
  const bin = join(cache, name, version);
  const exe = join(bin, name);
  if (existsSync(exe)) return exe;
  mkdirSync(bin, { recursive: true });
  await step(`go install ${name} ${version} (a few minutes on first run)`, async () => {
    const r = await execa('go', ['install', `${pkg}@${version}`], {
      env: { ...process.env, GOBIN: bin, GOFLAGS: '-trimpath' },
      reject: false,
      all: true,
    });
    if (r.exitCode !== 0) {
      throw new HarnessError(`go install ${name}@${version} failed: ${(r.all ?? '').trim().split('\n').slice(-1)[0]}`, hint);
    }
  });
  return exe;
}
