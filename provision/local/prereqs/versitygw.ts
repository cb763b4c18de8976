import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../../errors.ts';
import { step } from '../../progress.ts';

/** versitygw (Apache-2.0 S3 gateway) built with `go install` once per version. Returns the binary. */
export async function ensureVersitygw(cache: string, version: string): Promise<string> {
  const bin = join(cache, 'versitygw', version);
  const exe = join(bin, 'versitygw');
  if (existsSync(exe)) return exe;
  mkdirSync(bin, { recursive: true });
  await step(`go install versitygw ${version} (a few minutes on first run)`, async () => {
    const r = await execa('go', ['install', `github.com/versity/versitygw/cmd/versitygw@${version}`], {
      env: { ...process.env, GOBIN: bin, GOFLAGS: '-trimpath' },
      reject: false,
      all: true,
    });
    if (r.exitCode !== 0) {
      throw new HarnessError(`go install versitygw@${version} failed: ${(r.all ?? '').trim().split('\n').slice(-1)[0]}`,
        'check VERSITYGW_VERSION and that go reaches the Go module proxy');
    }
  });
  return exe;
}
