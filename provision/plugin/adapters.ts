import { HarnessError } from '../errors.ts';
import type { PluginAdapter } from './adapter.ts';
import { gen5 } from './gen5.ts';
import { gen7 } from './gen7.ts';
import { gen11 } from './gen11.ts';

export type { PluginAdapter } from './adapter.ts';

/** Every generation the harness knows, oldest first. */
export const ADAPTERS: PluginAdapter[] = [gen5, gen7, gen11];

const parse = (v: string) => v.split(/[.+-]/).slice(0, 3).map((x) => Number.parseInt(x, 10) || 0);

/** Whether a version satisfies a range such as `>=6.0.0 <8.0.0` (space-separated comparators, all must hold). */
export function inRange(version: string, range: string): boolean {
  const v = parse(version);
  const cmp = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
  return range.split(' ').every((part) => {
    const m = /^(>=|<|<=|>)(\d+\.\d+\.\d+)$/.exec(part);
    if (!m) throw new Error(`bad range part ${part}`);
    const c = cmp(v, parse(m[2]!));
    return m[1] === '>=' ? c >= 0 : m[1] === '<' ? c < 0 : m[1] === '<=' ? c <= 0 : c > 0;
  });
}

/** The adapter of an installed/pinned mlflow-oidc-auth version; an unknown generation is refused in one line. */
export function adapterFor(version: string): PluginAdapter {
  const found = ADAPTERS.find((a) => inRange(version, a.range));
  if (!found) {
    throw new HarnessError(`mlflow-oidc-auth ${version} belongs to no plugin generation the harness knows (${ADAPTERS.map((a) => `${a.generation}: ${a.range}`).join('; ')})`,
      `add an adapter for it under provision/plugin/ (see provision/plugin/adapter.ts) and list it in ADAPTERS`);
  }
  return found;
}
