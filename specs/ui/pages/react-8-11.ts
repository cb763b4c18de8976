import { expect, type Locator, type Page } from '@playwright/test';
import type { TargetDescriptor } from '../../../provision/targets/descriptor.ts';
import type { PermissionsUi as UiFacts } from '../../../provision/plugin/adapter.ts';
import { unique } from '../../support/mlflow-api.ts';
import { dayAfter, React67, type DateInput } from './react-6-7.ts';
import type { AccessKeyDialog, PermissionsUiPages } from './types.ts';

/**
 * mlflow-oidc-auth 8.x–11.x: the React app of 6–7, grown. Lists link each entity's name to its page; the user page
 * has a "Tokens" tab with named access tokens ("Create token": a name and an expiry day, end of day UTC, at most
 * 365 days ahead; the token is shown once); the groups page shows members and source and offers "+ Create group";
 * the sidebar adds MCP Servers and SCIM. Facts observed on 11.0.2 (the same dialogs are in the 8.0.0 and 10.0.0 wheels).
 */
export class React811 extends React67 {
  override async openRow(row: Locator): Promise<void> {
    await row.getByRole('link').first().click();
  }

  override accessKey(page: Page, user: { email: string }): AccessKeyDialog {
    return new NamedToken(page, user.email);
  }
}

/** "Create token" on the user page's "Tokens" tab. */
class NamedToken implements AccessKeyDialog {
  /** The token's name: unique, so its row is this check's own. */
  private readonly name = unique('ui-key');
  constructor(private readonly page: Page, private readonly email: string) {}
  private get dialog() {
    return this.page.getByRole('dialog');
  }
  private get expiration() {
    return this.dialog.getByRole('textbox', { name: /^Expires on/ });
  }
  private get createButton() {
    return this.dialog.getByRole('button', { name: 'Create token', exact: true });
  }
  private get secretField() {
    return this.dialog.getByRole('textbox', { name: 'Token', exact: true });
  }
  private opener() {
    return this.page.getByRole('main').getByRole('button', { name: 'Create token', exact: true });
  }
  secrets(): Locator[] {
    return [this.page.getByRole('textbox', { name: 'Token', exact: true })];
  }
  volatile(): Locator[] {
    return [this.page.getByRole('textbox', { name: /^Expires on/ }), this.page.getByRole('textbox', { name: /^Name/ }), this.page.getByText(/^Pick a date between /), this.page.getByText(this.name)];
  }

  async open(): Promise<string> {
    await expect(this.page).toHaveURL(/\/oidc\/ui\/user/);
    await expect(this.page.getByRole('main')).toContainText(this.email);
    await this.page.locator('a[href="/oidc/ui/user/tokens"]').click();
    await expect(this.page).toHaveURL(/\/oidc\/ui\/user\/tokens$/);
    const label = (await this.opener().innerText()).trim();
    await this.opener().click();
    await expect(this.dialog.getByRole('heading', { name: 'Create token', exact: true })).toBeVisible();
    await expect(this.dialog).toContainText('at most one year from today');
    await expect(this.expiration).toHaveValue(/^\d{4}-\d{2}-\d{2}$/);
    await this.dialog.getByRole('textbox', { name: /^Name/ }).fill(this.name);
    await expect(this.createButton).toBeEnabled();
    await expect(this.secretField).toHaveCount(0);
    return label;
  }

  private async bounds(): Promise<{ min: string; max: string }> {
    return this.expiration.evaluate((el) => ({ min: (el as unknown as DateInput).min, max: (el as unknown as DateInput).max }));
  }

  async refuseTooLate(): Promise<{ evidence: string; dayPastLimit: 'refused' }> {
    const { min, max } = await this.bounds();
    const tooLate = dayAfter(max);
    await this.expiration.fill(tooLate);
    const message = `Pick a date between ${min} and ${max}.`;
    await expect(this.dialog.getByText(message)).toBeVisible();
    await expect(this.createButton).toBeDisabled();
    await expect(this.secretField).toHaveCount(0);
    return { evidence: `the date field's maximum is ${max}; a typed ${tooLate} shows "${message}" and disables "Create token"`, dayPastLimit: 'refused' };
  }

  async chooseLatest(): Promise<string> {
    const { max } = await this.bounds();
    await this.expiration.fill(max);
    await expect(this.expiration).toHaveValue(max);
    await expect(this.createButton).toBeEnabled();
    return max;
  }

  async request(): Promise<{ token: string; expiresAt: number }> {
    const answer = this.page.waitForResponse((r) => /\/users\/current\/tokens$/.test(new URL(r.url()).pathname) && r.request().method() === 'POST');
    await this.createButton.click();
    const res = await answer;
    expect(res.status(), `the token request answered ${res.status()}`).toBeLessThan(300);
    const sent = res.request().postDataJSON() as { name: string; expiration: string };
    expect(sent.name).toBe(this.name);
    await expect(this.dialog.getByRole('heading', { name: `Token "${this.name}" created` })).toBeVisible();
    await expect(this.dialog).toContainText('It will not be shown again');
    const token = await this.secretField.inputValue();
    expect(token.length).toBeGreaterThanOrEqual(16);
    return { token, expiresAt: Date.parse(sent.expiration) };
  }

  async expectShownOnce(): Promise<void> {
    await this.dialog.getByRole('button', { name: 'Done', exact: true }).click();
    await expect(this.dialog).toBeHidden();
    // the list names the token and its prefix, never the secret
    const row = this.page.getByRole('row').filter({ hasText: this.name });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText(/mlf_\w+_…/);
    await this.opener().click();
    await expect(this.dialog.getByRole('heading', { name: 'Create token', exact: true })).toBeVisible();
    await expect(this.secretField).toHaveCount(0);
    await this.page.reload();
    await expect(this.page.getByRole('row').filter({ hasText: this.name })).toHaveCount(1);
    await expect(this.page.getByRole('textbox', { name: 'Token', exact: true })).toHaveCount(0);
  }
}

export const react811 = (target: TargetDescriptor, facts: UiFacts): PermissionsUiPages => new React811(target, facts);
