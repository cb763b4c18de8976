import { test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { stateDir } from '../../provision/paths.ts';
import { readDescriptor, type TargetDescriptor } from '../../provision/targets/descriptor.ts';

export type Persona = TargetDescriptor['personas'][number];

/** The descriptor of the stack under test; a clear error when none is up. */
export function loadTarget(): TargetDescriptor {
  const d = readDescriptor(stateDir());
  if (!d) throw new Error(`No stack is described in ${stateDir()}: run \`npm run provision\` (or \`npm test\`, which provisions).`);
  // Node reads NODE_EXTRA_CA_CERTS only when it starts: the CLI sets it for the runner and its workers
  if (d.caCertPath && process.env.NODE_EXTRA_CA_CERTS !== d.caCertPath) {
    throw new Error(`The specs must trust the stack CA: run them with \`npm test\` or \`npm run specs -- <playwright args>\` (or set NODE_EXTRA_CA_CERTS=${d.caCertPath}).`);
  }
  return d;
}

export function persona(target: TargetDescriptor, key: string): Persona {
  const p = target.personas.find((x) => x.key === key);
  // a remote deployment may define only some personas: checks needing another one do not apply there
  if (!p && target.target === 'remote') test.skip(true, `not-applicable: the remote target defines no persona "${key}" (set HARNESS_${key.toUpperCase()}_USERNAME/_EMAIL/_PASSWORD)`);
  if (!p) throw new Error(`Target ${target.target} has no persona "${key}" (has ${target.personas.map((x) => x.key).join(', ')})`);
  return p;
}

export function passwordOf(target: TargetDescriptor, p: Persona): string {
  if (!target.secretsFile) throw new Error('The target has no secrets file');
  const secrets = JSON.parse(readFileSync(target.secretsFile, 'utf8')) as { personas: Record<string, string> };
  const pw = secrets.personas[p.username];
  if (!pw) throw new Error(`No password for persona ${p.username}`);
  return pw;
}
