import { test, expect } from '../ui/ui-test.ts';
import { browserLogin } from '../support/browser-login.ts';
import { passwordOf, persona } from '../support/target.ts';

test('[C11] login: the admin persona opens MLflow, logs in through Keycloak and lands on the permissions UI', async ({ page, target, plugin, ui, screens }) => {
  const admin = persona(target, 'admin');
  await test.step('MLflow and Keycloak login', () => browserLogin(page, target, { username: admin.username, password: passwordOf(target, admin) }, (leg) => screens.shot(leg)));
  await screens.step('first stop: the permissions UI', async () => {
    // the callback redirects into the permissions UI; the SPA may then add its own #/route
    await expect.poll(() => new URL(page.url()).pathname).toMatch(plugin.firstStop);
    await ui.expectSignedIn(page, { email: admin.email, admin: true });
  });
  expect(page.url().startsWith(target.mlflowUrl)).toBe(true);
  const me = await page.request.get(`${target.mlflowUrl}${plugin.routes.currentUser}`);
  expect(me.headers()['content-type']).toContain('application/json');
  expect(await me.json()).toMatchObject({ username: admin.email, is_admin: true });
});
