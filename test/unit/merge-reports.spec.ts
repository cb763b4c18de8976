import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { mergeReports } from '../../provision/commands/merge-reports.ts';
import { HarnessError } from '../../provision/errors.ts';
import { projectRoot } from '../../provision/paths.ts';
import { EXPECTED_FILE, shardPhases, summarizeShards, takeShard, writeShardRecord, type ExpectedCheck } from '../../provision/shards.ts';

test('--shard is taken out of the arguments and checked; the last shard also runs realm, cluster and lifecycle', () => {
  expect(takeShard(['--shard=2/3', '--grep', 'x'])).toEqual({ shard: { current: 2, total: 3 }, rest: ['--grep', 'x'] });
  expect(takeShard(['--shard', '1/1']).shard).toEqual({ current: 1, total: 1 });
  expect(takeShard(['--workers=1'])).toEqual({ rest: ['--workers=1'] });
  for (const bad of ['--shard=4/3', '--shard=0/2', '--shard=a/b', '--shard=1']) expect(() => takeShard([bad])).toThrow(/is not a shard/);
  expect(() => takeShard(['--shard=1/2', '--project=api'])).toThrow(HarnessError);
  expect(shardPhases({ current: 1, total: 3 }).map((p) => p.args)).toEqual([['--project=setup', '--project=api', '--project=browser', '--shard=1/3']]);
  expect(shardPhases({ current: 3, total: 3 }).map((p) => p.args)[1]).toEqual(['--project=realm', '--project=cluster', '--project=lifecycle', '--no-deps']);
});

test('shard folders that do not belong together are named', () => {
  const rec = (current: number, total: number, pins = 'seed') => ({ shard: { current, total }, pins, target: 'local', phases: [], exitCode: 0, startedAt: '', seconds: {} });
  const s = summarizeShards([{ dir: 'a', record: rec(1, 3) }, { dir: 'b', record: rec(1, 3) }, { dir: 'c', record: rec(2, 2, 'newest') }]);
  expect(s.conflicts.join('\n')).toMatch(/b: shard 1 again \(also a\)[\s\S]*c: shard 2\/2, the others are of 3[\s\S]*c: pin set newest/);
  expect(s.missing).toEqual([3]);
});

/**
 * A fixture suite with the project names of the real one, run in two shards with the project's own conformance
 * reporter and blob reports, then merged: whole, and with one shard missing.
 */
test('merge-reports: two shards give the claims of one run; a missing shard leaves its claims partial and the run unjudgeable', async () => {
  test.setTimeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'harness-shards-'));
  const specs = join(dir, 'specs');
  mkdirSync(specs);
  // the fixture's config and specs import @playwright/test from the project's modules
  symlinkSync(join(projectRoot, 'node_modules'), join(dir, 'node_modules'));
  const checks = ['[C01] one', '[C01] two', '[C02] three', '[C02] four'];
  writeFileSync(join(specs, 'a.api.spec.ts'), `import { test } from '@playwright/test';\n${checks.map((t) => `test(${JSON.stringify(t)}, async () => {});`).join('\n')}\n`);
  const pins = { name: 'seed', mlflow: '3.6.0', mlflowOidcAuth: '5.6.1' };
  const config = join(dir, 'fixture.config.ts');
  writeFileSync(config, `import { defineConfig } from '@playwright/test';
const out = process.env.HARNESS_REPORT_DIR ?? '${dir}/out';
export default defineConfig({
  testDir: '${specs}', fullyParallel: true, workers: 1,
  reporter: [['${join(projectRoot, 'conformance', 'reporter.ts')}', { outputDir: out }], ...(process.env.HARNESS_BLOB_FILE ? [['blob', { outputFile: process.env.HARNESS_BLOB_FILE }] as const] : [])],
  projects: ['api', 'browser', 'realm', 'lifecycle', 'cluster'].map((name) => ({ name, testMatch: new RegExp('\\\\.' + name + '\\\\.spec\\\\.ts$'), metadata: { target: 'local', pins: ${JSON.stringify(pins)} } })),
});
`);
  const expected: ExpectedCheck[] = checks.map((t) => ({ project: 'api', file: relative(projectRoot, join(specs, 'a.api.spec.ts')), titles: [t] }));
  const shardDirs: string[] = [];
  for (const current of [1, 2]) {
    const sd = join(dir, `shard${current}`);
    mkdirSync(join(sd, 'blob'), { recursive: true });
    const blob = `blob/shard${current}.zip`;
    const r = await execa('npx', ['playwright', 'test', '-c', config, '--project=api', `--shard=${current}/2`], { cwd: projectRoot, reject: false, env: { HARNESS_BLOB_FILE: join(sd, blob), HARNESS_REPORT_DIR: join(sd, 'phase-1') } });
    writeShardRecord(sd, { shard: { current, total: 2 }, pins: 'seed', target: 'local', phases: [{ name: 'parallel projects', exitCode: r.exitCode ?? 1, status: 'passed', blob }], exitCode: 0, startedAt: new Date().toISOString(), seconds: {} });
    writeFileSync(join(sd, EXPECTED_FILE), JSON.stringify(expected));
    shardDirs.push(sd);
  }
  const merged = async (dirs: string[], out: string) => {
    const saved = { ...process.env };
    Object.assign(process.env, { HARNESS_MERGE_CONFIG: config, HARNESS_REPORT_DIR: out, HARNESS_QUIET: '1' });
    try {
      const code = await mergeReports(dirs);
      return { code, report: JSON.parse(readFileSync(join(out, 'conformance.json'), 'utf8')) as { shards: { missing: number[] }; problems: string[]; claims: { id: string; verdict: string; checks: { title: string; status: string }[] }[] } };
    } finally {
      process.env = saved;
    }
  };
  const claim = (r: Awaited<ReturnType<typeof merged>>['report'], id: string) => r.claims.find((c) => c.id === id)!;

  const whole = await merged(shardDirs, join(dir, 'merged'));
  expect(whole.report.shards.missing).toEqual([]);
  expect(claim(whole.report, 'C01')).toMatchObject({ verdict: 'passed' });
  expect(claim(whole.report, 'C01').checks.map((c) => c.title).sort()).toEqual(['[C01] one', '[C01] two']);
  expect(claim(whole.report, 'C02')).toMatchObject({ verdict: 'passed' });

  // the second shard's folder is named but holds nothing (its runner failed before its checks)
  const half = await merged([shardDirs[0]!, join(dir, 'no-such-shard')], join(dir, 'half'));
  expect(half.code, 'a missing shard: the run cannot be judged').toBe(2);
  expect(half.report.problems).toContain('shard 2/2 is missing: its checks did not run');
  const verdicts = ['C01', 'C02'].map((id) => claim(half.report, id).verdict);
  // whichever claim lost checks with the missing shard is not green
  expect(verdicts.every((v) => v === 'passed')).toBe(false);
  expect(verdicts.filter((v) => v !== 'passed').every((v) => v === 'partial' || v === 'uncovered')).toBe(true);
});
