import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { HarnessError } from '../errors.ts';
import { projectRoot } from '../paths.ts';

/**
 * A platform profile: the components buun-stack installs around MLflow (CloudNativePG, the Keycloak operator and
 * server, MinIO, Helm, Traefik's CRDs, the MLflow pod's resources and security context, monitoring, the realm's
 * session settings), at one commit of buun-stack — the way a pin set describes the image. Profiles are data in
 * platforms/<name>.yaml; HARNESS_PLATFORM picks one (default buun-head). The k3d plan renders from it; the local
 * target takes the realm settings and, where Debian ships it, the PostgreSQL major.
 */
const Quantities = z.record(z.string(), z.string());
export const Resources = z.object({ requests: Quantities.optional(), limits: Quantities.optional() }).strict();
export type Resources = z.infer<typeof Resources>;
const Labels = z.record(z.string(), z.string());
const Image = z.object({ repository: z.string().min(1), tag: z.string().min(1) }).strict();
/** Kubernetes fields taken over as they are (security contexts, values blocks). */
const Fields = z.record(z.string(), z.unknown());
const HelmWait = z.enum(['wait', 'legacy', 'none']);
export type HelmWait = z.infer<typeof HelmWait>;

export const PlatformProfile = z.object({
  title: z.string(),
  source: z.object({ repository: z.string(), commit: z.string().regex(/^[0-9a-f]{7,40}$/), date: z.string() }).strict(),
  /** The pin set (image/pin-sets/<name>) of the MLflow image this era of buun-stack builds. */
  pinSet: z.string(),
  helm: z.object({
    version: z.string().regex(/^\d+\.\d+\.\d+$/),
    /**
     * How each release's `helm upgrade --install` waits, as buun-stack's recipe runs it: `wait` is a bare `--wait`
     * (Helm 3's readiness wait; Helm 4's default `watcher` strategy), `legacy` is Helm 4's `--wait=legacy` (Helm
     * 3's rules), `none` is no wait (the recipe waits by itself).
     */
    waits: z.object({ cnpgOperator: HelmWait, postgresCluster: HelmWait, minio: HelmWait, mlflow: HelmWait }).strict(),
  }).strict(),
  traefik: z.object({ crdChart: z.string().regex(/^\d+\.\d+\.\d+$/) }).strict(),
  cnpg: z.object({
    operatorChart: z.string(),
    operatorVersion: z.string(),
    operatorValues: Fields.default({}),
    namespaceLabels: Labels.default({}),
    clusterChart: z.string(),
    postgresMajor: z.number().int().min(13).max(19),
    instances: z.number().int().min(1),
    postInitTemplateSQL: z.array(z.string()).default([]),
    storage: z.string(),
    resources: Resources.optional(),
    /** Set on the Cluster by `kubectl patch` after the chart (cnpg/cluster has no value for it). */
    seccompProfile: z.string().optional(),
    parameters: z.record(z.string(), z.string()),
  }).strict(),
  keycloak: z.object({
    operator: z.string().regex(/^\d+\.\d+\.\d+$/),
    image: z.string().regex(/^[^\s:]+:[^\s:]+$/, 'an image with a tag'),
    apiVersion: z.enum(['k8s.keycloak.org/v2alpha1', 'k8s.keycloak.org/v2beta1']),
    resources: Resources,
    additionalOptions: z.array(z.object({ name: z.string(), value: z.string() }).strict()).default([]),
    probes: z.object({ startupProbe: Fields, livenessProbe: Fields, readinessProbe: Fields }).partial().strict().optional(),
    podTemplate: Fields.optional(),
    /** The operator Deployment's memory, patched after it rolls out. */
    operatorMemory: z.object({ request: z.string(), limit: z.string() }).strict().optional(),
    namespaceLabels: Labels.default({}),
  }).strict(),
  minio: z.object({
    chart: z.string(),
    image: Image,
    mcImage: Image.optional(),
    rootUser: z.string(),
    persistenceSize: z.string(),
    resources: Resources.optional(),
    securityContext: Fields.optional(),
    containerSecurityContext: Fields.optional(),
    namespaceLabels: Labels.default({}),
  }).strict(),
  mlflow: z.object({ resources: Resources, podSecurityContext: Fields, securityContext: Fields }).strict(),
  /** serviceMonitor.enabled (and with it the chart's --expose-prometheus). */
  monitoring: z.boolean(),
  /** Realm token and session settings (seconds), as create-realm.ts sets them. */
  realm: z.record(z.string(), z.union([z.number(), z.boolean()])),
}).strict();
export type PlatformProfile = z.infer<typeof PlatformProfile> & { name: string };

export const platformsDir = join(projectRoot, 'platforms');
export const DEFAULT_PLATFORM = 'buun-head';

export function platformNames(): string[] {
  return readdirSync(platformsDir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
}

/** platforms/<name>.yaml, validated; a bad name or file stops with one line naming it. */
export function loadPlatform(name: string = DEFAULT_PLATFORM): PlatformProfile {
  const file = join(platformsDir, `${name}.yaml`);
  if (!/^[a-z0-9-]+$/.test(name) || !existsSync(file)) {
    throw new HarnessError(`Unknown platform profile \`${name}\` (HARNESS_PLATFORM)`, `use one of ${platformNames().join(', ')}`);
  }
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HarnessError(`${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = PlatformProfile.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new HarnessError(`${file}: ${i.path.join('.') || '(root)'}: ${i.message}`, 'see platforms/README.md for the format');
  }
  return { name, ...r.data };
}

/** PostgreSQL majors Debian 12 (bookworm) ships as postgresql-<major>: what the local target can install. */
export const DEBIAN_POSTGRES_MAJORS = [15] as const;

/**
 * The PostgreSQL major the local target runs for a profile: its own where Debian ships it, else Debian's,
 * with the reason (POSTGRES_MAJOR set by the user wins).
 */
export function localPostgresMajor(profile: PlatformProfile, asked?: number): { major: number; declared?: string } {
  if (asked !== undefined) return asked === profile.cnpg.postgresMajor ? { major: asked } : { major: asked, declared: `POSTGRES_MAJOR=${asked} (the ${profile.name} platform runs PostgreSQL ${profile.cnpg.postgresMajor})` };
  const wanted = profile.cnpg.postgresMajor;
  if ((DEBIAN_POSTGRES_MAJORS as readonly number[]).includes(wanted)) return { major: wanted };
  const major = DEBIAN_POSTGRES_MAJORS[DEBIAN_POSTGRES_MAJORS.length - 1]!;
  return { major, declared: `PostgreSQL ${major} instead of ${wanted} (platform ${profile.name}): Debian 12 ships postgresql-${DEBIAN_POSTGRES_MAJORS.join(', postgresql-')} only` };
}

/** The `helm upgrade` flag of a wait: `--wait`, `--wait=legacy`, or none. */
export const helmWaitFlag = (w: HelmWait) => (w === 'legacy' ? '--wait=legacy' : w === 'wait' ? '--wait' : undefined);
export const helmMajor = (p: PlatformProfile) => Number(p.helm.version.split('.')[0]);

/**
 * The Keycloak distribution the local target runs: 26.4.0 is the release nearest the seed's 26.3.4 that Maven
 * Central serves here and that runs on the machine's Java 17, and it is the 26.4 line buun-stack's HEAD runs.
 */
export const LOCAL_KEYCLOAK_DIST = '26.4.0';

/** The image tag of a profile's Keycloak server (`quay.io/keycloak/keycloak:26.4` → `26.4`). */
export const keycloakImageTag = (p: PlatformProfile) => p.keycloak.image.slice(p.keycloak.image.lastIndexOf(':') + 1);

export interface LocalPlatform {
  profile: PlatformProfile;
  keycloak: string;
  postgresMajor: number;
  /** What the local target runs other than the profile says, each with its reason. */
  declared: string[];
}

/** What the local target takes from the profile (HARNESS_PLATFORM), and what it cannot, declared. */
export function localPlatform(env: { HARNESS_PLATFORM: string; KEYCLOAK_VERSION?: string | undefined; POSTGRES_MAJOR?: number | undefined }): LocalPlatform {
  const profile = loadPlatform(env.HARNESS_PLATFORM);
  const declared: string[] = [];
  const pg = localPostgresMajor(profile, env.POSTGRES_MAJOR);
  if (pg.declared) declared.push(pg.declared);
  const keycloak = env.KEYCLOAK_VERSION ?? LOCAL_KEYCLOAK_DIST;
  const tag = keycloakImageTag(profile);
  if (keycloak !== tag && !keycloak.startsWith(`${tag}.`)) {
    declared.push(`Keycloak ${keycloak} instead of ${tag} (platform ${profile.name}): ${env.KEYCLOAK_VERSION ? 'KEYCLOAK_VERSION' : `the distribution Maven Central serves here nearest it that runs on Java 17`}`);
  }
  return { profile, keycloak, postgresMajor: pg.major, declared };
}
