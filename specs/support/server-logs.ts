import { existsSync, readFileSync } from 'node:fs';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';

/** The MLflow server's log so far (capability `serverLogs`). */
export function mlflowLog(target: TargetDescriptor): string {
  const file = target.logs.mlflow;
  if (!file || !existsSync(file)) throw new Error(`no MLflow log for the ${target.target} target`);
  return readFileSync(file, 'utf8');
}
