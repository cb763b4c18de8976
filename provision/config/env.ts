import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { HarnessError } from '../errors.ts';
import { projectRoot } from '../paths.ts';

const hostname = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'a lower-case host name without scheme or port');
const port = z.coerce.number().int().min(1).max(65535);

/** Every setting a user may give in the environment or in .env.local (names as in the seed where it has them). */
export const HarnessEnv = z.object({
  HARNESS_TARGET: z.enum(['local', 'k3d', 'remote']).default('local'),
  MLFLOW_HOST: hostname.default('mlflow.localhost'),
  KEYCLOAK_HOST: hostname.default('keycloak.localhost'),
  KEYCLOAK_REALM: z.string().regex(/^[A-Za-z0-9_-]+$/).default('buunstack'),
  MLFLOW_NAMESPACE: z.string().regex(/^[a-z0-9-]+$/).default('mlflow'),
  /** Chart version; default: the pin set's. */
  MLFLOW_CHART_VERSION: z.string().regex(/^\d+\.\d+\.\d+$/).optional(),
  /** The pin set: a name under image/pin-sets/, a path to a Dockerfile, or git:<ref>; default image/Dockerfile. */
  HARNESS_PINS: z.string().optional(),
  MLFLOW_IMAGE_TAG: z.string().optional(),
  MLFLOW_IMAGE_PULL_POLICY: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
  IMAGE_REGISTRY: z.string().default('localhost:30500'),
  /** Loopback port the TLS proxy listens on for both host names (443 needs root). */
  HARNESS_HTTPS_PORT: port.default(8443),
  /**
   * The platform profile (platforms/<name>.yaml): the components around MLflow as buun-stack installs them at one
   * of its commits. The k3d plan renders from it; the local target takes the realm settings and PostgreSQL major.
   */
  HARNESS_PLATFORM: z.string().regex(/^[a-z0-9-]+$/, 'a profile name such as buun-head or seed').default('buun-head'),
  /** Keycloak server: the local target's distribution from Maven Central; on k3d it replaces the profile's image tag. */
  KEYCLOAK_VERSION: z.string().regex(/^\d+\.\d+\.\d+$/).optional(),
  VERSITYGW_VERSION: z.string().regex(/^v\d+\.\d+\.\d+$/).default('v1.7.0'),
  /** Local PostgreSQL major; default: the profile's where Debian ships it, else Debian's (declared). */
  POSTGRES_MAJOR: z.coerce.number().int().min(13).max(18).optional(),
  /**
   * How the local target starts MLflow: `harness` renders the command line and environment from the description
   * (provision/render/mlflow-server.ts); `chart` takes them from the chart's rendered container spec (`helm
   * template` of the chart at MLFLOW_CHART_PATH, or pulled at the chart version), placed on this machine as
   * chart-parity declares.
   */
  HARNESS_SERVER_SPEC: z.enum(['harness', 'chart']).default('harness'),
  /** A charts/mlflow folder of a community-charts/helm-charts checkout (chart-parity, HARNESS_SERVER_SPEC=chart). */
  MLFLOW_CHART_PATH: z.string().min(1).optional(),
  /** Upper bound, in seconds, of each component's readiness wait. */
  HARNESS_READY_TIMEOUT: z.coerce.number().int().min(5).max(3600).default(240),
});
export type HarnessEnv = z.infer<typeof HarnessEnv>;

/** Reads .env.local (if present) under the process environment, which wins, and validates the result. */
export function loadHarnessEnv(
  env: NodeJS.ProcessEnv = process.env,
  envFile = join(projectRoot, '.env.local'),
): HarnessEnv {
  const fromFile = existsSync(envFile) ? parseDotenv(readFileSync(envFile)) : {};
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const key of Object.keys(HarnessEnv.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  const result = HarnessEnv.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = String(issue.path[0]);
    const where = key in fromFile && !(env[key] ?? '') ? `${envFile}` : 'the environment';
    throw new HarnessError(
      `Expected ${key} to be ${describeIssue(issue)}, got \`${merged[key]}\` (from ${where})`,
      `fix or remove ${key}`,
    );
  }
  return result.data;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `one of ${issue.values.join(', ')}`;
    case 'invalid_type':
      return `a ${issue.expected}`;
    case 'too_small':
      return `at least ${issue.minimum}`;
    case 'too_big':
      return `at most ${issue.maximum}`;
    default:
      return issue.message.replace(/^Invalid (string|input): ?/i, '') || 'valid';
  }
}
