import { HarnessError } from '../errors.ts';
import { cleanupMlflow, installMlflow, uninstallMlflow, type StepOutcome } from '../local/lifecycle.ts';

/** `npm run mlflow -- install | uninstall [--delete-db] | cleanup`: buun-stack's mlflow recipes on the local stack. */
export async function mlflowRecipe(args: string[]): Promise<number> {
  const [recipe, ...rest] = args;
  let steps: StepOutcome[];
  if (recipe === 'install') steps = await installMlflow();
  else if (recipe === 'uninstall') steps = await uninstallMlflow(rest.includes('--delete-db'));
  else if (recipe === 'cleanup') steps = await cleanupMlflow();
  else throw new HarnessError(`Unknown recipe \`${recipe ?? ''}\``, 'use one of: install, uninstall [--delete-db], cleanup');
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(steps)}\n`);
  // like buun-stack's recipes, failed clean-up steps are reported but do not fail uninstall/cleanup
  return recipe === 'install' && steps.some((s) => !s.ok) ? 1 : 0;
}
