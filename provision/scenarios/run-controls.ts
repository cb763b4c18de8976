import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { projectRoot, reportsDir } from '../paths.ts';
import { info, seconds, step } from '../progress.ts';
import type { FaultableStack } from './phases.ts';
import { Control, loadYaml } from './schema.ts';

export interface ControlResult {
  id: string;
  title: string;
  expectedRed: string[];
  observedRed: string[];
  /** Claims that must stay green under a tolerated fault (expectGreen), and those that did not. */
  expectedGreen?: string[];
  notGreen?: string[];
  caught: boolean;
  seconds: number;
}

/** Claims that have at least one check in the suite (by the [Cnn] tags of spec titles). */
export function claimsWithChecks(): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(api|browser|realm|lifecycle)\.spec\.ts$/.test(e.name)) {
        for (const m of readFileSync(p, 'utf8').matchAll(/test\(\s*['"`]\[((?:C\d{2}(?:,\s*)?)+)\]/g)) for (const id of m[1]!.split(/,\s*/)) found.add(id);
      }
    }
  };
  walk(join(projectRoot, 'specs'));
  return [...found].sort();
}

function verdicts(reportDir: string): { id: string; verdict: string }[] {
  const f = join(reportDir, 'conformance.json');
  if (!existsSync(f)) return [];
  return (JSON.parse(readFileSync(f, 'utf8')) as { claims: { id: string; verdict: string }[] }).claims;
}

/**
 * Runs the conformance checks against the stack with the control's fault applied and compares the claims
 * that turned red with those the control expects. Sessions and tokens are made on the healthy stack first.
 */
export async function runControl(file: string, stack: FaultableStack, opts: { lifecycle: boolean }): Promise<ControlResult> {
  const c = loadYaml(file, Control);
  const id = c.metadata.name;
  const started = Date.now();
  info(`\n■ Control ${id}: ${c.metadata.title}`);
  await stack.playwright(['--project=setup'], { HARNESS_REPORT_DIR: join(reportsDir, 'controls', id, 'setup'), HARNESS_OUTPUT_DIR: join(reportsDir, 'controls', id, 'setup', 'results') }, 'silent');
  await step(`fault: ${c.spec.description.split('\n')[0]}`, () => stack.apply(`${id}:fault`, c.spec.fault.overrides, c.spec.fault.stop, [], c.spec.fault));
  const expected = c.spec.expectRed ?? [];
  const green = c.spec.expectGreen ?? [];
  const named = [...expected, ...green];
  const grep = named.length ? [`--grep=\\[[^\\]]*\\b(${named.join('|')})\\b`] : [];
  // api and browser checks together, then the serial ones (they must not overlap the others), then the lifecycle
  const runs: [string, string[]][] = [['checks', ['--project=api', '--project=browser']], ['realm', ['--project=realm']]];
  if (opts.lifecycle) runs.push(['lifecycle', ['--project=lifecycle']]);
  const observed = new Set<string>();
  const passed = new Set<string>();
  for (const [name, projects] of runs) {
    const dir = join(reportsDir, 'controls', id, name);
    await stack.playwright([...projects, '--no-deps', ...grep], { HARNESS_REPORT_DIR: dir, HARNESS_OUTPUT_DIR: join(dir, 'results'), HARNESS_LIFECYCLE: opts.lifecycle ? '1' : '' }, 'silent');
    for (const v of verdicts(dir)) {
      if (v.verdict === 'failed') observed.add(v.id);
      if (v.verdict === 'passed' || v.verdict === 'differs') passed.add(v.id);
    }
  }
  // after the lifecycle recipes MLflow is uninstalled for good: the stack is torn down at the end instead
  if (!opts.lifecycle) await step('restore the default configuration', () => stack.apply('default', {}, [], c.spec.fault.stop));
  const observedRed = [...observed].sort();
  const notGreen = green.filter((x) => observed.has(x) || !passed.has(x));
  const caught = (expected.length ? expected.every((x) => observed.has(x)) : green.length > 0 || observedRed.length > 0) && notGreen.length === 0;
  const result: ControlResult = { id, title: c.metadata.title, expectedRed: expected, observedRed, ...(green.length ? { expectedGreen: green, notGreen } : {}), caught, seconds: Math.round((Date.now() - started) / 100) / 10 };
  const greenNote = green.length ? `; must stay green ${green.join(', ')}${notGreen.length ? ` — not green: ${notGreen.join(', ')}` : ' — they did'}` : '';
  info(`${caught ? '✔' : '✖'} ${id}: expected red ${expected.join(', ') || (green.length ? 'none' : '(any)')}; observed red ${observedRed.join(', ') || 'none'}${greenNote} (${seconds(Date.now() - started)})`);
  return result;
}

export function writeControlsReport(results: ControlResult[], uncoveredClaims: string[], invalid: { file: string; error: string }[] = []): void {
  mkdirSync(reportsDir, { recursive: true });
  writeFileSync(join(reportsDir, 'controls.json'), `${JSON.stringify({ generatedAt: new Date().toISOString(), controls: results, claimsWithoutControl: uncoveredClaims, invalid }, null, 2)}\n`);
}

export const controlId = (file: string) => basename(file, '.yaml');
