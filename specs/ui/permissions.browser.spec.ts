import type { APIRequestContext, Locator, Page } from '@playwright/test';
import { test as base, expect } from '../support/fixtures.ts';
import { observeDifference } from '../support/claims.ts';
import { expectJson, unique } from '../support/mlflow-api.ts';
import { storageStateFile } from '../support/run-state.ts';
import { persona } from '../support/target.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { answerPermissionDialog, escapeRegExp, header, openManageTab, requireAngularUi, rowAction, rowOf, searchAndAct } from './ui-support.ts';

/**
 * `rest`: a request context without cookies of its own. With the admin's storage state in use, Playwright applies
 * it to request contexts too, and the plugin authenticates that session cookie first: every REST call would run as
 * the admin. Each call here names its persona with that persona's session cookie (`sessionHeadersAs`).
 */
const test = base.extend<{ rest: APIRequestContext }>({
  rest: async ({ playwright }, use) => {
    const ctx = await playwright.request.newContext({ storageState: { cookies: [], origins: [] } });
    await use(ctx);
    await ctx.dispose();
  },
});

test.beforeEach(({ plugin }) => requireAngularUi(plugin));

// The admin persona's session from the setup project: every check here acts as the admin in the browser.
test.use({ storageState: storageStateFile('admin') });

const api = (target: TargetDescriptor, path: string) => `${target.mlflowUrl}/api/2.0/mlflow${path}`;

/** The permission column of a row (cells: actions, name, permission, [kind/type]). */
const permissionCell = (row: Locator) => row.getByRole('cell').nth(2);
const kindCell = (row: Locator) => row.getByRole('cell').nth(3);
/** Title of the UI's "Edit" dialog: `Edit <experiment id or resource name> permissions for <user or group>`. */
const editTitle = (who: string) => new RegExp(`^Edit .+ permissions for ${escapeRegExp(who)}$`);

async function createExperiment(request: APIRequestContext, target: TargetDescriptor, headers: Record<string, string>, name: string): Promise<string> {
  const created = await expectJson(await request.post(api(target, '/experiments/create'), { headers, data: { name } }));
  return String(created.experiment_id);
}

async function createRegisteredModel(request: APIRequestContext, target: TargetDescriptor, headers: Record<string, string>, name: string, prompt = false): Promise<void> {
  const tags = prompt ? [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] : [];
  await expectJson(await request.post(api(target, '/registered-models/create'), { headers, data: { name, tags } }));
}

/** Status of an EDIT-level call by the given user on an experiment (set a tag). */
const tagExperiment = async (request: APIRequestContext, target: TargetDescriptor, headers: Record<string, string>, experimentId: string) =>
  (await request.post(api(target, '/experiments/set-experiment-tag'), { headers, data: { experiment_id: experimentId, key: 'c26', value: unique('v') } })).status();

/** Status of an EDIT-level call by the given user on a registered model or prompt (set a tag). */
const tagModel = async (request: APIRequestContext, target: TargetDescriptor, headers: Record<string, string>, name: string) =>
  (await request.post(api(target, '/registered-models/set-tag'), { headers, data: { name, key: 'c26', value: unique('v') } })).status();

/** Pages must not mention audit logs anywhere (the 5.6.1 UI has none). */
async function expectNoAuditLog(page: Page): Promise<void> {
  await expect(page.getByText(/audit/i)).toHaveCount(0);
  await expect(page.getByRole('button', { name: /audit/i })).toHaveCount(0);
  await expect(page.getByRole('link', { name: /audit/i })).toHaveCount(0);
}

test('[C26] experiment: an admin sees who may access user1\'s experiment, grants user2 READ and changes it to EDIT in the permissions UI', async ({ page, target, rest: request, sessionHeadersAs }) => {
  const owner = persona(target, 'user1');
  const other = persona(target, 'user2');
  const name = unique('c26-exp');
  const id = await createExperiment(request, target, sessionHeadersAs('user1'), name);
  try {
    const panel = await openManageTab(page, target, 'Experiment permissions');
    await searchAndAct(panel, name, 'Edit');
    await expect(page).toHaveURL(new RegExp(`#/manage/experiment/${id}$`));
    await expect(page.getByRole('heading', { name: 'Experiment Access' })).toBeVisible();
    const table = page.getByRole('table');

    // View: the creator's MANAGE, as the REST API reports it.
    const ownerRow = rowOf(table, owner.email);
    await expect(permissionCell(ownerRow)).toHaveText('MANAGE');
    await expect(kindCell(ownerRow)).toHaveText('user');
    await expect(rowOf(table, other.email)).toHaveCount(0);

    // Grant user2 READ through "Add".
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await answerPermissionDialog(page, /^Grant user permissions for /, 'Read', { label: 'User', option: other.email });
    const otherRow = rowOf(table, other.email);
    await expect(permissionCell(otherRow)).toHaveText('READ');
    await expect(kindCell(otherRow)).toHaveText('user');

    const admin = sessionHeadersAs('admin');
    const granted = await expectJson(await request.get(api(target, `/permissions/users/${other.email}/experiments/${id}`), { headers: admin }));
    expect(granted.experiment_permission).toMatchObject({ experiment_id: id, permission: 'READ' });
    const users = await request.get(api(target, `/permissions/experiments/${id}/users`), { headers: admin });
    expect(await users.json()).toEqual(expect.arrayContaining([
      { username: owner.email, permission: 'MANAGE', kind: 'user' },
      { username: other.email, permission: 'READ', kind: 'user' },
    ]));
    // …and the server enforces it: user2 can read the experiment but not change it.
    expect((await request.get(api(target, `/experiments/get?experiment_id=${id}`), { headers: sessionHeadersAs('user2') })).status()).toBe(200);
    expect(await tagExperiment(request, target, sessionHeadersAs('user2'), id)).toBe(403);

    // Change it to EDIT from the row's menu.
    await rowAction(otherRow, 'Edit');
    await answerPermissionDialog(page, editTitle(other.email), 'Edit');
    await expect(permissionCell(otherRow)).toHaveText('EDIT');
    await expect.poll(async () => ((await (await request.get(api(target, `/permissions/users/${other.email}/experiments/${id}`), { headers: admin })).json()) as { experiment_permission: { permission: string } }).experiment_permission.permission).toBe('EDIT');
    expect(await tagExperiment(request, target, sessionHeadersAs('user2'), id)).toBe(200);
  } finally {
    await request.post(api(target, '/experiments/delete'), { headers: sessionHeadersAs('admin'), data: { experiment_id: id } });
  }
});

test('[C26] registered model: on user2\'s page an admin sees user2\'s effective permission on user1\'s model and sets it to READ', async ({ page, target, rest: request, sessionHeadersAs }) => {
  const owner = persona(target, 'user1');
  const other = persona(target, 'user2');
  const admin = sessionHeadersAs('admin');
  const name = unique('c26-model');
  await createRegisteredModel(request, target, sessionHeadersAs('user1'), name);
  try {
    // What the REST API says user2 has on the model before anything is granted (the configured fallback).
    const before = ((await (await request.get(api(target, `/permissions/users/${other.email}/registered-models`), { headers: admin })).json()) as { name: string; permission: string; type: string }[]).find((m) => m.name === name);
    expect(before, `user2's list of models has ${name}`).toBeDefined();

    const users = await openManageTab(page, target, 'Users permissions');
    await searchAndAct(users, other.email, 'Edit');
    await expect(page).toHaveURL(new RegExp(`#/manage/user/${escapeRegExp(other.email)}/`));
    await page.getByRole('tab', { name: 'Models', exact: true }).click();
    const models = page.getByRole('tabpanel', { name: 'Models', exact: true }).getByRole('tabpanel', { name: 'Permissions', exact: true });
    await models.getByRole('textbox', { name: 'Search' }).fill(name);
    const row = rowOf(models.getByRole('table'), name);
    // View: the UI shows the same effective permission and its source.
    await expect(permissionCell(row)).toHaveText(before!.permission);
    await expect(kindCell(row)).toHaveText(before!.type);

    await rowAction(row, 'Edit');
    await answerPermissionDialog(page, editTitle(other.email), 'Read');
    await expect(permissionCell(row)).toHaveText('READ');
    await expect(kindCell(row)).toHaveText('user');

    const granted = await expectJson(await request.get(api(target, `/permissions/users/${other.email}/registered-models/${name}`), { headers: admin }));
    expect(granted.registered_model_permission).toMatchObject({ name, permission: 'READ' });
    expect((await request.get(api(target, `/registered-models/get?name=${name}`), { headers: sessionHeadersAs('user2') })).status()).toBe(200);
    expect(await tagModel(request, target, sessionHeadersAs('user2'), name)).toBe(403);

    // The model's own page lists both users.
    const modelsTab = await openManageTab(page, target, 'Model permissions');
    await searchAndAct(modelsTab, name, 'Edit');
    await expect(page).toHaveURL(new RegExp(`#/manage/model/${escapeRegExp(name)}$`));
    await expect(page.getByRole('heading', { name: 'Model Access' })).toBeVisible();
    const access = page.getByRole('table');
    await expect(permissionCell(rowOf(access, owner.email))).toHaveText('MANAGE');
    await expect(permissionCell(rowOf(access, other.email))).toHaveText('READ');
  } finally {
    await request.delete(api(target, '/registered-models/delete'), { headers: admin, data: { name } });
  }
});

test('[C26] prompt: an admin sees the creator\'s MANAGE on user1\'s prompt, grants user2 READ and resets it to the fallback in the permissions UI', async ({ page, target, rest: request, sessionHeadersAs }) => {
  const owner = persona(target, 'user1');
  const other = persona(target, 'user2');
  const admin = sessionHeadersAs('admin');
  const name = unique('c26-prompt');
  await createRegisteredModel(request, target, sessionHeadersAs('user1'), name, true);
  try {
    const prompts = await openManageTab(page, target, 'Prompt permissions');
    await searchAndAct(prompts, name, 'Edit');
    await expect(page).toHaveURL(new RegExp(`#/manage/prompt/${escapeRegExp(name)}$`));
    await expect(page.getByRole('heading', { name: 'Prompt Access' })).toBeVisible();
    const table = page.getByRole('table');
    await expect(permissionCell(rowOf(table, owner.email))).toHaveText('MANAGE');
    await expect(rowOf(table, other.email)).toHaveCount(0);

    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await answerPermissionDialog(page, /^Grant user permissions for /, 'Read', { label: 'User', option: other.email });
    const otherRow = rowOf(table, other.email);
    await expect(permissionCell(otherRow)).toHaveText('READ');

    const granted = await expectJson(await request.get(api(target, `/permissions/users/${other.email}/prompts/${name}`), { headers: admin }));
    expect(granted.prompt_permission).toMatchObject({ name, permission: 'READ' });
    expect(await (await request.get(api(target, `/permissions/prompts/${name}/users`), { headers: admin })).json()).toContainEqual({ username: other.email, permission: 'READ', kind: 'user' });
    expect(await tagModel(request, target, sessionHeadersAs('user2'), name)).toBe(403);

    // "Reset to fallback" removes the explicit permission again.
    await rowAction(otherRow, 'Reset to fallback');
    await expect(otherRow).toHaveCount(0);
    await expect.poll(async () => (await request.get(api(target, `/permissions/users/${other.email}/prompts/${name}`), { headers: admin })).status()).toBe(404);
    expect(await (await request.get(api(target, `/permissions/prompts/${name}/users`), { headers: admin })).json()).toEqual([{ username: owner.email, permission: 'MANAGE', kind: 'user' }]);
  } finally {
    await request.delete(api(target, '/registered-models/delete'), { headers: admin, data: { name } });
  }
});

test('[C26] groups: the UI lists the groups and manages a group\'s permission on an experiment (grant, change, reset); it offers no group creation, membership editing or audit log', async ({ page, target, rest: request, sessionHeadersAs }) => {
  const admin = sessionHeadersAs('admin');
  const group = 'mlflow-users';
  const name = unique('c26-group-exp');
  const id = await createExperiment(request, target, sessionHeadersAs('user1'), name);
  try {
    // The groups the REST API knows (read before the UI loads its list).
    const known = (await (await request.get(api(target, '/permissions/groups'), { headers: admin })).json()) as string[];
    expect(known).toEqual(expect.arrayContaining(['mlflow-admins', 'mlflow-users']));

    // What the 5.6.1 UI offers: these five management tabs, nothing about audit logs.
    const groups = await openManageTab(page, target, 'Group permissions');
    await expect(page.getByRole('tablist').first().getByRole('tab')).toHaveText(['Users permissions', 'Experiment permissions', 'Prompt permissions', 'Model permissions', 'Group permissions']);
    for (const b of Object.values(header(page))) await expect(b).toBeVisible();
    const auditMentions = await page.getByText(/audit/i).count() + await page.getByRole('link', { name: /audit/i }).count();
    observeDifference('ui-no-audit-log', auditMentions > 0, `${auditMentions} mentions of "audit" in the permissions UI`);

    // View: every group the REST API knows is listed; the list has no "create group" control, only row menus with "Edit".
    for (const g of known) await expect(rowOf(groups.getByRole('table'), g)).toHaveCount(1);
    const groupControls = await groups.getByRole('button', { name: /\S/ }).count();
    observeDifference('ui-no-group-creation', groupControls > 0, `${groupControls} named controls on the group list`);
    await rowOf(groups.getByRole('table'), group).getByRole('button').click();
    await expect(page.getByRole('menu').getByRole('menuitem')).toHaveCount(1);
    await expect(page.getByRole('menu').getByRole('menuitem')).toHaveAccessibleName('Edit');
    await page.getByRole('menuitem', { name: 'Edit', exact: true }).click();

    // A group's page: permissions per resource kind (no member list, no membership editing).
    await expect(page).toHaveURL(new RegExp(`#/manage/group/${group}/experiments/permissions$`));
    await expect(page.getByRole('tablist').first().getByRole('tab')).toHaveText(['Experiments', 'Models', 'Prompts']);
    await expect(page.getByText(/members|add user/i)).toHaveCount(0);
    await expectNoAuditLog(page);

    // Grant the group READ on user1's fresh experiment.
    const permissions = page.getByRole('tabpanel', { name: 'Experiments', exact: true }).getByRole('tabpanel', { name: 'Permissions', exact: true });
    await permissions.getByRole('button', { name: 'Add', exact: true }).click();
    await answerPermissionDialog(page, `Grant experiment permissions for ${group}`, 'Read', { label: 'Experiment', option: name });
    const row = rowOf(permissions.getByRole('table'), name);
    await expect(permissionCell(row)).toHaveText('READ');
    const listed = async () => ((await (await request.get(api(target, `/permissions/groups/${group}/experiments`), { headers: admin })).json()) as { id: string; name: string; permission: string }[]).find((e) => e.id === id);
    expect(await listed()).toEqual({ id, name, permission: 'READ' });
    // user2 (a member, without a permission of its own on it) now only reads it.
    expect((await request.get(api(target, `/experiments/get?experiment_id=${id}`), { headers: sessionHeadersAs('user2') })).status()).toBe(200);
    expect(await tagExperiment(request, target, sessionHeadersAs('user2'), id)).toBe(403);

    // Change it to EDIT.
    await rowAction(row, 'Edit');
    await answerPermissionDialog(page, editTitle(group), 'Edit');
    await expect(permissionCell(row)).toHaveText('EDIT');
    await expect.poll(async () => (await listed())?.permission).toBe('EDIT');
    expect(await tagExperiment(request, target, sessionHeadersAs('user2'), id)).toBe(200);

    // Reset it: the group no longer has a permission on the experiment.
    await rowAction(row, 'Reset to fallback');
    await expect(row).toHaveCount(0);
    await expect.poll(listed).toBeUndefined();
  } finally {
    await request.delete(api(target, `/permissions/groups/${group}/experiments/${id}`), { headers: admin });
    await request.post(api(target, '/experiments/delete'), { headers: admin, data: { experiment_id: id } });
  }
});
