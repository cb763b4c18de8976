import { HarnessError } from '../errors.ts';
import { provisionLocal } from '../local/target.ts';
import { describeRemote } from '../targets/remote.ts';
import { info, sinceStart } from '../progress.ts';
import { remotePython, selectedTarget } from './target.ts';

export async function provision(args: string[] = []): Promise<number> {
  const target = selectedTarget();
  const unknown = args.filter((a) => a !== '--dry-run');
  if (unknown.length) throw new HarnessError(`Unknown argument \`${unknown[0]}\` for provision`, 'provision takes only --dry-run (with HARNESS_TARGET=k3d)');
  if (args.includes('--dry-run')) {
    if (target !== 'k3d') throw new HarnessError(`--dry-run prints the plan of the k3d target, but HARNESS_TARGET is ${target}`, 'run `HARNESS_TARGET=k3d npm run provision -- --dry-run`');
    // the k3d module (and @kubernetes/client-node) loads only for the k3d target
    process.stdout.write((await import('../k3d/target.ts')).dryRunK3d());
    return 0;
  }
  if (target === 'remote') {
    const d = await describeRemote(await remotePython());
    info(`Remote target: nothing to provision; MLflow ${d.mlflowUrl}, Keycloak ${d.keycloakUrl}.`);
    return 0;
  }
  const { reused, descriptor } = target === 'k3d' ? await (await import('../k3d/target.ts')).provisionK3d('provision') : await provisionLocal('provision');
  info(`${reused ? 'Stack already up' : `Stack up in ${sinceStart()}`}: MLflow ${descriptor.mlflowUrl}  Keycloak ${descriptor.keycloakUrl} (realm ${descriptor.realm})`);
  info('Personas: ' + descriptor.personas.map((p) => `${p.username} <${p.email}> [${p.groups.join(',') || 'no group'}]`).join(', '));
  info(`Passwords are in the state folder (\`npm run status\` names it); \`npm run teardown\` ${target === 'k3d' ? 'deletes the cluster' : 'stops the stack'}.`);
  return 0;
}
