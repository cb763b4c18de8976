import { expect, type Page } from '@playwright/test';
import type { TargetDescriptor } from '../../../provision/targets/descriptor.ts';
import { escapeRegExp } from './common.ts';

/**
 * MLflow's own UI (the React app at /, hash routes), as far as the checks use it: the home page, the sidebar's
 * "Experiments" and the experiments list's search. Its labels are read loosely ("Filter experiments by name" in
 * 3.6, "Search experiments" in 3.13+), so one object serves every MLflow version.
 */
export class MlflowUi {
  constructor(private readonly page: Page, private readonly target: TargetDescriptor) {}

  /** The main MLflow UI is showing (not the permissions UI or a login page): its home, version and sidebar. */
  async expectHome(): Promise<void> {
    await expect(this.page).toHaveURL(new RegExp(`^${escapeRegExp(this.target.mlflowUrl)}/(#/?)?$`));
    await expect(this.page.getByRole('heading', { name: 'Welcome to MLflow' })).toBeVisible();
    await expect(this.page.getByText(this.target.pins.mlflow, { exact: true })).toBeVisible();
  }

  /** The link back to the permissions UI that the plugin adds to MLflow's navigation. */
  permissionsLink() {
    return this.page.getByRole('link', { name: 'Permissions' });
  }

  /** Opens "Experiments" and searches for `name`; resolves with the experiment's link. */
  async findExperiment(name: string) {
    await this.page.getByRole('navigation').getByRole('link', { name: 'Experiments', exact: true }).click();
    await expect(this.page).toHaveURL(/#\/experiments$/);
    const main = this.page.getByRole('main');
    await expect(main.getByRole('heading', { name: 'Experiments', exact: true })).toBeVisible();
    const search = main.getByRole('textbox', { name: /experiments/i });
    await search.fill(name);
    await search.press('Enter');
    const link = main.getByRole('link', { name, exact: true });
    await expect(link).toBeVisible();
    return link;
  }
}
