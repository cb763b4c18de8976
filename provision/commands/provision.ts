import { provisionLocal } from '../local/target.ts';
import { describeRemote } from '../targets/remote.ts';
import { info, sinceStart } from '../progress.ts';
import { remotePython, selectedTarget } from './target.ts';

export async function provision(): Promise<number> {
  if (selectedTarget() === 'remote') {
    const d = await describeRemote(await remotePython());
    info(`Remote target: nothing to provision; MLflow ${d.mlflowUrl}, Keycloak ${d.keycloakUrl}.`);
    return 0;
  }
  const { reused, descriptor } = await provisionLocal('provision');
  info(`${reused ? 'Stack already up' : `Stack up in ${sinceStart()}`}: MLflow ${descriptor.mlflowUrl}  Keycloak ${descriptor.keycloakUrl} (realm ${descriptor.realm})`);
  info('Personas: ' + descriptor.personas.map((p) => `${p.username} <${p.email}> [${p.groups.join(',') || 'no group'}]`).join(', '));
  info('Passwords are in the state folder (`npm run status` names it); `npm run teardown` stops the stack.');
  return 0;
}
