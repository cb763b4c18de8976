import { test, expect } from '../support/fixtures.ts';

test('[C11] the admin persona logs in through Keycloak and lands on the permissions UI (/oidc/ui/)', async ({ page, target, loginAs, plugin }) => {
  await page.goto(`${target.mlflowUrl}/`);
  await expect(page.getByRole('button', { name: 'Keycloak' })).toBeVisible();
  const admin = await loginAs(page, 'admin');
  // the callback redirects into the permissions UI; the SPA may then add its own #/route
  await expect.poll(() => new URL(page.url()).pathname).toMatch(plugin.firstStop);
  expect(page.url().startsWith(target.mlflowUrl)).toBe(true);
  const me = await page.request.get(`${target.mlflowUrl}${plugin.routes.currentUser}`);
  expect(me.headers()['content-type']).toContain('application/json');
  expect(await me.json()).toMatchObject({ username: admin.email, is_admin: true });
});
