import { test as base, expect, type APIRequestContext, type Page } from '@playwright/test';
import { execa } from 'execa';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../provision/paths.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { loadTarget, passwordOf, persona, type Persona } from './target.ts';
import { basicAuth, recordMintedToken } from './mlflow-api.ts';
import { secretLedgerFile } from '../../provision/secret-ledger.ts';
import { browserLogin } from './browser-login.ts';
import { pluginOf, type PluginAdapter } from './plugin.ts';
import { unmetNeeds } from './claims.ts';
import { loadTokens, sessionCookieHeader, storageStateFile } from './run-state.ts';

export interface PythonResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The JSON object printed on the script's last stdout line, if any. */
  json?: Record<string, unknown>;
}

interface Fixtures {
  /** An API context logged in as the persona (the session the setup project made). */
  sessionAs: (personaKey: string) => Promise<APIRequestContext>;
  /** The persona's access token (minted once per run by the setup project). */
  tokenOf: (personaKey: string) => string;
  /** Basic-auth headers of the persona: full email + access token. For checks of the access-key path itself. */
  basicAs: (personaKey: string) => Record<string, string>;
  /**
   * The persona's login-session cookie as headers: the same identity without the plugin hashing an access key per
   * request. For setup, cleanup and checks whose claim is not the access key.
   */
  sessionHeadersAs: (personaKey: string) => Record<string, string>;
  /** Runs a fixture script from fixtures/python with the pinned client, the given env and the stack CA trusted. */
  python: (script: string, env: Record<string, string>, args?: string[]) => Promise<PythonResult>;
  /** Logs the persona in through the browser (MLflow login page → Keycloak form → /callback). */
  loginAs: (page: Page, personaKey: string) => Promise<Persona>;
}

interface AutoFixtures {
  /** Skips a check whose `needs(...)` the target does not meet, before anything of it runs. */
  capabilities: void;
}

interface WorkerFixtures {
  target: TargetDescriptor;
  /** The contracts of the plugin generation under test (routes, answers, messages). */
  plugin: PluginAdapter;
}

function cleanEnvironment(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(AWS_|MLFLOW_|REQUESTS_CA_BUNDLE|SSL_CERT_FILE)/.test(k)),
  ) as Record<string, string>;
}

export const test = base.extend<Fixtures & AutoFixtures, WorkerFixtures>({
  target: [async ({}, use) => use(loadTarget()), { scope: 'worker' }],
  plugin: [async ({ target }, use) => use(pluginOf(target)), { scope: 'worker' }],

  capabilities: [async ({ target }, use, testInfo) => {
    const reason = unmetNeeds(target, testInfo.annotations);
    testInfo.skip(!!reason, reason);
    await use();
  }, { auto: true }],

  // a token made in the browser (the UI's "Create access key") goes into the stack's secret ledger as it arrives
  context: async ({ context, target }, use) => {
    const route = pluginOf(target).routes.accessToken;
    context.on('response', (r) => {
      if (r.request().method() !== 'PATCH' || !new URL(r.url()).pathname.endsWith(route)) return;
      const username = String((r.request().postDataJSON() as { username?: unknown } | null)?.username ?? 'a user');
      void recordMintedToken(r, username).catch(() => undefined);
    });
    await use(context);
  },

  python: async ({ target }, use, testInfo) => {
    await use(async (script, env, args = []) => {
      mkdirSync(testInfo.outputDir, { recursive: true });
      const r = await execa(target.python, [join(projectRoot, 'fixtures', 'python', script), ...args], {
        reject: false,
        cwd: testInfo.outputDir,
        // Only what the check passes: no S3 credentials or MLflow settings leak in from the runner's environment.
        env: {
          ...cleanEnvironment(),
          MLFLOW_TRACKING_URI: target.mlflowUrl,
          ...(target.caCertPath ? { REQUESTS_CA_BUNDLE: target.caCertPath } : {}),
          PYTHONUNBUFFERED: '1',
          // the client's default (7 retries, exponential backoff) turns a failing server into minutes of waiting;
          // two retries still ride out a transient error
          MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2',
          // …with short waits between them (default factor 2 and jitter 1: about 7 s per failing call; the factor is an integer)
          MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '1',
          MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0.2',
          // a hung server (default: 120 s per request) must not hold a check past its own timeout
          MLFLOW_HTTP_REQUEST_TIMEOUT: '30',
          // no telemetry from the client (there is no network for it; its thread also races os.environ in 3.13)
          MLFLOW_DISABLE_TELEMETRY: 'true',
          DO_NOT_TRACK: 'true',
          // a script that makes a secret (a JWT from Keycloak) records it here, as the checks do
          HARNESS_SECRET_LEDGER: secretLedgerFile(),
          ...env,
        },
        extendEnv: false,
        timeout: 300_000,
      });
      const last = r.stdout.trim().split('\n').pop() ?? '';
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(last) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      await testInfo.attach(`${script} output`, { body: `exit ${r.exitCode ?? r.message}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`, contentType: 'text/plain' });
      return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, json };
    });
  },

  sessionAs: async ({ playwright }, use) => {
    const opened: APIRequestContext[] = [];
    await use(async (key) => {
      const ctx = await playwright.request.newContext({ storageState: storageStateFile(key) });
      opened.push(ctx);
      return ctx;
    });
    await Promise.all(opened.map((c) => c.dispose()));
  },

  tokenOf: async ({}, use) => {
    const tokens = loadTokens();
    await use((key) => {
      const t = tokens[key];
      if (!t) throw new Error(`no access token for persona ${key}`);
      return t;
    });
  },

  basicAs: async ({ target, tokenOf }, use) => {
    await use((key) => basicAuth(persona(target, key).email, tokenOf(key)));
  },

  sessionHeadersAs: async ({ target }, use) => {
    const cache = new Map<string, Record<string, string>>();
    await use((key) => {
      let h = cache.get(key);
      if (!h) cache.set(key, (h = sessionCookieHeader(key, target.mlflowUrl)));
      return h;
    });
  },

  loginAs: async ({ target }, use) => {
    await use(async (page, key) => {
      const p = persona(target, key);
      await browserLogin(page, target, { username: p.username, password: passwordOf(target, p) });
      return p;
    });
  },
});

export { expect };
