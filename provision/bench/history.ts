import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { CheckTiming } from '../../conformance/timings-reporter.ts';

/** One line of reports/bench-history.jsonl: where one measured `npm test` spent its time. */
export interface BenchLine {
  at: string;
  commit: string;
  pins: string;
  phases: Record<string, number>;
  components: Record<string, number>;
  /** Wall seconds of each Playwright project (its first check's start to its last check's end). */
  projects: Record<string, number>;
  slowest: { project: string; title: string; seconds: number }[];
  /** core-seconds per process group and the wall-time floor they set (provision/bench/cpu.ts); absent before it was measured */
  cpu?: { groups: Record<string, number>; floorSeconds: number; boundBy: string };
}

const round = (x: number) => Math.round(x * 10) / 10;

/** Each project's wall time and the ten slowest checks, from check-timings.json. */
export function projectTimes(rows: CheckTiming[]): { projects: Record<string, number>; slowest: BenchLine['slowest'] } {
  const spans = new Map<string, { start: number; end: number }>();
  for (const r of rows) {
    const s = spans.get(r.project) ?? { start: Infinity, end: -Infinity };
    spans.set(r.project, { start: Math.min(s.start, r.startedAt), end: Math.max(s.end, r.startedAt + r.durationMs) });
  }
  const projects = Object.fromEntries([...spans].map(([p, s]) => [p, round((s.end - s.start) / 1000)]));
  const slowest = [...rows].sort((a, b) => b.durationMs - a.durationMs).slice(0, 10).map((r) => ({ project: r.project, title: r.title, seconds: round(r.durationMs / 1000) }));
  return { projects, slowest };
}

export function appendHistory(file: string, line: BenchLine): void {
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

export function readHistory(file: string): BenchLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l) as BenchLine];
    } catch {
      return [];
    }
  });
}

/**
 * Where the time moved between two measured runs: every phase, component and project whose seconds changed by
 * at least `min`, the largest change first, and the slowest checks of each.
 */
export function compareRuns(before: BenchLine, after: BenchLine, min = 1): string[] {
  const rows: { what: string; a: number; b: number }[] = [];
  const groups: [string, Record<string, number>, Record<string, number>][] = [['phase', before.phases, after.phases], ['component', before.components, after.components], ['project', before.projects, after.projects]];
  // CPU (core-seconds) only when both runs measured it
  if (before.cpu && after.cpu) groups.push(['cpu core-s', before.cpu.groups, after.cpu.groups]);
  for (const [group, a, b] of groups) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) rows.push({ what: `${group} ${k}`, a: a[k] ?? 0, b: b[k] ?? 0 });
  }
  const moved = rows.filter((r) => Math.abs(r.b - r.a) >= min).sort((x, y) => Math.abs(y.b - y.a) - Math.abs(x.b - x.a));
  const sign = (d: number) => (d > 0 ? `+${round(d)}` : `${round(d)}`);
  return [
    `${before.commit.slice(0, 8)} (${before.pins}, ${before.at}) → ${after.commit.slice(0, 8)} (${after.pins}, ${after.at})`,
    ...(moved.length ? moved.map((r) => `  ${r.what.padEnd(28)} ${String(round(r.a)).padStart(7)} s → ${String(round(r.b)).padStart(7)} s  (${sign(r.b - r.a)} s)`) : [`  nothing moved by ${min} s or more`]),
    '  slowest checks before:', ...before.slowest.slice(0, 5).map((c) => `    ${String(c.seconds).padStart(6)} s  [${c.project}] ${c.title.slice(0, 100)}`),
    '  slowest checks after:', ...after.slowest.slice(0, 5).map((c) => `    ${String(c.seconds).padStart(6)} s  [${c.project}] ${c.title.slice(0, 100)}`),
  ];
}
