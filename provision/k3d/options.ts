import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import type { HarnessEnv } from '../config/env.ts';
import type { PinSet } from '../config/pin-sets.ts';
import type { StackDescription } from '../config/stack.ts';
import { HarnessError } from '../errors.ts';
import { loadPlatform, type PlatformProfile } from '../platform/profile.ts';
import { projectRoot } from '../paths.ts';

/** Everything the k3d plan needs besides the stack description. */
export interface K3dOptions {
  clusterName: string;
  /** The registry k3d creates: container name, and the `host:port` images are pushed to and pulled from. */
  registry: { name: string; host: string; port: number };
  /** Loopback port the cluster's load balancer publishes Traefik's 443 on. */
  httpsPort: number;
  chartVersion: string;
  imageTag: string;
  pullPolicy: string;
  /** PEM files of the stack CA and the server certificate Traefik serves (createStackTls). */
  tls: { caCert: string; cert: string; key: string };
  /** The pin set's Dockerfile (absolute) and a digest of its text (a changed Dockerfile rebuilds the image). */
  dockerfile: string;
  dockerfileDigest: string;
  /** Folder for the kubeconfig and the values files. */
  workDir: string;
  /** MinIO server image instead of the profile's (HARNESS_K3D_MINIO_IMAGE; it must contain `mc`). */
  minioImage?: string;
  /** KEYCLOAK_VERSION when set: the Keycloak server image tag instead of the profile's. */
  keycloakVersion?: string;
  /** The platform profile the plan renders from (HARNESS_PLATFORM). */
  platform: PlatformProfile;
}

/** The names of what k3d creates: all a teardown needs. */
export interface ClusterNames {
  clusterName: string;
  registry: { name: string };
}

/** The state folder's k3d part: kubeconfig, values files, command logs, the cluster record. */
export const k3dDir = (state: string) => join(state, 'k3d');
export const kubeconfigPath = (state: string) => join(k3dDir(state), 'kubeconfig');

/** k3d-only settings, read like HarnessEnv: the environment over `.env.local`. */
const K3dEnv = z.object({
  HARNESS_K3D_CLUSTER: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, 'a DNS label of at most 32 characters').default('mlflow-harness'),
  HARNESS_K3D_REGISTRY: z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, 'a container name').optional(),
  // default: the profile's (minio/justfile of buun-stack at its commit); any image of one's own that runs
  // `minio server` and contains `mc` fits
  HARNESS_K3D_MINIO_IMAGE: z.string().regex(/^[^\s]+:[^\s:/]+$/, 'an image with a tag').optional(),
});

export function readK3dEnv(env: NodeJS.ProcessEnv = process.env, envFile = join(projectRoot, '.env.local')): z.infer<typeof K3dEnv> {
  const fromFile = existsSync(envFile) ? parseDotenv(readFileSync(envFile)) : {};
  const merged: Record<string, string | undefined> = {};
  for (const key of Object.keys(K3dEnv.shape)) merged[key] = env[key] || fromFile[key] || undefined;
  const r = K3dEnv.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = String(issue.path[0]);
    throw new HarnessError(`Expected ${key} to be ${issue.message}, got \`${merged[key]}\``, `fix or remove ${key}`);
  }
  return r.data;
}

/** IMAGE_REGISTRY must name a loopback port: the harness pushes from this machine to the registry k3d creates. */
export function registryPort(imageRegistry: string): number {
  const m = /^(localhost|127\.0\.0\.1):(\d{1,5})$/.exec(imageRegistry);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new HarnessError(`Expected IMAGE_REGISTRY to be localhost:<port> for the k3d target, got \`${imageRegistry}\``,
      'the k3d target creates its own registry on that loopback port (default localhost:30500, as buun-stack)');
  }
  return port;
}

/** The pin set's Dockerfile on disk: the k3d target builds the image from it. */
export function dockerfileOf(set: PinSet): string {
  const path = resolve(projectRoot, set.dockerfile);
  if (!existsSync(path)) {
    throw new HarnessError(`The k3d target builds the MLflow image from a Dockerfile on disk; ${set.dockerfile} is not one (HARNESS_PINS=${set.name})`,
      'use a pin set name or a Dockerfile path (check out the ref for git:<ref>)');
  }
  return path;
}

export function k3dOptions(env: HarnessEnv, desc: StackDescription, set: PinSet, state: string, k3dEnv = readK3dEnv()): K3dOptions {
  const dockerfile = dockerfileOf(set);
  const tlsDir = join(state, 'tls');
  return {
    clusterName: k3dEnv.HARNESS_K3D_CLUSTER,
    registry: { name: k3dEnv.HARNESS_K3D_REGISTRY ?? `${k3dEnv.HARNESS_K3D_CLUSTER}-registry`, host: env.IMAGE_REGISTRY, port: registryPort(env.IMAGE_REGISTRY) },
    httpsPort: desc.hosts.httpsPort,
    chartVersion: desc.versions.chart,
    imageTag: desc.versions.imageTag,
    pullPolicy: env.MLFLOW_IMAGE_PULL_POLICY,
    // the same files createStackTls writes (it reuses them when present)
    tls: { caCert: join(tlsDir, 'ca.pem'), cert: join(tlsDir, 'server.pem'), key: join(tlsDir, 'server-key.pem') },
    dockerfile,
    dockerfileDigest: createHash('sha256').update(readFileSync(dockerfile)).digest('hex').slice(0, 16),
    workDir: k3dDir(state),
    ...(k3dEnv.HARNESS_K3D_MINIO_IMAGE ? { minioImage: k3dEnv.HARNESS_K3D_MINIO_IMAGE } : {}),
    ...(env.KEYCLOAK_VERSION ? { keycloakVersion: env.KEYCLOAK_VERSION } : {}),
    platform: loadPlatform(env.HARNESS_PLATFORM),
  };
}

/** The Dockerfile's folder: the build context (the Dockerfiles copy nothing in). */
export const buildContext = (o: K3dOptions) => dirname(o.dockerfile);
