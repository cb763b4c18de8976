import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { appliesTo, pep440Range } from './differences.ts';

/**
 * Accepted coverage gaps (conformance/gaps.yaml): checks of a claim that are known not to run for some pins or
 * targets, each with its reason. A claim whose checks did not all run is `partial` (or `uncovered` when none ran)
 * whatever is declared here; a declaration only keeps such a claim from failing the run. A declaration that no
 * longer matches a skipped check (the check runs now, or no longer exists) fails the run, so it is removed.
 */
export const Gap = z.object({
  claim: z.string().regex(/^C\d{2}$/),
  /**
   * Stable ids of the checks that may be skipped (`<spec file>#<slug>`, as conformance.json shows them; a trailing
   * `*` matches a prefix). Absent: the claim may have no check at all for these pins or targets.
   */
  checks: z.array(z.string().min(3)).optional(),
  /** The mlflow-oidc-auth versions it is declared for (a PEP 440 range); absent: every version. */
  plugin: pep440Range.optional(),
  /** The MLflow versions it is declared for; absent: every version. */
  mlflow: pep440Range.optional(),
  /** The targets it is declared for; absent: every target. */
  targets: z.array(z.enum(['local', 'k3d', 'remote'])).optional(),
  reason: z.string().min(10),
}).strict();
export type Gap = z.infer<typeof Gap>;

export const gapsFile = join(dirname(fileURLToPath(import.meta.url)), 'gaps.yaml');

export function loadGaps(file = gapsFile): Gap[] {
  return z.object({ gaps: z.array(Gap).default([]) }).strict().parse(parse(readFileSync(file, 'utf8')) ?? {}).gaps;
}

/** The declarations that apply to a run on these pins and this target. */
export function gapsFor(gaps: Gap[], pins: { mlflowOidcAuth?: string; mlflow?: string } | undefined, target: string): Gap[] {
  return gaps.filter((g) => appliesTo({ plugin: g.plugin, mlflow: g.mlflow }, pins) && (!g.targets || (g.targets as string[]).includes(target)));
}

/** Whether a declared check pattern names the check id (exactly, or as a prefix ending in `*`). */
export function matchesCheck(pattern: string, id: string): boolean {
  return pattern.endsWith('*') ? id.startsWith(pattern.slice(0, -1)) : pattern === id;
}
