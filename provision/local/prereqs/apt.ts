import { execa } from 'execa';
import { HarnessError } from '../../errors.ts';
import { step } from '../../progress.ts';

/** Debian packages the local target runs. */
export function aptPackages(postgresMajor: number): string[] {
  return [
    `postgresql-${postgresMajor}`, // PostgreSQL server
    'caddy', // TLS reverse proxy
    'chromium', // browser for the specs
    'libnss3-tools', // certutil: the stack CA for Chromium
    'libnss-myhostname', // *.localhost resolves to loopback for every program, no /etc/hosts edits
    'openssl',
  ];
}

async function missing(pkgs: string[]): Promise<string[]> {
  const r = await execa('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...pkgs], { reject: false });
  const installed = new Set(
    r.stdout
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0]),
  );
  return pkgs.filter((p) => !installed.has(p));
}

/** Installs missing Debian packages when root; otherwise names the exact command to run. */
export async function ensureAptPackages(pkgs: string[]): Promise<void> {
  const absent = await missing(pkgs);
  if (absent.length === 0) return;
  const cmd = `apt-get update && apt-get install -y ${absent.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new HarnessError(`Missing Debian packages: ${absent.join(', ')}`, `run as root: ${cmd}`);
  }
  await step(`apt-get install ${absent.join(' ')}`, async () => {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await execa('apt-get', ['update', '-qq'], { env });
    const r = await execa('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...absent], { env, reject: false, all: true });
    if (r.exitCode !== 0) {
      throw new HarnessError(`apt-get install ${absent.join(' ')} failed: ${r.all?.split('\n').slice(-3).join(' ')}`, `run: ${cmd}`);
    }
  });
}
