import { z } from 'zod';
import { HarnessError } from '../errors.ts';

/**
 * The two moments that fix an image's Python packages: the day its base image was built (`baseBuiltOn`) and the
 * day the team built its own layer on top (`builtOn`). Packages are resolved as PyPI served them at the end of
 * that day (UTC): uploaded before the next midnight.
 */
export const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date such as 2025-11-09').refine(
  (s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
  'a real calendar date',
);

export interface BuildDates {
  /** The day the base image (burakince/mlflow:<v>) was built. */
  baseBuiltOn: string;
  /** The day the team's image (the Dockerfile's `pip install` layer) was built. */
  builtOn: string;
  /** Where each date comes from, for status and reports. */
  sources: { baseBuiltOn: string; builtOn: string };
}

/** Today's date (UTC), e.g. 2026-12-05. */
export const today = (now = new Date()) => now.toISOString().slice(0, 10);

/** The RFC 3339 instant before which a package must have been uploaded to count as served on `date`. */
export function cutoff(date: string): string {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + 24 * 3600 * 1000);
  return next.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A date given by a person (a pin set, HARNESS_RESOLVE_AS_OF): a real date, not in the future. */
export function checkDate(value: string, what: string, now = new Date()): string {
  if (!IsoDate.safeParse(value).success) {
    throw new HarnessError(`${what} is \`${value}\`, not a date`, 'write it as YYYY-MM-DD (e.g. 2025-11-09), or `now`');
  }
  if (value > today(now)) {
    throw new HarnessError(`${what} is ${value}, which is in the future (today is ${today(now)})`, 'give the day the image was (or is) built');
  }
  return value;
}

/**
 * HARNESS_RESOLVE_AS_OF=<date>|now: both dates of every pin set are this one (a team that rebuilds its image
 * today), or undefined when unset.
 */
export function resolveAsOf(env: NodeJS.ProcessEnv = process.env, now = new Date()): string | undefined {
  const v = env.HARNESS_RESOLVE_AS_OF?.trim();
  if (!v) return undefined;
  return v === 'now' ? today(now) : checkDate(v, 'HARNESS_RESOLVE_AS_OF', now);
}
