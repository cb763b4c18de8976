import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../errors.ts';
import { projectRoot } from '../paths.ts';
import { step } from '../progress.ts';

/**
 * A real Kubernetes API server and etcd for the k3d plan's API check, built from the Go module proxy once per
 * version into the cache (`<cache>/kube-apiserver/<version>/`, `<cache>/etcd/<version>/`). The programs are this
 * project's own wrappers (provision/api-server/go/*): kube-apiserver is `app.NewAPIServerCommand()` of
 * k8s.io/kubernetes with each of its staging modules taken at the matching v0 release; etcd is `embed.StartEtcd`.
 */
export const KUBERNETES_VERSION = 'v1.37.2';
export const ETCD_VERSION = 'v3.6.16';

const goSource = (name: string) => join(projectRoot, 'provision', 'api-server', 'go', name, 'main.go');

/** The staging modules of k8s.io/kubernetes's go.mod (`k8s.io/x => ./staging/src/k8s.io/x`). */
export function stagingModules(goMod: string): string[] {
  return [...goMod.matchAll(/^\s*(k8s\.io\/[A-Za-z0-9._-]+)\s+=>\s+\.\/staging\//gm)].map((m) => m[1]!);
}

/** The go.mod of the wrapper: k8s.io/kubernetes at `version`, its staging modules replaced by their v0 releases. */
export function kubeApiserverGoMod(version: string, staging: string[], goDirective: string): string {
  const v0 = version.replace(/^v1\./, 'v0.');
  return [
    'module mlflow-oidc-harness.local/kube-apiserver',
    '',
    `go ${goDirective}`,
    '',
    `require k8s.io/kubernetes ${version}`,
    '',
    'replace (',
    ...staging.map((m) => `\t${m} => ${m} ${v0}`),
    ')',
    '',
  ].join('\n');
}

async function go(args: string[], cwd: string, what: string): Promise<string> {
  const r = await execa('go', args, { cwd, env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-trimpath -mod=mod' }, reject: false, all: true });
  if (r.exitCode !== 0) {
    const last = String(r.all ?? '').trim().split('\n').slice(-3).join(' | ');
    throw new HarnessError(`${what} failed: go ${args.join(' ')}: ${last || `exit ${r.exitCode}`}`, 'check that go (1.26+) is installed and reaches the Go module proxy');
  }
  return String(r.stdout);
}

/** Builds `main.go` of `name` with `goMod` into `<cache>/<name>/<version>/<name>` unless it is there. */
async function buildOnce(cache: string, name: string, version: string, goMod: () => Promise<string>): Promise<string> {
  const dir = join(cache, name, version);
  const exe = join(dir, name);
  if (existsSync(exe)) return exe;
  const src = join(dir, 'src');
  rmSync(src, { recursive: true, force: true });
  mkdirSync(src, { recursive: true });
  await step(`build ${name} ${version} from the Go module proxy (minutes, once per version)`, async () => {
    writeFileSync(join(src, 'go.mod'), await goMod());
    copyFileSync(goSource(name), join(src, 'main.go'));
    await go(['mod', 'tidy'], src, `${name} ${version}`);
    await go(['build', '-o', `${exe}.part`, '.'], src, `${name} ${version}`);
    renameSync(`${exe}.part`, exe);
  });
  return exe;
}

/** kube-apiserver `version` (k8s.io/kubernetes), built once. */
export function ensureKubeApiserver(cache: string, version = KUBERNETES_VERSION): Promise<string> {
  return buildOnce(cache, 'kube-apiserver', version, async () => {
    const info = JSON.parse(await go(['mod', 'download', '-json', `k8s.io/kubernetes@${version}`], cache, `k8s.io/kubernetes ${version}`)) as { GoMod?: string };
    const upstream = readFileSync(info.GoMod!, 'utf8');
    const directive = /^go\s+(\S+)/m.exec(upstream)?.[1] ?? '1.26.0';
    return kubeApiserverGoMod(version, stagingModules(upstream), directive);
  });
}

/** etcd `version` (go.etcd.io/etcd/server/v3 embed), built once. */
export function ensureEtcd(cache: string, version = ETCD_VERSION): Promise<string> {
  return buildOnce(cache, 'etcd', version, async () => ['module mlflow-oidc-harness.local/etcd', '', 'go 1.25.0', '', `require go.etcd.io/etcd/server/v3 ${version}`, ''].join('\n'));
}
