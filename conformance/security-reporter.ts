import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCase, TestResult } from '@playwright/test/reporter';
import { buildSecurityReport, renderSecurityHtml, type CheckTime, type RoutesSection, type ShapeRow, type TokenRow, type UnauthenticatedRow } from './security/report.ts';
import { FileReporter } from './file-reporter.ts';

/** The annotations the security checks record (specs/support/security.ts, specs/security/routes.api.spec.ts). */
export const SECURITY_ANNOTATIONS = ['security-token', 'security-shape', 'security-routes', 'security-unauthenticated'];

/**
 * Collects the adversarial checks' results and writes `<reports>/security.json` and `<reports>/security.html`.
 * Writes nothing when no such check ran.
 */
export default class SecurityReporter extends FileReporter {
  private tokens = new Map<string, TokenRow>();
  private shapes = new Map<string, ShapeRow>();
  private routes: RoutesSection | null = null;
  private unauthenticated = new Map<string, UnauthenticatedRow>();
  private checks = new Map<string, CheckTime>();

  onTestEnd(test: TestCase, result: TestResult): void {
    let mine = false;
    // a retried check keeps only its last result: later rows replace earlier ones of the same key
    for (const a of result.annotations) {
      if (!a.description || !SECURITY_ANNOTATIONS.includes(a.type)) continue;
      mine = true;
      const row = JSON.parse(a.description) as Record<string, unknown>;
      if (a.type === 'security-token') this.tokens.set(`${String(row.attack)} ${String(row.via)}`, row as unknown as TokenRow);
      else if (a.type === 'security-shape') this.shapes.set(`${String(row.route)} ${String(row.variant)}`, row as unknown as ShapeRow);
      else if (a.type === 'security-routes') this.routes = row as unknown as RoutesSection;
      else this.unauthenticated.set(String(row.route), row as unknown as UnauthenticatedRow);
    }
    if (mine || test.location.file.includes('/specs/security/')) {
      this.checks.set(test.titlePath().join(' › '), { title: test.title, status: result.status, seconds: Math.round(result.duration / 100) / 10 });
    }
  }

  onEnd(): void {
    if (this.checks.size === 0) return;
    const report = buildSecurityReport({ pins: this.pins, tokens: [...this.tokens.values()], shapes: [...this.shapes.values()], routes: this.routes, unauthenticated: [...this.unauthenticated.values()], checks: [...this.checks.values()] });
    mkdirSync(this.outDir, { recursive: true });
    writeFileSync(join(this.outDir, 'security.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(this.outDir, 'security.html'), renderSecurityHtml(report));
    const s = report.summary;
    process.stdout.write(`Security: ${s.tokensAccepted}/${s.tokenAttacks} token attacks work (${s.tokensDeclared} declared), ${s.shapesAccepted}/${s.shapes} request shapes get through, routes ${s.routesProbed} probed + ${s.routesDeclared} declared of ${s.routes} (${s.routesUncovered} uncovered), ${s.unauthenticatedAnswered} answered without credentials; checks ${s.checkSeconds} s — ${join(this.outDir, 'security.html')}\n`);
  }
}
