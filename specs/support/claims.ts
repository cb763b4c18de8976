import { test } from '@playwright/test';
import { appliesTo, declaredFor, loadDifferences } from '../../conformance/differences.ts';
import { loadTarget } from './target.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';

/**
 * Records that the check observed a declared seed-versus-reality difference. When the seed's statement
 * holds again (`seedHolds`), the difference no longer occurs and the check fails, asking to remove it.
 */
export function observeDifference(id: string, seedHolds: boolean, evidence = ''): void {
  const d = loadDifferences().get(id);
  if (!d) throw new Error(`Difference "${id}" is not declared in conformance/differences.yaml`);
  const { pins } = loadTarget();
  if (!appliesTo(d, pins)) {
    // not declared for these pins: the seed's statement holding is simply the expected outcome
    if (seedHolds) return;
    throw new Error(`Difference "${id}" occurs with MLflow ${pins.mlflow} and mlflow-oidc-auth ${pins.mlflowOidcAuth}, but it is declared only for ${declaredFor(d)}: widen its range in conformance/differences.yaml`);
  }
  if (seedHolds) {
    throw new Error(`Declared difference "${id}" no longer occurs — the seed's statement holds: ${d.seed} ${evidence}. Remove it from conformance/differences.yaml.`);
  }
  test.info().annotations.push({ type: 'differs', description: id });
  if (evidence) test.info().annotations.push({ type: 'evidence', description: `${id}: ${evidence}` });
}

/**
 * A check's stable id when its title holds what varies between pin sets (counts, versions): `test(title,
 * stableId('matrix-user-experiment'), body)`. Reports match checks across runs by `<spec file>#<id>`; without it the
 * id is a slug of the title.
 */
export function stableId(slug: string): { annotation: { type: 'check-id'; description: string } } {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(slug)) throw new Error(`check id "${slug}": lowercase letters, digits and dashes`);
  return { annotation: { type: 'check-id', description: slug } };
}

export type Capability = keyof TargetDescriptor['capabilities'];

type Details = { annotation: { type: string; description: string }[] };

/**
 * A capability of the target the check needs, stated with the check: `test(title, needs('keycloakUsers', 'makes a
 * group'), body)`. On a target without it the check is skipped before it starts, reported `not-applicable` with the
 * reason (the `capabilities` fixture of fixtures.ts reads it).
 */
export function needs(capability: Capability, why: string): Details {
  return { annotation: [{ type: 'needs', description: `${capability}: ${why}` }] };
}

/** Several `test()` details in one (stable id, capabilities). */
export function details(...parts: ({ annotation: { type: string; description: string } | { type: string; description: string }[] } | undefined)[]): Details {
  return { annotation: parts.flatMap((p) => (p ? (Array.isArray(p.annotation) ? p.annotation : [p.annotation]) : [])) };
}

/** The `needs` annotations of a check that the target does not meet, as the reason to skip it. */
export function unmetNeeds(target: TargetDescriptor, annotations: { type: string; description?: string }[]): string | undefined {
  const unmet = annotations.filter((a) => a.type === 'needs').map((a) => a.description ?? '').filter((d) => !target.capabilities[d.split(':')[0] as Capability]);
  if (!unmet.length) return undefined;
  return `not-applicable: the ${target.target} target has no ${unmet.map((d) => `${d.split(':')[0]} access (${d.slice(d.indexOf(':') + 1).trim()})`).join(', no ')}`;
}

/** Skips the check, reported as `not-applicable` with the reason, when the target lacks a capability. */
export function requireCapability(target: TargetDescriptor, capability: Capability, why: string): void {
  test.skip(!target.capabilities[capability], `not-applicable: the ${target.target} target has no ${capability} access (${why})`);
}
