import { HarnessError } from '../errors.ts';
import { info } from '../progress.ts';

/**
 * `npm run k3d -- plan | up | down`: the k3d target on its own (a machine with Docker, k3d, helm and kubectl).
 * `plan` prints every command, manifest and values file in order and needs none of them. The k3d modules (and
 * @kubernetes/client-node) load only here.
 */
export async function k3d(args: string[]): Promise<number> {
  const [verb] = args;
  const target = await import('../k3d/target.ts');
  if (verb === 'plan') {
    process.stdout.write(target.dryRunK3d());
    return 0;
  }
  if (verb === 'up') {
    const { reused, descriptor } = await target.provisionK3d('provision');
    info(`${reused ? 'Cluster already up' : 'Cluster up'}: MLflow ${descriptor.mlflowUrl}  Keycloak ${descriptor.keycloakUrl} (realm ${descriptor.realm}); \`npm run k3d -- down\` deletes it.`);
    return 0;
  }
  if (verb === 'down') {
    const { deleted } = await target.teardownK3d();
    info(deleted.length ? `Deleted ${deleted.join(', ')}.` : 'No k3d cluster was recorded.');
    return 0;
  }
  throw new HarnessError(`Unknown k3d action \`${verb ?? ''}\``, 'use one of: plan (prints the plan, needs no Docker), up, down');
}
