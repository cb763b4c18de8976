/**
 * Request shapes: one audit probe re-written the ways a server may parse differently from the plugin that
 * authorises it (the plugin's 7.4.2 proto-JSON fix, the 7.4.8 artifact-route fix, RFC 9110's method semantics).
 * Pure: a probe's request in, the variants' raw requests out.
 */

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

/** An audit probe's request as data. */
export interface ProbeRequest {
  method: Exclude<Method, 'HEAD' | 'OPTIONS'>;
  /** Path with the ids in it, e.g. `/api/2.0/mlflow/experiments/get`. */
  path: string;
  query?: Record<string, string>;
  /** A JSON body. */
  json?: Record<string, unknown>;
  /** A raw text body (artifact uploads). */
  text?: string;
  /** snake_case fields (query or body) holding the victim's id → the attacker's own id for the same field. */
  swap?: Record<string, string>;
}

/** A request as sent: method, path as written (not normalised), raw query string, headers, raw body. */
export interface RawRequest {
  method: Method;
  path: string;
  query: string;
  headers: Record<string, string>;
  body?: string;
}

export const VARIANTS = [
  'snake-victim-camel-own',
  'snake-own-camel-victim',
  'query-victim-body-own',
  'query-own-body-victim',
  'get-with-body',
  'percent-encoded',
  'double-slash',
  'trailing-slash',
  'case-changed',
  'head',
  'options',
  'method-override',
  'ajax-api-twin',
] as const;
export type Variant = (typeof VARIANTS)[number];

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** `a=1&b=2` from ordered pairs (duplicates and order kept). */
export function queryString(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** The probe as sent in its own shape. */
export function rawOf(p: ProbeRequest): RawRequest {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (p.json) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(p.json);
  } else if (p.text !== undefined) {
    headers['Content-Type'] = 'text/plain';
    body = p.text;
  }
  return { method: p.method, path: p.path, query: queryString(Object.entries(p.query ?? {})), headers, ...(body !== undefined ? { body } : {}) };
}

/** Where the ids travel: the query for GET/DELETE-with-query probes, the JSON body otherwise. */
const idsIn = (p: ProbeRequest): 'query' | 'json' | undefined => (p.json ? 'json' : p.query ? 'query' : undefined);

/** Object with `first` fields, then `second` fields appended (JSON keeps the order, duplicates become two spellings). */
function withFields(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  return { ...base, ...extra };
}

/**
 * The segment a path variant changes: the last word of the route's own leading words (`/api/2.0/mlflow/runs/get` →
 * `get`; `…/mlflow-artifacts/artifacts/1/r1/artifacts/a.txt` → `artifacts`, before the ids and the artifact path).
 */
export function routeWordSegment(path: string): number {
  const parts = path.split('/');
  let last = parts.length - 1;
  for (let i = 1; i < parts.length; i++) {
    if (/^[a-z][a-z-]*$/.test(parts[i]!)) last = i;
    else if (!/^\d+\.\d+$/.test(parts[i]!)) break;
  }
  return last;
}

/**
 * The variant of the probe, or undefined when it does not apply (no id fields to duplicate, not a GET, no
 * `/api` ↔ `/ajax-api` twin, …). `twins`: probe routes the audit already tries as their own probes.
 */
export function variantOf(p: ProbeRequest, v: Variant, hasOwnTwin = false): RawRequest | undefined {
  const base = rawOf(p);
  const where = idsIn(p);
  const swap = Object.entries(p.swap ?? {});
  const parts = p.path.split('/');
  const seg = routeWordSegment(p.path);
  switch (v) {
    case 'snake-victim-camel-own':
    case 'snake-own-camel-victim': {
      if (!where || swap.length === 0) return undefined;
      const victimFirst = v === 'snake-victim-camel-own';
      const src = (where === 'json' ? p.json : p.query) as Record<string, unknown>;
      const snake = Object.fromEntries(swap.map(([f, own]) => [f, victimFirst ? src[f] : own]));
      const camels = Object.fromEntries(swap.map(([f, own]) => [camel(f), victimFirst ? own : src[f]]));
      if (where === 'json') return { ...base, body: JSON.stringify(withFields({ ...p.json, ...snake }, camels)) };
      const pairs = [...Object.entries({ ...p.query, ...snake }).map(([k, x]) => [k, String(x)] as [string, string]), ...Object.entries(camels).map(([k, x]) => [k, String(x)] as [string, string])];
      return { ...base, query: queryString(pairs) };
    }
    case 'query-victim-body-own':
    case 'query-own-body-victim': {
      if (!where || swap.length === 0) return undefined;
      const src = (where === 'json' ? p.json : p.query) as Record<string, unknown>;
      const victim = Object.fromEntries(swap.map(([f]) => [f, src[f]]));
      const own = Object.fromEntries(swap.map(([f, o]) => [f, o]));
      const [inQuery, inBody] = v === 'query-victim-body-own' ? [victim, own] : [own, victim];
      const rest = Object.fromEntries(Object.entries(src).filter(([k]) => !(k in victim)));
      return {
        ...base,
        query: queryString(Object.entries({ ...(where === 'query' ? rest : {}), ...inQuery }).map(([k, x]) => [k, String(x)])),
        headers: { ...base.headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...(where === 'json' ? rest : {}), ...inBody }),
      };
    }
    case 'get-with-body':
      // a GET whose parameters come only in a JSON body: MLflow reads the body when the query is empty
      if (p.method !== 'GET' || !p.query) return undefined;
      return { ...base, query: '', headers: { ...base.headers, 'Content-Type': 'application/json' }, body: JSON.stringify(p.query) };
    case 'percent-encoded': {
      const word = parts[seg]!;
      const at = word.search(/[a-z]/);
      if (at < 0) return undefined;
      parts[seg] = `${word.slice(0, at)}%${word.charCodeAt(at).toString(16).toUpperCase()}${word.slice(at + 1)}`;
      return { ...base, path: parts.join('/') };
    }
    case 'double-slash':
      return { ...base, path: [...parts.slice(0, seg), '', ...parts.slice(seg)].join('/') };
    case 'trailing-slash':
      return { ...base, path: `${p.path}/` };
    case 'case-changed': {
      const word = parts[seg]!;
      parts[seg] = word.charAt(0).toUpperCase() + word.slice(1);
      return { ...base, path: parts.join('/') };
    }
    case 'head':
      return p.method === 'GET' ? { ...base, method: 'HEAD', body: undefined } : undefined;
    case 'options':
      return { ...base, method: 'OPTIONS' };
    case 'method-override': {
      // the request travels as another method and names the real one in the headers frameworks honour
      const carrier: Method = p.method === 'GET' ? 'POST' : 'GET';
      const q = base.query ? `${base.query}&_method=${p.method}` : `_method=${p.method}`;
      return { ...base, method: carrier, query: q, headers: { ...base.headers, 'X-HTTP-Method-Override': p.method, 'X-HTTP-Method': p.method, 'X-Method-Override': p.method } };
    }
    case 'ajax-api-twin': {
      if (hasOwnTwin) return undefined;
      const twin = p.path.startsWith('/api/') ? p.path.replace(/^\/api\//, '/ajax-api/') : p.path.startsWith('/ajax-api/') ? p.path.replace(/^\/ajax-api\//, '/api/') : undefined;
      return twin ? { ...base, path: twin } : undefined;
    }
  }
}

/** The `/api` ↔ `/ajax-api` twin of a route label (`GET /api/2.0/...` ↔ `GET /ajax-api/2.0/...`), if it has one. */
export function twinLabel(route: string): string | undefined {
  if (route.includes(' /api/')) return route.replace(' /api/', ' /ajax-api/');
  if (route.includes(' /ajax-api/')) return route.replace(' /ajax-api/', ' /api/');
  return undefined;
}
