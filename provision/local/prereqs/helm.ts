import { goInstall } from './go-install.ts';

/**
 * The Helm version `chart-parity` renders the chart with. v3.19.5 is served by the Go module proxy
 * (`go list -m -versions helm.sh/helm/v3`); Helm 3 renders every chart version the pin sets name.
 */
export const HELM_VERSION = 'v3.19.5';

/** helm (Apache-2.0) built with `go install` once per version under the cache folder. Returns the binary. */
export function ensureHelm(cache: string, version: string = HELM_VERSION): Promise<string> {
  return goInstall(cache, 'helm', 'helm.sh/helm/v3/cmd/helm', version, 'check that go is installed and reaches the Go module proxy');
}
