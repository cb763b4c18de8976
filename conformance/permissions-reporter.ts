import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCase, TestResult } from '@playwright/test/reporter';
import { buildReport, renderHtml, type ReportCase, type ReportRoute } from './permissions.ts';
import { FileReporter } from './file-reporter.ts';

/**
 * Collects the permission matrix's cases and the bypass audit's routes (annotations `permission-case` and
 * `permission-route` of the checks) and writes `<reports>/permissions.json` and `<reports>/permissions.html`.
 * Writes nothing when no such check ran.
 */
export default class PermissionsReporter extends FileReporter {
  private cases = new Map<string, ReportCase>();
  private routes = new Map<string, ReportRoute>();

  onTestEnd(test: TestCase, result: TestResult): void {
    // a retried check keeps only its last result: later annotations replace earlier ones of the same id
    for (const a of result.annotations) {
      if (!a.description) continue;
      if (a.type === 'permission-case') {
        const c = JSON.parse(a.description) as ReportCase;
        this.cases.set(c.id, c);
      } else if (a.type === 'permission-route') {
        const r = JSON.parse(a.description) as ReportRoute;
        this.routes.set(r.route, r);
      }
    }
    void test;
  }

  onEnd(): void {
    if (this.cases.size === 0 && this.routes.size === 0) return;
    const report = buildReport(this.pins, [...this.cases.values()], [...this.routes.values()]);
    mkdirSync(this.outDir, { recursive: true });
    writeFileSync(join(this.outDir, 'permissions.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(this.outDir, 'permissions.html'), renderHtml(report));
    const s = report.summary!;
    process.stdout.write(`Permissions: ${s.cases} cases (${s.passed} passed, ${s.failed} failed, ${s.declared} declared), ${s.routes} routes (${s.denied} denied, ${s.filtered} filtered, ${s.leaked} leaked) — ${join(this.outDir, 'permissions.html')}\n`);
  }
}
