import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../../errors.ts';
import { compareVersions, validVersion } from '../../versions/pep440.ts';

export interface PythonInterpreter {
  path: string;
  /** Full version, e.g. 3.12.1. */
  version: string;
}

async function versionOf(path: string): Promise<string | undefined> {
  const r = await execa(path, ['-c', 'import sys;print(sys.version.split()[0])'], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** Newest first, in PEP 440 order (`3.13.1` before `3.13.0` before `3.13.0rc2`); names that are no version last. */
function newestFirst(a: string, b: string): number {
  const va = validVersion(a);
  const vb = validVersion(b);
  if (va && vb) return compareVersions(b, a);
  return Number(vb) - Number(va);
}

/** `python3.X` candidates: on PATH, pyenv's versions, the usual system folders. */
function candidates(minor: string): string[] {
  const out: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) out.push(join(dir, `python${minor}`));
  const pyenv = process.env.PYENV_ROOT ?? join(homedir(), '.pyenv');
  const versions = join(pyenv, 'versions');
  if (existsSync(versions)) {
    const found = readdirSync(versions).filter((v) => v === minor || v.startsWith(`${minor}.`)).sort(newestFirst);
    for (const v of found) out.push(join(versions, v, 'bin', `python${minor}`));
  }
  out.push(`/usr/bin/python${minor}`, `/usr/local/bin/python${minor}`);
  return out;
}

/**
 * A Python interpreter of the given major.minor (the pin set's base image Python). `HARNESS_PYTHON` wins when
 * set; it must then be of that minor version, or the venv would not be the one the image runs.
 */
export async function findPython(minor: string, why: string): Promise<PythonInterpreter> {
  const forced = process.env.HARNESS_PYTHON;
  if (forced) {
    const version = await versionOf(forced);
    if (!version) throw new HarnessError(`HARNESS_PYTHON=${forced} is not runnable`, 'point it at a python executable or unset it');
    if (!version.startsWith(`${minor}.`)) {
      throw new HarnessError(`HARNESS_PYTHON=${forced} is Python ${version}, but ${why} needs Python ${minor}`, `point HARNESS_PYTHON at a Python ${minor} or unset it`);
    }
    return { path: forced, version };
  }
  for (const path of candidates(minor)) {
    if (!existsSync(path)) continue;
    // pyenv shims answer for versions that are not installed: ask the interpreter itself
    const version = await versionOf(path);
    if (version?.startsWith(`${minor}.`)) return { path, version };
  }
  throw new HarnessError(`No Python ${minor} found (${why})`,
    `install it (Debian: apt-get install python${minor} python${minor}-venv where served; or \`pyenv install ${minor}\`), or set HARNESS_PYTHON to a Python ${minor}`);
}
