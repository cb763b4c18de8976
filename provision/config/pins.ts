import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError } from '../errors.ts';
import { projectRoot } from '../paths.ts';
import { validVersion } from '../versions/pep440.ts';

/** Versions pinned by image/Dockerfile — the only place they are written. */
export interface ImagePins {
  baseImage: string;
  mlflow: string;
  mlflowOidcAuth: string;
  /** Extras requested for mlflow-oidc-auth, e.g. ["full"]. */
  mlflowOidcAuthExtras: string[];
  /** Further pip requirements of the image layer, verbatim (e.g. "cachelib[filesystem]"). */
  extraRequirements: string[];
  /** Every requirement of the Dockerfile's `pip install` lines, verbatim and in order (the image's own layer). */
  layerRequirements: string[];
  /** The base image's tag (`3.6.0` of `burakince/mlflow:3.6.0`). */
  baseTag: string;
}

export const dockerfilePath = join(projectRoot, 'image', 'Dockerfile');

/** Reads the pins from a Dockerfile's text; throws naming the missing pin. */
export function parseDockerfilePins(text: string, source = 'image/Dockerfile'): ImagePins {
  const from = /^\s*FROM\s+(\S+)/im.exec(text);
  if (!from?.[1]) throw new HarnessError(`${source} has no FROM line`, 'restore image/Dockerfile from git');
  const baseImage = from[1];
  const tag = baseImage.split(':')[1];
  if (!baseImage.startsWith('burakince/mlflow:') || !tag) {
    throw new HarnessError(`${source}: expected FROM burakince/mlflow:<version>, got ${baseImage}`);
  }
  // the tag is MLflow's version as PyPI spells it: a PEP 440 version (3.6.0, 3.18.0rc1)
  const mlflow = /^\d[0-9A-Za-z.]*$/.test(tag) && validVersion(tag) ? tag : undefined;
  if (!mlflow) throw new HarnessError(`${source}: cannot read the MLflow version from the base image tag \`${tag}\``, 'use FROM burakince/mlflow:<MLflow version>, e.g. burakince/mlflow:3.6.0');

  const pipArgs = pipInstallArguments(text);
  const plugin = pipArgs
    .map((a) => /^mlflow-oidc-auth(?:\[([^\]]*)\])?==(\S+)$/.exec(a))
    .find((m): m is RegExpExecArray => m !== null);
  if (!plugin?.[2]) {
    throw new HarnessError(`${source}: no "mlflow-oidc-auth[...]==<version>" in its pip install`, 'pin the plugin with ==');
  }
  return {
    baseImage,
    mlflow,
    mlflowOidcAuth: plugin[2],
    mlflowOidcAuthExtras: plugin[1] ? plugin[1].split(',').map((s) => s.trim()) : [],
    extraRequirements: pipArgs.filter((a) => !a.startsWith('mlflow-oidc-auth')),
    layerRequirements: pipArgs,
    baseTag: tag,
  };
}

/** The package arguments of every `pip install` in RUN lines (continuations joined, options dropped). */
function pipInstallArguments(text: string): string[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const out: string[] = [];
  for (const line of joined.split(/\r?\n/)) {
    const m = /^\s*RUN\s+.*?pip\s+install\s+(.*)$/i.exec(line);
    if (!m?.[1]) continue;
    out.push(...m[1].split(/\s+/).filter((a) => a && !a.startsWith('-')));
  }
  return out;
}

export function readImagePins(path = dockerfilePath): ImagePins {
  return parseDockerfilePins(readFileSync(path, 'utf8'), path);
}
