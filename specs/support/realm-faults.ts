import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';
import { keycloakAdmin } from './stack-access.ts';

type Admin = Awaited<ReturnType<typeof keycloakAdmin>>;

/**
 * Applies a change to the live realm and returns the function that undoes it. Used by the serial `realm`
 * project only: these faults affect every login while they are in place.
 */
export async function whileFaulted<T>(
  target: TargetDescriptor,
  apply: (kc: Admin, client: { id: string }) => Promise<() => Promise<unknown>>,
  observe: () => Promise<T>,
): Promise<T> {
  const kc = await keycloakAdmin(target);
  const [client] = await kc.clients.find({ clientId: target.clientId });
  if (!client?.id) throw new Error(`client ${target.clientId} not found`);
  const undo = await apply(kc, { id: client.id });
  try {
    return await observe();
  } finally {
    await undo();
  }
}

/** The protocol mapper that puts `groups` into tokens, on the `groups` client scope. */
export async function groupsMapper(kc: Admin) {
  const scope = (await kc.clientScopes.find()).find((s) => s.name === 'groups');
  if (!scope?.id) throw new Error('client scope groups not found');
  const mapper = (await kc.clientScopes.listProtocolMappers({ id: scope.id })).find((m) => m.config?.['claim.name'] === 'groups');
  if (!mapper?.id) throw new Error('groups mapper not found');
  return { scopeId: scope.id, mapper };
}
