import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { StackDescription } from './stack.ts';

/**
 * A fault (or its fix) as a small override of the stack description. Only settings a target renders are
 * here, so a fault works on every target that can be provisioned.
 */
export const StackOverrides = z
  .object({
    mlflow: z
      .object({
        /** extraEnvVars to set; `null` removes one. Also wins over the chart's own env (e.g. AWS_SECRET_ACCESS_KEY). */
        env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string().nullable()).optional(),
        appName: z.string().optional(),
        workers: z.string().optional(),
        allowedHosts: z.array(z.string()).optional(),
        exposePrometheus: z.boolean().optional(),
        /** `--serve-artifacts` with `--artifacts-destination` (true) or `--default-artifact-root` (false). */
        proxiedArtifactStorage: z.boolean().optional(),
        /** Where artifacts go, e.g. s3://mlflow/ or another bucket. */
        artifactsDestination: z.string().regex(/^s3:\/\/[a-z0-9.-]+\/.*$/, 'an s3://<bucket>/<path> URI').optional(),
        /** What the server is given to reach PostgreSQL: another host, user or password than the stack's. */
        database: z.object({
          host: z.string().regex(/^[A-Za-z0-9.-]+$/, 'a host name or address').optional(),
          user: z.string().regex(/^[A-Za-z0-9_]+$/).optional(),
          password: z.string().min(1).optional(),
        }).strict().optional(),
      })
      .strict()
      .optional(),
    keycloak: z
      .object({
        client: z.object({
          redirectPath: z.string().optional(),
          directAccessGrantsEnabled: z.boolean().optional(),
          confidential: z.boolean().optional(),
          /** Keycloak's client secret rotated; MLflow keeps the old one. */
          secretRotated: z.boolean().optional(),
        }).strict().optional(),
        groupsScope: z
          .object({
            attachAs: z.enum(['default', 'optional', 'none']).optional(),
            mapper: z.object({ claim: z.string().optional(), fullPath: z.boolean().optional(), idToken: z.boolean().optional(), accessToken: z.boolean().optional(), userinfo: z.boolean().optional() }).strict().optional(),
          })
          .strict()
          .optional(),
        /** Realm token and session settings (seconds), e.g. accessTokenLifespan, ssoSessionIdleTimeout. */
        tokenSettings: z.record(z.string(), z.union([z.number().int().min(1), z.boolean()])).optional(),
        /** Groups added to the realm (name and description). */
        addGroups: z.array(z.object({ name: z.string().regex(/^[A-Za-z0-9_-]+$/), description: z.string().default('') }).strict()).optional(),
        /** Group membership per persona key (admin, user1, user2, outsider). */
        personaGroups: z.record(z.string(), z.array(z.string())).optional(),
      })
      .strict()
      .optional(),
    /** The TLS proxy: forwarded headers it sets (null removes one) and the certificate it serves. */
    proxy: z
      .object({
        forwardedHeaders: z.object({ proto: z.string().nullable().optional(), host: z.string().nullable().optional(), port: z.string().nullable().optional() }).strict().optional(),
        certificate: z.enum(['valid', 'expired', 'wrong-host', 'untrusted-ca']).optional(),
        /** Requests to MLflow the proxy refuses itself instead of passing them on: methods and a path pattern (RE2, as Caddy's path_regexp). */
        block: z.array(z.object({
          methods: z.array(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])).min(1),
          path: z.string().min(1).refine((p) => {
            try {
              new RegExp(p);
              return !/\(\?[=!<]/.test(p) && !p.includes('`');
            } catch {
              return false;
            }
          }, 'a regular expression without look-around or backticks (Caddy uses RE2)'),
          status: z.number().int().min(400).max(599).default(403),
        }).strict()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type StackOverrides = z.infer<typeof StackOverrides>;

/** The description with the overrides applied (a new object; the input is not changed). */
export function applyOverrides(desc: StackDescription, o: StackOverrides = {}): StackDescription {
  const d = structuredClone(desc);
  if (o.mlflow) {
    const { env, database, ...rest } = o.mlflow;
    Object.assign(d.mlflow, Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
    if (database) d.mlflow.database = { ...d.mlflow.database, ...defined(database) };
    for (const [k, v] of Object.entries(env ?? {})) {
      if (v === null) delete d.mlflow.env[k];
      else d.mlflow.env[k] = v;
    }
  }
  if (o.keycloak?.client) Object.assign(d.keycloak.client, defined(o.keycloak.client));
  if (o.keycloak?.groupsScope?.attachAs) d.keycloak.groupsScope.attachAs = o.keycloak.groupsScope.attachAs;
  if (o.keycloak?.groupsScope?.mapper) Object.assign(d.keycloak.groupsScope.mapper, defined(o.keycloak.groupsScope.mapper));
  if (o.keycloak?.tokenSettings) Object.assign(d.keycloak.tokenSettings, o.keycloak.tokenSettings);
  if (o.proxy?.forwardedHeaders) Object.assign(d.edge.forwardedHeaders, defined(o.proxy.forwardedHeaders));
  if (o.proxy?.certificate) d.edge.certificate = o.proxy.certificate;
  if (o.proxy?.block?.length) d.edge.blocked = [...(d.edge.blocked ?? []), ...o.proxy.block];
  for (const g of o.keycloak?.addGroups ?? []) if (!d.keycloak.groups.some((x) => x.name === g.name)) d.keycloak.groups.push({ name: g.name, description: g.description });
  for (const [key, groups] of Object.entries(o.keycloak?.personaGroups ?? {})) {
    const p = d.keycloak.personas.find((x) => x.key === key);
    if (!p) throw new Error(`override names unknown persona "${key}" (known: ${d.keycloak.personas.map((x) => x.key).join(', ')})`);
    p.groups = groups;
  }
  return d;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const hash = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);

/** Per-part fingerprints: a running stack is reused when `base` matches; realm and server are reconciled in place. */
export function fingerprints(desc: StackDescription): { base: string; realm: string; mlflow: string; edge: string; all: string } {
  const { keycloak, mlflow, serverSpec, edge, ...base } = desc;
  // where the server's command line comes from changes only how MLflow is started
  const parts = { base: hash(base), realm: hash(keycloak), mlflow: hash(serverSpec.from === 'harness' ? mlflow : { mlflow, serverSpec }), edge: hash(edge) };
  return { ...parts, all: hash(parts) };
}

/**
 * Checks what the schema cannot: that the personas and groups an override names exist in the description.
 * Returns the problems as `path: what is wrong (what is allowed)`, empty when the override fits.
 */
export function overrideProblems(desc: StackDescription, o: StackOverrides, path = 'overrides'): string[] {
  const problems: string[] = [];
  const personas: string[] = desc.keycloak.personas.map((p) => p.key);
  const groups = [...desc.keycloak.groups.map((g) => g.name), ...(o.keycloak?.addGroups ?? []).map((g) => g.name)];
  for (const [key, list] of Object.entries(o.keycloak?.personaGroups ?? {})) {
    if (!personas.includes(key)) problems.push(`${path}.keycloak.personaGroups.${key}: unknown persona "${key}" (personas: ${personas.join(', ')})`);
    for (const g of list) if (!groups.includes(g)) problems.push(`${path}.keycloak.personaGroups.${key}: unknown group "${g}" (groups: ${groups.join(', ')})`);
  }
  return problems;
}
