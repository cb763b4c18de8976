import { goInstall } from './go-install.ts';

/** versitygw (Apache-2.0 S3 gateway) built with `go install` once per version. Returns the binary. */
export function ensureVersitygw(cache: string, version: string): Promise<string> {
  return goInstall(cache, 'versitygw', 'github.com/versity/versitygw/cmd/versitygw', version, 'check VERSITYGW_VERSION and that go reaches the Go module proxy');
}
