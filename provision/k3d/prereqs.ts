import { accessSync, constants, statSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import type { StackDescription } from '../config/stack.ts';
import { HarnessError } from '../errors.ts';
import { helmMajor, type PlatformProfile } from '../platform/profile.ts';

/** A program the k3d target runs, and how to get it. */
export interface Tool {
  name: string;
  install: string;
}

/** What the k3d target runs on this machine: checked before anything is created. */
export const K3D_TOOLS: Tool[] = [
  { name: 'docker', install: 'Docker Engine (https://docs.docker.com/engine/install/)' },
  { name: 'k3d', install: 'k3d 5.3 or later (`curl -s https://raw.githubusercontent.com/k3d-io/k3d/main/install.sh | bash`, https://k3d.io)' },
  { name: 'helm', install: 'Helm, the major of the platform profile (HARNESS_PLATFORM): 4 for buun-head, 3 for seed (https://helm.sh/docs/intro/install/)' },
  { name: 'kubectl', install: 'kubectl (https://kubernetes.io/docs/tasks/tools/)' },
  // the stack CA and Chromium's trust store, as for the local target
  { name: 'openssl', install: 'openssl (`apt-get install openssl`)' },
  { name: 'certutil', install: 'certutil (`apt-get install libnss3-tools`)' },
];

/** The executable `name` on PATH, or undefined. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** Throws one HarnessError naming every missing tool and how to install it. */
export function assertTools(find: (name: string) => string | undefined = findOnPath, tools: Tool[] = K3D_TOOLS): void {
  const missing = tools.filter((t) => !find(t.name));
  if (missing.length === 0) return;
  throw new HarnessError(
    `The k3d target needs ${missing.map((t) => t.name).join(', ')}, not found on PATH; nothing was created`,
    `install ${missing.map((t) => t.install).join('; ')}`,
  );
}

/** Docker's daemon answers (the CLI alone is not enough). */
export async function assertDockerReachable(): Promise<void> {
  const r = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: 20_000 });
  if (r.exitCode !== 0) {
    throw new HarnessError(`Docker is installed but its daemon does not answer (\`docker info\`: ${String(r.stderr).split('\n')[0] || r.shortMessage})`,
      'start Docker, or let your user reach it (e.g. the docker group), then run again; nothing was created');
  }
}

/** The public host names must reach the cluster's load balancer on loopback, as in a browser. */
export async function assertLoopbackNames(desc: StackDescription): Promise<void> {
  for (const host of [desc.hosts.mlflow, desc.hosts.keycloak]) {
    const addrs = await lookup(host, { all: true }).catch(() => []);
    if (!addrs.some((a) => a.address === '127.0.0.1' || a.address === '::1')) {
      throw new HarnessError(`Host name ${host} does not resolve to loopback on this machine`,
        host.endsWith('.localhost')
          ? 'install libnss-myhostname (or use systemd-resolved), which resolves *.localhost without /etc/hosts edits'
          : `use names under .localhost (MLFLOW_HOST / KEYCLOAK_HOST) or make ${host} resolve to 127.0.0.1`);
    }
  }
}

/** The Helm on PATH is the profile's major (Helm 4's `--wait=legacy` is no Helm 3 flag, and the reverse). */
export function assertHelmMajor(versionOutput: string, platform: PlatformProfile): void {
  const found = /v(\d+)\.\d+\.\d+/.exec(versionOutput);
  const want = helmMajor(platform);
  if (found && Number(found[1]) === want) return;
  throw new HarnessError(`The platform profile ${platform.name} runs Helm ${want} (buun-stack's mise.toml: ${platform.helm.version}); \`helm version\` says ${versionOutput.trim() || 'nothing'}`,
    `install Helm ${want} (https://helm.sh/docs/intro/install/), or set HARNESS_PLATFORM to a profile of Helm ${found?.[1] ?? '?'}; nothing was created`);
}

/** Every check that needs no cluster, in the order a user fixes them. */
export async function checkK3dPrerequisites(desc: StackDescription, platform: PlatformProfile): Promise<void> {
  assertTools();
  const helm = await execa('helm', ['version', '--short'], { reject: false, timeout: 20_000 });
  assertHelmMajor(String(helm.stdout), platform);
  await assertDockerReachable();
  await assertLoopbackNames(desc);
}
