import { availableParallelism } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Where a measured run's CPU went, by what the processes are: the stack's components and the checks' own
 * processes. Sampled from /proc (Linux only) while `npm test` runs; a process is charged the CPU it used between
 * two samples, and a process that starts and ends between two samples is missed (the interval is 0.5 s, far
 * below the shortest Python client or browser).
 */
export interface CpuUsage {
  cores: number;
  wallSeconds: number;
  /** core-seconds per group, largest first */
  groups: Record<string, number>;
  totalCoreSeconds: number;
  /**
   * The shortest wall time this work could take on this machine: all of it spread evenly over every core, or the
   * MLflow server's share alone, whichever is longer (the chart runs one uvicorn worker, which holds the GIL for
   * nearly all its work, so its CPU is close to serial).
   */
  floorSeconds: number;
  /** which of the two bounds sets the floor */
  boundBy: 'all cores busy' | 'the MLflow server';
}

/** The group a process belongs to, from its command line. */
export function classify(cmdline: string): string {
  const c = cmdline;
  if (/keycloak|quarkus/i.test(c)) return 'keycloak';
  if (/fixtures\/python\//.test(c)) return 'python client';
  if (/-m uvicorn|gunicorn|\/bin\/mlflow server|mlflow\.server|mlflow_oidc_auth/.test(c)) return 'mlflow server';
  if (/postgres/.test(c)) return 'postgres';
  if (/\bcaddy\b/.test(c)) return 'proxy';
  if (/versitygw/.test(c)) return 's3';
  if (/chrom/i.test(c)) return 'chromium';
  if (/python/.test(c)) return 'python client';
  if (/\bnode\b|\bnpm\b|tsx|playwright/.test(c)) return 'node (runner, checks)';
  return 'other';
}

const round = (x: number) => Math.round(x * 10) / 10;

/** The floor of a run's wall time from its CPU usage (see CpuUsage.floorSeconds). */
export function cpuFloor(groups: Record<string, number>, cores: number): { floorSeconds: number; boundBy: CpuUsage['boundBy']; totalCoreSeconds: number } {
  const total = Object.values(groups).reduce((a, b) => a + b, 0);
  const spread = total / cores;
  const server = groups['mlflow server'] ?? 0;
  return server > spread
    ? { floorSeconds: round(server), boundBy: 'the MLflow server', totalCoreSeconds: round(total) }
    : { floorSeconds: round(spread), boundBy: 'all cores busy', totalCoreSeconds: round(total) };
}

function snapshot(): Map<number, { ticks: number; cmd: string }> {
  const out = new Map<number, { ticks: number; cmd: string }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      out.set(Number(name), { ticks, cmd });
    } catch {
      // the process ended while being read
    }
  }
  return out;
}

/** Starts sampling; `stop()` returns the usage since the start, or null where there is no /proc. */
export function startCpuSampler(intervalMs = 500, ticksPerSecond = 100): { stop(): CpuUsage | null } {
  let supported = true;
  let last: Map<number, { ticks: number; cmd: string }>;
  try {
    last = snapshot();
  } catch {
    supported = false;
    last = new Map();
  }
  const started = Date.now();
  const ticks = new Map<string, number>();
  const sample = () => {
    const now = snapshot();
    for (const [pid, p] of now) {
      const before = last.get(pid);
      // a pid seen for the first time started after the previous sample: all its CPU is this run's (a process
      // that exec'd keeps its counters, and is charged to what it is now)
      const used = before ? p.ticks - before.ticks : p.ticks;
      if (used <= 0) continue;
      const group = classify(p.cmd);
      ticks.set(group, (ticks.get(group) ?? 0) + used);
    }
    last = now;
  };
  const timer = supported ? setInterval(sample, intervalMs) : undefined;
  timer?.unref();
  return {
    stop() {
      if (!supported) return null;
      clearInterval(timer);
      sample();
      const cores = availableParallelism();
      const groups = Object.fromEntries([...ticks].map(([g, t]) => [g, round(t / ticksPerSecond)] as const).sort((a, b) => b[1] - a[1]));
      return { cores, wallSeconds: round((Date.now() - started) / 1000), groups, ...cpuFloor(groups, cores) };
    },
  };
}
