import { configureRealm, realmDrift, type RealmInputs } from '../keycloak/realm.ts';

// Runs configureRealm (or, with --check, realmDrift: prints what differs as JSON) in a process of its own, started
// with NODE_EXTRA_CA_CERTS naming the stack CA: Node's fetch (used by the Keycloak admin client) reads that variable
// only at start-up, and the k3d target reaches Keycloak through the ingress, whose certificate the stack CA signed.
// The inputs (with the secrets) come on stdin, never in the command line or environment.

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const inputs = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RealmInputs;
try {
  if (process.argv.includes('--check')) process.stdout.write(`${JSON.stringify(await realmDrift(inputs))}\n`);
  else await configureRealm(inputs);
} catch (e) {
  process.stderr.write(`${process.argv.includes('--check') ? 'realmDrift' : 'configureRealm'} failed: ${(e as Error).message}\n`);
  process.exit(1);
}
