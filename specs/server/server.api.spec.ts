import { execa } from 'execa';
import { join } from 'node:path';
import { test, expect } from '../support/fixtures.ts';
import { observeDifference, requireCapability } from '../support/claims.ts';
import { expectJson } from '../support/mlflow-api.ts';
import { expectUnauthenticated } from '../support/plugin.ts';
import { mlflowLog } from '../support/server-logs.ts';
import { appEntryPoints, environOf, runningServer, servedApp } from '../support/server-process.ts';
import { pgAsMlflow } from '../support/stack-access.ts';

test.describe('serving', () => {
  test('[C01] MLflow answers over HTTPS through the proxy, served by Uvicorn', async ({ target, request, plugin }) => {
    expect(new URL(target.mlflowUrl).protocol).toBe('https:');
    const res = await request.get(`${target.mlflowUrl}/health`);
    expect(res.status()).toBe(200);
    const body = await res.text();
    if (typeof plugin.healthBody === 'string') expect(body).toBe(plugin.healthBody);
    else expect(body).toMatch(plugin.healthBody);
    const servers = res.headersArray().filter((h) => h.name.toLowerCase() === 'server').map((h) => h.value);
    expect(servers).toContain('uvicorn');
    // the plugin's routes are there: an API call without credentials gets the plugin's answer, not MLflow data
    await expectUnauthenticated(await request.get(`${target.mlflowUrl}${plugin.routes.currentUser}`), plugin);
    expect((await request.get(`${target.mlflowUrl}${plugin.routes.ui}`)).status()).toBeLessThan(400);
  });

  test('[C01] the server runs the plugin\'s FastAPI app (oidc-auth-fastapi in the seed) under Uvicorn', async ({ target, plugin }) => {
    requireCapability(target, 'serverLogs', 'needs the server process and log');
    // the app the process answering on the server's port runs, and the entry point of the installation it is
    const server = runningServer(target);
    const app = servedApp(server.command);
    const entryPoints = await appEntryPoints(target.internal!.venv);
    const appName = Object.entries(entryPoints).find(([, value]) => value === app)?.[0];
    test.info().annotations.push({ type: 'evidence', description: `the process on the server's port runs ${app ?? '(no app)'}: entry point ${appName ?? '(none)'} of ${Object.keys(entryPoints).join(', ')}` });
    expect(plugin.appNames).toContain(appName);
    const log = mlflowLog(target);
    for (const line of plugin.startupLines) expect(log).toContain(line);
    expect(log).toMatch(/Uvicorn running on http:\/\//);
    expect(log).not.toContain('Falling back to OIDC Flask app');
    if (!plugin.appNames.includes('oidc-auth-fastapi')) {
      observeDifference('app-name-oidc-auth', appName === 'oidc-auth-fastapi', `the server runs ${app} (entry point ${appName}); the installation's apps: ${Object.keys(entryPoints).join(', ')}`);
    }
  });

  test('[C01] plain HTTP is not served on the public port', async ({ target }) => {
    const url = new URL(target.mlflowUrl);
    const plain: number | 'refused' = await fetch(`http://${url.host}/health`).then((r) => r.status, () => 'refused' as const);
    expect(plain === 'refused' || plain >= 400, `plain HTTP answered ${plain}`).toBe(true);
  });
});

test.describe('metrics', () => {
  test('[C08] /metrics exposes Prometheus metrics that count MLflow requests', async ({ target, request, basicAs }) => {
    test.skip(!target.capabilities.metrics, `not-applicable: the ${target.target} target serves no /metrics (buun-stack enables the chart's ServiceMonitor and --expose-prometheus only where kube-prometheus-stack is installed; platform ${target.platform?.name ?? '?'} has none)`);
    const total = async () => {
      const text = await (await request.get(`${target.mlflowUrl}/metrics`)).text();
      const m = [...text.matchAll(/^mlflow_http_request_total\{method="GET",status="200"\} ([0-9.e+]+)$/gm)];
      return m.reduce((sum, x) => sum + Number(x[1]), 0);
    };
    const res = await request.get(`${target.mlflowUrl}/metrics`);
    const served = `GET /metrics → ${res.status()} ${res.headers()['content-type'] ?? '(no content type)'}`;
    expect(res.status(), served).toBe(200);
    expect(res.headers()['content-type'], served).toContain('text/plain');
    const body = await res.text();
    expect(body).toMatch(/^# TYPE mlflow_http_request_duration_seconds histogram$/m);
    const before = await total();
    for (let i = 0; i < 3; i++) await expectJson(await request.get(`${target.mlflowUrl}/api/2.0/mlflow/experiments/search?max_results=1`, { headers: basicAs('user1') }));
    await expect.poll(total, { timeout: 10_000 }).toBeGreaterThanOrEqual(before + 3);
  });
});

test.describe('host validation', () => {
  test('[C09] a request with a Host outside the allowed hosts is served (buun-stack allows `*`)', async ({ target, request, basicAs }) => {
    requireCapability(target, 'serverLogs', 'needs the server behind the proxy to send a foreign Host header');
    const direct = target.internal!.mlflowUrl;
    // with credentials: from plugin 6.0 on, authentication runs before MLflow's Host check
    const res = await request.get(`${direct}/api/2.0/mlflow/experiments/search?max_results=1`, { headers: { ...basicAs('user1'), Host: 'evil.example.net' } });
    const rejected = res.status() === 403 && (await res.text()).includes('Invalid Host header');
    observeDifference('allowed-hosts-wildcard', rejected, `Host evil.example.net → ${res.status()}`);
    // the allowed hosts the running server process was given: buun-stack's list ends with `*`
    const allowed = environOf(runningServer(target).pid, 'MLFLOW_SERVER_ALLOWED_HOSTS') ?? '';
    test.info().annotations.push({ type: 'evidence', description: `the server process runs with MLFLOW_SERVER_ALLOWED_HOSTS=${allowed}` });
    expect(allowed.split(','), 'the allowed hosts of the running server').toContain('*');
  });
});

test.describe('logs', () => {
  test('[C29] a healthy server logs the FastAPI/OIDC lines; the cachelib and redirect-URI lines are DEBUG-only', async ({ target, sessionAs, plugin }) => {
    requireCapability(target, 'serverLogs', 'reads the server log');
    // a /login has happened in the setup project; make one more to be sure
    const ctx = await sessionAs('admin');
    await ctx.get(`${target.mlflowUrl}/login`, { maxRedirects: 0 });
    const log = mlflowLog(target);
    const seedLines = ['Successfully created FastAPI app with OIDC integration', 'OIDC routes, authentication, and UI should now be available'];
    for (const l of plugin.startupLines) expect(log).toContain(l);
    if (!plugin.seedLogLines) {
      const seen = [...seedLines, 'Session module for cachelib imported'].filter((l) => log.includes(l));
      observeDifference('startup-lines-gone', seen.length > 0, `none of the seed's normal lines in the log (seen: ${seen.join(', ') || 'none'}); the generation logs: ${plugin.startupLines.join(' / ')}`);
      return;
    }
    for (const l of seedLines) expect(log).toContain(l);
    const debugLines = log.includes('Session module for cachelib imported') && log.includes(`Redirect URI for OIDC login: ${target.mlflowUrl}/callback`);
    observeDifference('debug-only-log-lines', debugLines, 'cachelib/redirect lines absent at LOG_LEVEL=INFO');
  });
});

test.describe('installed versions', () => {
  test('[C31] the server reports the pinned MLflow version', async ({ target, request, basicAs }) => {
    const res = await request.get(`${target.mlflowUrl}/version`, { headers: basicAs('user1') });
    expect(res.status()).toBe(200);
    expect(await res.text()).toBe(target.pins.mlflow);
  });

  test('[C31] the venv built from image/Dockerfile has the pinned mlflow, mlflow-oidc-auth and cachelib', async ({ target }) => {
    requireCapability(target, 'serverLogs', 'inspects the server installation');
    const py = join(target.internal!.venv, 'bin', 'python');
    const r = await execa(py, ['-c', 'import importlib.metadata as m, json; print(json.dumps({p: m.version(p) for p in ["mlflow", "mlflow-oidc-auth", "cachelib"]}))']);
    const versions = JSON.parse(r.stdout) as Record<string, string>;
    expect(versions.mlflow).toBe(target.pins.mlflow);
    expect(versions['mlflow-oidc-auth']).toBe(target.pins.mlflowOidcAuth);
    expect(versions.cachelib).toMatch(/^\d+\./);
    const cli = await execa(join(target.internal!.venv, 'bin', 'mlflow'), ['--version']);
    expect(cli.stdout).toContain(target.pins.mlflow);
  });
});

test.describe('database layout', () => {
  test('[C02] user mlflow uses database mlflow for tracking data and mlflow_auth for users and permissions', async ({ target, basicAs, request }) => {
    requireCapability(target, 'database', 'connects to PostgreSQL');
    const tables = async (db: 'tracking' | 'auth') => {
      const c = await pgAsMlflow(target, db);
      try {
        const r = await c.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
        return r.rows.map((x) => x.table_name);
      } finally {
        await c.end();
      }
    };
    const tracking = await tables('tracking');
    expect(tracking).toEqual(expect.arrayContaining(['experiments', 'runs', 'params', 'metrics', 'registered_models', 'model_versions']));
    expect(tracking).not.toContain('users');
    const auth = await tables('auth');
    expect(auth).toEqual(expect.arrayContaining(['users', 'groups', 'user_groups', 'experiment_permissions', 'registered_model_permissions']));
    expect(auth).not.toContain('experiments');
    // the personas who logged in are rows of mlflow_auth.users, with their e-mail as username
    const c = await pgAsMlflow(target, 'auth');
    try {
      const r = await c.query<{ username: string; is_admin: boolean }>('SELECT username, is_admin FROM users');
      expect(r.rows).toContainEqual({ username: 'alice@example.com', is_admin: true });
    } finally {
      await c.end();
    }
    // an experiment created through the API lands in the tracking database
    const name = `c02-${Date.now()}`;
    await expectJson(await request.post(`${target.mlflowUrl}/api/2.0/mlflow/experiments/create`, { data: { name }, headers: basicAs('user1') }));
    const t = await pgAsMlflow(target, 'tracking');
    try {
      expect((await t.query('SELECT 1 FROM experiments WHERE name = $1', [name])).rowCount).toBe(1);
    } finally {
      await t.end();
    }
  });
});
