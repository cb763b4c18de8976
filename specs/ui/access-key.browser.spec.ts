import type { Locator, Page } from '@playwright/test';
import { test, expect } from '../support/fixtures.ts';
import { requireCapability } from '../support/claims.ts';
import { basicAuth, expectJson, failureBody } from '../support/mlflow-api.ts';
import { requireAngularUi } from './ui-support.ts';
import { createEphemeralUser } from '../support/stack-access.ts';
import { loginWithPassword } from './ui-support.ts';

/** A calendar day as the browser sees it (local midnight), with the labels the Material date picker shows. */
interface Day {
  y: number;
  m: number;
  d: number;
  /** Epoch ms of the browser's local midnight of that day: what the UI sends as `expiration`. */
  ms: number;
}

const cellLabel = (day: Day) => new Date(Date.UTC(day.y, day.m, day.d)).toLocaleDateString('en-US', { timeZone: 'UTC', year: 'numeric', month: 'long', day: 'numeric' });
const periodLabel = (y: number, m: number) => new Date(Date.UTC(y, m, 1)).toLocaleDateString('en-US', { timeZone: 'UTC', year: 'numeric', month: 'short' }).toUpperCase();
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const inputText = (day: Day) => `${day.m + 1}/${day.d}/${day.y}`;

/** The last day the dialog should accept (one year from now, as the browser computes it) and the day after. */
async function yearLimit(page: Page): Promise<{ lastAllowed: Day; firstRefused: Day }> {
  return page.evaluate(() => {
    const limit = new Date();
    limit.setFullYear(limit.getFullYear() + 1);
    const day = (t: Date) => ({ y: t.getFullYear(), m: t.getMonth(), d: t.getDate(), ms: t.getTime() });
    const last = new Date(limit.getFullYear(), limit.getMonth(), limit.getDate());
    const next = new Date(limit.getFullYear(), limit.getMonth(), limit.getDate() + 1);
    return { lastAllowed: day(last), firstRefused: day(next) };
  });
}

/** Opens the date picker of the dialog and pages month by month to `day`; returns the day's cell button. */
async function calendarDay(page: Page, dialog: Locator, day: Day): Promise<Locator> {
  await dialog.getByRole('button', { name: 'Open calendar' }).click();
  const calendar = page.getByRole('dialog', { name: 'Expiration Date' });
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

test('[C17] "Create access key": expiration picked in the dialog (at most one year ahead), "Request Token" shows the token once, and it is the Basic password of the full email', async ({ page, target, request, basicAs, plugin }) => {
  requireAngularUi(plugin);
  requireCapability(target, 'keycloakAdmin', 'creates a fresh Keycloak user: a new token replaces the previous one, so the shared personas must not get one');
  // A user of its own: requesting a token replaces that user's previous one.
  const user = await createEphemeralUser(target, ['mlflow-users'], 'c17');
  try {
    await loginWithPassword(page, target, user);
    await expect(page).toHaveURL(/\/oidc\/ui\//);

    await page.getByRole('button').filter({ hasText: 'Create access key' }).click();
    const dialog = page.getByRole('dialog', { name: `Generate Access Key for ${user.email}` });
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText('maximum validity: 1 year');
    const expiration = dialog.getByRole('textbox', { name: 'Expiration Date' });
    const requestToken = dialog.getByRole('button', { name: 'Request Token' });
    const accessKey = dialog.getByRole('textbox', { name: 'Access Key' });
    // It opens with a valid default expiration and no key yet.
    await expect(expiration).toHaveValue(/^\d{1,2}\/\d{1,2}\/\d{4}$/);
    await expect(requestToken).toBeEnabled();
    await expect(accessKey).toHaveValue('');

    const { lastAllowed, firstRefused } = await yearLimit(page);

    // More than one year ahead is not allowed: the day after the limit either cannot be picked in the
    // calendar, or picking it marks the field invalid and disables "Request Token".
    const tooLate = await calendarDay(page, dialog, firstRefused);
    if ((await tooLate.getAttribute('aria-disabled')) === 'true') {
      await page.keyboard.press('Escape');
      test.info().annotations.push({ type: 'evidence', description: `C17: the calendar disables ${cellLabel(firstRefused)}` });
    } else {
      await tooLate.click();
      await expect(expiration).toHaveValue(inputText(firstRefused));
      await expect(expiration).toHaveAttribute('aria-invalid', 'true');
      await expect(requestToken).toBeDisabled();
      test.info().annotations.push({ type: 'evidence', description: `C17: the calendar lets ${cellLabel(firstRefused)} be picked; the field turns invalid and "Request Token" is disabled` });
    }
    // Typing a date two years ahead is refused the same way.
    await expiration.fill(inputText({ ...lastAllowed, y: lastAllowed.y + 1 }));
    await expiration.press('Tab');
    await expect(expiration).toHaveAttribute('aria-invalid', 'true');
    await expect(requestToken).toBeDisabled();

    // Exactly one year ahead is the latest day the dialog accepts.
    await (await calendarDay(page, dialog, lastAllowed)).click();
    await expect(expiration).toHaveValue(inputText(lastAllowed));
    await expect(expiration).toHaveAttribute('aria-invalid', 'false');
    await expect(requestToken).toBeEnabled();

    const answer = page.waitForResponse((r) => r.url().endsWith(plugin.routes.accessToken) && r.request().method() === 'PATCH');
    await requestToken.click();
    const res = await answer;
    expect(res.status(), await failureBody(res, 200)).toBe(200);
    expect(res.request().postDataJSON()).toEqual({ username: user.email, expiration: new Date(lastAllowed.ms).toISOString() });
    const { token } = (await res.json()) as { token: string };
    expect(token).toMatch(/^[A-Za-z0-9]{16,}$/);
    // The dialog shows the token the server minted.
    await expect(accessKey).toHaveValue(token);

    // The token is the HTTP Basic password of the full email, valid until the picked day.
    const me = await expectJson(await request.get(`${target.mlflowUrl}${plugin.routes.currentUser}`, { headers: basicAuth(user.email, token) }));
    expect(me).toMatchObject({ username: user.email, is_admin: false });
    expect(Date.parse(String(me.password_expiration))).toBe(lastAllowed.ms);
    expect(JSON.stringify(me)).not.toContain(token);
    const wrong = await request.get(`${target.mlflowUrl}${plugin.routes.currentUser}`, { headers: basicAuth(user.email, `${token}x`) });
    expect(wrong.status()).toBe(401);

    // Shown once: closed and reopened, the dialog has no key to show again.
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect(dialog).toBeHidden();
    await page.getByRole('button').filter({ hasText: 'Create access key' }).click();
    await expect(dialog).toBeVisible();
    await expect(accessKey).toHaveValue('');
    await page.reload();
    await page.getByRole('button').filter({ hasText: 'Create access key' }).click();
    await expect(dialog.getByRole('textbox', { name: 'Access Key' })).toHaveValue('');
  } finally {
    await request.delete(`${target.mlflowUrl}${plugin.routes.deleteUser}`, { headers: basicAs('admin'), data: { username: user.email } });
    await user.remove();
  }
});
