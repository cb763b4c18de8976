import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from './paths.ts';

/**
 * The ledger of every secret a stack's runs have made, recorded the moment it is made: passwords of users made for
 * one check, service-account and persona access tokens, the UI's token, JWTs from Keycloak, Keycloak admin tokens,
 * client secrets after a rotation. `npm test` searches its outputs for all of them, not only for what the state
 * folder's secrets.json holds at the end of the run. One JSON object per line, the file readable by its owner only.
 * It lives in the state folder and goes with it at teardown.
 */
export interface LedgerSecret {
  /** What it is, never its value: `password of user pm-…`, `access token of bob@example.com`. */
  name: string;
  value: string;
  /** The user it belongs to: its Basic-header form (base64 of `user:value`) is searched too. */
  user?: string;
}

export const secretLedgerFile = (state = stateDir()) => join(state, 'secret-ledger.jsonl');

/** Records a secret as it is made. Values shorter than 8 characters are not secrets the search can tell apart. */
export function recordSecret(name: string, value: string, user?: string, state = stateDir()): void {
  if (!value || value.length < 8) return;
  if (!existsSync(state)) mkdirSync(state, { recursive: true });
  appendFileSync(secretLedgerFile(state), `${JSON.stringify({ name, value, ...(user ? { user } : {}) })}\n`, { mode: 0o600 });
}

/** Every secret recorded for this state folder. */
export function readSecretLedger(state = stateDir()): LedgerSecret[] {
  const file = secretLedgerFile(state);
  if (!existsSync(file)) return [];
  const out: LedgerSecret[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as LedgerSecret);
    } catch {
      // a line cut short by a killed process: the complete ones still count
    }
  }
  return out;
}
