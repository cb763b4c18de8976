import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { PinSet } from '../config/pin-sets.ts';
import type { StackDescription } from '../config/stack.ts';

/** All that specs know about the stack under test. Written by a target, read by specs, scenarios and status. */
export const TargetDescriptor = z.object({
  target: z.enum(['local', 'k3d', 'remote']),
  mlflowUrl: z.string().url(),
  keycloakUrl: z.string().url(),
  realm: z.string(),
  issuer: z.string().url(),
  clientId: z.string(),
  /** PEM file of the CA that signed the stack's certificates (absent: the system trust store applies). */
  caCertPath: z.string().optional(),
  pins: z.object({
    /** Pin set name (HARNESS_PINS) and the plugin generation its adapter covers. */
    name: z.string().default('image/Dockerfile'),
    mlflow: z.string(),
    mlflowOidcAuth: z.string(),
    generation: z.string().optional(),
    python: z.string().optional(),
    chart: z.string().optional(),
    appName: z.string().optional(),
    /** Settings changed from buun-stack's for these pins, with reasons. */
    settingChanges: z.array(z.object({ change: z.string(), reason: z.string() })).default([]),
    keycloak: z.string().optional(),
    /** The days the base image and the team's image were built: the stack's Python packages are resolved as of then. */
    baseBuiltOn: z.string().optional(),
    builtOn: z.string().optional(),
    /** The versions that matter for a verdict (MLflow, the plugin, Authlib, Flask, …) as installed, and where they were read. */
    versions: z.record(z.string(), z.string()).optional(),
    versionsSource: z.string().optional(),
    /** Where the MLflow server's command line came from: `harness` (its renderer) or `chart <version or folder>`. */
    serverSpec: z.string().optional(),
    /** `latest`: what it resolved to and the newer upstream releases it passed over (one line each). */
    upstream: z.array(z.string()).optional(),
  }),
  /**
   * The platform profile (HARNESS_PLATFORM) the stack follows; what the local target runs other than it says,
   * each with its reason; for k3d, what has and has not run of that target.
   */
  platform: z.object({ name: z.string(), localDeclared: z.array(z.string()).default([]), note: z.string().optional() }).optional(),
  personas: z.array(z.object({ key: z.string(), username: z.string(), email: z.string(), groups: z.array(z.string()) })),
  /** Python with the pinned mlflow client for the fixture scripts. */
  python: z.string(),
  /** JSON file holding persona passwords and other stack secrets (never printed). */
  secretsFile: z.string().optional(),
  /** HOME for Chromium, holding an NSS database that trusts the stack CA. */
  browserHome: z.string().optional(),
  capabilities: z.object({
    database: z.boolean(),
    bucket: z.boolean(),
    serverLogs: z.boolean(),
    /** The realm's configuration through Keycloak's admin API (clients, scopes, mappers, the client secret). */
    keycloakAdmin: z.boolean(),
    /** Users and groups of the realm (make them, change memberships): a realm-scoped admin is enough. */
    keycloakUsers: z.boolean().default(false),
    cluster: z.boolean(),
    /** /metrics is served (k3d: buun-stack's ServiceMonitor, only where kube-prometheus-stack is installed). */
    metrics: z.boolean().default(true),
  }),
  /** Who the specs log in to Keycloak's admin API as (its password is `keycloakAdmin` in the secrets file): the master
   * realm's admin (local, k3d) or a realm-scoped admin the environment names (remote). */
  keycloakAdminLogin: z.object({ realm: z.string(), username: z.string() }).optional(),
  logs: z.record(z.string(), z.string()).default({}),
  /** Endpoints behind the proxy, for targets that expose them (local): checks of the database, bucket and raw server. */
  internal: z
    .object({
      mlflowUrl: z.string().url(),
      keycloakUrl: z.string().url(),
      postgres: z.object({ host: z.string(), port: z.number(), user: z.string(), databases: z.object({ tracking: z.string(), auth: z.string() }) }),
      s3: z.object({ endpoint: z.string().url(), bucket: z.string() }),
      sessionDir: z.string(),
      venv: z.string(),
    })
    .optional(),
});
export type TargetDescriptor = z.infer<typeof TargetDescriptor>;

export const descriptorFile = (state: string) => join(state, 'target.json');

export function writeDescriptor(state: string, d: TargetDescriptor): void {
  writeFileSync(descriptorFile(state), `${JSON.stringify(d, null, 2)}\n`);
}

export function readDescriptor(state: string): TargetDescriptor | undefined {
  const f = descriptorFile(state);
  if (!existsSync(f)) return undefined;
  return TargetDescriptor.parse(JSON.parse(readFileSync(f, 'utf8')));
}

/** The pin set as the target descriptor carries it (specs choose the plugin adapter from it). */
export function pinsOf(set: PinSet, desc: StackDescription): TargetDescriptor['pins'] {
  return {
    name: set.name,
    mlflow: set.pins.mlflow,
    mlflowOidcAuth: set.pins.mlflowOidcAuth,
    generation: set.adapter.generation,
    python: desc.versions.python,
    chart: desc.versions.chart,
    appName: desc.mlflow.appName,
    settingChanges: desc.pinSet.settingChanges.map((c) => ({ change: JSON.stringify(c.change), reason: c.reason })),
    baseBuiltOn: set.dates.baseBuiltOn,
    builtOn: set.dates.builtOn,
    serverSpec: desc.serverSpec.from === 'chart' ? `chart ${desc.serverSpec.chart}` : 'harness',
    ...(set.upstream ? { upstream: set.upstream } : {}),
  };
}

