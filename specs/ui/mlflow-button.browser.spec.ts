import { test, expect } from '../support/fixtures.ts';
import { expectJson, unique } from '../support/mlflow-api.ts';
import { escapeRegExp, header, requireAngularUi } from './ui-support.ts';

test('[C11] the permissions UI\'s "MLflow" button opens the main MLflow UI, which lists the experiments', async ({ page, target, loginAs, request, sessionHeadersAs, plugin }) => {
  requireAngularUi(plugin);
  // An experiment only this check knows, so the MLflow UI must really fetch and render the server's data.
  const name = unique('c11-ui');
  const created = await expectJson(await request.post(`${target.mlflowUrl}/api/2.0/mlflow/experiments/create`, { headers: sessionHeadersAs('admin'), data: { name } }));
  const experimentId = String(created.experiment_id);

  try {
    await loginAs(page, 'admin');
    // First stop after login: the permissions UI, greeting the admin.
    await expect(page).toHaveURL(new RegExp(`^${escapeRegExp(target.mlflowUrl)}/oidc/ui/(#/.*)?$`));
    await expect(page.getByText('MLFlow Permission Manager')).toBeVisible();
    await expect(page.getByText(/Hello, .+ \(Admin\)/)).toBeVisible();

    await header(page).mlflow.click();

    // The main MLflow UI (React app served at /), not the permissions SPA or the plugin's login page.
    await expect(page).toHaveURL(new RegExp(`^${escapeRegExp(target.mlflowUrl)}/(#/?)?$`));
    await expect(page.getByRole('heading', { name: 'Welcome to MLflow' })).toBeVisible();
    await expect(page.getByText(target.pins.mlflow, { exact: true })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Permissions' })).toBeVisible();

    // Its Experiments page lists the experiment created through the REST API, linking to its id.
    await page.getByRole('navigation').getByRole('link', { name: 'Experiments', exact: true }).click();
    await expect(page).toHaveURL(/#\/experiments$/);
    const main = page.getByRole('main');
    await expect(main.getByRole('heading', { name: 'Experiments', exact: true })).toBeVisible();
    await main.getByRole('textbox', { name: 'Filter experiments by name' }).fill(name);
    await main.getByRole('textbox', { name: 'Filter experiments by name' }).press('Enter');
    const link = main.getByRole('link', { name, exact: true });
    await expect(link).toBeVisible();
    await expect(link).toHaveAttribute('href', `#/experiments/${experimentId}`);
  } finally {
    await request.post(`${target.mlflowUrl}/api/2.0/mlflow/experiments/delete`, { headers: sessionHeadersAs('admin'), data: { experiment_id: experimentId } });
  }
});
