import { expect, type Locator, type Page } from '@playwright/test';
import type { TargetDescriptor } from '../../../provision/targets/descriptor.ts';
import type { PermissionsUi as UiFacts } from '../../../provision/plugin/adapter.ts';
import { escapeRegExp } from './common.ts';
import { granteeName, type AccessKeyDialog, type Grantee, type Groups, type Level, type PermissionsUiPages, type ResourceKind, type ResourcePermissions, type ResourceRef, type UserPermissions } from './types.ts';

/**
 * mlflow-oidc-auth 6.x–7.x: the React app under /oidc/ui (path routes). A header with "MLFlow", "GitHub", "Docs",
 * "Hello, <name>", "Logout"; a sidebar of management areas (Users, Service Accounts, Groups, Experiments, Prompts,
 * Models, AI gateway pages, Trash, Webhooks); the first stop /oidc/ui/user with "Create Access Token". A resource's
 * page lists who has which permission ("+ Add" a user, "+ Add Group" a group, "Edit permission", "Remove permission").
 * Facts observed on 7.3.1.
 */

/** Sidebar entry and list path of each resource kind. */
export const AREA: Record<ResourceKind, { link: string; path: string; title: string }> = {
  experiment: { link: 'Experiments', path: 'experiments', title: 'Experiment' },
  model: { link: 'Models', path: 'models', title: 'Model' },
  prompt: { link: 'Prompts', path: 'prompts', title: 'Prompt' },
};

/** The date field's properties read in the page (no DOM types here). */
export interface DateInput {
  min: string;
  max: string;
  validity: { rangeOverflow: boolean; valid: boolean };
}

/** A table row whose first cell is exactly `name`. */
export function rowOf(scope: Locator | Page, name: string): Locator {
  const page = 'page' in scope ? scope.page() : scope;
  return scope.getByRole('row').filter({ has: page.getByRole('cell', { name, exact: true }) });
}
/** Cells: name, permission, kind, actions. */
const permissionCell = (row: Locator) => row.getByRole('cell').nth(1);
const kindCell = (row: Locator) => row.getByRole('cell').nth(2);

/** The UI's dialogs: optional select of who/what, the level select, then "Save" (grant) or "Ok" (edit). */
async function answerDialog(page: Page, title: string | RegExp, level: Level, choose?: { label: RegExp; option: string }): Promise<void> {
  const dialog = page.getByRole('dialog').filter({ has: page.getByRole('heading', { name: title }) });
  await expect(dialog).toBeVisible();
  if (choose) await dialog.getByRole('combobox', { name: choose.label }).selectOption({ label: choose.option });
  await dialog.getByRole('combobox').last().selectOption({ label: level });
  await dialog.getByRole('button', { name: /^(Save|Ok)$/ }).click();
  await expect(dialog).toBeHidden();
}

export class React67 implements PermissionsUiPages {
  constructor(readonly target: TargetDescriptor, readonly facts: UiFacts) {}

  /** The sidebar of management areas. */
  sidebar(page: Page): Locator {
    return page.getByRole('complementary');
  }

  /** Opens one of the sidebar's lists (Experiments, Models, …) and searches it for `name`; returns the row. */
  async searchList(page: Page, link: string, name: string): Promise<Locator> {
    if (!page.url().startsWith(`${this.target.mlflowUrl}/oidc/ui`)) await page.goto(`${this.target.mlflowUrl}/oidc/ui/user`);
    await this.sidebar(page).getByRole('link', { name: link, exact: true }).click();
    await expect(page.getByRole('heading', { level: 2, name: link, exact: true })).toBeVisible();
    const search = page.getByRole('textbox', { name: /^Search .*\.\.\.$/ });
    await search.fill(name);
    await search.press('Enter');
    const row = rowOf(page.getByRole('table'), name);
    await expect(row).toHaveCount(1);
    return row;
  }

  /** Opens a listed entity's page: its row shows "Manage permissions" when the pointer is over it. */
  async openRow(row: Locator): Promise<void> {
    await row.hover();
    await row.getByRole('button', { name: 'Manage permissions' }).click();
  }

  /** A tab of a user's or group's page (`/oidc/ui/users/<name>/models`; the sidebar has links of the same names). */
  tab(page: Page, area: 'users' | 'groups', path: string): Locator {
    return page.locator(`a[href^="/oidc/ui/${area}/"][href$="/${path}"]`);
  }

  async openHome(page: Page): Promise<void> {
    await page.goto(`${this.target.mlflowUrl}/oidc/ui/user`);
  }

  async expectSignedIn(page: Page, who: { email: string; admin: boolean }): Promise<void> {
    await expect(page).toHaveURL(new RegExp(`^${escapeRegExp(this.target.mlflowUrl)}/oidc/ui/user$`));
    await expect(page.getByRole('heading', { name: 'User Page' })).toBeVisible();
    await expect(page.getByRole('link', { name: /^Hello, / })).toBeVisible();
    await expect(page.getByRole('main')).toContainText(who.email);
    const adminNote = page.getByText('You have administrator privileges');
    await expect(adminNote).toHaveCount(who.admin ? 1 : 0);
  }

  async openMlflow(page: Page): Promise<void> {
    await page.getByRole('banner').getByRole('link', { name: /^MLflow$/i }).click();
  }

  accessKey(page: Page, user: { email: string }): AccessKeyDialog {
    return new AccessToken(page, user.email);
  }

  resource(page: Page, ref: ResourceRef): ResourcePermissions {
    return new Resource(page, this, ref);
  }

  userPermissions(page: Page, user: string, kind: ResourceKind): UserPermissions {
    return new UserPage(page, this, user, kind);
  }

  groups(page: Page): Groups {
    return new GroupList(page, this);
  }

  async areas(page: Page): Promise<string[]> {
    const header = await page.getByRole('banner').getByRole('navigation').getByRole('link').allInnerTexts();
    const side = await this.sidebar(page).getByRole('navigation').getByRole('link').allInnerTexts();
    return [...header, ...side].map((s) => s.trim()).filter(Boolean);
  }

  async auditMentions(page: Page): Promise<number> {
    return (await page.getByText(/audit/i).count()) + (await page.getByRole('link', { name: /audit/i }).count()) + (await page.getByRole('button', { name: /audit/i }).count());
  }
}

/** "Create Access Token" on the user page: a native date field (min today, max one year ahead), one token per user. */
class AccessToken implements AccessKeyDialog {
  constructor(private readonly page: Page, private readonly email: string) {}
  private get dialog() {
    return this.page.getByRole('dialog').filter({ has: this.page.getByRole('heading', { name: `Generate Access Token for ${this.email}` }) });
  }
  private get expiration() {
    return this.dialog.getByRole('textbox', { name: /^Expiration Date/ });
  }
  private get requestButton() {
    return this.dialog.getByRole('button', { name: 'Request Token' });
  }
  private get accessKey() {
    return this.dialog.getByRole('textbox', { name: 'Access Key' });
  }
  private opener() {
    return this.page.getByRole('main').getByRole('button', { name: /Create Access Token/ });
  }
  secrets(): Locator[] {
    return [this.page.getByRole('textbox', { name: 'Access Key' })];
  }
  volatile(): Locator[] {
    return [this.page.getByRole('textbox', { name: /^Expiration Date/ })];
  }

  async open(): Promise<string> {
    await expect(this.page).toHaveURL(/\/oidc\/ui\/user/);
    const label = (await this.opener().innerText()).trim();
    await this.opener().click();
    await expect(this.dialog).toBeVisible();
    await expect(this.dialog).toContainText('maximum validity: 1 year');
    await expect(this.expiration).toHaveValue(/^\d{4}-\d{2}-\d{2}$/);
    await expect(this.requestButton).toBeEnabled();
    await expect(this.accessKey).toHaveValue('');
    return label;
  }

  private async bounds(): Promise<{ min: string; max: string }> {
    return this.expiration.evaluate((el) => ({ min: (el as unknown as DateInput).min, max: (el as unknown as DateInput).max }));
  }

  /** Types a day into the date field and clicks "Request Token"; resolves with the server's answer. */
  private async requestFor(day: string): Promise<{ status: number; body: string }> {
    await this.expiration.fill(day);
    const overflow = await this.expiration.evaluate((el) => (el as unknown as DateInput).validity.rangeOverflow);
    expect(overflow, `the date field marks ${day} as past its maximum`).toBe(true);
    // the button stays enabled: the request goes to the server
    await expect(this.requestButton).toBeEnabled();
    const answer = this.page.waitForResponse((r) => /\/access-token$/.test(new URL(r.url()).pathname) && r.request().method() === 'PATCH');
    await this.requestButton.click();
    const res = await answer;
    return { status: res.status(), body: res.status() === 200 ? '' : await res.text() };
  }

  async refuseTooLate(): Promise<{ evidence: string; dayPastLimit: 'refused' | 'issued' }> {
    const { max } = await this.bounds();
    expect(max, 'the date field names its latest day').toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const next = dayAfter(max);
    const first = await this.requestFor(next);
    const dayPastLimit = first.status === 200 ? 'issued' : 'refused';
    if (dayPastLimit === 'issued') await expect(this.accessKey).not.toHaveValue('');
    const further = dayAfter(next);
    const second = first.status === 200 ? await this.requestFor(further) : first;
    expect(second.status, `a key expiring ${first.status === 200 ? further : next} must be refused`).toBe(400);
    await expect(this.page.getByText('Failed to generate access token')).toBeVisible();
    await expect(this.accessKey).toHaveValue('');
    const evidence = `the date field's maximum is ${max} (the picker offers no later day), but "Request Token" stays enabled for a typed later day: ` +
      (dayPastLimit === 'issued' ? `${next} was issued a key; ${further} was refused` : `${next} was refused`) +
      ` by the server (400 ${second.body.slice(0, 120)}) and the UI showed "Failed to generate access token" with no key`;
    return { evidence, dayPastLimit };
  }

  async chooseLatest(): Promise<string> {
    const { max } = await this.bounds();
    await this.expiration.fill(max);
    await expect(this.expiration).toHaveValue(max);
    expect(await this.expiration.evaluate((el) => (el as unknown as DateInput).validity.valid)).toBe(true);
    await expect(this.requestButton).toBeEnabled();
    return max;
  }

  async request(): Promise<{ token: string; expiresAt: number }> {
    const answer = this.page.waitForResponse((r) => /\/access-token$/.test(new URL(r.url()).pathname) && r.request().method() === 'PATCH');
    await this.requestButton.click();
    const res = await answer;
    expect(res.status(), `the access-token request answered ${res.status()}`).toBe(200);
    const sent = res.request().postDataJSON() as { username: string; expiration: string };
    expect(sent.username).toBe(this.email);
    await expect(this.accessKey).not.toHaveValue('');
    const token = await this.accessKey.inputValue();
    expect(token).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    return { token, expiresAt: Date.parse(sent.expiration) };
  }

  async expectShownOnce(): Promise<void> {
    await this.dialog.getByRole('button', { name: 'Close modal' }).click();
    await expect(this.dialog).toBeHidden();
    await expect(this.page.getByText(/Token expires on: /)).toBeVisible();
    await this.opener().click();
    await expect(this.dialog).toBeVisible();
    await expect(this.accessKey).toHaveValue('');
    await this.page.reload();
    await this.opener().click();
    await expect(this.accessKey).toHaveValue('');
  }
}

/** The next calendar day of a YYYY-MM-DD date. */
export function dayAfter(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** A resource's page: "Permissions for <Kind> <name>", its users and groups with their levels. */
class Resource implements ResourcePermissions {
  constructor(private readonly page: Page, private readonly ui: React67, private readonly ref: ResourceRef) {}
  private get table() {
    return this.page.getByRole('table');
  }
  private heading() {
    return this.page.getByRole('heading', { name: `Permissions for ${AREA[this.ref.kind].title} ${this.ref.name}` });
  }
  async open(): Promise<void> {
    const row = await this.ui.searchList(this.page, AREA[this.ref.kind].link, this.ref.name);
    await this.ui.openRow(row);
    await expect(this.page).toHaveURL(new RegExp(`/oidc/ui/${AREA[this.ref.kind].path}/${escapeRegExp(encodeURIComponent(this.ref.id))}$`));
    await expect(this.heading()).toBeVisible();
    await expect(this.table).toBeVisible();
  }
  private async ensureOpen(): Promise<void> {
    if (!(await this.heading().isVisible())) await this.open();
  }
  rowOf(grantee: Grantee): Locator {
    return rowOf(this.table, granteeName(grantee));
  }
  levelOf(grantee: Grantee): Locator {
    return permissionCell(this.rowOf(grantee));
  }
  async grant(grantee: Grantee, level: Level): Promise<void> {
    await this.ensureOpen();
    const isUser = 'user' in grantee;
    await this.page.getByRole('button', { name: isUser ? '+ Add' : '+ Add Group', exact: true }).click();
    await answerDialog(this.page, `Grant ${isUser ? 'user' : 'group'} permissions for ${this.ref.name}`, level, { label: isUser ? /^User/ : /^Group/, option: granteeName(grantee) });
    await expect(kindCell(this.rowOf(grantee))).toHaveText(isUser ? 'user' : 'group');
  }
  async change(grantee: Grantee, level: Level): Promise<void> {
    await this.ensureOpen();
    await this.rowOf(grantee).getByRole('button', { name: 'Edit permission' }).click();
    await answerDialog(this.page, new RegExp(`^Edit .+ permissions for ${escapeRegExp(granteeName(grantee))}$`), level);
  }
  async remove(grantee: Grantee): Promise<void> {
    await this.ensureOpen();
    await this.rowOf(grantee).getByRole('button', { name: 'Remove permission' }).click();
  }
}

/** A user's page (Users → the user): a tab per resource kind with the user's effective permission on each. */
class UserPage implements UserPermissions {
  constructor(private readonly page: Page, private readonly ui: React67, private readonly user: string, private readonly kind: ResourceKind) {}
  async open(): Promise<void> {
    const row = await this.ui.searchList(this.page, 'Users', this.user);
    await this.ui.openRow(row);
    await expect(this.page.getByRole('heading', { name: `Permissions for ${this.user}` })).toBeVisible();
    await this.ui.tab(this.page, 'users', AREA[this.kind].path).click();
    await expect(this.page).toHaveURL(new RegExp(`/oidc/ui/users/${escapeRegExp(this.user).replace('@', '(@|%40)')}/${AREA[this.kind].path}$`));
    await expect(this.page.getByRole('table')).toBeVisible();
  }
  private row(resource: ResourceRef) {
    return rowOf(this.page.getByRole('table'), resource.name);
  }
  effective(resource: ResourceRef) {
    return { level: permissionCell(this.row(resource)), source: kindCell(this.row(resource)) };
  }
  async set(resource: ResourceRef, level: Level): Promise<void> {
    const search = this.page.getByRole('textbox', { name: /^Search .*\.\.\.$/ });
    await search.fill(resource.name);
    await search.press('Enter');
    // a fallback row offers "Add permission", an explicit one "Edit permission": both open the level dialog
    await this.row(resource).getByRole('button', { name: /^(Add|Edit) permission$/ }).click();
    await answerDialog(this.page, new RegExp(`^Edit .+ permissions for ${escapeRegExp(this.user)}$`), level);
  }
}

class GroupList implements Groups {
  constructor(private readonly page: Page, private readonly ui: React67) {}
  async list(): Promise<string[]> {
    if (!this.page.url().startsWith(`${this.ui.target.mlflowUrl}/oidc/ui`)) await this.page.goto(`${this.ui.target.mlflowUrl}/oidc/ui/user`);
    await this.ui.sidebar(this.page).getByRole('link', { name: 'Groups', exact: true }).click();
    await expect(this.page.getByRole('heading', { level: 2, name: 'Groups', exact: true })).toBeVisible();
    const rows = this.page.getByRole('table').getByRole('row').filter({ has: this.page.getByRole('cell') });
    await expect(rows.first()).toBeVisible();
    return (await Promise.all((await rows.all()).map(async (r) => (await r.getByRole('cell').first().innerText()).trim()))).filter(Boolean);
  }
  async open(group: string): Promise<string[]> {
    await this.ui.openRow(rowOf(this.page.getByRole('table'), group));
    await expect(this.page.getByRole('heading', { name: `Permissions for ${group}` })).toBeVisible();
    return this.page.locator(`a[href^="/oidc/ui/groups/${group}/"], a[href^="/oidc/ui/groups/${encodeURIComponent(group)}/"]`).allInnerTexts();
  }
  membershipControls(): Locator {
    return this.page.getByRole('button', { name: /member/i }).or(this.page.getByRole('link', { name: /member/i }));
  }
  createControl(): Locator {
    return this.page.getByRole('button', { name: /create group/i });
  }
  async create(name: string): Promise<void> {
    await this.createControl().click();
    const dialog = this.page.getByRole('dialog');
    await dialog.getByRole('textbox', { name: /^Group name/ }).fill(name);
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(dialog).toBeHidden();
  }
}

export const react67 = (target: TargetDescriptor, facts: UiFacts): PermissionsUiPages => new React67(target, facts);
