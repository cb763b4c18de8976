import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../errors.ts';
import { adminClient } from '../keycloak/realm.ts';
import { randomPassword } from '../local/context.ts';
import { provisionLocal, teardownLocal } from '../local/target.ts';
import { projectRoot, stateDir } from '../paths.ts';
import { info, step } from '../progress.ts';
import { recordSecret } from '../secret-ledger.ts';
import type { TargetDescriptor } from '../targets/descriptor.ts';
import { selectedTarget } from './target.ts';

/** The username of the realm-scoped admin `--keycloak-admin` makes in the local realm. */
export const REALM_ADMIN = 'harness-realm-admin';

/**
 * The environment a remote target reads (README, "Targets"), describing a stack this machine runs: its URLs, CA and
 * personas, as a user would set them for staging. Values are secrets: this is handed to a child process, never printed.
 */
export function remoteEnvironment(d: TargetDescriptor, secrets: { personas: Record<string, string> }, realmAdmin?: { username: string; password: string }): Record<string, string> {
  const env: Record<string, string> = {
    HARNESS_TARGET: 'remote',
    MLFLOW_URL: d.mlflowUrl,
    KEYCLOAK_URL: d.keycloakUrl,
    KEYCLOAK_REALM: d.realm,
    OIDC_CLIENT_ID: d.clientId,
    HARNESS_PINS: d.pins.name,
    HARNESS_PYTHON: d.python,
    ...(d.caCertPath ? { HARNESS_CA_CERT: d.caCertPath } : {}),
  };
  for (const p of d.personas) {
    const password = secrets.personas[p.username];
    if (!password) throw new HarnessError(`The local stack has no password for persona ${p.username}`, 'run `npm run teardown` and provision again');
    const prefix = `HARNESS_${p.key.toUpperCase()}`;
    Object.assign(env, { [`${prefix}_USERNAME`]: p.username, [`${prefix}_EMAIL`]: p.email, [`${prefix}_PASSWORD`]: password });
  }
  if (realmAdmin) Object.assign(env, { HARNESS_KEYCLOAK_ADMIN_USERNAME: realmAdmin.username, HARNESS_KEYCLOAK_ADMIN_PASSWORD: realmAdmin.password });
  return env;
}

/** A user of the realm with the realm-management roles for users and groups (no realm configuration), as staging would give one. */
async function makeRealmAdmin(d: TargetDescriptor, masterPassword: string): Promise<{ username: string; password: string }> {
  // the local stack's Keycloak itself (this process does not trust the stack CA of the public URL)
  const kc = await adminClient(d.internal?.keycloakUrl ?? d.keycloakUrl, { username: 'admin', password: masterPassword });
  kc.setConfig({ realmName: d.realm });
  const password = randomPassword();
  recordSecret(`password of Keycloak realm admin ${REALM_ADMIN}`, password);
  const existing = await kc.users.find({ username: REALM_ADMIN, exact: true });
  const id = existing[0]?.id ?? (await kc.users.create({ username: REALM_ADMIN, email: `${REALM_ADMIN}@example.com`, firstName: 'Realm', lastName: 'Admin', enabled: true, emailVerified: true })).id;
  await kc.users.resetPassword({ id, credential: { type: 'password', value: password, temporary: false } });
  const [management] = await kc.clients.find({ clientId: 'realm-management' });
  if (!management?.id) throw new HarnessError(`Realm ${d.realm} has no realm-management client`);
  const wanted = ['manage-users', 'view-users', 'query-users', 'query-groups'];
  const roles = (await kc.clients.listRoles({ id: management.id })).filter((r) => wanted.includes(r.name ?? ''));
  await kc.users.addClientRoleMappings({ id, clientUniqueId: management.id, roles: roles.map((r) => ({ id: r.id!, name: r.name! })) });
  return { username: REALM_ADMIN, password };
}

/** What the remote run must show: a whole run, no claim failed, the bypass audit run with every route judged. */
export function judgeRemoteRun(reportDir: string): string[] {
  const problems: string[] = [];
  const file = join(reportDir, 'conformance.json');
  if (!existsSync(file)) return [`no ${file}: the suite wrote no report`];
  const r = JSON.parse(readFileSync(file, 'utf8')) as { target: string; run?: { wholeRun?: boolean }; claims: { id: string; verdict: string }[]; problems: string[] };
  if (r.target !== 'remote') problems.push(`the report is of the ${r.target} target, not remote`);
  if (!r.run?.wholeRun) problems.push('not a whole run');
  for (const c of r.claims.filter((x) => x.verdict === 'failed' || x.verdict === 'partial' || x.verdict === 'uncovered')) problems.push(`${c.id} is ${c.verdict}`);
  const perms = join(reportDir, 'permissions.json');
  const routes = existsSync(perms) ? ((JSON.parse(readFileSync(perms, 'utf8')) as { routes?: { route: string; verdict: string }[] }).routes ?? []) : [];
  if (routes.length === 0) problems.push('the bypass audit did not run (no routes in permissions.json)');
  for (const x of routes.filter((y) => y.verdict === 'failed')) problems.push(`bypass audit: ${x.route} failed`);
  return problems;
}

/**
 * `npm run test:remote [-- --keycloak-admin] [-- playwright args]`: the remote target tried as a new user would —
 * `npm test` with HARNESS_TARGET=remote against a local stack this command brings up (or the one `npm run provision`
 * left up), its personas in the environment. `--keycloak-admin` also gives it a realm-scoped Keycloak admin (the
 * checks that make users and groups then run). Reports go to reports/remote/; exit 1 unless the run is green and the
 * bypass audit ran.
 */
export async function testRemote(args: string[]): Promise<number> {
  if (selectedTarget() !== 'local') throw new HarnessError('npm run test:remote brings up a local stack for the remote target to test', 'unset HARNESS_TARGET');
  const withAdmin = args.includes('--keycloak-admin');
  const playwrightArgs = args.filter((a) => a !== '--keycloak-admin' && a !== '--');
  const r = await step('provision the local stack the remote target is pointed at', () => provisionLocal('test'));
  const own = !r.reused;
  const remoteState = join(projectRoot, '.harness', 'remote-target');
  const reportDir = resolve(projectRoot, process.env.HARNESS_REPORT_DIR ?? join('reports', 'remote'));
  try {
    const secrets = JSON.parse(readFileSync(join(stateDir(), 'secrets.json'), 'utf8')) as { personas: Record<string, string>; keycloakAdmin: string };
    const realmAdmin = withAdmin ? await step(`realm-scoped admin ${REALM_ADMIN} in realm ${r.descriptor.realm}`, () => makeRealmAdmin(r.descriptor, secrets.keycloakAdmin)) : undefined;
    rmSync(remoteState, { recursive: true, force: true });
    rmSync(reportDir, { recursive: true, force: true });
    info(`HARNESS_TARGET=remote npm test against ${r.descriptor.mlflowUrl} (personas ${r.descriptor.personas.map((p) => p.key).join(', ')}${realmAdmin ? `, Keycloak realm admin ${realmAdmin.username}` : ', no Keycloak admin'}); reports in ${reportDir}`);
    const child = await execa('npx', ['tsx', 'provision/cli.ts', 'test', ...playwrightArgs], {
      cwd: projectRoot,
      stdio: 'inherit',
      reject: false,
      env: { ...remoteEnvironment(r.descriptor, secrets, realmAdmin), HARNESS_STATE_DIR: remoteState, HARNESS_REPORT_DIR: reportDir, HARNESS_OUTPUT_DIR: join(reportDir, 'results') },
    });
    const problems = judgeRemoteRun(reportDir);
    for (const p of problems) info(`✖ remote target: ${p}`);
    if (child.exitCode === 0 && problems.length === 0) info(`✔ the remote target is green against ${r.descriptor.mlflowUrl}, with the bypass audit (${reportDir}/permissions.html)`);
    return child.exitCode !== 0 || problems.length ? 1 : 0;
  } finally {
    rmSync(remoteState, { recursive: true, force: true });
    if (own && process.env.HARNESS_KEEP_STACK !== '1') await step('tear down the local stack', () => teardownLocal());
  }
}
