import { loadHarnessEnv } from '../config/env.ts';
import { describePinSet, loadPinSet } from '../config/pin-sets.ts';
import { ensurePrerequisites } from '../local/prerequisites.ts';
import { info } from '../progress.ts';

export async function prereqs(): Promise<number> {
  const env = loadHarnessEnv();
  const set = loadPinSet(env.HARNESS_PINS);
  info(`Pin set ${describePinSet(set)}`);
  const p = await ensurePrerequisites(env, set);
  info(`Prerequisites ready: Keycloak ${p.keycloakHome}, versitygw ${p.versitygw}, venv ${p.venv}`);
  return 0;
}
