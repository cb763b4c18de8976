import { satisfies, validRange } from '@renovatebot/pep440';

/**
 * Version ranges of the security declarations, in PEP 440's specifier syntax (`>=3.0.0,<7.12.2`), matched with
 * @renovatebot/pep440 — the syntax Python packages (the plugin, MLflow, Authlib) publish their own ranges in.
 */

/** A PEP 440 specifier set; a malformed one is refused in one line naming where it was written. */
export function checkRange(range: string, where: string): string {
  if (!validRange(range)) throw new Error(`${where}: "${range}" is not a PEP 440 version range (write e.g. ">=3.0.0,<7.12.2")`);
  return range;
}

/** Whether the version satisfies the range (an absent version never does). */
export function inPep440Range(version: string | undefined, range: string): boolean {
  return version !== undefined && satisfies(version, range);
}

/** Package names compare as PyPI does: case-insensitive, `-`, `_` and `.` alike. */
export const packageKey = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');
