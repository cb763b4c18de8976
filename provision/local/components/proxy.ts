import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalContext } from '../context.ts';
import { createFaultyCertificate } from '../tls.ts';
import type { LedgerEntry } from '../ledger.ts';
import { spawnDetached, waitReady } from '../process.ts';

export const NAME = 'proxy';

/**
 * How long the proxy keeps an idle upstream connection. uvicorn closes an idle keep-alive connection after 5 s
 * (its default); a proxy that keeps it longer sometimes sends a request down a connection the server is closing at
 * that moment and answers 502 (seen once on a DELETE in the permission matrix). Below the server's timeout, the
 * proxy always closes first.
 */
export const UPSTREAM_KEEPALIVE = '2s';

/**
 * Caddy in front of MLflow and Keycloak. For MLflow it sets the headers buun-stack's Traefik middleware
 * sets (X-Forwarded-Proto https, X-Forwarded-Host <host>, X-Forwarded-Port <port>); Keycloak gets the same.
 * A fault may change or remove them (Caddy would otherwise add its own X-Forwarded-Proto/Host), serve a
 * broken certificate, or refuse some MLflow requests itself.
 */
export function caddyfile(ctx: LocalContext, cert: { cert: string; key: string } = ctx.tls): string {
  const { desc, ports } = ctx;
  const port = desc.hosts.httpsPort;
  const headers = (host: string) => Object.entries({ Proto: desc.edge.forwardedHeaders.proto, Host: desc.edge.forwardedHeaders.host, Port: desc.edge.forwardedHeaders.port })
    .map(([name, value]) => (value === null ? `\t\theader_up -X-Forwarded-${name}` : `\t\theader_up X-Forwarded-${name} ${value.replaceAll('{host}', host).replaceAll('{port}', String(port))}`))
    .join('\n');
  // a fault may break MLflow routes at the edge: the proxy answers them itself (`respond` runs before `reverse_proxy`)
  const blocked = (host: string) => (host === desc.hosts.mlflow ? desc.edge.blocked ?? [] : [])
    .map((b, i) => `\t@blocked${i} {\n\t\tmethod ${b.methods.join(' ')}\n\t\tpath_regexp \`${b.path}\`\n\t}\n\trespond @blocked${i} "refused by the proxy (harness fault)" ${b.status}\n`)
    .join('');
  const site = (host: string, upstream: number) => `https://${host}:${port} {
	bind 127.0.0.1 [::1]
	tls ${cert.cert} ${cert.key}
${blocked(host)}	reverse_proxy 127.0.0.1:${upstream} {
${headers(host)}
		transport http {
			keepalive ${UPSTREAM_KEEPALIVE}
		}
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

/** The certificate the proxy serves: the stack's own, or the broken one a fault asks for. */
async function certificate(ctx: LocalContext): Promise<{ cert: string; key: string }> {
  const fault = ctx.desc.edge.certificate;
  if (fault === 'valid') return ctx.tls;
  return createFaultyCertificate(ctx.tls, join(ctx.state, 'tls', 'faults'), fault, [ctx.desc.hosts.mlflow, ctx.desc.hosts.keycloak]);
}

export async function start(ctx: LocalContext): Promise<LedgerEntry> {
  const dir = join(ctx.state, 'proxy');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'Caddyfile');
  writeFileSync(file, caddyfile(ctx, await certificate(ctx)));
  return spawnDetached({
    name: NAME,
    command: 'caddy',
    args: ['run', '--config', file, '--adapter', 'caddyfile'],
    env: { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
    log: ctx.log(NAME),
    ports: [ctx.desc.hosts.httpsPort],
  });
}

/** GET over TLS trusting only the stack CA (or, for a proxy serving a broken certificate, any); resolves with the status code. */
export function httpsStatus(url: string, caFile: string, anyCertificate = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(caFile), timeout: 5000, rejectUnauthorized: !anyCertificate }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export async function ready(ctx: LocalContext, entry: LedgerEntry, url: string, expect = 200): Promise<void> {
  const anyCertificate = ctx.desc.edge.certificate !== 'valid';
  const condition = `GET ${url} answers ${expect}${anyCertificate ? ` (certificate: ${ctx.desc.edge.certificate}, not verified)` : ''}`;
  await waitReady(entry, 'TLS proxy', condition, async () => (await httpsStatus(url, ctx.tls.caCert, anyCertificate)) === expect, ctx.readyTimeout);
}
