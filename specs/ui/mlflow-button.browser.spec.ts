import { test, expect } from './ui-test.ts';
import { expectJson, unique } from '../support/mlflow-api.ts';
import { storageStateFile } from '../support/run-state.ts';
import { persona } from '../support/target.ts';
import { DATES } from './volatile.ts';

// The admin's login session from the setup project: the login itself is the other C11 check.
test.use({ storageState: storageStateFile('admin') });

test('[C11] MLflow button: the permissions UI\'s "MLflow" button opens the main MLflow UI, which lists the experiments', async ({ page, target, plugin, rest, sessionHeadersAs, ui, mlflowUi, screens }) => {
  // An experiment only this check knows, so the MLflow UI must really fetch and render the server's data.
  const name = unique('c11-ui');
  const created = await expectJson(await rest.post(`${target.mlflowUrl}/api/2.0/mlflow/experiments/create`, { headers: sessionHeadersAs('admin'), data: { name } }));
  const experimentId = String(created.experiment_id);
  screens.volatile(name, ...DATES);
  try {
    await screens.step('the permissions UI', async () => {
      await ui.openHome(page);
      await expect.poll(() => new URL(page.url()).pathname).toMatch(plugin.firstStop);
      await ui.expectSignedIn(page, { email: persona(target, 'admin').email, admin: true });
    });
    await screens.step('MLflow home after the "MLflow" button', async () => {
      await ui.openMlflow(page);
      // the main MLflow UI (React app served at /), not the permissions UI or the plugin's login page
      await mlflowUi.expectHome();
      await expect(mlflowUi.permissionsLink()).toBeVisible();
    });
    await screens.step('MLflow experiments list', async () => {
      // its Experiments page lists the experiment created through the REST API, linking to its id
      const link = await mlflowUi.findExperiment(name);
      await expect(link).toHaveAttribute('href', `#/experiments/${experimentId}`);
    });
  } finally {
    await rest.post(`${target.mlflowUrl}/api/2.0/mlflow/experiments/delete`, { headers: sessionHeadersAs('admin'), data: { experiment_id: experimentId } });
  }
});
