import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalContext } from '../context.ts';
import type { LedgerEntry } from '../ledger.ts';
import { spawnDetached, waitReady } from '../process.ts';

export const NAME = 'proxy';

/**
 * Caddy in front of MLflow and Keycloak. For MLflow it sets the headers buun-stack's Traefik middleware
 * sets (X-Forwarded-Proto https, X-Forwarded-Host <host>, X-Forwarded-Port <port>); Keycloak gets the same.
 */
export function caddyfile(ctx: LocalContext): string {
  const { desc, ports, tls } = ctx;
  const port = desc.hosts.httpsPort;
  const site = (host: string, upstream: number) => `https://${host}:${port} {
	bind 127.0.0.1 [::1]
	tls ${tls.cert} ${tls.key}
	reverse_proxy 127.0.0.1:${upstream} {
		header_up X-Forwarded-Proto https
		header_up X-Forwarded-Host ${host}
		header_up X-Forwarded-Port ${port}
	}
	log {
		output stdout
		format console
	}
}
`;
  return `{
	admin off
	auto_https off
	skip_install_trust
	http_port 0
}

${site(desc.hosts.mlflow, ports.mlflow)}
${site(desc.hosts.keycloak, ports.keycloakHttp)}`;
}

export function start(ctx: LocalContext): LedgerEntry {
  const dir = join(ctx.state, 'proxy');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'Caddyfile');
  writeFileSync(file, caddyfile(ctx));
  return spawnDetached({
    name: NAME,
    command: 'caddy',
    args: ['run', '--config', file, '--adapter', 'caddyfile'],
    env: { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
    log: ctx.log(NAME),
    ports: [ctx.desc.hosts.httpsPort],
  });
}

/** GET over TLS trusting only the stack CA; resolves with the status code. */
export function httpsStatus(url: string, caFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(caFile), timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export async function ready(ctx: LocalContext, entry: LedgerEntry, url: string, expect = 200): Promise<void> {
  await waitReady(entry, 'TLS proxy', `GET ${url} answers ${expect}`, async () => (await httpsStatus(url, ctx.tls.caCert)) === expect, ctx.readyTimeout);
}
