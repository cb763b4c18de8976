import { HarnessError } from '../errors.ts';
import type { PluginAdapter } from './adapter.ts';
import { inRange, validVersion } from '../versions/pep440.ts';
import { gen5 } from './gen5.ts';
import { gen7 } from './gen7.ts';
import { gen11 } from './gen11.ts';

export type { PluginAdapter } from './adapter.ts';

/** Every generation the harness knows, oldest first. */
export const ADAPTERS: PluginAdapter[] = [gen5, gen7, gen11];

/** Whether a version satisfies a range such as `>=6.0.0 <8.0.0` (PEP 440: `7.20.4.post1` is in it, `8.0.0rc1` is not). */
export { inRange } from '../versions/pep440.ts';

/** The adapter of an installed/pinned mlflow-oidc-auth version; an unknown generation is refused in one line. */
export function adapterFor(version: string): PluginAdapter {
  if (!validVersion(version)) throw new HarnessError(`mlflow-oidc-auth ${version} is not a PEP 440 version`, 'pin the plugin with == and a version PyPI serves');
  const found = ADAPTERS.find((a) => inRange(version, a.range));
  if (!found) {
    throw new HarnessError(`mlflow-oidc-auth ${version} belongs to no plugin generation the harness knows (${ADAPTERS.map((a) => `${a.generation}: ${a.range}`).join('; ')})`,
      `add an adapter for it under provision/plugin/ (see provision/plugin/adapter.ts) and list it in ADAPTERS`);
  }
  return found;
}
