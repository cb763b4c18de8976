import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { checkRange, inPep440Range } from './ranges.ts';

/**
 * The server's routes and the decision each needs (MLflow's `test_authorization_coverage.py` idea): every route ×
 * method the running server serves (read from its own Flask `url_map` and FastAPI routes) is either probed by the
 * bypass audit (or the permission matrix) or declared in specs/security/routes.yaml — `public` (answers without
 * credentials by design) or `not-applicable` (with the reason). A route with neither is `uncovered`, so a bump that
 * adds routes fails until someone decides. Pure: the specs and the unit tests use it.
 */

export interface InventoryRoute {
  method: string;
  /** As the framework spells it: `/api/2.0/mlflow/logged-models/<model_id>` (Flask) or `/api/3.0/…/{trace_id}` (FastAPI). */
  path: string;
  framework: string;
  endpoint: string;
}

/** A route's key: method and path with every parameter written `{}` (Flask's and FastAPI's spellings alike). */
export const routeKey = (method: string, path: string) => `${method} ${normalisePath(path)}`;
export const normalisePath = (path: string) => path.replace(/<[^>]+>/g, '{}').replace(/\{[^}]*\}/g, '{}');

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A regular expression matching the concrete paths a route template serves (`path` parameters take slashes). */
function templateRe(path: string): RegExp {
  const parts = path.split(/(<[^>]+>|\{[^}]+\})/);
  const re = parts.map((p) => (/^<path:|^\{[^}]*:path\}$/.test(p) ? '.+' : /^<|^\{/.test(p) ? '[^/]+' : escapeRe(p))).join('');
  return new RegExp(`^${re}$`);
}

/**
 * The inventory route a concrete request reaches: among the templates of that method matching the path, the most
 * specific (most literal characters, as the routers prefer static routes); undefined when none matches.
 */
export function resolveRoute(method: string, concretePath: string, inventory: InventoryRoute[]): InventoryRoute | undefined {
  const literal = (p: string) => p.replace(/<[^>]+>|\{[^}]+\}/g, '').length;
  return inventory
    .filter((r) => r.method === method && templateRe(r.path).test(concretePath))
    .sort((a, b) => literal(b.path) - literal(a.path))[0];
}

const Decision = z.object({
  /** `METHOD path` globs: METHOD may be `*` or `GET|POST`; in the path `*` is one segment, `**` any rest, `{}` a parameter. */
  match: z.union([z.string(), z.array(z.string()).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
  decision: z.enum(['public', 'not-applicable']),
  reason: z.string().min(10),
  plugin: z.string().optional(),
  mlflow: z.string().optional(),
}).strict();
export type Decision = z.infer<typeof Decision>;

export const routeDecisionsFile = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'specs', 'security', 'routes.yaml');

/** A route that, without credentials, answers with neither a refusal nor data (e.g. a 500 from a hook), declared. */
const Unauthenticated = z.object({
  match: z.union([z.string(), z.array(z.string()).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
  reason: z.string().min(10),
  plugin: z.string().optional(),
  mlflow: z.string().optional(),
}).strict();
export type UnauthenticatedDeclaration = z.infer<typeof Unauthenticated>;

export interface RouteDeclarations {
  routes: Decision[];
  unauthenticated: UnauthenticatedDeclaration[];
}

export function parseRouteDeclarations(text: string, file = 'routes.yaml'): RouteDeclarations {
  const r = z.object({ routes: z.array(Decision), unauthenticated: z.array(Unauthenticated).default([]) }).strict().safeParse(parse(text));
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${file}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  for (const [section, list] of [['routes', r.data.routes], ['unauthenticated', r.data.unauthenticated]] as const) {
    for (const [i, d] of list.entries()) {
      if (d.plugin) checkRange(d.plugin, `${file}: ${section}.${i}: plugin`);
      if (d.mlflow) checkRange(d.mlflow, `${file}: ${section}.${i}: mlflow`);
      for (const m of d.match) if (!/^(\*|[A-Z]+(\|[A-Z]+)*) \/\S*$/.test(m)) throw new Error(`${file}: ${section}.${i}: "${m}" is not "METHOD /path" (METHOD: *, GET or GET|POST)`);
    }
  }
  return r.data;
}

export const loadRouteDeclarations = (file = routeDecisionsFile) => parseRouteDeclarations(readFileSync(file, 'utf8'), file);

/** Whether a `METHOD path` glob covers a route key. */
export function globCovers(glob: string, key: string): boolean {
  const [gm, gp] = [glob.slice(0, glob.indexOf(' ')), normalisePath(glob.slice(glob.indexOf(' ') + 1))];
  const [km, kp] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
  if (gm !== '*' && !gm.split('|').includes(km)) return false;
  const re = gp.split(/(\*\*|\*)/).map((p) => (p === '**' ? '.*' : p === '*' ? '[^/]*' : escapeRe(p))).join('');
  return new RegExp(`^${re}$`).test(kp);
}

export interface Pins {
  mlflow?: string;
  mlflowOidcAuth?: string;
}

export const appliesTo = (d: { plugin?: string; mlflow?: string }, pins: Pins) => (!d.plugin || inPep440Range(pins.mlflowOidcAuth, d.plugin)) && (!d.mlflow || inPep440Range(pins.mlflow, d.mlflow));

export interface Coverage {
  total: number;
  probed: number;
  declared: number;
  uncovered: string[];
  /** Route key → `probed` (by which probes) or the decision (and its reason). */
  decisions: Record<string, { decision: 'probed' | Decision['decision'] | 'uncovered'; by: string }>;
  /** Declarations for these pins that name no route the server has (each one line). */
  problems: string[];
}

/**
 * Each route's decision: probed (a probe's request reaches it) wins over a declaration; a declaration for these
 * pins whose glob covers no route of the server is a problem (a misspelt or stale declaration).
 */
export function coverage(inventory: InventoryRoute[], probedBy: Map<string, string[]>, decisions: Decision[], pins: Pins, file = 'specs/security/routes.yaml'): Coverage {
  const keys = [...new Set(inventory.map((r) => routeKey(r.method, r.path)))].sort();
  const applicable = decisions.filter((d) => appliesTo(d, pins));
  const out: Coverage['decisions'] = {};
  const used = new Set<string>();
  for (const key of keys) {
    const probes = probedBy.get(key);
    const d = applicable.find((x) => x.match.some((g) => globCovers(g, key)));
    for (const x of applicable) for (const g of x.match) if (globCovers(g, key)) used.add(g);
    if (probes?.length) out[key] = { decision: 'probed', by: probes.join('; ') };
    else if (d) out[key] = { decision: d.decision, by: d.reason };
    else out[key] = { decision: 'uncovered', by: 'no probe and no declaration' };
  }
  const problems = applicable.flatMap((d) => d.match.filter((g) => !used.has(g)).map((g) => `${file}: "${g}" names no route the server has (MLflow ${pins.mlflow ?? '?'}, mlflow-oidc-auth ${pins.mlflowOidcAuth ?? '?'}): remove it or narrow its version range`));
  const values = Object.values(out);
  return {
    total: keys.length,
    probed: values.filter((v) => v.decision === 'probed').length,
    declared: values.filter((v) => v.decision === 'public' || v.decision === 'not-applicable').length,
    uncovered: keys.filter((k) => out[k]!.decision === 'uncovered'),
    decisions: out,
    problems,
  };
}

/** A concrete path for a route template: parameters filled with harmless values (`path` ones with a few segments). */
export function concretePath(path: string): string {
  return path.replace(/<path:[^>]+>|\{[^}]*:path\}/g, '1/x/artifacts/none.txt').replace(/<int:[^>]+>/g, '1').replace(/<[^>]+>|\{[^}]+\}/g, 'x1');
}
