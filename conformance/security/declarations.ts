import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Outcome } from './outcomes.ts';
import { checkRange, inPep440Range, packageKey } from './ranges.ts';

/**
 * Attacks known to work on some pins (specs/security/declared.yaml): a token attack (`attack` × `via`) or a request
 * shape (`route` × `variant`) that gets through, declared for the plugin / MLflow / package versions it works on,
 * with the advisory or a description, the fixing version where known, and the evidence seen. An attack that works
 * and is not declared fails; a declared one that stopped working fails too (remove or narrow the declaration).
 */

const Common = {
  /** PEP 440 ranges; absent: any version. `packages`: installed versions (Authlib, Flask, …) as the stack reports them. */
  plugin: z.string().optional(),
  mlflow: z.string().optional(),
  packages: z.record(z.string(), z.string()).optional(),
  advisory: z.string().optional(),
  description: z.string(),
  fixedIn: z.string().optional(),
  evidence: z.string(),
};

/** One value or a list of them (one declaration may cover several attacks, routes or variants with one cause). */
const list = <T extends z.ZodTypeAny>(t: T) => z.union([t, z.array(t).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

const AttackDeclaration = z.object({ attack: list(z.string()), via: list(z.enum(['bearer', 'basic', 'cookie'])), ...Common }).strict();
const ShapeDeclaration = z.object({ route: list(z.string()), variant: list(z.string()), ...Common }).strict();
export type AttackDeclaration = z.infer<typeof AttackDeclaration>;
export type ShapeDeclaration = z.infer<typeof ShapeDeclaration>;
export type Declaration = AttackDeclaration | ShapeDeclaration;

export interface Declarations {
  attacks: AttackDeclaration[];
  shapes: ShapeDeclaration[];
}

export const declarationsFile = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'specs', 'security', 'declared.yaml');

/** Parses the declarations; a malformed file or range stops in one line naming the file and the entry. */
export function parseDeclarations(text: string, file = 'declared.yaml'): Declarations {
  const r = z.object({ attacks: z.array(AttackDeclaration).default([]), shapes: z.array(ShapeDeclaration).default([]) }).strict().safeParse(parse(text) ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${file}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const all: [string, Declaration][] = [...r.data.attacks.map((d, i) => [`attacks.${i} (${d.attack.join(', ')})`, d] as [string, Declaration]), ...r.data.shapes.map((d, i) => [`shapes.${i} (${d.route[0]} …)`, d] as [string, Declaration])];
  for (const [where, d] of all) {
    if (d.plugin) checkRange(d.plugin, `${file}: ${where}: plugin`);
    if (d.mlflow) checkRange(d.mlflow, `${file}: ${where}: mlflow`);
    for (const [pkg, range] of Object.entries(d.packages ?? {})) checkRange(range, `${file}: ${where}: packages.${pkg}`);
  }
  return r.data;
}

export const loadDeclarations = (file = declarationsFile) => parseDeclarations(readFileSync(file, 'utf8'), file);

/** The pins a declaration is matched against: MLflow, the plugin and the installed packages' versions. */
export interface PinsForDeclarations {
  mlflow?: string;
  mlflowOidcAuth?: string;
  versions?: Record<string, string>;
}

/** Whether a declaration covers the pins (every range it names holds). */
export function declaredFor(d: Declaration, pins: PinsForDeclarations): boolean {
  if (d.plugin && !inPep440Range(pins.mlflowOidcAuth, d.plugin)) return false;
  if (d.mlflow && !inPep440Range(pins.mlflow, d.mlflow)) return false;
  const versions = new Map(Object.entries(pins.versions ?? {}).map(([k, v]) => [packageKey(k), v]));
  return Object.entries(d.packages ?? {}).every(([pkg, range]) => inPep440Range(versions.get(packageKey(pkg)), range));
}

export type SecurityVerdict = 'passed' | 'declared' | 'failed' | 'not-applicable';

/**
 * The verdict of one attack's outcome: `accepted` passes only when declared for the pins; a declared attack that
 * did not get through fails (the declaration must go); `broken` and `error` fail (nothing was proven).
 */
export function verdictOf(outcome: Outcome, declaration: Declaration | undefined, what: string): { verdict: SecurityVerdict; message?: string } {
  if (outcome === 'not-applicable') return { verdict: 'not-applicable' };
  if (outcome === 'broken') return { verdict: 'failed', message: `${what}: the positive control failed, so the outcome proves nothing` };
  if (outcome === 'error') return { verdict: 'failed', message: `${what}: the server answered neither a refusal (401/403) nor the data` };
  if (outcome === 'accepted') {
    return declaration ? { verdict: 'declared' } : { verdict: 'failed', message: `${what} works and is not declared: declare it in specs/security/declared.yaml (with its advisory or description, the fixing version and the evidence) or fix the deployment` };
  }
  return declaration ? { verdict: 'failed', message: `${what} is declared to work on these pins but was refused: remove or narrow its declaration in specs/security/declared.yaml` } : { verdict: 'passed' };
}

export function attackDeclaration(d: Declarations, attack: string, via: string, pins: PinsForDeclarations): AttackDeclaration | undefined {
  return d.attacks.find((a) => a.attack.includes(attack) && (a.via as string[]).includes(via) && declaredFor(a, pins));
}

export function shapeDeclaration(d: Declarations, route: string, variant: string, pins: PinsForDeclarations): ShapeDeclaration | undefined {
  return d.shapes.find((s) => s.route.includes(route) && s.variant.includes(variant) && declaredFor(s, pins));
}

/**
 * Reads every security declaration file (attacks and request shapes, route decisions) before a run, so a mistake
 * stops it in one line before anything starts.
 */
export async function checkSecurityDeclarations(): Promise<string | undefined> {
  try {
    loadDeclarations();
    (await import('./routes.ts')).loadRouteDeclarations();
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}
