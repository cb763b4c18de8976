import { join } from 'node:path';
import { publicUrl } from '../../config/stack.ts';
import type { LocalContext } from '../context.ts';
import type { LedgerEntry } from '../ledger.ts';
import { spawnDetached, waitReady } from '../process.ts';

export const NAME = 'keycloak';
export const ADMIN_USER = 'admin';

/** Keycloak's built distribution started optimized, on PostgreSQL, behind the TLS proxy (hostname v2, xforwarded). */
export function start(ctx: LocalContext, home: string, javaHome?: string): LedgerEntry {
  const { ports, desc, secrets } = ctx;
  return spawnDetached({
    name: NAME,
    command: join(home, 'bin', 'kc.sh'),
    args: ['start', '--optimized'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(javaHome ? { JAVA_HOME: javaHome } : {}),
      KC_DB_URL: `jdbc:postgresql://127.0.0.1:${ports.postgres}/${desc.postgres.databases.keycloak}`,
      KC_DB_USERNAME: 'postgres',
      KC_DB_PASSWORD: secrets.postgresSuperuser,
      KC_HOSTNAME: publicUrl(desc.hosts.keycloak, desc.hosts.httpsPort),
      KC_HTTP_ENABLED: 'true',
      KC_HTTP_HOST: '127.0.0.1',
      KC_HTTP_PORT: String(ports.keycloakHttp),
      KC_HTTPS_PORT: String(ports.keycloakHttps),
      KC_HTTP_MANAGEMENT_PORT: String(ports.keycloakManagement),
      KC_HTTP_MANAGEMENT_SCHEME: 'http',
      KC_PROXY_HEADERS: 'xforwarded',
      KC_CACHE: 'local',
      KC_BOOTSTRAP_ADMIN_USERNAME: ADMIN_USER,
      KC_BOOTSTRAP_ADMIN_PASSWORD: secrets.keycloakAdmin,
      JAVA_OPTS_KC_HEAP: '-Xms128m -Xmx768m',
    },
    log: ctx.log(NAME),
    ports: [ports.keycloakHttp, ports.keycloakManagement],
  });
}

export async function ready(ctx: LocalContext, entry: LedgerEntry): Promise<void> {
  const url = `http://127.0.0.1:${ctx.ports.keycloakManagement}/health/ready`;
  await waitReady(entry, 'Keycloak', `GET ${url} answers 200`, async () => (await fetch(url)).ok, ctx.readyTimeout);
}
