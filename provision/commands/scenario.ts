import { basename } from 'node:path';
import { HarnessError } from '../errors.ts';
import { info } from '../progress.ts';
import { FaultableStack } from '../scenarios/phases.ts';
import { runScenario, writeScenarioReport, type ScenarioResult } from '../scenarios/run-scenario.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../paths.ts';
import { jsonSchemas, listYaml, loadYaml, Scenario, validFaultFiles } from '../scenarios/schema.ts';
import { loadHarnessEnv } from '../config/env.ts';
import { loadPinSet } from '../config/pin-sets.ts';
import { describeStack } from '../config/stack.ts';
import { selectedTarget } from './target.ts';

/** `npm run scenarios`: the catalogue (`-- --schemas` rewrites the JSON Schemas for editors). */
export async function listScenarios(args: string[] = []): Promise<number> {
  if (args.includes('--schemas')) {
    const { scenario, control, pinSet } = jsonSchemas();
    writeFileSync(join(projectRoot, 'scenarios', 'scenario.schema.json'), `${JSON.stringify(scenario, null, 2)}\n`);
    writeFileSync(join(projectRoot, 'controls', 'control.schema.json'), `${JSON.stringify(control, null, 2)}\n`);
    writeFileSync(join(projectRoot, 'image', 'pin-sets', 'pin-set.schema.json'), `${JSON.stringify(pinSet, null, 2)}\n`);
    info('wrote scenarios/scenario.schema.json, controls/control.schema.json and image/pin-sets/pin-set.schema.json');
    return 0;
  }
  for (const file of listYaml('scenarios')) {
    const s = loadYaml(file, Scenario);
    process.stdout.write(`${basename(file, '.yaml').padEnd(30)} ${s.metadata.title}  [${s.spec.seedSection}]\n`);
  }
  return 0;
}

/** `npm run scenario -- <id | file.yaml> [more…]` (or `all`). */
export async function scenario(args: string[]): Promise<number> {
  if (selectedTarget() !== 'local') throw new HarnessError('Scenarios need a target that can be provisioned', 'use HARNESS_TARGET=local');
  if (args.length === 0) throw new HarnessError('Name a scenario', 'run `npm run scenarios` for the list, then `npm run scenario -- <id>` (or `all`)');
  const env = loadHarnessEnv();
  const desc = describeStack(env, loadPinSet(env.HARNESS_PINS));
  // validate all before touching the stack; a file with a mistake is reported and the others run
  const { valid, invalid } = validFaultFiles('scenarios', args[0] === 'all' ? listYaml('scenarios') : args, Scenario, desc);
  for (const i of invalid) info(`✖ invalid scenario file — ${i.error}`);
  if (valid.length === 0) throw new HarnessError(`No valid scenario file among ${args[0] === 'all' ? 'the catalogue' : args.length}`, 'fix the files named above');
  const files = valid.map((v) => v.file);
  const stack = await FaultableStack.open();
  const results: ScenarioResult[] = [];
  try {
    for (const f of files) results.push(await runScenario(f, stack));
  } finally {
    await stack.close();
    writeScenarioReport(results);
  }
  const failed = results.filter((r) => !r.symptom || !r.recovery);
  info(`\nScenarios: ${results.length - failed.length}/${results.length} reproduced and cured — reports/scenarios.json`);
  for (const r of results) info(`  ${r.symptom && r.recovery ? '✔' : '✖'} ${r.id.padEnd(30)} ${r.seconds}s`);
  for (const i of invalid) info(`  ✖ invalid: ${i.error}`);
  return failed.length === 0 && invalid.length === 0 ? 0 : 1;
}
