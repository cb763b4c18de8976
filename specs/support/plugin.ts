import { expect, type APIRequestContext, type APIResponse } from '@playwright/test';
import { adapterFor, type PluginAdapter } from '../../provision/plugin/adapters.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';

export type { PluginAdapter };

/** The adapter of the plugin generation the target runs (from its pins). */
export function pluginOf(target: TargetDescriptor): PluginAdapter {
  return adapterFor(target.pins.mlflowOidcAuth);
}

/**
 * Asserts the answer to a request without (valid) credentials: no MLflow data, and the generation's own
 * answer — 5.x's login page with HTTP 200, or 6.x+'s 401 JSON.
 */
export async function expectUnauthenticated(res: APIResponse, plugin: PluginAdapter): Promise<void> {
  const body = await res.text();
  expect(body).not.toMatch(/"experiment_id"|"run_id"|"registered_models"|"experiments"/);
  const a = plugin.unauthenticatedApi;
  expect(res.status(), `${res.url()} → ${res.status()} ${body.slice(0, 160)}`).toBe(a.status);
  if (a.kind === 'login-page') {
    expect(res.headers()['content-type'] ?? '').not.toContain('application/json');
    expect(body).toContain(a.marker);
  } else {
    expect(res.headers()['content-type'] ?? '').toContain('application/json');
    expect(JSON.parse(body)).toEqual(a.body);
  }
}

/**
 * The errors a failed login shows after /callback: 5.x renders them as <li> items of its login page; 6.x+
 * redirects into the UI with the message in a query parameter.
 */
export async function loginErrors(callback: APIResponse, plugin: PluginAdapter): Promise<string[]> {
  const e = plugin.loginError;
  if (e.kind === 'login-page-list') {
    const html = await callback.text();
    return [...html.matchAll(/<li(?:\s[^>]*)?>([\s\S]*?)<\/li>/g)]
      .map((m) => m[1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim())
      .filter(Boolean);
  }
  const location = callback.headers()['location'];
  if (!location) return [];
  const url = new URL(location, callback.url());
  return url.searchParams.getAll(e.param).filter(Boolean);
}

/**
 * Whether an answer of the current-user route shows that user logged in: HTTP 200, JSON, and that user's name. Without
 * a valid session 5.x answers 200 with its HTML login page and 6.x+ 401 with JSON — neither is a login.
 */
export async function answersAs(res: Pick<APIResponse, 'status' | 'headers' | 'text'>, email: string): Promise<boolean> {
  if (res.status() !== 200 || !(res.headers()['content-type'] ?? '').includes('application/json')) return false;
  try {
    return (JSON.parse(await res.text()) as { username?: unknown }).username === email;
  } catch {
    return false;
  }
}

/** GET of the current user with the given headers or session. */
export function whoami(ctx: APIRequestContext, target: TargetDescriptor, headers: Record<string, string> = {}): Promise<APIResponse> {
  return ctx.get(`${target.mlflowUrl}${pluginOf(target).routes.currentUser}`, { headers });
}
