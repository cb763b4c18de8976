import type { FullConfig, Reporter } from '@playwright/test/reporter';

/**
 * What the project's report-writing reporters share: the folder from their `outputDir` option (`reports` by
 * default), nothing printed for Playwright's own stdio, and the run's pin set from the projects' metadata.
 */
export abstract class FileReporter implements Reporter {
  protected readonly outDir: string;
  protected pins: unknown;

  constructor(options: { outputDir?: string } = {}) {
    this.outDir = options.outputDir ?? 'reports';
  }

  printsToStdio(): boolean {
    return false;
  }

  onBegin(config: FullConfig, ..._rest: unknown[]): void {
    this.pins = config.projects.find((p) => p.metadata?.pins)?.metadata?.pins;
  }
}
