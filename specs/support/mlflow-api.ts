import { expect, type APIRequestContext, type APIResponse } from '@playwright/test';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';

import { pluginOf } from './plugin.ts';

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
export function requestAccessToken(ctx: APIRequestContext, target: TargetDescriptor, username: string, expiration: string, headers: Record<string, string> = {}): Promise<APIResponse> {
  return ctx.patch(`${target.mlflowUrl}${pluginOf(target).routes.accessToken}`, { data: { username, expiration }, headers });
}

export async function createAccessToken(ctx: APIRequestContext, target: TargetDescriptor, username: string, days = 30, headers: Record<string, string> = {}): Promise<string> {
  const res = await requestAccessToken(ctx, target, username, inDays(days), headers);
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

/** Asserts an answer is MLflow JSON data (not the plugin's login page, which comes with 200). */
export async function expectJson(res: APIResponse, status = 200): Promise<Record<string, unknown>> {
  expect(res.status(), `${res.url()} → ${res.status()} ${(await res.text()).slice(0, 200)}`).toBe(status);
  expect(res.headers()['content-type']).toContain('application/json');
  return (await res.json()) as Record<string, unknown>;
}

export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
