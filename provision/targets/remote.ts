import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { loadHarnessEnv } from '../config/env.ts';
import { loadPinSet } from '../config/pin-sets.ts';
import { describeStack } from '../config/stack.ts';
import { HarnessError } from '../errors.ts';
import { stateDir } from '../paths.ts';
import { createBrowserHome } from '../local/tls.ts';
import { pinsOf, writeDescriptor, type TargetDescriptor } from './descriptor.ts';
import { readVersions } from '../local/prereqs/venv.ts';

/** What a remote (already deployed) target needs from the environment. Nothing is provisioned. */
const RemoteEnv = z.object({
  MLFLOW_URL: z.string().url(),
  KEYCLOAK_URL: z.string().url(),
  KEYCLOAK_REALM: z.string().default('buunstack'),
  OIDC_CLIENT_ID: z.string().default('mlflow'),
  HARNESS_CA_CERT: z.string().optional(),
  HARNESS_ADMIN_USERNAME: z.string(),
  HARNESS_ADMIN_EMAIL: z.string().email(),
  HARNESS_ADMIN_PASSWORD: z.string(),
  HARNESS_USER1_USERNAME: z.string().optional(),
  HARNESS_USER1_EMAIL: z.string().email().optional(),
  HARNESS_USER1_PASSWORD: z.string().optional(),
  HARNESS_USER2_USERNAME: z.string().optional(),
  HARNESS_USER2_EMAIL: z.string().email().optional(),
  HARNESS_USER2_PASSWORD: z.string().optional(),
  HARNESS_OUTSIDER_USERNAME: z.string().optional(),
  HARNESS_OUTSIDER_EMAIL: z.string().email().optional(),
  HARNESS_OUTSIDER_PASSWORD: z.string().optional(),
  /** Optional: a realm-scoped Keycloak admin (realm-management roles manage-users, view-users, query-groups) for the checks that make users and groups. */
  HARNESS_KEYCLOAK_ADMIN_USERNAME: z.string().optional(),
  HARNESS_KEYCLOAK_ADMIN_PASSWORD: z.string().optional(),
});

/** Builds the descriptor of an existing deployment (e.g. staging) from the environment. */
export async function describeRemote(python: string, env: NodeJS.ProcessEnv = process.env, packageVersions: (python: string) => Promise<Record<string, string>> = readVersions): Promise<TargetDescriptor> {
  // a variable set to nothing (an unset CI variable) is not set
  const r = RemoteEnv.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (!r.success) {
    const key = String(r.error.issues[0]!.path[0]);
    throw new HarnessError(`The remote target needs ${key} (${r.error.issues[0]!.message})`,
      'set MLFLOW_URL, KEYCLOAK_URL, HARNESS_ADMIN_USERNAME, HARNESS_ADMIN_EMAIL, HARNESS_ADMIN_PASSWORD (see README "Remote target")');
  }
  const e = r.data;
  const harnessEnv = loadHarnessEnv();
  const set = loadPinSet(harnessEnv.HARNESS_PINS);
  const state = stateDir();
  mkdirSync(state, { recursive: true });
  const personas = [{ key: 'admin', username: e.HARNESS_ADMIN_USERNAME, email: e.HARNESS_ADMIN_EMAIL, groups: ['mlflow-admins'] }];
  const passwords: Record<string, string> = { [e.HARNESS_ADMIN_USERNAME]: e.HARNESS_ADMIN_PASSWORD };
  const optional: [string, string | undefined, string | undefined, string | undefined, string[]][] = [
    ['user1', e.HARNESS_USER1_USERNAME, e.HARNESS_USER1_EMAIL, e.HARNESS_USER1_PASSWORD, ['mlflow-users']],
    ['user2', e.HARNESS_USER2_USERNAME, e.HARNESS_USER2_EMAIL, e.HARNESS_USER2_PASSWORD, ['mlflow-users']],
    ['outsider', e.HARNESS_OUTSIDER_USERNAME, e.HARNESS_OUTSIDER_EMAIL, e.HARNESS_OUTSIDER_PASSWORD, []],
  ];
  for (const [key, username, email, password, groups] of optional) {
    if (!username || !email || !password) continue;
    personas.push({ key, username, email, groups });
    passwords[username] = password;
  }
  const realmAdmin = e.HARNESS_KEYCLOAK_ADMIN_USERNAME && e.HARNESS_KEYCLOAK_ADMIN_PASSWORD ? { username: e.HARNESS_KEYCLOAK_ADMIN_USERNAME, password: e.HARNESS_KEYCLOAK_ADMIN_PASSWORD } : undefined;
  if (!!e.HARNESS_KEYCLOAK_ADMIN_USERNAME !== !!e.HARNESS_KEYCLOAK_ADMIN_PASSWORD) {
    throw new HarnessError('The remote target needs both HARNESS_KEYCLOAK_ADMIN_USERNAME and HARNESS_KEYCLOAK_ADMIN_PASSWORD, or neither', 'set both (a realm-scoped admin of the realm) to run the checks that make users and groups');
  }
  const secretsFile = join(state, 'secrets.json');
  writeFileSync(secretsFile, JSON.stringify({ personas: passwords, ...(realmAdmin ? { keycloakAdmin: realmAdmin.password } : {}) }), { mode: 0o600 });
  const d: TargetDescriptor = {
    target: 'remote',
    mlflowUrl: e.MLFLOW_URL.replace(/\/$/, ''),
    keycloakUrl: e.KEYCLOAK_URL.replace(/\/$/, ''),
    realm: e.KEYCLOAK_REALM,
    issuer: `${e.KEYCLOAK_URL.replace(/\/$/, '')}/realms/${e.KEYCLOAK_REALM}`,
    clientId: e.OIDC_CLIENT_ID,
    caCertPath: e.HARNESS_CA_CERT,
    // what the deployment is expected to run: the selected pin set (HARNESS_PINS)
    pins: {
      ...pinsOf(set, describeStack(harnessEnv, set)),
      // a remote server's packages cannot be read from here: these are the pin set's, as built, in the client's Python
      versions: await packageVersions(python),
      versionsSource: `not read from the server: the pin set's packages as built, in the client's Python (${python})`,
    },
    personas,
    python,
    secretsFile,
    // Chromium trusts a private CA through an NSS database in its own HOME
    ...(e.HARNESS_CA_CERT ? { browserHome: await createBrowserHome(join(state, 'browser-home'), e.HARNESS_CA_CERT) } : {}),
    // users and groups of the realm only with a realm-scoped admin the environment names; never the realm's configuration
    capabilities: { database: false, bucket: false, serverLogs: false, keycloakAdmin: false, keycloakUsers: !!realmAdmin, cluster: false, metrics: true },
    ...(realmAdmin ? { keycloakAdminLogin: { realm: e.KEYCLOAK_REALM, username: realmAdmin.username } } : {}),
    logs: {},
  };
  writeDescriptor(state, d);
  return d;
}
