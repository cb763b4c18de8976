import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bumpHtml, bumpMarkdown, ConformanceReport, diffReports, exitCodeOf, type BumpReport } from '../bump/diff.ts';
import { HarnessError } from '../errors.ts';
import { reportsDir } from '../paths.ts';
import { info } from '../progress.ts';

/** Exit code of a comparison that cannot be made or judged (a missing or malformed report, a run that cannot be judged). */
export const UNJUDGED = 2;

/** Reads and validates a saved reports/conformance.json; errors name the file (exit 2: nothing can be judged). */
export function readConformance(file: string): ConformanceReport {
  if (!existsSync(file)) throw new HarnessError(`No such file: ${file}`, 'give two conformance.json files written by `npm test`', UNJUDGED);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HarnessError(`${file} is not JSON: ${(e as Error).message.split('\n')[0]}`, undefined, UNJUDGED);
  }
  const r = ConformanceReport.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new HarnessError(`${file} is not a conformance report: ${i.path.join('.') || '(root)'}: ${i.message}`, 'give a reports/conformance.json written by `npm test`', UNJUDGED);
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
  for (const c of report.changed) info(`  ${c.worse ? '⚠' : ' '} ${c.claim}: ${c.from} → ${c.to}${c.from === c.to ? ` (${c.checks.filter((k) => k.worse).length} checks worse)` : ''}`);
  for (const [side, why] of [['from', report.unjudged.from], ['to', report.unjudged.to]] as const) {
    for (const w of why) info(`✖ the ${side} run cannot be judged: ${w}`);
  }
  const code = exitCodeOf(report);
  info(code === 2 ? 'Exit 2: a run could not be judged.' : code === 1 ? 'Exit 1: some claim got worse.' : 'Exit 0: no claim got worse.');
}

/** `npm run compare -- <a.json> <b.json>`: what changed between two runs; exit 0 nothing worse, 1 a claim got worse, 2 a run cannot be judged. */
export async function compare(args: string[]): Promise<number> {
  const files = args.filter((a) => !a.startsWith('--'));
  if (files.length !== 2) throw new HarnessError('Name two conformance reports', 'npm run compare -- <yesterday/conformance.json> <today/conformance.json>', UNJUDGED);
  const report = diffReports(readConformance(files[0]!), readConformance(files[1]!));
  writeDiff(report, 'compare', `Conformance: ${files[0]} → ${files[1]}`);
  return exitCodeOf(report);
}
