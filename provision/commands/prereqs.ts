import { loadHarnessEnv } from '../config/env.ts';
import { readImagePins } from '../config/pins.ts';
import { ensurePrerequisites } from '../local/prerequisites.ts';
import { info } from '../progress.ts';

export async function prereqs(): Promise<number> {
  const p = await ensurePrerequisites(loadHarnessEnv(), readImagePins());
  info(`Prerequisites ready: Keycloak ${p.keycloakHome}, versitygw ${p.versitygw}, venv ${p.venv}`);
  return 0;
}
