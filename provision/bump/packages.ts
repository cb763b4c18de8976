/** A Python package whose version differs between the two sides of a bump (null: not installed on that side). */
export interface PackageChange {
  name: string;
  from: string | null;
  to: string | null;
  /** One of the versions that matter for a verdict (MLflow, the plugin, Authlib, Flask, …; see VERSION_PACKAGES). */
  key: boolean;
}

const norm = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');

/**
 * The packages that changed between two package lists (`name → version`), the key ones first, then by name.
 * `keys`: the names (any spelling) that matter for a verdict.
 */
export function diffPackages(from: Map<string, string> | Record<string, string>, to: Map<string, string> | Record<string, string>, keys: Iterable<string> = []): PackageChange[] {
  const a = new Map([...(from instanceof Map ? from : Object.entries(from))].map(([k, v]) => [norm(k), v] as const));
  const b = new Map([...(to instanceof Map ? to : Object.entries(to))].map(([k, v]) => [norm(k), v] as const));
  const important = new Set([...keys].map(norm));
  const out: PackageChange[] = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(name) ?? null;
    const y = b.get(name) ?? null;
    const missing = (v: string | null) => v === null || v === 'not installed';
    if (x === y || (missing(x) && missing(y))) continue;
    out.push({ name, from: missing(x) ? null : x, to: missing(y) ? null : y, key: important.has(name) });
  }
  return out.sort((p, q) => Number(q.key) - Number(p.key) || p.name.localeCompare(q.name));
}

/** One line per change: `Authlib 1.6.5 → 1.9.10`, `azureml-core 1.60.0.post1 → (removed)`. */
export function packageLine(c: PackageChange): string {
  return `${c.name} ${c.from ?? '(absent)'} → ${c.to ?? '(removed)'}`;
}
