import { expect, test, type APIResponse } from '@playwright/test';
import { attackDeclaration, declaredFor, loadDeclarations, shapeDeclaration, verdictOf } from '../../conformance/security/declarations.ts';
import type { Answer, Outcome, RefusalShape } from '../../conformance/security/outcomes.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { pluginOf } from './plugin.ts';

/**
 * Records the security checks' results for reports/security.json (annotations the security reporter reads) and
 * asserts each one softly against the declarations (specs/security/declared.yaml), so every attack of a check is
 * tried and reported.
 */

const declarations = loadDeclarations();

export interface TokenResult {
  attack: string;
  via: 'bearer' | 'basic' | 'cookie';
  outcome: Outcome;
  evidence: string;
}

export function recordAttack(target: TargetDescriptor, r: TokenResult): void {
  const decl = attackDeclaration(declarations, r.attack, r.via, target.pins);
  const { verdict, message } = verdictOf(r.outcome, decl, `attack ${r.attack} via ${r.via}`);
  test.info().annotations.push({ type: 'security-token', description: JSON.stringify({ ...r, verdict, ...(decl ? { declared: decl.advisory ?? decl.description } : {}) }) });
  if (r.outcome === 'accepted') test.info().annotations.push({ type: 'observation', description: `attack ${r.attack} via ${r.via} works (${verdict}): ${r.evidence}` });
  expect.soft(verdict, `${message ?? ''} — ${r.evidence}`).not.toBe('failed');
}

export interface ShapeResult {
  route: string;
  variant: string;
  outcome: Outcome;
  evidence: string;
}

/** `inherited`: the base shape of the route leaks and that leak is declared (leaks.yaml): its variants leak alike. */
export function recordShape(target: TargetDescriptor, r: ShapeResult, inherited?: string): void {
  const decl = shapeDeclaration(declarations, r.route, r.variant, target.pins);
  let { verdict, message } = verdictOf(r.outcome, decl, `${r.route} as ${r.variant}`);
  if (r.outcome === 'accepted' && !decl && inherited) verdict = 'declared';
  test.info().annotations.push({ type: 'security-shape', description: JSON.stringify({ ...r, verdict, ...(decl ? { declared: decl.advisory ?? decl.description } : inherited && r.outcome === 'accepted' ? { declared: inherited } : {}) }) });
  if (r.outcome === 'accepted' && verdict !== 'declared') test.info().annotations.push({ type: 'observation', description: `${r.route} as ${r.variant} gets through: ${r.evidence}` });
  expect.soft(verdict, `${message ?? ''} — ${r.evidence}`).not.toBe('failed');
}

/**
 * A shape declared for these pins on a route this check probes, but never sent (the variant does not apply to the
 * route, or the audit no longer sends it): a stale declaration, which fails.
 */
export function expectDeclaredShapesTried(target: TargetDescriptor, routes: Set<string>, tried: Set<string>): void {
  for (const d of declarations.shapes.filter((x) => declaredFor(x, target.pins))) {
    for (const route of d.route.filter((r) => routes.has(r))) {
      for (const variant of d.variant) {
        expect.soft(tried.has(`${route} ${variant}`), `specs/security/declared.yaml declares ${route} as ${variant}, which the audit does not send: remove it`).toBe(true);
      }
    }
  }
}

/** How the generation under test refuses a request without valid credentials. */
export function refusalShape(target: TargetDescriptor): RefusalShape {
  const a = pluginOf(target).unauthenticatedApi;
  return a.kind === 'login-page' ? { loginPageMarker: a.marker } : {};
}

/** An answer as the classifications read it (status, content type, body, redirect target). */
export async function answerOf(res: APIResponse): Promise<Answer & { location?: string }> {
  const h = res.headers();
  return { status: res.status(), contentType: h['content-type'], contentLength: h['content-length'], body: await res.text().catch(() => ''), ...(h.location ? { location: h.location } : {}) };
}
