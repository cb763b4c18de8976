import type { APIRequestContext } from '@playwright/test';
import { test, expect } from '../support/fixtures.ts';
import { loadTarget } from '../support/target.ts';
import { grant, Workspace, type Actor } from '../support/permissions.ts';
import { caseVerdict, expandMatrix, loadMatrix, observedOf, type MatrixCase, type MatrixCheck } from '../../conformance/permissions.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { families, type Refs } from './families.ts';

// The permission matrix (matrix.yaml): one check per grant path × level × resource family, each with a user
// (and group) of its own; every operation of the family is tried and recorded as a case of reports/permissions.json.

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

/** Makes the check's user and the resources, and applies the grant of the row. */
async function arrange(check: MatrixCheck, ws: Workspace, request: APIRequestContext, t: TargetDescriptor, basicAs: (k: string) => Record<string, string>): Promise<{ actor: Actor; refs: Refs }> {
  const family = FAMILY[check.family]!;
  const group = check.grant === 'group' || check.grant === 'group-regex' ? (await ws.group()).name : undefined;
  const actor = await ws.actor(check.grant === 'admin' ? ['mlflow-admins'] : ['mlflow-users', ...(group ? [group] : [])]);
  const owner = check.grant === 'creator' ? actor.headers : basicAs('user1');
  const refs = await family.setup(request, t, ws.prefix, owner);
  const on = { resource: refs.grantResource as Refs['grantResource'], ref: refs.grantRef };
  const regex = `^${ws.prefix}-`;
  switch (check.grant) {
    case 'user':
    case 'admin':
      await grant(request, t, { kind: 'user', subject: actor.email, ...on }, check.level, owner);
      break;
    case 'group':
      await grant(request, t, { kind: 'group', subject: group!, ...on }, check.level, owner);
      break;
    case 'user-regex':
      await grant(request, t, { kind: 'user-regex', subject: actor.email, ...on, regex }, check.level, basicAs('admin'));
      break;
    case 'group-regex':
      await grant(request, t, { kind: 'group-regex', subject: group!, ...on, regex }, check.level, basicAs('admin'));
      break;
    case 'creator':
    case 'default':
      break;
    default:
      throw new Error(`matrix.yaml names grant path ${check.grant}, which the spec does not know how to give`);
  }
  return { actor, refs };
}

test.describe('permission matrix', () => {
  for (const check of checks) {
    const allowed = check.cases.filter((c) => c.expected === 'allowed').length;
    test(`[${check.claim}] matrix: ${check.grant} × ${check.level} on the ${check.family} family (${check.cases.length} cases, ${allowed} allowed)`, async ({ request, basicAs }) => {
      const ws = new Workspace(target);
      ws.adminHeaders = () => basicAs('admin');
      try {
        const { actor, refs } = await arrange(check, ws, request, target, basicAs);
        for (const [key, op] of FAMILY[check.family]!.operations) {
          const c = check.cases.find((x) => `${x.resource}/${x.operation}` === key);
          if (!c) continue;
          const res = await op(request, refs, actor.headers);
          const observed = observedOf(res.status());
          if (observed.startsWith('error')) test.info().annotations.push({ type: 'evidence', description: `${c.id}: ${res.status()} ${(await res.text()).slice(0, 200)}` });
          record(c, observed);
        }
      } finally {
        await ws.cleanup();
      }
    });
  }
});

// One representative per resource through the real Python client: a READ grant lets the client read and
// refuses its change (the REST check of the same cell is in the matrix above).
test.describe('permission matrix through the Python client', () => {
  for (const family of ['experiment', 'model', 'prompt'] as const) {
    const check = checks.find((c) => c.grant === 'user' && c.level === 'READ' && c.family === family)!;
    const resource = family === 'experiment' ? 'experiment' : family === 'model' ? 'registered-model' : 'prompt';
    test(`[${check.claim}] matrix through the Python client: user × READ on a ${resource} — the client reads it and is refused a change`, async ({ request, basicAs, python }) => {
      const ws = new Workspace(target);
      ws.adminHeaders = () => basicAs('admin');
      try {
        const { actor, refs } = await arrange(check, ws, request, target, basicAs);
        const token = Buffer.from(actor.headers.Authorization!.slice(6), 'base64').toString().split(':').slice(1).join(':');
        const out = await python('permission_probe.py', { MLFLOW_TRACKING_USERNAME: actor.email, MLFLOW_TRACKING_PASSWORD: token }, [family === 'model' ? 'model' : family, family === 'experiment' ? refs.experimentId! : refs.name]);
        expect(out.exitCode, out.stderr.slice(-500)).toBe(0);
        const json = out.json as { read: string; update: string };
        for (const operation of ['read', 'update'] as const) {
          const c = check.cases.find((x) => x.resource === resource && x.operation === operation)!;
          record(c, json[operation], 'user (Python client)', 'python/');
        }
      } finally {
        await ws.cleanup();
      }
    });
  }
});
