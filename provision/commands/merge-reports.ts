import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../errors.ts';
import { projectRoot } from '../paths.ts';
import { info } from '../progress.ts';
import { EXPECTED_FILE, readShardRecord, shardFile, summarizeShards, type ShardSummary } from '../shards.ts';

/**
 * `npm run merge-reports -- <dir>…`: the reports of `npm test -- --shard=i/n` runs (one folder each) merged into one
 * run's: Playwright's blob reports are replayed through the project's own reporters (HTML, JUnit, conformance,
 * permissions, …), so a claim's verdict is taken from all of its checks, whichever shard ran them. A missing or
 * failed shard is reported as such: the checks it should have run count as not run, never as green.
 * Exit 0: every shard ran and passed and no claim failed; 1: a claim failed; 2: the run cannot be judged (a shard
 * missing, failed to provision, or folders that do not belong together).
 */
export async function mergeReports(args: string[]): Promise<number> {
  const dirs = args.filter((a) => !a.startsWith('--')).map((d) => resolve(d));
  const out = resolve(projectRoot, process.env.HARNESS_REPORT_DIR ?? 'reports');
  // a folder without a shard record (its runner never got that far) is a missing shard, named here
  const records = dirs.flatMap((dir) => {
    if (existsSync(shardFile(dir))) return [{ dir, record: readShardRecord(dir) }];
    info(`✖ ${dir}: no shard.json (the shard did not run, or did not get as far as its checks): counted as missing`);
    return [];
  });
  if (records.length === 0) throw new HarnessError('None of the folders holds a shard\'s reports', 'give the report folders written by `npm test -- --shard=i/n` (HARNESS_REPORT_DIR)', 2);
  const summary = summarizeShards(records);
  for (const c of summary.conflicts) info(`✖ ${c}`);
  if (summary.conflicts.length) throw new HarnessError('The folders are not the shards of one run', 'give the report folders of one `npm test -- --shard=i/n` run, each once', 2);

  const blobs = mkdtempSync(join(tmpdir(), 'harness-blobs-'));
  try {
    for (const { dir, record } of records) {
      for (const p of record.phases) {
        if (!p.blob) continue;
        const f = join(dir, p.blob);
        if (!existsSync(f)) throw new HarnessError(`${f} is missing (recorded by ${join(dir, 'shard.json')})`, 'copy the whole report folder of each shard');
        copyFileSync(f, join(blobs, `shard${record.shard.current}-${basename(f)}`));
      }
    }
    // the checks the whole run would have (each shard listed them against its stack): what a missing shard's
    // absence means, check by check
    const lists = records.map(({ dir }) => join(dir, EXPECTED_FILE)).filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8'));
    if (new Set(lists).size > 1) throw new HarnessError('The shards list different checks (other pins, target or code)', 'give the report folders of one run', 2);
    const expectedFile = join(blobs, '..', `${basename(blobs)}-expected.json`);
    writeFileSync(expectedFile, lists[0] ?? '[]');
    mkdirSync(out, { recursive: true });
    // the project's own reporters (HARNESS_MERGE_CONFIG: another config, for the unit test's fixture runs)
    const config = process.env.HARNESS_MERGE_CONFIG ?? 'playwright.config.ts';
    const r = await execa('npx', ['playwright', 'merge-reports', '--config', config, blobs], {
      cwd: projectRoot,
      reject: false,
      stdout: 'inherit',
      stderr: 'inherit',
      env: { HARNESS_REPORT_DIR: out, HARNESS_SHARDS: JSON.stringify(summary), HARNESS_EXPECTED_CHECKS: expectedFile },
    });
    rmSync(expectedFile, { force: true });
    // where each shard's time went; the run's wall time is its slowest shard's
    const shards = records.map(({ record }) => ({ shard: record.shard.current, ...record.seconds })).sort((a, b) => a.shard - b.shard);
    const wall = Math.max(...shards.map((x) => (x.provision ?? 0) + (x.suite ?? 0) + (x.teardown ?? 0)));
    writeFileSync(join(out, 'timings.json'), `${JSON.stringify({ sharded: { total: summary.total, missing: summary.missing, shards, wallSeconds: Math.round(wall * 10) / 10 } }, null, 2)}\n`);
    report(summary);
    if (summary.missing.length || summary.failed.some((f) => /error|not-run/.test(f.how))) return 2;
    return r.exitCode === 0 && summary.failed.length === 0 ? 0 : 1;
  } finally {
    rmSync(blobs, { recursive: true, force: true });
  }
}

function report(s: ShardSummary): void {
  info(`Shards: ${s.present.length} of ${s.total} merged${s.missing.length ? `; MISSING ${s.missing.join(', ')} — their checks are reported as not run` : ''}`);
  for (const f of s.failed) info(`  ✖ shard ${f.shard}/${s.total}: ${f.how}`);
}
