import type { APIRequestContext } from '@playwright/test';
import { test, expect } from './ui-test.ts';
import { observeDifference } from '../support/claims.ts';
import { expectJson, unique } from '../support/mlflow-api.ts';
import { storageStateFile } from '../support/run-state.ts';
import { persona } from '../support/target.ts';
import type { PluginAdapter } from '../../provision/plugin/adapter.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import type { ResourceRef } from './pages/index.ts';
import { DATES } from './volatile.ts';

/**
 * [C26] in the browser: an admin views and changes users' and groups' permissions on an experiment, a registered model
 * and a prompt, and manages groups, in the permissions UI of the plugin under test (its page objects). Every change is
 * checked through the REST API as the user it affects: what that user may now read or change.
 */

// The admin persona's session from the setup project: every check here acts as the admin in the browser.
test.use({ storageState: storageStateFile('admin') });

const GROUP = 'mlflow-users';
const api = (target: TargetDescriptor, path: string) => `${target.mlflowUrl}/api/2.0/mlflow${path}`;
type Headers = Record<string, string>;

/** Makes a resource as the given user (its creator gets MANAGE). */
async function create(rest: APIRequestContext, target: TargetDescriptor, headers: Headers, kind: ResourceRef['kind'], name: string): Promise<ResourceRef> {
  if (kind === 'experiment') {
    const created = await expectJson(await rest.post(api(target, '/experiments/create'), { headers, data: { name } }));
    return { kind, id: String(created.experiment_id), name };
  }
  const tags = kind === 'prompt' ? [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] : [];
  await expectJson(await rest.post(api(target, '/registered-models/create'), { headers, data: { name, tags } }));
  return { kind, id: name, name };
}

/** Deletes the resource and any group grant this check left on it. */
async function remove(rest: APIRequestContext, target: TargetDescriptor, admin: Headers, ref: ResourceRef): Promise<void> {
  const route = ref.kind === 'experiment' ? 'experiments' : ref.kind === 'model' ? 'registered-models' : 'prompts';
  await rest.delete(api(target, `/permissions/groups/${GROUP}/${route}/${encodeURIComponent(ref.id)}`), { headers: admin });
  if (ref.kind === 'experiment') await rest.post(api(target, '/experiments/delete'), { headers: admin, data: { experiment_id: ref.id } });
  else await rest.delete(api(target, '/registered-models/delete'), { headers: admin, data: { name: ref.name } });
}

/** What a user may do on the resource, through the REST API: read it, and change it (set a tag: EDIT). */
async function access(rest: APIRequestContext, target: TargetDescriptor, headers: Headers, ref: ResourceRef): Promise<{ read: number; change: number }> {
  const tag = { key: 'c26', value: unique('v') };
  if (ref.kind === 'experiment') {
    return {
      read: (await rest.get(api(target, `/experiments/get?experiment_id=${ref.id}`), { headers })).status(),
      change: (await rest.post(api(target, '/experiments/set-experiment-tag'), { headers, data: { experiment_id: ref.id, ...tag } })).status(),
    };
  }
  return {
    read: (await rest.get(api(target, `/registered-models/get?name=${encodeURIComponent(ref.name)}`), { headers })).status(),
    change: (await rest.post(api(target, '/registered-models/set-tag'), { headers, data: { name: ref.name, ...tag } })).status(),
  };
}

/** Waits until the user's access is as expected (a store write reaches the plugin's permission cache at once on one worker; the TTL bounds it otherwise). */
async function expectAccess(rest: APIRequestContext, target: TargetDescriptor, plugin: PluginAdapter, headers: Headers, ref: ResourceRef, expected: { read: number; change: number }, what: string): Promise<void> {
  await expect.poll(() => access(rest, target, headers, ref), { message: what, timeout: plugin.permissionCacheSeconds * 1000 + 10_000 }).toEqual(expected);
  test.info().annotations.push({ type: 'evidence', description: `C26: ${what} → read ${expected.read}, change ${expected.change}` });
}

/** The users the REST API lists on the resource, as {user, permission}. */
async function listedUsers(rest: APIRequestContext, target: TargetDescriptor, plugin: PluginAdapter, admin: Headers, ref: ResourceRef): Promise<{ user: string; permission: string }[]> {
  const route = ref.kind === 'experiment' ? 'experiments' : ref.kind === 'model' ? 'registered-models' : 'prompts';
  const rows = (await (await rest.get(api(target, `/permissions/${route}/${encodeURIComponent(ref.id)}/users`), { headers: admin })).json()) as Record<string, string>[];
  return rows.map((r) => ({ user: r[plugin.permissionFields.resourceUser]!, permission: r.permission! }));
}

const READ_ONLY = { read: 200, change: 403 };
const CHANGES = { read: 200, change: 200 };

test('[C26] experiment: an admin sees the creator\'s MANAGE on user1\'s experiment, grants the group mlflow-users READ, then user2 READ changed to EDIT, and user2\'s REST calls follow each change', async ({ page, target, plugin, ui, screens, rest, sessionHeadersAs }) => {
  const owner = persona(target, 'user1');
  const other = persona(target, 'user2');
  const admin = sessionHeadersAs('admin');
  const ref = await create(rest, target, sessionHeadersAs('user1'), 'experiment', unique('c26-exp'));
  screens.volatile(ref.name, ...DATES);
  const perms = ui.resource(page, ref);
  try {
    await screens.step('experiment permissions', async () => {
      await perms.open();
      await expect(perms.levelOf({ user: owner.email })).toHaveText('MANAGE');
      await expect(perms.rowOf({ user: other.email })).toHaveCount(0);
    });
    // with the configured fallback (MANAGE), user2 may change it before anything is granted
    await expectAccess(rest, target, plugin, sessionHeadersAs('user2'), ref, CHANGES, 'user2 before any grant (fallback)');

    await screens.step('group mlflow-users granted READ', async () => {
      await perms.grant({ group: GROUP }, 'READ');
      await expect(perms.levelOf({ group: GROUP })).toHaveText('READ');
    });
    await expectAccess(rest, target, plugin, sessionHeadersAs('user2'), ref, READ_ONLY, 'user2 (member of mlflow-users) after the group\'s READ');

    await screens.step('user2 granted READ', async () => {
      await perms.grant({ user: other.email }, 'READ');
      await expect(perms.levelOf({ user: other.email })).toHaveText('READ');
    });
    await screens.step('user2 changed to EDIT', async () => {
      await perms.change({ user: other.email }, 'EDIT');
      await expect(perms.levelOf({ user: other.email })).toHaveText('EDIT');
    });
    await expectAccess(rest, target, plugin, sessionHeadersAs('user2'), ref, CHANGES, 'user2 after its own EDIT (over the group\'s READ)');
    expect(await listedUsers(rest, target, plugin, admin, ref)).toEqual(expect.arrayContaining([{ user: owner.email, permission: 'MANAGE' }, { user: other.email, permission: 'EDIT' }]));
  } finally {
    await remove(rest, target, admin, ref);
  }
});

test('[C26] registered model: on user2\'s page an admin sees user2\'s effective permission on user1\'s model and sets it to READ; the model\'s page lists both users, and a group\'s EDIT does not outrank user2\'s own READ until it is removed', async ({ page, target, plugin, ui, screens, rest, sessionHeadersAs }) => {
  const owner = persona(target, 'user1');
  const other = persona(target, 'user2');
  const admin = sessionHeadersAs('admin');
  const ref = await create(rest, target, sessionHeadersAs('user1'), 'model', unique('c26-model'));
  screens.volatile(ref.name, ...DATES);
  try {
    // what the REST API says user2 has on the model before anything is granted (the configured fallback)
    const before = ((await (await rest.get(api(target, `/permissions/users/${other.email}/registered-models`), { headers: admin })).json()) as Record<string, string>[]).find((m) => m.name === ref.name);
    expect(before, `user2's list of models has ${ref.name}`).toBeDefined();
    const mine = ui.userPermissions(page, other.email, 'model');
    await screens.step('user2\'s models', async () => {
      await mine.open();
      await expect(mine.effective(ref).level).toHaveText(before!.permission!);
      await expect(mine.effective(ref).source).toHaveText(before![plugin.permissionFields.source]!);
    });
    await screens.step('user2 set to READ on the model', async () => {
      await mine.set(ref, 'READ');
      await expect(mine.effective(ref).level).toHaveText('READ');
      await expect(mine.effective(ref).source).toHaveText('user');
    });
    await expectAccess(rest, target, plugin, sessionHeadersAs('user2'), ref, READ_ONLY, 'user2 after its own READ');

    const perms = ui.resource(page, ref);
    await screens.step('model permissions', async () => {
      await perms.open();
      await expect(perms.levelOf({ user: owner.email })).toHaveText('MANAGE');
      await expect(perms.levelOf({ user: other.email })).toHaveText('READ');
    });
    await screens.step('group mlflow-users granted EDIT', async () => {
      await perms.grant({ group: GROUP }, 'EDIT');
      await expect(perms.levelOf({ group: GROUP })).toHaveText('EDIT');
    });
    await expectAccess(rest, target, plugin, sessionHeadersAs('user2'), ref, READ_ONLY, 'user2 with its own READ and the group\'s EDIT (user first)');
    await screens.step('user2\'s own permission removed', async () => {
      await perms.remove({ user: other.email });
      await expect(perms.rowOf({ user: other.email })).toHaveCount(0);
    });
    await expectAccess(rest, target, plugin, sessionHeadersAs('user2'), ref, CHANGES, 'user2 after its own permission is removed (the group\'s EDIT)');
    expect(await listedUsers(rest, target, plugin, admin, ref)).toEqual([{ user: owner.email, permission: 'MANAGE' }]);
  } finally {
    await remove(rest, target, admin, ref);
  }
});

test('[C26] prompt: an admin sees the creator\'s MANAGE on user1\'s prompt, grants user2 READ and removes it again, then grants the group mlflow-users READ; user2\'s REST calls follow', async ({ page, target, plugin, ui, screens, rest, sessionHeadersAs }) => {
  const owner = persona(target, 'user1');
  const other = persona(target, 'user2');
  const admin = sessionHeadersAs('admin');
  const ref = await create(rest, target, sessionHeadersAs('user1'), 'prompt', unique('c26-prompt'));
  screens.volatile(ref.name, ...DATES);
  const perms = ui.resource(page, ref);
  try {
    await screens.step('prompt permissions', async () => {
      await perms.open();
      await expect(perms.levelOf({ user: owner.email })).toHaveText('MANAGE');
      await expect(perms.rowOf({ user: other.email })).toHaveCount(0);
    });
    await screens.step('user2 granted READ', async () => {
      await perms.grant({ user: other.email }, 'READ');
      await expect(perms.levelOf({ user: other.email })).toHaveText('READ');
    });
    await expectAccess(rest, target, plugin, sessionHeadersAs('user2'), ref, READ_ONLY, 'user2 after its READ on the prompt');
    expect(await listedUsers(rest, target, plugin, admin, ref)).toContainEqual({ user: other.email, permission: 'READ' });

    await screens.step('user2\'s permission removed', async () => {
      await perms.remove({ user: other.email });
      await expect(perms.rowOf({ user: other.email })).toHaveCount(0);
    });
    await expectAccess(rest, target, plugin, sessionHeadersAs('user2'), ref, CHANGES, 'user2 back on the fallback');
    await screens.step('group mlflow-users granted READ', async () => {
      await perms.grant({ group: GROUP }, 'READ');
      await expect(perms.levelOf({ group: GROUP })).toHaveText('READ');
    });
    await expectAccess(rest, target, plugin, sessionHeadersAs('user2'), ref, READ_ONLY, 'user2 (member of mlflow-users) after the group\'s READ');
  } finally {
    await remove(rest, target, admin, ref);
  }
});

/** A group this harness creates where the UI can (plugins without a group delete route keep it; creating it again is a no-op). */
const HARNESS_GROUP = 'harness-ui-group';

test('[C26] groups: the UI lists the groups the REST API knows and opens a group\'s permissions per resource kind; group creation, membership editing and an audit log are as the adapter declares, and what the UI offers beyond the seed is recorded', async ({ page, target, plugin, ui, screens, rest, sessionHeadersAs }) => {
  const admin = sessionHeadersAs('admin');
  const { features } = ui.facts;
  const names = (x: unknown[]) => x.map((g) => (typeof g === 'string' ? g : String((g as Record<string, unknown>).group_name ?? (g as Record<string, unknown>).name)));
  const known = names((await (await rest.get(api(target, '/permissions/groups'), { headers: admin })).json()) as unknown[]);
  expect(known).toEqual(expect.arrayContaining(['mlflow-admins', 'mlflow-users']));
  screens.volatile(...DATES);
  const groups = ui.groups(page);

  await ui.openHome(page);
  const listed = await screens.step('groups list', () => groups.list());
  expect(listed).toEqual(expect.arrayContaining(known.filter((g) => g !== HARNESS_GROUP)));

  // creating groups: where the adapter says the UI can, create one and find it through the REST API
  const creators = await groups.createControl().count();
  expect(creators > 0, `controls that create a group: ${creators}`).toBe(features.groupCreation);
  if (features.groupCreation) {
    await screens.step('group created', async () => {
      await groups.create(HARNESS_GROUP);
      await expect.poll(async () => names((await (await rest.get(api(target, '/permissions/groups'), { headers: admin })).json()) as unknown[])).toContain(HARNESS_GROUP);
      expect(await groups.list()).toContain(HARNESS_GROUP);
    });
  }

  const tabs = await screens.step('group mlflow-users', () => groups.open(GROUP));
  const tabNames = tabs.map((t) => t.replace(/\s+/g, ' ').trim());
  for (const kind of ['Experiments', 'Models', 'Prompts']) expect(tabNames).toContain(kind);
  const membership = await groups.membershipControls().count();
  expect(membership > 0, `controls that edit members: ${membership}`).toBe(features.groupMembership);
  const groupEvidence = `${creators} controls create a group, ${membership} edit members; the group's page has tabs ${tabNames.join(', ')}`;
  observeDifference(features.groupCreation ? 'ui-groups-without-membership' : 'ui-no-group-creation', creators > 0 && membership > 0, groupEvidence);

  const audit = await ui.auditMentions(page);
  expect(audit > 0).toBe(features.auditLog);
  observeDifference('ui-no-audit-log', audit > 0, `${audit} mentions of "audit" in the permissions UI's navigation and group pages`);

  // what the UI offers that the seed does not name (service accounts, tokens, AI gateway, trash, webhooks, SCIM, …)
  const areas = await ui.areas(page);
  test.info().annotations.push({ type: 'observation', description: `the permissions UI's navigation: ${areas.join(', ')}` });
});
