import type { APIRequestContext } from '@playwright/test';
import { test, expect } from '../support/fixtures.ts';
import { loadTarget } from '../support/target.ts';
import { details, needs, stableId } from '../support/claims.ts';
import { grant, Workspace, type Actor } from '../support/permissions.ts';
import { caseVerdict, expandMatrix, loadMatrix, observedOf, type MatrixCase, type MatrixCheck } from '../../conformance/permissions.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { families, type Refs } from './families.ts';

// The permission matrix (matrix.yaml): one check per grant path × resource family, each with a Keycloak user (and
// group) of its own, trying every level of the path on resources of its own; every operation of the family is
// tried and recorded as a case of reports/permissions.json.

const target = loadTarget();
const checks = expandMatrix(loadMatrix(), target.pins.mlflowOidcAuth);
const FAMILY = families(target);

/** Records a case for the permissions report and asserts it (softly: every case of the check is recorded). */
function record(c: MatrixCase, observed: string, grantLabel = c.grant, idPrefix = ''): void {
  const verdict = caseVerdict(c, observed);
  const row = { id: `${idPrefix}${c.id}`, resource: c.resource, operation: c.operation, grant: grantLabel, level: c.level, expected: c.expected, observed, verdict, claim: c.claim, ...(c.declared ? { declared: c.declared } : {}) };
  test.info().annotations.push({ type: 'permission-case', description: JSON.stringify(row) });
  expect.soft(observed, `${row.id}: expected ${c.expected}${c.declared ? ` (declared for these pins: ${c.declared})` : ''}`).toBe(c.expected);
}

type Ctx = APIRequestContext;
interface Sessions {
  owner: Ctx;
  admin: Ctx;
}

/**
 * Makes the check's user (and group), then for each level of the row the family's resources (names start with
 * `<check prefix>-<level>-`) and the row's grant of that level on them. Each level has resources of its own, so
 * the levels of one row share the user without sharing anything they change.
 */
async function arrange(rows: MatrixCheck[], ws: Workspace, s: Sessions, t: TargetDescriptor): Promise<{ actor: Actor; refs: Map<MatrixCheck, Refs> }> {
  const { grant: path, family: familyName } = rows[0]!;
  const family = FAMILY[familyName]!;
  const group = path === 'group' || path === 'group-regex' ? (await ws.group()).name : undefined;
  // the REST calls go through the user's OIDC session; the access-token path is the Python client's (below)
  const actor = await ws.actor(path === 'admin' ? ['mlflow-admins'] : ['mlflow-users', ...(group ? [group] : [])], 'u', { token: false });
  const owner = path === 'creator' ? actor.session : s.owner;
  const refs = new Map<MatrixCheck, Refs>();
  // the levels are set up side by side: each on resources of its own
  await Promise.all(rows.map(async (row) => {
    const prefix = `${ws.prefix}-${row.level.toLowerCase()}`;
    const r = await family.setup(owner, t, prefix, {});
    refs.set(row, r);
    const on = { resource: r.grantResource as Refs['grantResource'], ref: r.grantRef };
    const regex = `^${prefix}-`;
    switch (path) {
      case 'user':
      case 'admin':
        await grant(owner, t, { kind: 'user', subject: actor.email, ...on }, row.level, {});
        break;
      case 'group':
        await grant(owner, t, { kind: 'group', subject: group!, ...on }, row.level, {});
        break;
      case 'user-regex':
        await grant(s.admin, t, { kind: 'user-regex', subject: actor.email, ...on, regex }, row.level, {});
        break;
      case 'group-regex':
        await grant(s.admin, t, { kind: 'group-regex', subject: group!, ...on, regex }, row.level, {});
        break;
      case 'creator':
      case 'default':
        break;
      default:
        throw new Error(`matrix.yaml names grant path ${path}, which the spec does not know how to give`);
    }
  }));
  return { actor, refs };
}

/** The matrix's rows grouped by grant path × family: one check (one Keycloak user) tries every level of the path. */
const byPathAndFamily: MatrixCheck[][] = [];
for (const c of checks) {
  const rows = byPathAndFamily.find((r) => r[0]!.grant === c.grant && r[0]!.family === c.family);
  if (rows) rows.push(c);
  else byPathAndFamily.push([c]);
}

test.describe('permission matrix', () => {
  for (const rows of byPathAndFamily) {
    const { grant: path, family, claim } = rows[0]!;
    const cases = rows.flatMap((r) => r.cases);
    const allowed = cases.filter((c) => c.expected === 'allowed').length;
    test(`[${claim}] matrix: ${path} × ${rows.map((r) => r.level).join('/')} on the ${family} family (${cases.length} cases, ${allowed} allowed)`, details(stableId(`matrix-${path}-${family}`), path.startsWith('group') ? needs('keycloakUsers', 'makes a Keycloak group of its own and puts its user in it') : undefined), async ({ sessionAs, sessionHeadersAs, tokenOf }) => {
      const ws = new Workspace(target, 'pm', { sessionAs, sessionHeadersAs, tokenOf });
      try {
        const { actor, refs } = await arrange(rows, ws, { owner: await sessionAs('user1'), admin: await sessionAs('admin') }, target);
        // the levels run side by side: each on its own resources
        await Promise.all(rows.map(async (row) => {
          for (const [key, op] of FAMILY[family]!.operations) {
            const c = row.cases.find((x) => `${x.resource}/${x.operation}` === key);
            if (!c) continue;
            const res = await op(actor.session, refs.get(row)!, {});
            const observed = observedOf(res.status());
            if (observed.startsWith('error')) test.info().annotations.push({ type: 'evidence', description: `${c.id}: ${res.status()} ${(await res.text()).slice(0, 200)}` });
            record(c, observed);
          }
        }));
      } finally {
        await ws.cleanup();
      }
    });
  }
});

// One representative per resource through the real Python client, all three in one client process (its start-up
// costs seconds): a READ user grant lets the client read each resource and refuses its change. The client
// authenticates with the user's access token; the REST checks of the same cells are in the matrix above.
test.describe('permission matrix through the Python client', () => {
  const reps = (['experiment', 'model', 'prompt'] as const).map((family) => ({
    family,
    resource: family === 'experiment' ? 'experiment' : family === 'model' ? 'registered-model' : 'prompt',
    check: checks.find((c) => c.grant === 'user' && c.level === 'READ' && c.family === family)!,
  }));
  test(`[${reps[0]!.check.claim}] matrix through the Python client: user × READ on an experiment, a registered model and a prompt — the client reads each and is refused a change`, stableId('matrix-python-client-user-read'), async ({ sessionAs, sessionHeadersAs, python, tokenOf }) => {
    const ws = new Workspace(target, 'pm', { sessionAs, sessionHeadersAs, tokenOf });
    try {
      const owner = await sessionAs('user1');
      const actor = await ws.actor(['mlflow-users']);
      const args: string[] = [];
      for (const rep of reps) {
        const refs = await FAMILY[rep.family]!.setup(owner, target, `${ws.prefix}-${rep.family}`, {});
        await grant(owner, target, { kind: 'user', subject: actor.email, resource: refs.grantResource as Refs['grantResource'], ref: refs.grantRef }, 'READ', {});
        args.push(`${rep.family}=${rep.family === 'experiment' ? refs.experimentId! : refs.name}`);
      }
      const token = Buffer.from(actor.headers.Authorization!.slice(6), 'base64').toString().split(':').slice(1).join(':');
      const out = await python('permission_probe.py', { MLFLOW_TRACKING_USERNAME: actor.email, MLFLOW_TRACKING_PASSWORD: token }, args);
      expect(out.exitCode, out.stderr.slice(-500)).toBe(0);
      const json = out.json as Record<string, { read: string; update: string }>;
      for (const rep of reps) {
        for (const operation of ['read', 'update'] as const) {
          const c = rep.check.cases.find((x) => x.resource === rep.resource && x.operation === operation)!;
          record(c, json[rep.family]?.[operation] ?? 'error: no answer from the client', 'user (Python client)', 'python/');
        }
      }
    } finally {
      await ws.cleanup();
    }
  });
});
