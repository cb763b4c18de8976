import type { APIRequestContext } from '@playwright/test';
import { test as base, expect } from '../support/fixtures.ts';
import { permissionsUi, type PermissionsUiPages } from './pages/index.ts';
import { MlflowUi } from './pages/mlflow.ts';
import { Screens } from './screens.ts';

/**
 * The browser checks' fixtures: the permissions UI's page objects for the plugin under test (`ui`), MLflow's own UI
 * (`mlflowUi`), the step screenshots (`screens`), and `rest`, a request context without cookies of its own: with a
 * persona's storage state in use, Playwright applies it to `request` too, and the plugin would answer every REST
 * call as that persona. Each REST call names its persona instead (`sessionHeadersAs`).
 */
export const test = base.extend<{ ui: PermissionsUiPages; mlflowUi: MlflowUi; screens: Screens; rest: APIRequestContext }>({
  ui: async ({ target, plugin }, use) => use(permissionsUi(target, plugin)),
  mlflowUi: async ({ page, target }, use) => use(new MlflowUi(page, target)),
  screens: async ({ page, target }, use, testInfo) => {
    const screens = new Screens(page, testInfo, target);
    await use(screens);
    screens.finish();
  },
  rest: async ({ playwright }, use) => {
    const ctx = await playwright.request.newContext({ storageState: { cookies: [], origins: [] } });
    await use(ctx);
    await ctx.dispose();
  },
});

export { expect };
