import { HarnessError } from '../errors.ts';
import { info, step } from '../progress.ts';
import { FaultableStack } from '../scenarios/phases.ts';
import { claimsWithChecks, runBaseline, runControl, writeControlsReport, type ClaimRun, type ControlResult } from '../scenarios/run-controls.ts';
import { Control, listYaml, loadYaml, validFaultFiles } from '../scenarios/schema.ts';
import { loadHarnessEnv } from '../config/env.ts';
import { loadPinSet } from '../config/pin-sets.ts';
import { describeStack } from '../config/stack.ts';
import { selectedTarget } from './target.ts';

/**
 * `npm run controls [-- <id | fault.yaml>… | --ci]`: negative controls. Each applies a fault and requires
 * the claims it names to turn red; a fault file without `expectRed` reports which claims caught it.
 */
export async function controls(args: string[]): Promise<number> {
  if (selectedTarget() !== 'local') throw new HarnessError('Controls need a target that can be provisioned', 'use HARNESS_TARGET=local');
  const ci = args.includes('--ci');
  const named = args.filter((a) => !a.startsWith('--'));
  const all = listYaml('controls');
  const env = loadHarnessEnv();
  const desc = describeStack(env, loadPinSet(env.HARNESS_PINS));
  const given = named.length ? named : all.filter((f) => !ci || loadYaml(f, Control).spec.ci);
  const { valid, invalid } = validFaultFiles('controls', given, Control, desc);
  for (const i of invalid) info(`✖ invalid control file — ${i.error}`);
  if (valid.length === 0) throw new HarnessError(`No valid control file among ${given.length} given`, 'fix the files named above');
  const specs = valid.map((v) => ({ file: v.file, control: v.doc }));
  // controls that take the server down for good (lifecycle) go last
  const lifecycleLast = specs.sort((a, b) => Number(a.control.spec.expectRed?.includes('C32') ?? false) - Number(b.control.spec.expectRed?.includes('C32') ?? false));
  const stack = await FaultableStack.open();
  const results: ControlResult[] = [];
  const claimsOf = (list: typeof specs) => [...new Set(list.flatMap((x) => [...(x.control.spec.expectRed ?? []), ...(x.control.spec.expectGreen ?? [])]))].filter((c) => c !== 'C32');
  let baseline: Map<string, ClaimRun> | undefined;
  try {
    // the healthy baseline of this batch: a claim caught red must have been green here
    baseline = await step(`healthy baseline: the checks of ${claimsOf(lifecycleLast).join(', ') || 'every claim'}`, () => runBaseline(stack, claimsOf(lifecycleLast), { lifecycle: false }));
    for (const { file, control } of lifecycleLast) {
      const lifecycle = !!control.spec.expectRed?.includes('C32');
      if (lifecycle && !stack.owned) {
        info(`- ${control.metadata.name}: skipped — it runs the uninstall recipes, so only on a stack this command provisioned (run it after \`npm run teardown\`)`);
        continue;
      }
      if (!baseline) {
        results.push({ id: control.metadata.name, title: control.metadata.title, status: 'not-evaluable', notEvaluable: 'the setup project failed on the healthy stack: no baseline', expectedRed: control.spec.expectRed ?? [], observedRed: [], claims: [], caught: false, seconds: 0 });
        continue;
      }
      let base = baseline;
      if (lifecycle) {
        // the uninstall recipes' baseline takes MLflow down: measure it, then make the stack anew for the fault
        const life = await step('healthy baseline of the uninstall recipes (C32)', () => runBaseline(stack, ['C32'], { lifecycle: true }));
        await stack.rebuild();
        // only what the lifecycle run judged (its other claims have no check in that run)
        base = new Map([...baseline, ...[...(life ?? new Map<string, ClaimRun>())].filter(([id]) => id === 'C32')]);
      }
      results.push(await runControl(file, stack, base, { lifecycle }));
    }
  } finally {
    await stack.close();
  }
  // coverage: every claim with a check is expected red by some control (judged over the whole catalogue)
  const covered = new Set(all.flatMap((f) => loadYaml(f, Control).spec.expectRed ?? []));
  const uncovered = claimsWithChecks().filter((c) => !covered.has(c));
  writeControlsReport(results, uncovered, invalid, baseline);
  const missed = results.filter((r) => !r.caught);
  info(`\nControls: ${results.length - missed.length}/${results.length} caught${results.some((r) => r.status === 'not-evaluable') ? `, ${results.filter((r) => r.status === 'not-evaluable').length} not evaluable` : ''} — reports/controls.json`);
  for (const r of results) {
    const red = r.claims.length ? r.claims.map((x) => `${x.claim}${x.caught ? '' : '✖'}`).join(',') : r.observedRed.join(',') || 'none';
    info(`  ${r.caught ? '✔' : '✖'} ${r.id.padEnd(28)} ${String(r.seconds).padStart(6)}s  ${r.status.padEnd(13)} red for its reason: ${red}${r.expectedGreen ? `  green ${r.expectedGreen.filter((x) => !r.notGreen?.includes(x)).join(',') || 'none'}/${r.expectedGreen.join(',')}` : ''}${r.notEvaluable ? `  (${r.notEvaluable})` : ''}`);
  }
  if (uncovered.length) info(`Claims with checks but no control: ${uncovered.join(', ')}`);
  for (const i of invalid) info(`  ✖ invalid: ${i.error}`);
  return missed.length === 0 && uncovered.length === 0 && invalid.length === 0 ? 0 : 1;
}
