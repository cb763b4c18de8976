import { stateDir } from '../paths.ts';
import { LedgerFile } from '../local/ledger.ts';
import { isAlive } from '../local/process.ts';
import { COMPONENTS } from '../local/components/index.ts';
import { readDescriptor } from '../targets/descriptor.ts';

export async function status(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const state = stateDir();
  const descriptor = readDescriptor(state);
  const ledger = new LedgerFile(state).read();
  const health = Object.fromEntries(
    (ledger ? COMPONENTS : []).map((c) => {
      const e = ledger!.components[c];
      return [c, e ? { running: isAlive(e.pid), pid: e.pid, ports: e.ports, log: e.log } : { running: false }];
    }),
  );
  const up = !!descriptor && (descriptor.target !== 'local' || (!!ledger?.readyAt && Object.values(health).every((h) => h.running)));
  if (json) {
    const built = descriptor ? { baseBuiltOn: descriptor.pins.baseBuiltOn, builtOn: descriptor.pins.builtOn, versions: descriptor.pins.versions } : {};
    process.stdout.write(`${JSON.stringify({ up, state, configuration: ledger?.applied ?? 'default', fingerprint: ledger?.fingerprint, ...built, ...(descriptor ?? {}), components: health }, null, 2)}\n`);
    return up ? 0 : 1;
  }
  if (!descriptor) {
    process.stdout.write('No stack is up. Run `npm run provision`.\n');
    return 1;
  }
  const lines = [
    `Target:    ${descriptor.target}${up ? '' : ' (NOT fully running — `npm run teardown` then `npm run provision`)'}`,
    `MLflow:    ${descriptor.mlflowUrl}`,
    `Keycloak:  ${descriptor.keycloakUrl} (realm ${descriptor.realm}, client ${descriptor.clientId})`,
    `Config:    ${ledger?.applied ?? 'default'}${ledger?.fingerprint ? ` (fingerprint ${ledger.fingerprint})` : ''}`,
    `CA:        ${descriptor.caCertPath ?? 'system trust store'}`,
    `Versions:  MLflow ${descriptor.pins.mlflow}, mlflow-oidc-auth ${descriptor.pins.mlflowOidcAuth}${descriptor.pins.keycloak ? `, Keycloak ${descriptor.pins.keycloak}` : ''} (pin set ${descriptor.pins.name})`,
    `Built:     as the image was built: base image as of ${descriptor.pins.baseBuiltOn ?? '?'}, image as of ${descriptor.pins.builtOn ?? '?'}`,
    `Packages:  ${Object.entries(descriptor.pins.versions ?? {}).filter(([k]) => !['MLflow', 'mlflow-oidc-auth'].includes(k)).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`,
    ...(descriptor.platform ? [`Platform:  ${descriptor.platform.name}${descriptor.platform.localDeclared.length ? ` — runs otherwise: ${descriptor.platform.localDeclared.join('; ')}` : ''}`] : []),
    ...(descriptor.platform?.note ? [`Note:      ${descriptor.platform.note}`] : []),
    `Personas:  ${descriptor.personas.map((p) => `${p.username} <${p.email}> [${p.groups.join(',') || 'no group'}]`).join(', ')}`,
    `Secrets:   ${descriptor.secretsFile ?? '-'} (passwords; not printed)`,
    `State:     ${state}`,
  ];
  for (const [name, h] of Object.entries(health)) {
    lines.push(`  ${name.padEnd(9)} ${h.running ? 'running' : 'STOPPED'}${'pid' in h ? `  pid ${h.pid}  ports ${h.ports?.join(',')}  log ${h.log}` : ''}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return up ? 0 : 1;
}
