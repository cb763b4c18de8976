import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../../errors.ts';
import { step } from '../../progress.ts';

/** The uv release the harness installs (from PyPI) to resolve locks and build venvs. */
export const UV_VERSION = '0.13.9';
/** The pip the fallback upgrades a venv to: the first with `--uploaded-prior-to` is 26.x. */
export const PIP_VERSION = '26.3';

/**
 * What installs Python packages into a venv: uv (default), or pip (HARNESS_PYTHON_INSTALLER=pip, the fallback
 * where uv cannot run). Both resolve "as of" an instant: only files uploaded before it count.
 */
export interface Installer {
  name: string;
  /** Creates an empty venv of `python` at `dir`. */
  venv(python: string, dir: string): Promise<void>;
  /**
   * Installs `requirements` into the venv as a `pip install` in a Docker layer does: what is installed stays
   * unless the requirements need another version. `constraints`: a file no package may move out of.
   */
  install(dir: string, requirements: string[], asOf: string, constraints?: string, what?: string): Promise<void>;
  /**
   * The same install without throwing: the installer's reason in one line when it fails, undefined when it works.
   * `dryRun`: resolve against what the venv holds and change nothing.
   */
  attempt(dir: string, requirements: string[], asOf: string, opts?: { dryRun?: boolean }): Promise<string | undefined>;
  /** Makes the venv hold exactly the lock's packages. */
  sync(dir: string, lock: string): Promise<void>;
  /** `name==version` of every package in the venv. */
  freeze(dir: string): Promise<string[]>;
  /** The command line an install runs, for the lock's header. */
  describe(requirements: string[], asOf: string, constraints?: string): string;
}

const venvPython = (dir: string) => join(dir, 'bin', 'python');

function failed(what: string, output: string, asOf?: string): never {
  throw new HarnessError(`${what}: ${installFailure(output, asOf)}`, 'check the pins, the dates of the pin set (image/pin-sets/*/pin-set.yaml) or HARNESS_RESOLVE_AS_OF');
}

/**
 * uv's or pip's resolver error in one line: the requirement that could not be met (and, with a date, that the
 * package was not yet on the index then), or the conflicting requirements.
 */
export function installFailure(output: string, asOf?: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const before = asOf ? ` before ${asOf}` : '';
  // uv: "Because there is no version of mlflow-oidc-auth[full]==7.4.1 and you require …"
  const none = lines.map((l) => /there is no version of ([^\s,]+)/.exec(l)?.[1]).find(Boolean);
  if (none) return `${none} was not on the package index${before} (not yet uploaded, or never)`;
  // pip: "No matching distribution found for mlflow==9.9.9"
  const missing = lines.map((l) => /No matching distribution found for (\S+)/.exec(l)?.[1]).find(Boolean);
  if (missing) return `${missing} was not on the package index${before} (not yet uploaded, or never)`;
  const cannot = lines.find((l) => /^ERROR: Cannot install /.test(l));
  if (cannot) {
    const causes = lines.filter((l) => / depends on |^The user requested /.test(l));
    return `${cannot.replace(/^ERROR: /, '').replace(/ because these package versions have conflicting dependencies\.?/, '')} — ${causes.join('; ') || 'conflicting dependencies'}`;
  }
  const unsat = lines.find((l) => /requirements are unsatisfiable/.test(l));
  if (unsat) {
    const because = lines.filter((l) => /^(╰─▶ )?Because /.test(l)).map((l) => l.replace(/^╰─▶ /, ''));
    return because.join(' ').replace(/\s+/g, ' ').slice(0, 400) || unsat;
  }
  const err = lines.filter((l) => /^(ERROR|error):/.test(l)).pop();
  return (err ?? lines.pop() ?? 'the installer failed').replace(/^(ERROR|error): /, '');
}

/** uv from PyPI, installed once per version into `<cache>/tools/uv-<version>` with the given Python's pip. */
async function ensureUv(cache: string, python: string): Promise<string> {
  const dir = join(cache, 'tools', `uv-${UV_VERSION}`);
  const bin = join(dir, 'bin', 'uv');
  if (existsSync(bin)) return bin;
  await step(`install uv ${UV_VERSION} (PyPI)`, async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const r = await execa(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '--target', dir, `uv==${UV_VERSION}`], { reject: false, all: true });
    if (r.exitCode !== 0 || !existsSync(bin)) {
      rmSync(dir, { recursive: true, force: true });
      throw new HarnessError(`Installing uv ${UV_VERSION} from PyPI failed: ${installFailure(r.all ?? '')}`, 'or set HARNESS_PYTHON_INSTALLER=pip to build venvs with pip');
    }
  });
  return bin;
}

function uvInstaller(uv: string, cache: string): Installer {
  const env = { ...process.env, UV_CACHE_DIR: join(cache, 'uv-cache'), UV_NO_PROGRESS: '1', VIRTUAL_ENV: undefined };
  const run = (args: string[]) => execa(uv, args, { reject: false, all: true, env, extendEnv: false });
  return {
    name: `uv ${UV_VERSION}`,
    async venv(python, dir) {
      const r = await run(['venv', '--quiet', '--python', python, dir]);
      if (r.exitCode !== 0) failed(`uv venv with ${python} failed`, r.all ?? '');
    },
    async install(dir, requirements, asOf, constraints, what = requirements.join(' ')) {
      const r = await run(['pip', 'install', '--python', venvPython(dir), '--exclude-newer', asOf, ...(constraints ? ['-c', constraints] : []), ...requirements]);
      if (r.exitCode !== 0) failed(`Installing ${what} as of ${asOf}`, r.all ?? '', asOf);
    },
    async attempt(dir, requirements, asOf, opts = {}) {
      const r = await run(['pip', 'install', '--python', venvPython(dir), '--exclude-newer', asOf, ...(opts.dryRun ? ['--dry-run'] : []), ...requirements]);
      return r.exitCode === 0 ? undefined : installFailure(r.all ?? '', asOf);
    },
    async sync(dir, lock) {
      const r = await run(['pip', 'sync', '--python', venvPython(dir), lock]);
      if (r.exitCode !== 0) failed(`Installing the lock ${lock}`, r.all ?? '');
    },
    async freeze(dir) {
      const r = await run(['pip', 'freeze', '--python', venvPython(dir), '--exclude-editable']);
      if (r.exitCode !== 0) failed('uv pip freeze', r.all ?? '');
      return String(r.stdout).split('\n').filter((l) => /^[A-Za-z0-9]/.test(l));
    },
    describe: (requirements, asOf, constraints) => `uv pip install --exclude-newer ${asOf}${constraints ? ' -c <the image above>' : ''} ${requirements.join(' ')}`,
  };
}

function pipInstaller(): Installer {
  const pip = (dir: string, args: string[]) => execa(venvPython(dir), ['-m', 'pip', '--disable-pip-version-check', ...args], { reject: false, all: true, env: { ...process.env, PIP_NO_INPUT: '1' } });
  return {
    name: `pip ${PIP_VERSION}`,
    async venv(python, dir) {
      const r = await execa(python, ['-m', 'venv', dir], { reject: false, all: true });
      if (r.exitCode !== 0) failed(`${python} -m venv failed`, r.all ?? '');
      const up = await pip(dir, ['install', '-q', `pip==${PIP_VERSION}`]);
      if (up.exitCode !== 0) failed(`Upgrading pip to ${PIP_VERSION}`, up.all ?? '');
    },
    async install(dir, requirements, asOf, constraints, what = requirements.join(' ')) {
      const r = await pip(dir, ['install', '-q', '--uploaded-prior-to', asOf, ...(constraints ? ['-c', constraints] : []), ...requirements]);
      if (r.exitCode !== 0) failed(`Installing ${what} as of ${asOf}`, r.all ?? '', asOf);
    },
    async attempt(dir, requirements, asOf, opts = {}) {
      const r = await pip(dir, ['install', '-q', '--uploaded-prior-to', asOf, ...(opts.dryRun ? ['--dry-run'] : []), ...requirements]);
      return r.exitCode === 0 ? undefined : installFailure(r.all ?? '', asOf);
    },
    async sync(dir, lock) {
      const r = await pip(dir, ['install', '-q', '--no-deps', '-r', lock]);
      if (r.exitCode !== 0) failed(`Installing the lock ${lock}`, r.all ?? '');
    },
    async freeze(dir) {
      const r = await pip(dir, ['freeze', '--exclude-editable', '--all']);
      if (r.exitCode !== 0) failed('pip freeze', r.all ?? '');
      return String(r.stdout).split('\n').filter((l) => /^[A-Za-z0-9]/.test(l) && !/^(pip|setuptools|wheel)==/.test(l));
    },
    describe: (requirements, asOf, constraints) => `pip install --uploaded-prior-to ${asOf}${constraints ? ' -c <the image above>' : ''} ${requirements.join(' ')}`,
  };
}

/** The installer HARNESS_PYTHON_INSTALLER selects (`uv`, the default, or `pip`). */
export async function installer(cache: string, python: string, env: NodeJS.ProcessEnv = process.env): Promise<Installer> {
  const choice = env.HARNESS_PYTHON_INSTALLER ?? 'uv';
  if (choice === 'pip') return pipInstaller();
  if (choice !== 'uv') throw new HarnessError(`HARNESS_PYTHON_INSTALLER is \`${choice}\``, 'use uv (default) or pip');
  return uvInstaller(await ensureUv(cache, python), cache);
}
