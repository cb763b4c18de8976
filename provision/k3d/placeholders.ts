import { readFileSync } from 'node:fs';

/**
 * Placeholders in plan steps. `<secret:name>` stands for a secret of the stack (filled from the state folder's
 * secrets when the step runs, never printed); `<file:path>` for the text of a non-secret file (a certificate),
 * kept out of the printed plan because it is long.
 */
export const secret = (name: SecretName) => `<secret:${name}>`;
export const fileText = (path: string) => `<file:${path}>`;

/** The secrets a plan may name: the stack's generated secrets plus the TLS private key. */
export type SecretName = 'postgresSuperuser' | 'postgresMlflow' | 's3AccessKey' | 's3SecretKey' | 'keycloakAdmin' | 'clientSecret' | 'tlsKey';

const PATTERN = /<(secret|file):([^>]+)>/g;

/** Replaces every placeholder; an unknown secret name is a programming error. */
export function fill(text: string, secrets: Partial<Record<SecretName, string>>, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): string {
  return text.replace(PATTERN, (_, type: string, name: string) => {
    if (type === 'file') return read(name);
    const value = secrets[name as SecretName];
    if (value === undefined) throw new Error(`no value for placeholder <secret:${name}>`);
    return value;
  });
}

/** `fill` on every string inside a manifest, before it is rendered: a multi-line PEM then stays valid YAML. */
export function fillObject<T>(value: T, secrets: Partial<Record<SecretName, string>>, read?: (path: string) => string): T {
  if (typeof value === 'string') return fill(value, secrets, read) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => fillObject(v, secrets, read)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillObject(v, secrets, read)])) as T;
  return value;
}

/** Replaces every secret value in `text` by its placeholder (command output, errors and logs the harness writes). */
export function redactSecrets(text: string, secrets: Record<string, string | undefined>): string {
  let out = text;
  const entries = Object.entries(secrets).filter(([, v]) => typeof v === 'string' && v.length >= 8) as [string, string][];
  for (const [name, value] of entries.sort((a, b) => b[1].length - a[1].length)) out = out.split(value).join(`<secret:${name}>`);
  return out;
}
