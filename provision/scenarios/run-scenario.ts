import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportsDir } from '../paths.ts';
import { info, seconds, step } from '../progress.ts';
import { FaultableStack } from './phases.ts';
import { loadYaml, Scenario } from './schema.ts';

export interface ScenarioResult {
  id: string;
  title: string;
  symptom: boolean;
  recovery: boolean;
  seconds: number;
}

/**
 * Reproduces one troubleshooting scenario: the fault applied, its symptom asserted, the fix applied,
 * recovery asserted. The stack is left in its default configuration (or torn down if provisioned here).
 */
export async function runScenario(file: string, stack: FaultableStack): Promise<ScenarioResult> {
  const s = loadYaml(file, Scenario);
  const started = Date.now();
  info(`\n■ Scenario ${s.metadata.name}: ${s.metadata.title} (${s.spec.seedSection})`);
  // log offsets are taken before a configuration is applied: start-up lines belong to the phase
  const phase = async (name: 'symptom' | 'recovery', offsets: Record<string, number>) => {
    const code = await stack.playwright(['--project=scenario'], {
      SCENARIO_FILE: file,
      SCENARIO_PHASE: name,
      SCENARIO_LOG_OFFSETS: JSON.stringify(offsets),
      HARNESS_REPORT_DIR: join(reportsDir, 'scenarios', s.metadata.name, name),
      HARNESS_OUTPUT_DIR: join(reportsDir, 'scenarios', s.metadata.name, name, 'results'),
    });
    return code === 0;
  };
  const beforeFault = stack.logOffsets();
  await step(`fault: ${s.spec.description.split('\n')[0]}`, () => stack.apply(`${s.metadata.name}:fault`, s.spec.fault.overrides, s.spec.fault.stop, [], s.spec.fault));
  const symptom = await phase('symptom', beforeFault);
  const beforeFix = stack.logOffsets();
  await step(`fix: ${s.spec.fix.description.split('\n')[0]}`, () => stack.apply(`${s.metadata.name}:fix`, s.spec.fix.overrides, [], s.spec.fix.start));
  const recovery = await phase('recovery', beforeFix);
  const result = { id: s.metadata.name, title: s.metadata.title, symptom, recovery, seconds: Math.round((Date.now() - started) / 100) / 10 };
  info(`${symptom && recovery ? '✔' : '✖'} ${s.metadata.name}: symptom ${symptom ? 'reproduced' : 'NOT reproduced'}, recovery ${recovery ? 'confirmed' : 'NOT confirmed'} (${seconds(Date.now() - started)})`);
  return result;
}

export function writeScenarioReport(results: ScenarioResult[]): void {
  mkdirSync(reportsDir, { recursive: true });
  writeFileSync(join(reportsDir, 'scenarios.json'), `${JSON.stringify({ generatedAt: new Date().toISOString(), scenarios: results }, null, 2)}\n`);
}
