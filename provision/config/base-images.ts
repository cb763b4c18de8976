import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { HarnessError } from '../errors.ts';
import { projectRoot } from '../paths.ts';
import { IsoDate } from './build-dates.ts';

/**
 * What a burakince/mlflow image was built from, read from the image's own repository at its tag
 * (image/base-images.yaml): its Python, its requirements next to MLflow, how they were installed, and the day
 * its MLflow was released. The harness rebuilds the image's environment from these facts; nothing is guessed.
 */
export const BaseImage = z.object({
  tag: z.string().regex(/^\d+\.\d+\.\d+\S*$/, 'an image tag such as 3.6.0'),
  source: z.string().min(1),
  python: z.string().regex(/^3\.\d+\.\d+$/, 'a full Python version such as 3.13.9'),
  baseBuiltOn: IsoDate,
  install: z.enum(['resolve', 'lock']),
  chart: z.string().regex(/^\d+\.\d+\.\d+$/),
  requires: z.array(z.string().min(1)).min(1),
}).strict();
export type BaseImage = z.infer<typeof BaseImage>;

const BaseImagesFile = z.object({ images: z.array(BaseImage).min(1) }).strict();

export const baseImagesFile = join(projectRoot, 'image', 'base-images.yaml');

let cached: BaseImage[] | undefined;

export function baseImages(file = baseImagesFile): BaseImage[] {
  if (file === baseImagesFile && cached) return cached;
  const r = BaseImagesFile.safeParse(parse(readFileSync(file, 'utf8')));
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new HarnessError(`${file}: ${i.path.join('.') || '(root)'}: ${i.message}`, 'see the comment at the top of the file for the format');
  }
  if (file === baseImagesFile) cached = r.data.images;
  return r.data.images;
}

/** The facts of `burakince/mlflow:<tag>`; one line naming the tag when the file does not describe it. */
export function baseImageFor(tag: string, file = baseImagesFile): BaseImage {
  const found = baseImages(file).find((b) => b.tag === tag);
  if (!found) {
    throw new HarnessError(`burakince/mlflow:${tag} is not described in image/base-images.yaml (known: ${baseImages(file).map((b) => b.tag).join(', ')})`,
      'add the tag with its Python and requirements from github.com/burakince/mlflow at that tag, or give the pin set a `baseImage.like` with its reason');
  }
  return found;
}
