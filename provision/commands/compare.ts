import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bumpHtml, bumpMarkdown, ConformanceReport, diffReports, type BumpReport } from '../bump/diff.ts';
import { HarnessError } from '../errors.ts';
import { reportsDir } from '../paths.ts';
import { info } from '../progress.ts';

/** Reads and validates a saved reports/conformance.json; errors name the file. */
export function readConformance(file: string): ConformanceReport {
  if (!existsSync(file)) throw new HarnessError(`No such file: ${file}`, 'give two conformance.json files written by `npm test`');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HarnessError(`${file} is not JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = ConformanceReport.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new HarnessError(`${file} is not a conformance report: ${i.path.join('.') || '(root)'}: ${i.message}`, 'give a reports/conformance.json written by `npm test`');
  }
  return r.data;
}

/** Writes <base>.json, .md and .html, and prints the changed claims. */
export function writeDiff(report: BumpReport, base: string, title: string): void {
  mkdirSync(reportsDir, { recursive: true });
  writeFileSync(join(reportsDir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(reportsDir, `${base}.md`), bumpMarkdown(report, title));
  writeFileSync(join(reportsDir, `${base}.html`), bumpHtml(report, title));
  info(`\n${title}: ${report.changed.length} claims changed verdict (${report.changed.filter((c) => c.worse).length} worse) — reports/${base}.md`);
  for (const c of report.changed) info(`  ${c.worse ? '⚠' : ' '} ${c.claim}: ${c.from} → ${c.to}`);
}

/** `npm run compare -- <a.json> <b.json>`: what changed between two runs; exit 1 when a claim got worse. */
export async function compare(args: string[]): Promise<number> {
  const files = args.filter((a) => !a.startsWith('--'));
  if (files.length !== 2) throw new HarnessError('Name two conformance reports', 'npm run compare -- <yesterday/conformance.json> <today/conformance.json>');
  const report = diffReports(readConformance(files[0]!), readConformance(files[1]!));
  writeDiff(report, 'compare', `Conformance: ${files[0]} → ${files[1]}`);
  return report.changed.some((c) => c.worse) ? 1 : 0;
}
