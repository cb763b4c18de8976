import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { appendHistory, compareRuns, projectTimes, readHistory, type BenchLine } from '../../provision/bench/history.ts';
import { classify, cpuFloor, startCpuSampler } from '../../provision/bench/cpu.ts';

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

test('bench CPU: processes are grouped by what they are; the floor is the busier of all cores and the MLflow server alone', () => {
  const venv = '/root/.cache/mlflow-oidc-harness/venv/mlflow-3.6.0-oidc-5.6.1-py3.13.0-x/bin/python';
  expect(classify(`${venv} ${venv.replace('python', 'mlflow')} server --host=127.0.0.1`)).toBe('mlflow server');
  expect(classify(`${venv} -m uvicorn --host 127.0.0.1 --workers 1 mlflow_oidc_auth.app:app`)).toBe('mlflow server');
  // the clients run from the same venv, whose path names the plugin: a client is not the server
  expect(classify(`${venv} /work/main/fixtures/python/log_run.py exp payload`)).toBe('python client');
  expect(classify(`${venv} /work/main/fixtures/python/route_inventory.py mlflow_oidc_auth.app:app`)).toBe('python client');
  expect(classify('java -Dkc.home.dir=/root/.cache/mlflow-oidc-harness/keycloak/26.4.0/keycloak-26.4.0/bin/.. io.quarkus')).toBe('keycloak');
  expect(classify('postgres: mlflow mlflow 127.0.0.1(59446) idle')).toBe('postgres');
  expect(classify('/usr/lib/chromium/chromium --type=renderer')).toBe('chromium');
  expect(classify('node /work/main/node_modules/.bin/playwright test')).toBe('node (runner, checks)');

  // the server's own CPU bounds the run when it exceeds everything spread over the cores
  expect(cpuFloor({ 'mlflow server': 130, keycloak: 50, chromium: 22 }, 2)).toEqual({ floorSeconds: 130, boundBy: 'the MLflow server', totalCoreSeconds: 202 });
  expect(cpuFloor({ 'mlflow server': 100, keycloak: 60, chromium: 60 }, 2)).toEqual({ floorSeconds: 110, boundBy: 'all cores busy', totalCoreSeconds: 220 });

  // a sampler measures this very process's work
  const sampler = startCpuSampler(50);
  const until = Date.now() + 400;
  while (Date.now() < until) Math.sqrt(Math.random());
  const usage = sampler.stop();
  if (process.platform === 'linux') {
    expect(usage!.totalCoreSeconds).toBeGreaterThan(0.1);
    expect(usage!.groups['node (runner, checks)']).toBeGreaterThan(0.1);
  }
});
