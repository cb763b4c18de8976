import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../../provision/paths.ts';

/** Per-run artefacts shared by the setup project and the checks: persona sessions and access tokens. */
export const runDir = () => join(stateDir(), 'run');
export const storageStateFile = (persona: string) => join(runDir(), `${persona}.storage.json`);
const tokensFile = () => join(runDir(), 'tokens.json');

export function saveTokens(tokens: Record<string, string>): void {
  mkdirSync(runDir(), { recursive: true });
  writeFileSync(tokensFile(), JSON.stringify(tokens), { mode: 0o600 });
}

export function loadTokens(): Record<string, string> {
  if (!existsSync(tokensFile())) throw new Error('No persona tokens: the setup project did not run (run the suite with `npm test`).');
  return JSON.parse(readFileSync(tokensFile(), 'utf8')) as Record<string, string>;
}
