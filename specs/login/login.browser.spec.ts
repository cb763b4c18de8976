import { test, expect } from '../support/fixtures.ts';

test('[C11] the admin persona logs in through Keycloak and lands on /oidc/ui/', async ({ page, target, loginAs }) => {
  await page.goto(`${target.mlflowUrl}/`);
  await expect(page.getByRole('button', { name: 'Keycloak' })).toBeVisible();
  const admin = await loginAs(page, 'admin');
  // the callback redirects to /oidc/ui/; the permissions SPA then adds its own #/route
  await expect(page).toHaveURL(new RegExp(`^${target.mlflowUrl.replace(/[.]/g, '\\.')}/oidc/ui/(#.*)?$`));
  const me = await page.request.get(`${target.mlflowUrl}/api/2.0/mlflow/permissions/users/current`);
  expect(me.headers()['content-type']).toContain('application/json');
  expect(await me.json()).toMatchObject({ username: admin.email, is_admin: true });
});
