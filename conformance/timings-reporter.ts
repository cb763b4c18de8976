import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FullResult, TestCase, TestResult } from '@playwright/test/reporter';
import { FileReporter } from './file-reporter.ts';

/** One check's timing: when it started and how long it took (its last attempt). */
export interface CheckTiming {
  project: string;
  title: string;
  startedAt: number;
  durationMs: number;
  status: string;
}

/**
 * Writes <reports>/check-timings.json: every check's start and duration, so `npm run bench` can tell each project's
 * wall time and the slowest checks.
 */
export default class TimingsReporter extends FileReporter {
  private rows = new Map<string, CheckTiming>();

  onTestEnd(test: TestCase, result: TestResult): void {
    const project = test.parent.project()?.name ?? '';
    this.rows.set(`${project}|${test.id}`, { project, title: test.title, startedAt: result.startTime.getTime(), durationMs: result.duration, status: result.status });
  }

  onEnd(_result: FullResult): void {
    if (this.rows.size === 0) return;
    mkdirSync(this.outDir, { recursive: true });
    writeFileSync(join(this.outDir, 'check-timings.json'), `${JSON.stringify([...this.rows.values()], null, 1)}\n`);
  }
}
