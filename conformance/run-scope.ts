import type { FullConfig } from '@playwright/test/reporter';

/** The Playwright projects `npm test` runs against a stack (setup first, then the checks). */
export const SPEC_PROJECTS = ['setup', 'api', 'browser', 'realm', 'lifecycle', 'cluster'];
/** The projects whose checks prove claims: a run is complete only when all of them were selected. */
export const CHECK_PROJECTS = SPEC_PROJECTS.filter((p) => p !== 'setup');

/** Command-line arguments that select only some checks. */
const FILTER_ARG = /^(-g|--grep|--grep-invert|--last-failed|--only-changed|--shard|--test-list)/;
const FILE_ARG = /\.(spec|setup)\.ts(:\d+)?$|^specs\//;

/**
 * Whether this run is the whole suite: every check project selected, no grep, no file filter. Only a whole run can
 * tell that a declared difference no longer occurs or that a claim's checks did not all run; `npm run specs --
 * --project=api` is not one.
 */
export function wholeRun(selectedProjects: string[], argv: string[], grepSources: string[] = []): { whole: boolean; why?: string } {
  const missing = CHECK_PROJECTS.filter((p) => !selectedProjects.includes(p));
  if (missing.length) return { whole: false, why: `projects ${missing.join(', ')} not selected` };
  const filter = argv.find((a) => FILTER_ARG.test(a) || FILE_ARG.test(a));
  if (filter) return { whole: false, why: `filtered by ${filter}` };
  const grep = grepSources.find((g) => g !== '.*');
  if (grep) return { whole: false, why: `filtered by grep /${grep}/` };
  return { whole: true };
}

/** The projects of the run (after `--project`) and their grep patterns. */
export function selection(config: FullConfig): { projects: string[]; grep: string[] } {
  const projects = (config as FullConfig & { filteredProjects?: FullConfig['projects'] }).filteredProjects ?? config.projects;
  const grep = projects.flatMap((p) => (Array.isArray(p.grep) ? p.grep : [p.grep]).map((r) => r.source));
  return { projects: projects.map((p) => p.name), grep };
}
