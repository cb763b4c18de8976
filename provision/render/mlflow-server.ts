import type { MlflowServerSettings, StackDescription } from '../config/stack.ts';
import { publicUrl } from '../config/stack.ts';

/** Where one target puts the things the settings refer to by placeholder. */
export interface ServerPlacement {
  /** Name and port under which the server is reached inside the target (k3d: the Service; local: loopback). */
  service: string;
  servicePort: number;
  s3Endpoint: string;
}

export type Placeholders = Record<string, string>;

export function placeholders(desc: StackDescription, placement: ServerPlacement): Placeholders {
  return {
    host: desc.hosts.mlflow,
    port: String(desc.hosts.httpsPort === 443 ? 443 : desc.hosts.httpsPort),
    service: placement.service,
    servicePort: String(placement.servicePort),
    s3Endpoint: placement.s3Endpoint,
    mlflowUrl: publicUrl(desc.hosts.mlflow, desc.hosts.httpsPort),
    keycloakUrl: publicUrl(desc.hosts.keycloak, desc.hosts.httpsPort),
    realm: desc.keycloak.realm,
  };
}

/** Replaces every `{name}` with its value; an unknown placeholder is a programming error. */
export function fill(template: string, values: Placeholders): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`unknown placeholder {${name}} in "${template}"`);
    return v;
  });
}

/** `extraArgs` as the chart receives them (values are strings, keys camelCase). */
export function extraArgs(settings: MlflowServerSettings, values: Placeholders): Record<string, string> {
  return {
    allowedHosts: settings.allowedHosts.map((h) => fill(h, values)).join(','),
    appName: settings.appName,
    workers: settings.workers,
  };
}

/** `extraEnvVars` with placeholders filled. */
export function extraEnv(settings: MlflowServerSettings, values: Placeholders): Record<string, string> {
  return Object.fromEntries(Object.entries(settings.env).map(([k, v]) => [k, fill(v, values)]));
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The `mlflow server` arguments the community chart (1.8.x) renders from these settings, in its order:
 * host, port, backend store, artifacts, prometheus, then extraArgs sorted by key.
 */
export function serverArguments(
  settings: MlflowServerSettings,
  values: Placeholders,
  where: { host: string; port: number; backendStoreUri: string; prometheusDir: string },
): string[] {
  const args = ['server', `--host=${where.host}`, `--port=${where.port}`, `--backend-store-uri=${where.backendStoreUri}`];
  if (settings.proxiedArtifactStorage) {
    args.push(`--artifacts-destination=${settings.artifactsDestination}`, '--serve-artifacts');
  } else {
    args.push(`--default-artifact-root=${settings.artifactsDestination}`);
  }
  if (settings.exposePrometheus) args.push(`--expose-prometheus=${where.prometheusDir}`);
  const extra = extraArgs(settings, values);
  for (const key of Object.keys(extra).sort()) args.push(`--${kebab(key)}=${extra[key]}`);
  return args;
}
