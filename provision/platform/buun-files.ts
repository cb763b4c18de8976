import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

// Reading a buun-stack checkout as data: the `export X := env("X", "default")` lines of its justfiles, its
// gomplate value templates (the OIDC branch, template expressions blanked), the realm script's settings and the
// image's Dockerfile. Nothing of the checkout is run.

/** A buun-stack checkout; `read` returns undefined for a file the checkout does not have. */
export interface BuunTree {
  root: string;
  read(path: string): string | undefined;
}

export function buunTree(root: string): BuunTree {
  return { root, read: (p) => (existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : undefined) };
}

/** `export NAME := env("NAME", "default")` → NAME → default. */
export function justVariables(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (text ?? '').matchAll(/^export\s+([A-Z0-9_]+)\s*:=\s*env\(\s*["']\1["']\s*,\s*["']([^"']*)["']\s*\)/gm)) out[m[1]!] = m[2]!;
  return out;
}

/** The body of recipe `name` (its indented lines), or undefined. */
export function recipe(text: string | undefined, name: string): string | undefined {
  const lines = (text ?? '').split('\n');
  const start = lines.findIndex((l) => new RegExp(`^${name}(\\s|:)`).test(l));
  if (start < 0) return undefined;
  const body: string[] = [lines[start]!];
  for (const l of lines.slice(start + 1)) {
    if (l !== '' && !/^\s/.test(l)) break;
    body.push(l);
  }
  return body.join('\n');
}

/** A recipe's parameter defaults: `name a='1' b='2':` → {a: '1', b: '2'}. */
export function recipeParameters(text: string | undefined, name: string): Record<string, string> {
  const head = (recipe(text, name) ?? '').split('\n')[0] ?? '';
  const out: Record<string, string> = {};
  for (const m of head.matchAll(/([A-Za-z0-9_-]+)='([^']*)'/g)) out[m[1]!] = m[2]!;
  return out;
}

/** The `helm upgrade … <release> <chart>` command of a recipe, joined across its `\` continuations. */
export function helmCommand(text: string | undefined, release: string): string | undefined {
  const joined = (text ?? '').replace(/\\\n\s*/g, ' ');
  return joined.split('\n').find((l) => new RegExp(`helm upgrade .*--install ${release}\\s`).test(l));
}

/** The Helm wait a command uses: `legacy` for `--wait=legacy`, `wait` for `--wait`, `none` without. */
export function helmWait(command: string | undefined): 'wait' | 'legacy' | 'none' | undefined {
  if (command === undefined) return undefined;
  if (/--wait=legacy\b/.test(command)) return 'legacy';
  if (/--wait(\s|$)/.test(command)) return 'wait';
  return 'none';
}

/** `kubectl label namespace … key=value … --overwrite` of a recipe → the labels. */
export function namespaceLabels(recipeText: string | undefined): Record<string, string> {
  const joined = (recipeText ?? '').replace(/\\\n\s*/g, ' ');
  const out: Record<string, string> = {};
  for (const line of joined.split('\n').filter((l) => /kubectl label namespace/.test(l) && /--overwrite/.test(l))) {
    for (const m of line.matchAll(/(pod-security\.kubernetes\.io\/[a-z-]+)=([A-Za-z0-9.-]+)/g)) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * A gomplate template as YAML: `{{ if … }}…{{ else }}…{{ end }}` keeps its first branch (buun-stack's values put
 * the OIDC setup there), `{{ .Env.NAME … }}` becomes `<NAME>`, other expressions `TEMPLATE`; `{{ file.Read … }}` lines go.
 */
export function gomplateDocuments(text: string | undefined): Record<string, unknown>[] {
  if (text === undefined) return [];
  const kept: string[] = [];
  const stack: boolean[] = [];
  for (const line of text.split('\n')) {
    const directive = /^\s*\{\{-?\s*(if|else|end|range)\b/.exec(line)?.[1];
    if (directive === 'if' || directive === 'range') { stack.push(true); continue; }
    if (directive === 'else') { stack[stack.length - 1] = false; continue; }
    if (directive === 'end') { stack.pop(); continue; }
    if (stack.some((on) => !on)) continue;
    if (/\{\{-?\s*\$/.test(line) || /file\.Read/.test(line)) continue;
    kept.push(line.replace(/\{\{-?\s*\.Env\.(\w+)[^}]*\}\}/g, '<$1>').replace(/\{\{-?[^}]*-?\}\}/g, 'TEMPLATE'));
  }
  return parseAllDocuments(kept.join('\n')).map((d) => d.toJS() as unknown).filter((v): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v));
}

/** One YAML file (no template). */
export function yamlFile(text: string | undefined): Record<string, unknown> | undefined {
  return gomplateDocuments(text)[0];
}

/**
 * The realm settings create-realm.ts passes to `realms.create`, for the environment its recipe sets. Understands
 * what the script uses: `const x = parseInt(process.env.NAME || "default")` (or `|| y.toString()`), and property
 * values that are a name, a number, true/false, `name * n` or `Math.min(a, b)`. Anything else is reported.
 */
export function realmSettings(script: string | undefined, env: Record<string, string>): { settings: Record<string, number | boolean>; unread: string[] } {
  const vars: Record<string, number> = {};
  for (const m of (script ?? '').matchAll(/const\s+(\w+)\s*=\s*parseInt\(\s*(?:\n\s*)?process\.env\.(\w+)\s*\|\|\s*(?:"(\d+)"|(\w+)\.toString\(\))\s*\)/g)) {
    const fromEnv = env[m[2]!];
    vars[m[1]!] = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : m[3] !== undefined ? Number(m[3]) : vars[m[4]!] ?? NaN;
  }
  const body = /realms\.create\(\{([\s\S]*?)\}\)/.exec(script ?? '')?.[1] ?? '';
  const settings: Record<string, number | boolean> = {};
  const unread: string[] = [];
  const value = (expr: string): number | boolean | undefined => {
    const e = expr.trim();
    if (/^\d+$/.test(e)) return Number(e);
    if (e === 'true' || e === 'false') return e === 'true';
    if (/^\w+$/.test(e)) return vars[e];
    const times = /^(\w+)\s*\*\s*(\d+)$/.exec(e);
    if (times) return vars[times[1]!] === undefined ? undefined : vars[times[1]!]! * Number(times[2]);
    const min = /^Math\.min\((.+),(.+)\)$/.exec(e);
    if (min) {
      const a = value(min[1]!);
      const b = value(min[2]!);
      return typeof a === 'number' && typeof b === 'number' ? Math.min(a, b) : undefined;
    }
    return undefined;
  };
  for (const line of body.split('\n')) {
    const m = /^\s*(\w+)\s*:\s*(.+?),?\s*(\/\/.*)?$/.exec(line);
    if (!m || m[1] === 'realm' || m[1] === 'enabled') continue;
    const v = value(m[2]!);
    if (v === undefined) unread.push(`${m[1]}: ${m[2]}`);
    else settings[m[1]!] = v;
  }
  return { settings, unread };
}

/** `FROM image:tag` and `package==version` pins of a Dockerfile. */
export function dockerfilePins(text: string | undefined): { from?: string; packages: Record<string, string> } {
  const from = /^FROM\s+(\S+)/m.exec(text ?? '')?.[1];
  const packages: Record<string, string> = {};
  for (const m of (text ?? '').matchAll(/([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([0-9][^\s\\]*)/g)) packages[m[1]!.toLowerCase()] = m[2]!;
  return { ...(from ? { from } : {}), packages };
}

/** `tool = "version"` of mise.toml. */
export function miseTool(text: string | undefined, tool: string): string | undefined {
  return new RegExp(`^${tool}\\s*=\\s*"([^"]+)"`, 'm').exec(text ?? '')?.[1];
}
