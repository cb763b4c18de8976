import { teardownLocal } from '../local/target.ts';
import { info } from '../progress.ts';

export async function teardown(): Promise<number> {
  const { stopped } = await teardownLocal();
  info(stopped.length ? `Stopped ${stopped.join(', ')}; state folder removed.` : 'Nothing was running.');
  return 0;
}
