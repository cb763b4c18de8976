import { stringify } from 'yaml';
import type { PlanStep, WaitTarget } from './steps.ts';

/** A word as a POSIX shell reads it back: bare when safe, else single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** YAML as kubectl and Helm get it: no anchors/aliases for objects used twice, no folded lines. */
export const toYaml = (value: unknown) => stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
const yaml = (value: unknown) => toYaml(value).trimEnd();

function describeWait(w: WaitTarget): string {
  if (w.for === 'https') return `GET ${w.url} answers ${w.status} (at most ${w.timeoutSeconds}s)`;
  const where = w.namespace ? `${w.namespace}/${w.name}` : w.name;
  const what = w.for === 'rollout' ? 'rolled out' : `condition ${w.condition}=True`;
  return `${w.kind} ${where} ${what} (at most ${w.timeoutSeconds}s)`;
}

/** One step as text: its command line, stdin, manifest or values file, wait or realm. */
export function renderStep(s: PlanStep, index: number): string {
  const out = [`## ${index + 1}. ${s.id} — ${s.title}${s.allowFailure ? ' (a failure is ignored)' : ''}`];
  const command = s.argv?.map(shellWord).join(' ');
  switch (s.kind) {
    case 'command':
      out.push(s.stdin ? `$ ${command} <<'EOF'\n${s.stdin.trimEnd()}\nEOF` : `$ ${command}`);
      break;
    case 'manifest':
      out.push(`$ ${command} <<'EOF'\n${yaml(s.manifest)}\nEOF`);
      break;
    case 'values':
      out.push(`# file ${s.file}\n${yaml(s.manifest)}`);
      break;
    case 'wait':
      out.push(`# wait: ${describeWait(s.wait!)}`);
      break;
    case 'realm':
      out.push(`# configureRealm at ${s.realm!.baseUrl}: realm ${s.realm!.realm}, client redirect URI ${s.realm!.redirectUri}, groups, scope, personas`);
      break;
  }
  return out.join('\n');
}

/**
 * The plan as text, in order: every command, manifest and values file. Secret values are not in the steps
 * (placeholders), so printing the plan prints none.
 */
export function renderPlan(steps: PlanStep[], env: Record<string, string> = {}, note?: string): string {
  const head = [`# k3d plan: ${steps.length} steps. Secrets appear as <secret:name> and long files as <file:path>; both are filled when a step runs.`];
  if (note) head.push(note);
  const vars = Object.entries(env);
  if (vars.length) head.push(`# Commands run with ${vars.map(([k, v]) => `${k}=${shellWord(v)}`).join(' ')}`);
  return `${[head.join('\n'), ...steps.map(renderStep)].join('\n\n')}\n`;
}
