import type { Page, Response } from '@playwright/test';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { fillSecret } from './mlflow-api.ts';

/** How long a page may take to reach the next leg of the login (a healthy stack needs about a second). */
const LEG_TIMEOUT = 20_000;

/**
 * Waits until the page's URL satisfies `arrived`, failing at once — with the evidence — when a top-level
 * navigation is answered with a server error, or when Keycloak shows its error message instead of moving on.
 * A failing stack must fail the check now, not after the test's timeout.
 */
export async function arriveAt(page: Page, arrived: (u: URL) => boolean, leg: string): Promise<void> {
  let stop = () => undefined as void;
  const failed = new Promise<never>((_, reject) => {
    const onResponse = (r: Response) => {
      if (r.status() >= 500 && r.request().isNavigationRequest() && r.frame() === page.mainFrame()) {
        reject(new Error(`${leg}: ${r.request().method()} ${r.url().split('?')[0]} answered ${r.status()} ${r.statusText()}`));
      }
    };
    page.on('response', onResponse);
    stop = () => {
      page.off('response', onResponse);
    };
  });
  failed.catch(() => undefined);
  const keycloakError = page.locator('#input-error, #kc-error-message, .kc-feedback-text, .alert-error').first();
  try {
    await Promise.race([
      page.waitForURL(arrived, { timeout: LEG_TIMEOUT }),
      failed,
      keycloakError.waitFor({ state: 'visible', timeout: LEG_TIMEOUT + 1_000 }).then(async () => {
        if (arrived(new URL(page.url()))) return;
        throw new Error(`${leg}: Keycloak shows "${(await keycloakError.innerText()).trim().slice(0, 160)}" at ${page.url().split('?')[0]}`);
      }),
    ]);
  } finally {
    stop();
  }
}

/**
 * Logs a user in through the browser: MLflow's login page → "Keycloak" → Keycloak's form → /callback. `leg` (optional)
 * runs after each page a person would see — MLflow's login page, Keycloak's filled form — e.g. to take its screenshot.
 */
export async function browserLogin(page: Page, target: TargetDescriptor, credentials: { username: string; password: string }, leg: (name: string) => Promise<void> = async () => undefined): Promise<void> {
  await page.goto(`${target.mlflowUrl}/`);
  const keycloak = page.getByRole('button', { name: 'Keycloak' });
  await keycloak.waitFor();
  await leg('MLflow login page');
  await keycloak.click();
  await arriveAt(page, (u) => u.href.startsWith(target.keycloakUrl), 'MLflow → Keycloak');
  await page.locator('#username').fill(credentials.username);
  await fillSecret(page.locator('#password'), credentials.password);
  await leg('Keycloak login form');
  await page.locator('#kc-login').click();
  await arriveAt(page, (u) => u.href.startsWith(target.mlflowUrl), 'Keycloak → MLflow');
}
