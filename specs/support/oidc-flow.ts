import type { APIRequestContext, APIResponse } from '@playwright/test';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { loginErrors, pluginOf } from './plugin.ts';

/** What the authorization-code flow produced, step by step, so checks can assert on any leg. */
export interface FlowResult {
  /** `Location` of MLflow's /login answer: the IdP authorization request. */
  authorizationUrl: URL;
  /** `Location` of Keycloak's answer to the credentials: MLflow's /callback with code and state. */
  callbackUrl?: URL;
  /** Keycloak's page when it did not redirect back (bad credentials, redirect-URI error, …). */
  keycloakPage?: string;
  /** MLflow's answer to /callback. */
  callback?: APIResponse;
  /** True when /callback redirected (the plugin's success path). */
  loggedIn: boolean;
  /** What the user was shown, in one line: for assertion messages (the plugin's errors, Keycloak's message). */
  outcome: string;
}

/** Keycloak's message on a page it answered with instead of redirecting back (its error text, or the page title). */
export function keycloakSays(page: string): string {
  const text = (s: string) => decode(s.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
  const m = /(?:kc-feedback-text|input-error|kc-error-message|instruction1)[^>]*>([\s\S]*?)<\/(?:span|p|div)>/.exec(page);
  const title = /<title>([\s\S]*?)<\/title>/.exec(page)?.[1];
  return `Keycloak shows "${text(m?.[1] ?? title ?? page.slice(0, 120)).slice(0, 200)}"`;
}

const decode = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'");

function location(res: APIResponse, base: string): URL {
  const l = res.headers()['location'];
  if (!l) throw new Error(`expected a redirect from ${res.url()}, got ${res.status()}`);
  return new URL(l, base);
}

/**
 * Logs in through MLflow's /login → Keycloak's login form → MLflow's /callback using plain HTTP (the same
 * requests a browser makes). The request context keeps the cookies (MLflow session, Keycloak SSO).
 * `tamper` may rewrite the callback URL before it is followed (e.g. a forged state).
 */
export async function oidcLogin(
  request: APIRequestContext,
  target: TargetDescriptor,
  credentials: { username: string; password: string },
  tamper?: (callback: URL) => URL,
): Promise<FlowResult> {
  const login = await request.get(`${target.mlflowUrl}/login`, { maxRedirects: 0 });
  const authorizationUrl = location(login, target.mlflowUrl);
  const form = await request.get(authorizationUrl.href, { maxRedirects: 0 });
  if (form.status() >= 300 && form.status() < 400) {
    // An SSO session already exists: Keycloak redirects straight back.
    return finish(request, target, { authorizationUrl, loggedIn: false, outcome: '' }, location(form, authorizationUrl.href), tamper);
  }
  const page = await form.text();
  const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(page)?.[1];
  if (!action) return { authorizationUrl, keycloakPage: page, loggedIn: false, outcome: `no login form: ${keycloakSays(page)}` };
  const submitted = await request.post(decode(action), {
    form: { username: credentials.username, password: credentials.password, credentialId: '' },
    maxRedirects: 0,
  });
  if (submitted.status() < 300 || submitted.status() >= 400) {
    const text = await submitted.text();
    return { authorizationUrl, keycloakPage: text, loggedIn: false, outcome: `credentials not accepted: ${keycloakSays(text)}` };
  }
  return finish(request, target, { authorizationUrl, loggedIn: false, outcome: '' }, location(submitted, action), tamper);
}

async function finish(
  request: APIRequestContext,
  target: TargetDescriptor,
  partial: FlowResult,
  callbackUrl: URL,
  tamper?: (callback: URL) => URL,
): Promise<FlowResult> {
  const url = tamper ? tamper(new URL(callbackUrl.href)) : callbackUrl;
  if (!url.href.startsWith(target.mlflowUrl)) {
    // Keycloak redirected elsewhere (e.g. an error page of its own).
    const other = await request.get(url.href);
    const text = await other.text();
    return { ...partial, callbackUrl: url, keycloakPage: text, outcome: `redirected to ${url.origin}${url.pathname}: ${keycloakSays(text)}` };
  }
  const callback = await request.get(url.href, { maxRedirects: 0 });
  // success is a redirect into the UI; 6.x+ also redirect a refusal there, with the error in the query
  const errors = await loginErrors(callback, pluginOf(target));
  const loggedIn = callback.status() === 302 && errors.length === 0;
  return { ...partial, callbackUrl: url, callback, loggedIn, outcome: loggedIn ? 'logged in' : `/callback answered ${callback.status()}${errors.length ? `: ${errors.join(' | ')}` : ''}` };
}
