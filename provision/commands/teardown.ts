import { teardownLocal } from '../local/target.ts';
import { info } from '../progress.ts';

/** Deletes the k3d cluster the state folder records (if any), stops the local stack (if any), removes the state folder. */
export async function teardown(): Promise<number> {
  const { deleted } = await (await import('../k3d/target.ts')).teardownK3d();
  const { stopped } = await teardownLocal();
  const done = [...(deleted.length ? [`Deleted ${deleted.join(', ')}`] : []), ...(stopped.length ? [`Stopped ${stopped.join(', ')}`] : [])];
  info(done.length ? `${done.join('; ')}; state folder removed.` : 'Nothing was running.');
  return 0;
}
