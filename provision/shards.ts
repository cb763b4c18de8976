import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { z } from 'zod';
import { HarnessError } from './errors.ts';

/**
 * Sharding the suite across CI runners (`npm test -- --shard=i/n`): each runner provisions its own stack and runs
 * its part. Playwright runs every test of a dependency project in each shard that needs it, so the projects that
 * depend on the parallel ones (realm, cluster, lifecycle — they change the live stack after everything else) are
 * not sharded with them: phase 1 shards setup, api and browser (setup runs in full on every runner, as a
 * dependency); phase 2 runs realm, cluster and lifecycle on the last runner only, after its phase 1 passed.
 */
export interface Shard {
  current: number;
  total: number;
}

export const PARALLEL_PROJECTS = ['setup', 'api', 'browser'];
export const LAST_SHARD_PROJECTS = ['realm', 'cluster', 'lifecycle'];

/** `--shard=i/n` (or `--shard i/n`) taken out of the arguments; the rest go to Playwright. */
export function takeShard(args: string[]): { shard?: Shard; rest: string[] } {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--shard') value = args[++i] ?? '';
    else if (a.startsWith('--shard=')) value = a.slice('--shard='.length);
    else rest.push(a);
  }
  if (value === undefined) return { rest };
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const current = Number(m?.[1]);
  const total = Number(m?.[2]);
  if (!m || current < 1 || total < 1 || current > total) {
    throw new HarnessError(`--shard=${value} is not a shard`, 'write --shard=<i>/<n> with 1 ≤ i ≤ n, e.g. --shard=2/3');
  }
  if (rest.some((a) => a.startsWith('--project'))) {
    throw new HarnessError('--shard cannot be combined with --project', 'a shard runs its part of every project; drop --project');
  }
  return { shard: { current, total }, rest };
}

/** The Playwright invocations of one shard: [arguments, what they are] in order. */
export function shardPhases(s: Shard): { name: string; args: string[] }[] {
  const phases = [{ name: 'parallel projects', args: [...PARALLEL_PROJECTS.map((p) => `--project=${p}`), `--shard=${s.current}/${s.total}`] }];
  if (s.current === s.total) phases.push({ name: 'realm, cluster and lifecycle (last shard)', args: [...LAST_SHARD_PROJECTS.map((p) => `--project=${p}`), '--no-deps'] });
  return phases;
}

/** What a shard leaves next to its reports for `merge-reports`: which shard, how it ended, the blob reports it wrote. */
export const ShardRecord = z.object({
  shard: z.object({ current: z.number().int().min(1), total: z.number().int().min(1) }),
  pins: z.string(),
  target: z.string(),
  /** `passed`, `failed` (a check failed), `not-run` (a phase skipped after its shard's phase 1 failed) or `error` (provisioning or the runner failed). */
  phases: z.array(z.object({ name: z.string(), exitCode: z.number().int().nullable(), status: z.enum(['passed', 'failed', 'not-run', 'error']), blob: z.string().optional() })),
  exitCode: z.number().int(),
  startedAt: z.string(),
  seconds: z.object({ provision: z.number(), suite: z.number(), teardown: z.number() }).partial(),
});
export type ShardRecord = z.infer<typeof ShardRecord>;

export const shardFile = (dir: string) => join(dir, 'shard.json');

export function writeShardRecord(dir: string, r: ShardRecord): void {
  writeFileSync(shardFile(dir), `${JSON.stringify(r, null, 2)}\n`);
}

/** Reads a shard's record; one line naming the folder when it has none or it is not one. */
export function readShardRecord(dir: string): ShardRecord {
  const f = shardFile(dir);
  if (!existsSync(f)) throw new HarnessError(`${dir} holds no shard.json`, 'give the report folders written by `npm test -- --shard=i/n` (HARNESS_REPORT_DIR)');
  const r = ShardRecord.safeParse(JSON.parse(readFileSync(f, 'utf8')));
  if (!r.success) throw new HarnessError(`${f} is not a shard record: ${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
  return r.data;
}

export interface ShardSummary {
  total: number;
  present: number[];
  missing: number[];
  /** Shards whose run did not pass, with how it ended. */
  failed: { shard: number; how: string }[];
  /** Folders that record the same shard twice, or another total or pin set. */
  conflicts: string[];
}

/** Which shards of `total` are here, missing or failed; inconsistent folders are named. */
export function summarizeShards(records: { dir: string; record: ShardRecord }[]): ShardSummary {
  if (records.length === 0) throw new HarnessError('No shard folders given', 'npm run merge-reports -- <shard 1 reports> <shard 2 reports> …');
  const first = records[0]!.record;
  const total = Math.max(...records.map((r) => r.record.shard.total));
  const conflicts: string[] = [];
  const seen = new Map<number, string>();
  for (const { dir, record } of records) {
    if (record.shard.total !== first.shard.total) conflicts.push(`${dir}: shard ${record.shard.current}/${record.shard.total}, the others are of ${first.shard.total}`);
    if (record.pins !== first.pins) conflicts.push(`${dir}: pin set ${record.pins}, the others ran ${first.pins}`);
    const dup = seen.get(record.shard.current);
    if (dup) conflicts.push(`${dir}: shard ${record.shard.current} again (also ${dup})`);
    seen.set(record.shard.current, dir);
  }
  const present = [...seen.keys()].sort((a, b) => a - b);
  const missing = Array.from({ length: total }, (_, i) => i + 1).filter((i) => !seen.has(i));
  const failed = records
    .filter(({ record }) => record.exitCode !== 0 || record.phases.some((p) => p.status !== 'passed'))
    .map(({ record }) => ({ shard: record.shard.current, how: record.phases.filter((p) => p.status !== 'passed').map((p) => `${p.name}: ${p.status}${p.exitCode !== null ? ` (exit ${p.exitCode})` : ''}`).join('; ') || `exit ${record.exitCode}` }));
  return { total, present, missing, failed, conflicts };
}

/** A check the whole run has: its project, its spec file, its titles below the file, its explicit id. */
export interface ExpectedCheck { project: string; file: string; titles: string[]; checkId?: string }

/** Where a shard keeps the list of every check of the whole run (against its stack), for merge-reports. */
export const EXPECTED_FILE = 'expected-checks.json';

interface ListSuite { title: string; file?: string; specs?: { title: string; file?: string; tests?: { projectName: string; annotations?: { type: string; description?: string }[] }[] }[]; suites?: ListSuite[] }

/** Every check of the spec projects (`playwright test --list`, against the stack that is up). */
export async function listChecks(cwd: string, env: Record<string, string>): Promise<ExpectedCheck[]> {
  const projects = [...PARALLEL_PROJECTS, ...LAST_SHARD_PROJECTS].filter((p) => p !== 'setup');
  const r = await execa('npx', ['playwright', 'test', '--list', '--reporter=json', ...projects.map((p) => `--project=${p}`)], { cwd, reject: false, env });
  const json = JSON.parse(String(r.stdout || '{}')) as { suites?: ListSuite[]; errors?: { message?: string }[] };
  if (r.exitCode !== 0 || !json.suites) throw new HarnessError(`Cannot list the suite's checks: ${json.errors?.[0]?.message?.split('\n')[0] ?? String(r.stderr).trim().split('\n').pop()}`);
  const out: ExpectedCheck[] = [];
  const walk = (s: ListSuite, file: string, titles: string[]) => {
    for (const spec of s.specs ?? []) {
      for (const t of spec.tests ?? []) {
        const id = t.annotations?.find((a) => a.type === 'check-id')?.description;
        out.push({ project: t.projectName, file: spec.file ?? file, titles: [...titles, spec.title], ...(id ? { checkId: id } : {}) });
      }
    }
    for (const c of s.suites ?? []) walk(c, c.file ?? file, [...titles, c.title]);
  };
  // the top suites are the spec files: their titles are the files, not describe blocks
  for (const top of json.suites) walk({ ...top, suites: top.suites }, top.file ?? top.title, []);
  return out;
}

/** In `merge-reports`: which shards were merged (the conformance reporter records it and fails on a gap). */
export function readMergedSummary(env: NodeJS.ProcessEnv = process.env): ShardSummary | undefined {
  return env.HARNESS_SHARDS ? (JSON.parse(env.HARNESS_SHARDS) as ShardSummary) : undefined;
}

/** In `merge-reports`: every check the whole run has, so the ones a missing shard never ran count as not run. */
export function readExpectedChecks(env: NodeJS.ProcessEnv = process.env): ExpectedCheck[] | undefined {
  const f = env.HARNESS_EXPECTED_CHECKS;
  return f && existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as ExpectedCheck[]) : undefined;
}

/** The problems a merged run has because of its shards: missing ones and ones that did not pass. */
export function shardProblems(s: ShardSummary): string[] {
  return [
    ...s.missing.map((i) => `shard ${i}/${s.total} is missing: its checks did not run`),
    ...s.failed.map((f) => `shard ${f.shard}/${s.total} did not pass: ${f.how}`),
  ];
}
