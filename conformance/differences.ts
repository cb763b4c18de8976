import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { inRange, validRange } from '../provision/versions/pep440.ts';

/** A PEP 440 version range: comparators separated by spaces or commas (`>=6.0.0 <8.0.0`, `<3.18.0rc1`). */
export const pep440Range = z.string().refine(validRange, 'a PEP 440 version range such as ">=6.0.0 <8.0.0"');

export const Difference = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  claim: z.string().regex(/^C\d{2}$/),
  seed: z.string(),
  reality: z.string(),
  reason: z.string(),
  /** The mlflow-oidc-auth versions it is declared for (a range such as `>=6.0.0`); absent: every version. */
  plugin: pep440Range.optional(),
  /** The MLflow versions it is declared for (same syntax); absent: every version. */
  mlflow: pep440Range.optional(),
});
export type Difference = z.infer<typeof Difference>;

export const differencesFile = join(dirname(fileURLToPath(import.meta.url)), 'differences.yaml');

export function loadDifferences(file = differencesFile): Map<string, Difference> {
  const doc = z.object({ differences: z.array(Difference) }).parse(parse(readFileSync(file, 'utf8')));
  return new Map(doc.differences.map((d) => [d.id, d]));
}

/** Whether a declared difference applies to the pins under test (its plugin and MLflow ranges). */
export function appliesTo(d: Pick<Difference, 'plugin' | 'mlflow'>, pins: { mlflowOidcAuth?: string; mlflow?: string } | undefined): boolean {
  const within = (range: string | undefined, version: string | undefined) => !range || (version !== undefined && inRange(version, range.trim()));
  return within(d.plugin, pins?.mlflowOidcAuth) && within(d.mlflow, pins?.mlflow);
}

/** The ranges a difference is declared for, for messages. */
export const declaredFor = (d: Difference) => [d.plugin && `mlflow-oidc-auth ${d.plugin}`, d.mlflow && `MLflow ${d.mlflow}`].filter(Boolean).join(', ') || 'every version';
