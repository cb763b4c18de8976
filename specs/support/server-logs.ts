import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../../provision/paths.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';

/** The MLflow server's log so far (capability `serverLogs`). */
export function mlflowLog(target: TargetDescriptor): string {
  const file = target.logs.mlflow;
  if (!file || !existsSync(file)) throw new Error(`no MLflow log for the ${target.target} target`);
  return readFileSync(file, 'utf8');
}

/** The command line the local target started a component with (from the state folder's ledger). */
export function startedCommand(component: string): string {
  const ledger = JSON.parse(readFileSync(join(stateDir(), 'ledger.json'), 'utf8')) as { components: Record<string, { command: string }> };
  const entry = ledger.components[component];
  if (!entry) throw new Error(`component ${component} is not in the ledger`);
  return entry.command;
}
