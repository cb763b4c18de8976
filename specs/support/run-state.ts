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

/**
 * The `Cookie` header of the persona's MLflow login session (made by the setup project), for requests to `mlflowUrl`.
 * It carries the persona's identity without a Basic header: plugins 5.x and 7.x check an access key by hashing it on
 * every request (werkzeug's default scrypt: 0.16 s of the server's CPU or more each), a session by a lookup.
 */
export function sessionCookieHeader(persona: string, mlflowUrl: string): Record<string, string> {
  const file = storageStateFile(persona);
  if (!existsSync(file)) throw new Error(`No login session for persona ${persona}: the setup project did not run (run the suite with \`npm test\`).`);
  const host = new URL(mlflowUrl).hostname;
  const state = JSON.parse(readFileSync(file, 'utf8')) as { cookies: { name: string; value: string; domain: string }[] };
  const cookies = state.cookies.filter((c) => c.domain.replace(/^\./, '') === host || host.endsWith(`.${c.domain.replace(/^\./, '')}`));
  if (!cookies.length) throw new Error(`The login session of persona ${persona} has no cookie for ${host}: log in again (\`npm run specs\` runs the setup project).`);
  return { Cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') };
}
