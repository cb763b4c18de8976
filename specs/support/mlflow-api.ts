import { expect, type APIRequestContext, type APIResponse, type Locator } from '@playwright/test';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';

import { pluginOf } from './plugin.ts';
import { recordSecret } from '../../provision/secret-ledger.ts';

export function basicAuth(username: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** ISO-8601 instant `days` from now (fractional days allowed). */
export function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString();
}

/** The "Create access key" REST call, from an authenticated context (session, Basic or Bearer headers). */
export async function requestAccessToken(ctx: APIRequestContext, target: TargetDescriptor, username: string, expiration: string, headers: Record<string, string> = {}): Promise<APIResponse> {
  const res = await ctx.patch(`${target.mlflowUrl}${pluginOf(target).routes.accessToken}`, { data: { username, expiration }, headers });
  await recordMintedToken(res, username);
  return res;
}

/** Records the token an access-key answer carries in the stack's secret ledger (npm test searches its outputs for it). */
export async function recordMintedToken(res: Pick<APIResponse, 'status' | 'text'>, username: string): Promise<void> {
  if (res.status() !== 200) return;
  try {
    const token = (JSON.parse(await res.text()) as { token?: unknown }).token;
    if (typeof token === 'string') recordSecret(`access token of ${username}`, token, username);
  } catch {
    // not JSON: no token was minted
  }
}

export async function createAccessToken(ctx: APIRequestContext, target: TargetDescriptor, username: string, days = 30, headers: Record<string, string> = {}): Promise<string> {
  const res = await requestAccessToken(ctx, target, username, inDays(days), headers);
  // the answer holds the token: it goes into the message (and so the report's step title) only on failure
  expect(res.status(), await failureBody(res, 200)).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

/** Asserts an answer is MLflow JSON data (not the plugin's login page, which comes with 200). */
export async function expectJson(res: APIResponse, status = 200): Promise<Record<string, unknown>> {
  expect(res.status(), `${res.url()} → ${res.status()} ${(await failureBody(res, status)).slice(0, 200)}`).toBe(status);
  expect(res.headers()['content-type']).toContain('application/json');
  return (await res.json()) as Record<string, unknown>;
}

/**
 * The body of an answer for an assertion's message, only when the status is not the expected one: messages
 * become step titles in the reports, and a successful answer may hold a token.
 */
export async function failureBody(res: Pick<APIResponse, 'status' | 'text'>, expected: number): Promise<string> {
  return res.status() === expected ? '' : res.text();
}

/**
 * Types a secret into a field without it becoming a step title in the reports (`fill` titles carry the value):
 * the value is set from the page and an input event is sent, as typing would.
 */
export async function fillSecret(field: Locator, value: string): Promise<void> {
  await field.evaluate((el, v) => {
    (el as unknown as { value: string }).value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
