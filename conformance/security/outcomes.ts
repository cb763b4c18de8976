/**
 * What one attack or one probe came to. `refused`: the server said no (401/403, or a refusal the generation
 * declares); `accepted`: the attack worked (the forged identity was taken, the victim's data seen or changed);
 * `broken`: the positive control failed (the genuine credential, or the owner's own request, did not work), so a
 * refusal would prove nothing; `error`: any other answer (400, an undeclared 404, 5xx, an exception), reported with
 * the answer; `not-applicable`: the target cannot run it (the reason says why).
 */
export type Outcome = 'refused' | 'accepted' | 'broken' | 'error' | 'not-applicable';

/** The part of an HTTP answer a classification reads. */
export interface Answer {
  status: number;
  contentType?: string;
  contentLength?: string;
  body: string;
}

/** One line of evidence: status and the start of the body, whitespace folded. */
export function evidenceOf(a: Answer, max = 120): string {
  return `HTTP ${a.status} ${a.body.slice(0, max).replace(/\s+/g, ' ').trim()}`.trim();
}

/** How the generation refuses a request without valid credentials, beyond 401/403 (5.x: its login page, with 200). */
export interface RefusalShape {
  /** A body marker of the generation's login page answered with 2xx (5.x), if any. */
  loginPageMarker?: string;
}

/**
 * Whether an answer is a refusal: 401 or 403, a redirect to the login (302 to `/login`, `/oidc/ui` or the IdP),
 * or the generation's login page (5.x answers 200 with it).
 */
export function isRefusal(a: Answer & { location?: string }, shape: RefusalShape): boolean {
  if (a.status === 401 || a.status === 403) return true;
  if (a.status >= 300 && a.status < 400 && a.location !== undefined && /\/login|\/oidc\/ui|\/protocol\/openid-connect\/auth/.test(a.location)) return true;
  return !!shape.loginPageMarker && a.status >= 200 && a.status < 300 && !(a.contentType ?? '').includes('json') && a.body.includes(shape.loginPageMarker);
}

/**
 * The outcome of a credential attack on the current-user route: `accepted` when the server answers the user
 * (2xx JSON naming a username), `refused` on a refusal, `error` otherwise.
 */
export function credentialOutcome(a: Answer & { location?: string }, shape: RefusalShape): { outcome: Outcome; user?: string } {
  if (isRefusal(a, shape)) return { outcome: 'refused' };
  if (a.status >= 200 && a.status < 300 && (a.contentType ?? '').includes('json')) {
    try {
      const body = JSON.parse(a.body) as { username?: string; user?: { username?: string } };
      const user = body.username ?? body.user?.username;
      if (user) return { outcome: 'accepted', user };
    } catch {
      /* not JSON after all */
    }
  }
  return { outcome: 'error' };
}

/**
 * Whether an answer is the router's own "no such route" (Werkzeug's 404/405 page, Starlette's `{"detail": "Not
 * Found"}`): no handler ran, so the request shape is not served by the server at all (nothing to authorise).
 */
export function isRoutingMiss(a: Answer): boolean {
  if (a.status !== 404 && a.status !== 405) return false;
  return /<title>40[45] (Not Found|Method Not Allowed)<\/title>/.test(a.body) || /^\s*\{\s*"detail"\s*:\s*"(Not Found|Method Not Allowed)"\s*\}\s*$/.test(a.body);
}
