import { expect, type Locator, type Page } from '@playwright/test';
import type { TargetDescriptor } from '../../../provision/targets/descriptor.ts';
import type { PermissionsUi as UiFacts } from '../../../provision/plugin/adapter.ts';
import { escapeRegExp } from './common.ts';
import { granteeName, type AccessKeyDialog, type Grantee, type Groups, type Level, type PermissionsUiPages, type ResourceKind, type ResourcePermissions, type ResourceRef, type UserPermissions } from './types.ts';

/**
 * mlflow-oidc-auth 5.x: the Angular Material app at /oidc/ui/ (hash routes). A header with "Home", "MLflow",
 * "Manage", "Logout"; "Create access key" on the home page; "Manage" has five tabs (users, experiments, prompts,
 * models, groups), each a searchable table whose rows open a menu ("Edit", "Reset to fallback").
 */

const LABELS: Record<Level, string> = { READ: 'Read', EDIT: 'Edit', MANAGE: 'Manage', NO_PERMISSIONS: 'No permissions' };
const TAB: Record<ResourceKind, string> = { experiment: 'Experiment permissions', model: 'Model permissions', prompt: 'Prompt permissions' };
const ROUTE: Record<ResourceKind, string> = { experiment: 'experiment', model: 'model', prompt: 'prompt' };
const HEADING: Record<ResourceKind, string> = { experiment: 'Experiment Access', model: 'Model Access', prompt: 'Prompt Access' };
/** The tabs of a user's or group's page, and the entity select of a group's "Add" dialog. */
const KIND_TAB: Record<ResourceKind, string> = { experiment: 'Experiments', model: 'Models', prompt: 'Prompts' };
const KIND_WORD: Record<ResourceKind, string> = { experiment: 'experiment', model: 'model', prompt: 'prompt' };
const KIND_LABEL: Record<ResourceKind, string> = { experiment: 'Experiment', model: 'Model', prompt: 'Prompt' };

/** A table row whose text cells include exactly `name` (rows start with an actions cell). */
function rowOf(scope: Locator, name: string): Locator {
  return scope.getByRole('row').filter({ has: scope.page().getByRole('cell', { name, exact: true }) });
}
/** Cells: actions, name, permission, [kind/type]. */
const permissionCell = (row: Locator) => row.getByRole('cell').nth(2);
const kindCell = (row: Locator) => row.getByRole('cell').nth(3);

function header(page: Page) {
  return {
    home: page.getByRole('button', { name: 'Home', exact: true }),
    mlflow: page.getByRole('button', { name: 'MLflow', exact: true }),
    manage: page.getByRole('button', { name: 'Manage', exact: true }),
    logout: page.getByRole('button', { name: 'Logout', exact: true }),
  };
}

async function rowAction(row: Locator, action: string): Promise<void> {
  await row.getByRole('button').click();
  await row.page().getByRole('menuitem', { name: action, exact: true }).click();
}

/** Answers a permission dialog: optional entity/user select, the "Permissions" select, then "Ok". */
async function answerDialog(page: Page, title: string | RegExp, level: Level, choose?: { label: string; option: string }): Promise<void> {
  const dialog = page.getByRole('dialog', { name: title });
  await expect(dialog).toBeVisible();
  if (choose) await dialog.getByRole('combobox', { name: choose.label, exact: true }).selectOption({ label: choose.option });
  await dialog.getByRole('combobox', { name: 'Permissions', exact: true }).selectOption({ label: LABELS[level] });
  await dialog.getByRole('button', { name: 'Ok', exact: true }).click();
  await expect(dialog).toBeHidden();
}
const editTitle = (who: string) => new RegExp(`^Edit .+ permissions for ${escapeRegExp(who)}$`);

/** Opens "Manage" and one of its tabs; returns the tab's panel once its table shows. */
async function openManageTab(page: Page, target: TargetDescriptor, tab: string): Promise<Locator> {
  if (!/\/oidc\/ui\//.test(page.url())) await page.goto(`${target.mlflowUrl}/oidc/ui/`);
  await header(page).manage.click();
  await expect(page).toHaveURL(/#\/manage\//);
  await page.getByRole('tab', { name: tab, exact: true }).click();
  const panel = page.getByRole('tabpanel', { name: tab, exact: true });
  await expect(panel.getByRole('table')).toBeVisible();
  return panel;
}

/** Filters a list with its "Search" box and picks the row menu's `action`. */
async function searchAndAct(scope: Locator, name: string, action: string): Promise<void> {
  await scope.getByRole('textbox', { name: 'Search' }).fill(name);
  const row = rowOf(scope, name);
  await expect(row).toHaveCount(1);
  await rowAction(row, action);
}

class AccessKey implements AccessKeyDialog {
  constructor(private readonly page: Page, private readonly email: string) {}
  private get dialog() {
    return this.page.getByRole('dialog', { name: `Generate Access Key for ${this.email}` });
  }
  private get expiration() {
    return this.dialog.getByRole('textbox', { name: 'Expiration Date' });
  }
  private get requestButton() {
    return this.dialog.getByRole('button', { name: 'Request Token' });
  }
  private get accessKey() {
    return this.dialog.getByRole('textbox', { name: 'Access Key' });
  }
  private opener() {
    return this.page.getByRole('button').filter({ hasText: 'Create access key' });
  }
  secrets(): Locator[] {
    return [this.page.getByRole('textbox', { name: 'Access Key' })];
  }
  volatile(): Locator[] {
    return [this.page.getByRole('textbox', { name: 'Expiration Date' })];
  }

  async open(): Promise<string> {
    const label = /create access \w+/i.exec(await this.opener().innerText())?.[0] ?? '';
    await this.opener().click();
    await expect(this.dialog).toBeVisible();
    await expect(this.dialog).toContainText('maximum validity: 1 year');
    // it opens with a valid default expiration and no key yet
    await expect(this.expiration).toHaveValue(/^\d{1,2}\/\d{1,2}\/\d{4}$/);
    await expect(this.requestButton).toBeEnabled();
    await expect(this.accessKey).toHaveValue('');
    return label;
  }

  async refuseTooLate(): Promise<{ evidence: string; dayPastLimit: 'refused' }> {
    const { firstRefused, lastAllowed } = await yearLimit(this.page);
    const tooLate = await this.calendarDay(firstRefused);
    let how: string;
    if ((await tooLate.getAttribute('aria-disabled')) === 'true') {
      await this.page.keyboard.press('Escape');
      how = `the calendar disables ${cellLabel(firstRefused)}`;
    } else {
      await tooLate.click();
      await expect(this.expiration).toHaveValue(inputText(firstRefused));
      await expect(this.expiration).toHaveAttribute('aria-invalid', 'true');
      await expect(this.requestButton).toBeDisabled();
      how = `picking ${cellLabel(firstRefused)} marks the field invalid and disables "Request Token"`;
    }
    // typing a date two years ahead is refused the same way
    await this.expiration.fill(inputText({ ...lastAllowed, y: lastAllowed.y + 1 }));
    await this.expiration.press('Tab');
    await expect(this.expiration).toHaveAttribute('aria-invalid', 'true');
    await expect(this.requestButton).toBeDisabled();
    await expect(this.accessKey).toHaveValue('');
    return { evidence: `${how}; a typed date two years ahead is marked invalid and "Request Token" is disabled`, dayPastLimit: 'refused' };
  }

  async chooseLatest(): Promise<string> {
    const { lastAllowed } = await yearLimit(this.page);
    await (await this.calendarDay(lastAllowed)).click();
    await expect(this.expiration).toHaveValue(inputText(lastAllowed));
    await expect(this.expiration).toHaveAttribute('aria-invalid', 'false');
    await expect(this.requestButton).toBeEnabled();
    return isoDay(lastAllowed);
  }

  async request(): Promise<{ token: string; expiresAt: number }> {
    const answer = this.page.waitForResponse((r) => /\/access-token$/.test(new URL(r.url()).pathname) && r.request().method() === 'PATCH');
    await this.requestButton.click();
    const res = await answer;
    expect(res.status(), `the access-token request answered ${res.status()}`).toBe(200);
    const sent = res.request().postDataJSON() as { username: string; expiration: string };
    expect(sent.username).toBe(this.email);
    const token = await this.accessKey.inputValue();
    expect(token).toMatch(/^[A-Za-z0-9]{16,}$/);
    return { token, expiresAt: Date.parse(sent.expiration) };
  }

  async expectShownOnce(): Promise<void> {
    await this.dialog.getByRole('button', { name: 'Close' }).click();
    await expect(this.dialog).toBeHidden();
    await this.opener().click();
    await expect(this.dialog).toBeVisible();
    await expect(this.accessKey).toHaveValue('');
    await this.page.reload();
    await this.opener().click();
    await expect(this.accessKey).toHaveValue('');
  }

  /** Opens the date picker and pages month by month to `day`; returns the day's cell button. */
  private async calendarDay(day: Day): Promise<Locator> {
    await this.dialog.getByRole('button', { name: 'Open calendar' }).click();
    const calendar = this.page.getByRole('dialog', { name: 'Expiration Date' });
    const period = calendar.getByRole('button', { name: 'Choose month and year' });
    const wanted = periodLabel(day.y, day.m);
    for (let i = 0; i < 36; i++) {
      const shown = ((await period.textContent()) ?? '').trim().toUpperCase();
      if (shown === wanted) break;
      const [mon, year] = shown.split(/\s+/);
      const shownIndex = Number(year) * 12 + MONTHS.indexOf(mon ?? '');
      await calendar.getByRole('button', { name: shownIndex < day.y * 12 + day.m ? 'Next month' : 'Previous month' }).click();
      await expect(period).not.toHaveText(shown, { ignoreCase: true });
    }
    await expect(period).toHaveText(wanted, { ignoreCase: true });
    return calendar.getByRole('button', { name: cellLabel(day), exact: true });
  }
}

/** A calendar day as the browser sees it (local midnight). */
interface Day {
  y: number;
  m: number;
  d: number;
}
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const cellLabel = (day: Day) => new Date(Date.UTC(day.y, day.m, day.d)).toLocaleDateString('en-US', { timeZone: 'UTC', year: 'numeric', month: 'long', day: 'numeric' });
const periodLabel = (y: number, m: number) => new Date(Date.UTC(y, m, 1)).toLocaleDateString('en-US', { timeZone: 'UTC', year: 'numeric', month: 'short' }).toUpperCase();
const inputText = (day: Day) => `${day.m + 1}/${day.d}/${day.y}`;
const isoDay = (day: Day) => `${day.y}-${String(day.m + 1).padStart(2, '0')}-${String(day.d).padStart(2, '0')}`;

/** The last day the dialog should accept (one year from now, as the browser computes it) and the day after. */
function yearLimit(page: Page): Promise<{ lastAllowed: Day; firstRefused: Day }> {
  return page.evaluate(() => {
    const limit = new Date();
    limit.setFullYear(limit.getFullYear() + 1);
    const day = (t: Date) => ({ y: t.getFullYear(), m: t.getMonth(), d: t.getDate() });
    return { lastAllowed: day(new Date(limit.getFullYear(), limit.getMonth(), limit.getDate())), firstRefused: day(new Date(limit.getFullYear(), limit.getMonth(), limit.getDate() + 1)) };
  });
}

/**
 * A resource's permissions. Users: the resource's own page ("Experiment Access": its users, "Add", row menus).
 * Groups: the group's page (Manage → Group permissions → the group → the kind's tab), where 5.x manages them.
 */
class Resource implements ResourcePermissions {
  constructor(private readonly page: Page, private readonly target: TargetDescriptor, private readonly ref: ResourceRef) {}

  private get userTable() {
    return this.page.getByRole('table');
  }
  private groupPanel() {
    return this.page.getByRole('tabpanel', { name: KIND_TAB[this.ref.kind], exact: true }).getByRole('tabpanel', { name: 'Permissions', exact: true });
  }
  private onResourcePage() {
    return new RegExp(`#/manage/${ROUTE[this.ref.kind]}/${escapeRegExp(encodeURIComponent(this.ref.id))}$`).test(this.page.url()) || new RegExp(`#/manage/${ROUTE[this.ref.kind]}/${escapeRegExp(this.ref.id)}$`).test(this.page.url());
  }

  async open(): Promise<void> {
    const panel = await openManageTab(this.page, this.target, TAB[this.ref.kind]);
    await searchAndAct(panel, this.ref.name, 'Edit');
    await expect(this.page.getByRole('heading', { name: HEADING[this.ref.kind] })).toBeVisible();
    await expect(this.userTable).toBeVisible();
  }

  private async openGroup(group: string): Promise<Locator> {
    const onGroup = new RegExp(`#/manage/group/${escapeRegExp(group)}/`).test(this.page.url());
    if (!onGroup) {
      const groups = await openManageTab(this.page, this.target, 'Group permissions');
      await searchAndAct(groups, group, 'Edit');
      await expect(this.page).toHaveURL(new RegExp(`#/manage/group/${escapeRegExp(group)}/`));
    }
    await this.page.getByRole('tab', { name: KIND_TAB[this.ref.kind], exact: true }).click();
    const panel = this.groupPanel();
    // a group without permissions of this kind shows a note instead of a table
    await expect(panel.getByRole('button', { name: 'Add', exact: true })).toBeVisible();
    return panel;
  }

  private async ensureResourcePage(): Promise<void> {
    if (!this.onResourcePage()) await this.open();
  }

  rowOf(grantee: Grantee): Locator {
    return 'user' in grantee ? rowOf(this.userTable, grantee.user) : rowOf(this.groupPanel().getByRole('table'), this.ref.name);
  }

  levelOf(grantee: Grantee): Locator {
    return permissionCell(this.rowOf(grantee));
  }

  async grant(grantee: Grantee, level: Level): Promise<void> {
    if ('user' in grantee) {
      await this.ensureResourcePage();
      await this.page.getByRole('button', { name: 'Add', exact: true }).click();
      await answerDialog(this.page, /^Grant user permissions for /, level, { label: 'User', option: grantee.user });
      await expect(kindCell(this.rowOf(grantee))).toHaveText('user');
    } else {
      const panel = await this.openGroup(grantee.group);
      await panel.getByRole('button', { name: 'Add', exact: true }).click();
      await answerDialog(this.page, `Grant ${KIND_WORD[this.ref.kind]} permissions for ${grantee.group}`, level, { label: KIND_LABEL[this.ref.kind], option: this.ref.name });
    }
  }

  async change(grantee: Grantee, level: Level): Promise<void> {
    if ('user' in grantee) await this.ensureResourcePage();
    else await this.openGroup(grantee.group);
    await rowAction(this.rowOf(grantee), 'Edit');
    await answerDialog(this.page, editTitle(granteeName(grantee)), level);
  }

  async remove(grantee: Grantee): Promise<void> {
    if ('user' in grantee) await this.ensureResourcePage();
    else await this.openGroup(grantee.group);
    await rowAction(this.rowOf(grantee), 'Reset to fallback');
  }
}

class UserPage implements UserPermissions {
  constructor(private readonly page: Page, private readonly target: TargetDescriptor, private readonly user: string, private readonly kind: ResourceKind) {}
  private get panel() {
    return this.page.getByRole('tabpanel', { name: KIND_TAB[this.kind], exact: true }).getByRole('tabpanel', { name: 'Permissions', exact: true });
  }
  async open(): Promise<void> {
    const users = await openManageTab(this.page, this.target, 'Users permissions');
    await searchAndAct(users, this.user, 'Edit');
    await expect(this.page).toHaveURL(new RegExp(`#/manage/user/${escapeRegExp(this.user)}/`));
    await this.page.getByRole('tab', { name: KIND_TAB[this.kind], exact: true }).click();
    await expect(this.panel.getByRole('table')).toBeVisible();
  }
  private row(resource: ResourceRef) {
    return rowOf(this.panel.getByRole('table'), resource.name);
  }
  effective(resource: ResourceRef) {
    return { level: permissionCell(this.row(resource)), source: kindCell(this.row(resource)) };
  }
  async set(resource: ResourceRef, level: Level): Promise<void> {
    await this.panel.getByRole('textbox', { name: 'Search' }).fill(resource.name);
    await rowAction(this.row(resource), 'Edit');
    await answerDialog(this.page, editTitle(this.user), level);
  }
}

class GroupList implements Groups {
  constructor(private readonly page: Page, private readonly target: TargetDescriptor) {}
  private panel() {
    return this.page.getByRole('tabpanel', { name: 'Group permissions', exact: true });
  }
  async list(): Promise<string[]> {
    const panel = await openManageTab(this.page, this.target, 'Group permissions');
    await expect(panel.getByRole('row').filter({ has: this.page.getByRole('cell') }).first()).toBeVisible();
    // cells: actions, name
    const rows = await panel.getByRole('row').filter({ has: this.page.getByRole('cell') }).all();
    return (await Promise.all(rows.map(async (r) => (await r.getByRole('cell').nth(1).innerText()).trim()))).filter(Boolean);
  }
  async open(group: string): Promise<string[]> {
    await rowAction(rowOf(this.panel().getByRole('table'), group), 'Edit');
    await expect(this.page).toHaveURL(new RegExp(`#/manage/group/${escapeRegExp(group)}/`));
    return this.page.getByRole('tablist').first().getByRole('tab').allInnerTexts();
  }
  membershipControls(): Locator {
    return this.page.getByRole('button', { name: /member|add user/i }).or(this.page.getByRole('tab', { name: /member/i }));
  }
  createControl(): Locator {
    // the group list has no named control at all: its rows' menus only hold "Edit"
    return this.panel().getByRole('button', { name: /\S/ });
  }
  async create(): Promise<void> {
    throw new Error('the 5.x UI has no control to create a group');
  }
}

export const angular5 = (target: TargetDescriptor, facts: UiFacts): PermissionsUiPages => ({
  facts,
  async openHome(page) {
    await page.goto(`${target.mlflowUrl}/oidc/ui/`);
  },
  async expectSignedIn(page, who) {
    await expect(page).toHaveURL(new RegExp(`^${escapeRegExp(target.mlflowUrl)}/oidc/ui/(#/.*)?$`));
    await expect(page.getByText('MLFlow Permission Manager')).toBeVisible();
    await expect(page.getByText(who.admin ? /Hello, .+ \(Admin\)/ : /Hello, /)).toBeVisible();
  },
  async openMlflow(page) {
    await header(page).mlflow.click();
  },
  accessKey: (page, user) => new AccessKey(page, user.email),
  resource: (page, ref) => new Resource(page, target, ref),
  userPermissions: (page, user, kind) => new UserPage(page, target, user, kind),
  groups: (page) => new GroupList(page, target),
  async areas(page) {
    const buttons = await Promise.all(Object.values(header(page)).map(async (b) => ((await b.count()) ? (await b.innerText()).trim() : '')));
    const tabs = await page.getByRole('tab').allInnerTexts();
    // Material icons are ligature text ("home Home"): the label is what follows the icon's name
    return [...buttons, ...tabs].map((s) => s.trim().replace(/^[a-z_]+\s+(?=[A-Z])/, '')).filter(Boolean);
  },
  async auditMentions(page) {
    return (await page.getByText(/audit/i).count()) + (await page.getByRole('link', { name: /audit/i }).count()) + (await page.getByRole('button', { name: /audit/i }).count());
  },
});
