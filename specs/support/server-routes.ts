import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { LedgerFile } from '../../provision/local/ledger.ts';
import { projectRoot, stateDir } from '../../provision/paths.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import type { InventoryRoute } from '../../conformance/security/routes.ts';

/**
 * Every route × method the MLflow server serves, read by fixtures/python/route_inventory.py from the app the
 * server runs. On the local target: the serving process's own interpreter, environment and app (`/proc`), so the
 * routes some settings add (metrics, static prefix) are there. Elsewhere the server's process cannot be read: the
 * same pins' app in the local venv built from them, with the settings the deployment is described with.
 */

export interface Inventory {
  routes: InventoryRoute[];
  app: string;
  /** Where the list was read, for the report. */
  source: string;
}

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
const environ = (pid: number) => Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

function children(pid: number): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
    try {
      return Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid;
    } catch {
      return false;
    }
  });
}

/** The process that serves requests (the uvicorn the `mlflow server` CLI starts) and the app it loads, or the CLI itself. */
function servingProcess(pid: number): { pid: number; app: string } | undefined {
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    const args = cmdline(p);
    const i = args.findIndex((a) => a === 'uvicorn' || a.endsWith('/uvicorn'));
    if (i >= 0) {
      const app = args.slice(i + 1).find((a) => /^[\w.]+:[\w]+$/.test(a));
      if (app) return { pid: p, app };
    }
    queue.push(...children(p));
  }
  const args = cmdline(pid);
  const name = args.find((a) => a.startsWith('--app-name='))?.split('=')[1] ?? args[args.indexOf('--app-name') + 1];
  return name ? { pid, app: `entry-point:${name}` } : undefined;
}

async function run(python: string, app: string, env: Record<string, string>): Promise<InventoryRoute[]> {
  const r = await execa(python, [join(projectRoot, 'fixtures', 'python', 'route_inventory.py'), app], { env, extendEnv: false, reject: false, timeout: 120_000, cwd: env.HOME && existsSync(env.HOME) ? env.HOME : tmpdir() });
  const last = String(r.stdout).trim().split('\n').pop() ?? '';
  if (r.exitCode !== 0 || !last.startsWith('{')) throw new Error(`route inventory of ${app} failed (exit ${r.exitCode}): ${String(r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
  return (JSON.parse(last) as { routes: InventoryRoute[] }).routes;
}

export async function serverInventory(target: TargetDescriptor): Promise<Inventory> {
  const scratch = mkdtempSync(join(tmpdir(), 'harness-routes-'));
  try {
    const server = target.target === 'local' ? new LedgerFile(stateDir()).read()?.components.mlflow : undefined;
    const serving = server && existsSync(`/proc/${server.pid}`) ? servingProcess(server.pid) : undefined;
    if (serving) {
      // the server's environment, but its own Prometheus folder: importing the app must not add files to it
      const env = { ...environ(serving.pid), prometheus_multiproc_dir: scratch, PROMETHEUS_MULTIPROC_DIR: scratch };
      const python = cmdline(serving.pid)[0]!;
      return { routes: await run(python, serving.app, env), app: serving.app, source: `the running server's app (${serving.app}) in its own interpreter and environment (pid ${serving.pid})` };
    }
    // not readable from the server: the pins' app in the local venv, with throwaway stores
    const app = `entry-point:${target.pins.appName ?? 'oidc-auth'}`;
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: scratch,
      prometheus_multiproc_dir: scratch,
      OIDC_USERS_DB_URI: `sqlite:///${scratch}/auth.db`,
      OIDC_DISCOVERY_URL: `${target.issuer}/.well-known/openid-configuration`,
      OIDC_CLIENT_ID: target.clientId,
      OIDC_CLIENT_SECRET: 'inventory-only',
      SECRET_KEY: 'inventory-only-not-a-secret-0123456789',
      MLFLOW_TRACKING_URI: `sqlite:///${scratch}/tracking.db`,
      _MLFLOW_SERVER_FILE_STORE: `sqlite:///${scratch}/tracking.db`,
      _MLFLOW_SERVER_SERVE_ARTIFACTS: 'true',
      _MLFLOW_SERVER_ARTIFACT_ROOT: 'mlflow-artifacts:/',
      _MLFLOW_SERVER_ARTIFACT_DESTINATION: join(scratch, 'artifacts'),
      _MLFLOW_SGI_NAME: 'uvicorn',
    };
    return { routes: await run(target.python, app, env), app, source: `not read from the ${target.target} server: the same pins' app (${app}) in the local venv ${target.python}, metrics exposed as buun-stack's chart does` };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
