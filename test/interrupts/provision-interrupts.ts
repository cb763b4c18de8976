/**
 * Interrupts `npm run provision` at seeded random moments with the signals a user or a CI runner sends
 * (Ctrl-C to the foreground group, Ctrl-C twice, SIGTERM, SIGHUP; SIGKILL followed by another provision) and checks that nothing of the stack is left:
 * no process started from the state folder, the public port free, no state folder but its logs.
 * `npm run test:interrupts [-- --seed N --rounds N]`; the seed is printed so a failure can be replayed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { serverDir } from '../../provision/local/components/postgres.ts';
import { createServer } from 'node:net';
import { execa } from 'execa';
import { projectRoot, stateDir } from '../../provision/paths.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const seed = Number(arg('seed') ?? Date.now() % 100_000);
const rounds = Number(arg('rounds') ?? 4);
const port = Number(process.env.HARNESS_HTTPS_PORT ?? 8443);

/** mulberry32: a small seeded PRNG, so a run can be replayed from its printed seed. */
function prng(a: number) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(seed);

const KINDS = [
  { name: 'Ctrl-C', signals: ['SIGINT'], group: true },
  { name: 'Ctrl-C twice', signals: ['SIGINT', 'SIGINT'], group: true },
  { name: 'SIGTERM', signals: ['SIGTERM'], group: false },
  { name: 'SIGHUP', signals: ['SIGHUP'], group: true },
  // the harness dies without a chance to clean up; the components (their own process groups) live on: the
  // next provision must read the ledger, sweep them and come up — never fail on its own leftovers' ports
  { name: 'SIGKILL, then provision again', signals: ['SIGKILL'], group: true },
] as const;

const portFree = () => new Promise<boolean>((resolve) => {
  const s = createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

/** Processes whose command line names the state folder or the PostgreSQL folder of this stack. */
async function leftovers(): Promise<string[]> {
  const ps = await execa('ps', ['-eo', 'pid=,args='], { reject: false });
  const state = stateDir();
  const pgDir = serverDir({ state });
  return ps.stdout.split('\n').filter((l) => (l.includes(state) || l.includes(pgDir)) && !l.includes('provision-interrupts'));
}

/** The working folder of a process (Linux /proc), or '' when it is gone. */
function cwdOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return '';
  }
}

/** This checkout's harness CLI processes (provision/cli.ts run from this project), other than this test. */
async function harnessProcesses(): Promise<string[]> {
  const ps = await execa('ps', ['-eo', 'pid=,args='], { reject: false });
  return ps.stdout.split('\n').filter((l) => l.includes('provision/cli.ts') && !l.includes('provision-interrupts') && cwdOf(Number(l.trim().split(/\s+/)[0])) === projectRoot);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function round(i: number): Promise<string[]> {
  const kind = KINDS[i % KINDS.length]!;
  // a warm provision takes 35–45 s on 2 cores: the signal lands while it works
  const offset = Math.round(3 + random() * 27);
  process.stdout.write(`round ${i + 1}: ${kind.name} ${offset}s into \`npm run provision\` … `);
  // its own process group, as a terminal's foreground job
  const child = spawn('npm', ['run', '-s', 'provision'], { cwd: projectRoot, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const early = await Promise.race([sleep(offset * 1000).then(() => false), exited.then(() => true)]);
  if (!early) {
    for (const [n, sig] of kind.signals.entries()) {
      if (n > 0) await sleep(300);
      try {
        process.kill(kind.group ? -child.pid! : child.pid!, sig);
      } catch {
        /* already gone */
      }
    }
  }
  const code = await Promise.race([exited, sleep(120_000).then(() => 'hung' as const)]);
  const problems: string[] = [];
  if (!early && kind.signals[0] === 'SIGKILL') {
    const again = await execa('npm', ['run', '-s', 'provision'], { cwd: projectRoot, reject: false, all: true, timeout: 300_000 });
    if (again.exitCode !== 0) problems.push(`provision after SIGKILL failed (exit ${again.exitCode}): ${(again.all ?? '').trim().split('\n').slice(-2).join(' | ')}`);
    await execa('npm', ['run', '-s', 'teardown'], { cwd: projectRoot, reject: false });
  }
  // finished before the signal: the stack is up by design; take it down and check that teardown leaves nothing
  if (early) await execa('npm', ['run', '-s', 'teardown'], { cwd: projectRoot, reject: false });
  if (code === 'hung') {
    problems.push('provision did not exit within 120 s of the signal');
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  // npm may return at once (SIGTERM/SIGHUP end it) while the harness's own process goes on stopping the stack:
  // wait for that process to finish (bounded), then look for anything left
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && (await harnessProcesses()).length > 0) await sleep(500);
  const still = await harnessProcesses();
  if (still.length) problems.push(`the harness itself still runs 90 s after the signal: ${still.join(' | ')}`);
  const left = await leftovers();
  if (left.length) problems.push(`processes left: ${left.join(' | ')}`);
  if (!(await portFree())) problems.push(`port ${port} is still bound`);
  const state = stateDir();
  const rest = existsSync(state) ? readdirSync(state).filter((f) => f !== 'logs') : [];
  if (rest.length) problems.push(`state folder keeps ${rest.join(', ')}`);
  if (existsSync(serverDir({ state }))) problems.push(`PostgreSQL folder ${serverDir({ state })} left behind`);
  process.stdout.write(`${early ? 'provision finished before the signal; ' : ''}exit ${String(code)} — ${problems.length ? `FAILED: ${problems.join('; ')}` : 'nothing left'}\n`);
  if (problems.length) process.stdout.write(`${stderr.trim().split('\n').slice(-8).join('\n')}\n`);
  // a round that completed provisioning leaves a stack up: take it down for the next round
  await execa('npm', ['run', '-s', 'teardown'], { cwd: projectRoot, reject: false });
  return problems;
}

async function main(): Promise<number> {
  process.stdout.write(`Interrupt test: seed ${seed}, ${rounds} rounds (replay: npm run test:interrupts -- --seed ${seed} --rounds ${rounds})\n`);
  await execa('npm', ['run', '-s', 'teardown'], { cwd: projectRoot, reject: false });
  let failed = 0;
  for (let i = 0; i < rounds; i++) if ((await round(i)).length) failed++;
  process.stdout.write(`${rounds - failed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}

main().then((c) => process.exit(c), (e: unknown) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(70);
});
