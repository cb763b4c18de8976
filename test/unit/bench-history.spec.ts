import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { appendHistory, compareRuns, projectTimes, readHistory, type BenchLine } from '../../provision/bench/history.ts';

test('bench history: project wall times and the slowest checks; --compare names what moved, largest first', () => {
  const t0 = 1_000_000;
  const rows = [
    { project: 'api', title: 'a', startedAt: t0, durationMs: 5000, status: 'passed' },
    { project: 'api', title: 'b', startedAt: t0 + 1000, durationMs: 9000, status: 'passed' },
    { project: 'browser', title: 'c', startedAt: t0 + 2000, durationMs: 3000, status: 'passed' },
  ];
  const times = projectTimes(rows);
  expect(times.projects).toEqual({ api: 10, browser: 3 });
  expect(times.slowest.map((s) => s.title)).toEqual(['b', 'a', 'c']);

  const file = join(mkdtempSync(join(tmpdir(), 'bench-')), 'bench-history.jsonl');
  const line = (commit: string, suite: number, keycloak: number): BenchLine => ({ at: '2026-12-05', commit, pins: 'seed', phases: { suite }, components: { keycloak }, ...times });
  appendHistory(file, line('aaaaaaaa1', 175, 31));
  appendHistory(file, line('bbbbbbbb2', 150, 12));
  const lines = readHistory(file);
  expect(lines.map((l) => l.commit)).toEqual(['aaaaaaaa1', 'bbbbbbbb2']);
  const out = compareRuns(lines[0]!, lines[1]!);
  expect(out[1]).toMatch(/^ {2}phase suite\s+175 s →\s+150 s {2}\(-25 s\)$/);
  expect(out[2]).toMatch(/component keycloak\s+31 s →\s+12 s {2}\(-19 s\)/);
  expect(out.join('\n')).not.toMatch(/project api/);
});
