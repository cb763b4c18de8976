import * as pep440 from '@renovatebot/pep440';

/**
 * Python package versions are PEP 440 versions (`3.18.0rc1`, `7.20.4.post1`, `1.0.dev2`), and the ranges the
 * harness declares (adapters, differences, leaks) are PEP 440 specifiers. Both are read by a PEP 440 library:
 * a hand-written parser drops the suffixes and orders `3.18.0rc1` after `3.18.0`.
 *
 * Ranges are written as comparators separated by spaces or commas (`>=6.0.0 <8.0.0`, `>=6.0.0,<8.0.0`).
 */

/** The range as a PEP 440 specifier set (comma-separated). */
export function specifierOf(range: string): string {
  return range.trim().split(/[\s,]+/).filter(Boolean).join(',');
}

/** Whether `range` is a PEP 440 specifier set the harness can match versions against. */
export function validRange(range: string): boolean {
  const spec = specifierOf(range);
  return spec !== '' && pep440.validRange(spec);
}

/** Whether `version` is a PEP 440 version. */
export function validVersion(version: string): boolean {
  return pep440.valid(version) !== null;
}

/**
 * Whether the version under test lies within the range. The version is what is pinned, so a pre-release is
 * placed where PEP 440 orders it (`3.18.0rc1` is below `3.18.0` and above `3.17.9`), never excluded as such.
 */
export function inRange(version: string, range: string): boolean {
  if (!validVersion(version)) throw new Error(`${version} is not a PEP 440 version`);
  const spec = specifierOf(range);
  if (!validRange(spec)) throw new Error(`${range} is not a PEP 440 version range (comparators such as ">=6.0.0 <8.0.0")`);
  return pep440.satisfies(version, spec, { prereleases: true });
}

/** PEP 440 order: negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  return pep440.compare(a, b);
}

/**
 * A final release: no pre-, dev- or local part (`3.17.2`, `1.0.post1`; not `3.18.0rc0`, `2.0.dev1`, `1.0+x`) —
 * what `pip install` picks without `--pre`, and what `latest` considers.
 */
export function isFinalRelease(version: string): boolean {
  const v = pep440.explain(version);
  return v !== null && !v.is_prerelease && !v.is_devrelease && v.local === null;
}
