import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../../errors.ts';
import { step } from '../../progress.ts';

/**
 * The Helm version `chart-parity` renders the chart with. v3.19.5 is served by the Go module proxy
 * (`go list -m -versions helm.sh/helm/v3`); Helm 3 renders every chart version the pin sets name.
 */
export const HELM_VERSION = 'v3.19.5';

/** helm (Apache-2.0) built with `go install` once per version under the cache folder. Returns the binary. */
export async function ensureHelm(cache: string, version: string = HELM_VERSION): Promise<string> {
  const bin = join(cache, 'helm', version);
  const exe = join(bin, 'helm');
  if (existsSync(exe)) return exe;
  mkdirSync(bin, { recursive: true });
  await step(`go install helm ${version} (a few minutes on first run)`, async () => {
    const r = await execa('go', ['install', `helm.sh/helm/v3/cmd/helm@${version}`], {
      env: { ...process.env, GOBIN: bin, GOFLAGS: '-trimpath' },
      reject: false,
      all: true,
    });
    if (r.exitCode !== 0) {
      throw new HarnessError(`go install helm@${version} failed: ${(r.all ?? '').trim().split('\n').slice(-1)[0]}`,
        'check that go is installed and reaches the Go module proxy');
    }
  });
  return exe;
}
