import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { loadHarnessEnv } from '../config/env.ts';
import { loadPinSet } from '../config/pin-sets.ts';
import { describeStack } from '../config/stack.ts';
import { HarnessError } from '../errors.ts';
import { reportsDir } from '../paths.ts';
import { buunTree } from '../platform/buun-files.ts';
import { countDrift, driftRows, type DriftRow } from '../platform/drift.ts';
import { loadPlatform } from '../platform/profile.ts';

const USAGE = 'npm run drift -- <path to a buun-stack checkout> [--platform <name>]';

function parseArgs(args: string[]): { path: string; platform?: string } {
  let path: string | undefined;
  let platform: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--platform') platform = args[++i];
    else if (a.startsWith('--platform=')) platform = a.slice('--platform='.length);
    else if (a.startsWith('-')) throw new HarnessError(`Unknown argument \`${a}\``, USAGE);
    else if (path === undefined) path = a;
    else throw new HarnessError(`One checkout at a time, got \`${path}\` and \`${a}\``, USAGE);
  }
  if (!path) throw new HarnessError('drift needs the path of a buun-stack checkout', USAGE);
  return { path, ...(platform ? { platform } : {}) };
}

/** The checkout's commit (`git rev-parse --short HEAD`), or undefined for a plain folder. */
async function commitOf(dir: string): Promise<string | undefined> {
  const r = await execa('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { reject: false });
  return r.exitCode === 0 ? String(r.stdout).trim() : undefined;
}

function table(rows: DriftRow[]): string {
  const w = [12, 12, 28, 34, 34];
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
  return [['verdict', 'component', 'key', 'buun-stack', 'harness'], ...rows.map((r) => [r.verdict, r.component, r.key, r.buun, r.harness])]
    .map((cells) => cells.map((c, i) => cut(c, w[i]!)).join('  ').trimEnd()).join('\n');
}

/**
 * `npm run drift -- <buun-stack checkout>`: every version and setting of the components around MLflow that
 * buun-stack's files name (justfiles, values templates, the realm script, mlflow/image/Dockerfile), against the
 * platform profile (HARNESS_PLATFORM or --platform) and its pin set. Writes reports/drift.json; exit 1 when a
 * value differs (the harness has fallen behind its deployment).
 */
export async function drift(args: string[]): Promise<number> {
  const opts = parseArgs(args);
  const dir = resolve(opts.path);
  if (!existsSync(join(dir, 'mlflow', 'justfile'))) {
    throw new HarnessError(`${dir} is not a buun-stack checkout (no mlflow/justfile)`, `${USAGE}; e.g. a clone of buun-ch/buun-stack`);
  }
  const env = loadHarnessEnv();
  const platform = loadPlatform(opts.platform ?? env.HARNESS_PLATFORM);
  const set = loadPinSet(platform.pinSet);
  const desc = describeStack({ ...env, HARNESS_PLATFORM: platform.name }, set);
  const rows = driftRows(buunTree(dir), platform, set, desc);
  const counts = countDrift(rows);
  const report = {
    source: { path: dir, commit: (await commitOf(dir)) ?? null },
    platform: { name: platform.name, commit: platform.source.commit, pinSet: set.name },
    verdicts: counts,
    rows: rows.map(({ component, key, buun, harness, verdict, where, reason }) => ({ component, key, buun, harness, verdict, where, ...(reason ? { reason } : {}) })),
  };
  mkdirSync(reportsDir, { recursive: true });
  writeFileSync(join(reportsDir, 'drift.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`buun-stack at ${dir}${report.source.commit ? ` (${report.source.commit})` : ''} against platform ${platform.name} (buun-stack@${platform.source.commit}, pin set ${set.name})\n\n`);
  process.stdout.write(`${table(rows.filter((r) => r.verdict !== 'same'))}\n\n`);
  process.stdout.write(`${counts.same} same, ${counts.differs} differ, ${counts['not-modelled']} not modelled, ${counts.unread} unread — reports/drift.json\n`);
  return counts.differs > 0 ? 1 : 0;
}
