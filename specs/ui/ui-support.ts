import { expect, test, type Locator, type Page } from '@playwright/test';
import type { PluginAdapter } from '../../provision/plugin/adapter.ts';
import { browserLogin } from '../support/browser-login.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';

/** Helpers for the browser checks of the permissions UI (the plugin's Angular app under /oidc/ui/). */

/** Logs a user in with explicit credentials: the `loginAs` fixture for users that are not personas (e.g. an ephemeral Keycloak user). */
export const loginWithPassword = browserLogin;

export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The permissions UI's header: "Home", "MLflow", "Manage" buttons and the greeting. */
export function header(page: Page) {
  return {
    home: page.getByRole('button', { name: 'Home', exact: true }),
    mlflow: page.getByRole('button', { name: 'MLflow', exact: true }),
    manage: page.getByRole('button', { name: 'Manage', exact: true }),
    logout: page.getByRole('button', { name: 'Logout', exact: true }),
  };
}

/** Opens the admin "Manage" area and one of its tabs ("Users permissions", "Experiment permissions", …). */
export async function openManageTab(page: Page, target: TargetDescriptor, tab: string): Promise<Locator> {
  await page.goto(`${target.mlflowUrl}/oidc/ui/`); // the 5.x Angular app
  await header(page).manage.click();
  await expect(page).toHaveURL(/#\/manage\//);
  await page.getByRole('tab', { name: tab, exact: true }).click();
  const panel = page.getByRole('tabpanel', { name: tab, exact: true });
  await expect(panel.getByRole('table')).toBeVisible();
  return panel;
}

/** A table row whose first text cell is exactly `name` (rows start with an actions cell). */
export function rowOf(scope: Locator, name: string): Locator {
  return scope.getByRole('row').filter({ has: scope.page().getByRole('cell', { name, exact: true }) });
}

/** Filters a list with its "Search" box and opens the row's action menu entry (e.g. "Edit"). */
export async function searchAndAct(scope: Locator, name: string, action: string): Promise<void> {
  await scope.getByRole('textbox', { name: 'Search' }).fill(name);
  const row = rowOf(scope, name);
  await expect(row).toHaveCount(1);
  await row.getByRole('button').click();
  await scope.page().getByRole('menuitem', { name: action, exact: true }).click();
}

/** Opens a row's action menu and picks `action`. */
export async function rowAction(row: Locator, action: string): Promise<void> {
  await row.getByRole('button').click();
  await row.page().getByRole('menuitem', { name: action, exact: true }).click();
}

/** Answers the UI's permission dialogs: optional entity/user select, then the "Permissions" select, then "Ok". */
export async function answerPermissionDialog(page: Page, title: string | RegExp, permission: 'Read' | 'Edit' | 'Manage' | 'No permissions', choose?: { label: string; option: string }): Promise<void> {
  const dialog = page.getByRole('dialog', { name: title });
  await expect(dialog).toBeVisible();
  if (choose) await dialog.getByRole('combobox', { name: choose.label, exact: true }).selectOption({ label: choose.option });
  await dialog.getByRole('combobox', { name: 'Permissions', exact: true }).selectOption({ label: permission });
  await dialog.getByRole('button', { name: 'Ok', exact: true }).click();
  await expect(dialog).toBeHidden();
}


/**
 * The permissions-UI checks drive the 5.x Angular app. Later generations ship another UI (a React app) for which
 * these checks are not written yet: their claims are reported `uncovered` with this reason, never passed.
 */
export function requireAngularUi(plugin: PluginAdapter): void {
  test.skip(!plugin.angularUi, `uncovered: this check drives the 5.x Angular permissions UI; mlflow-oidc-auth generation ${plugin.generation} ships another UI, for which no browser check is written yet`);
}
