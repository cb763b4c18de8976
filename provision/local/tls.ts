import { existsSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

export interface StackTls {
  caCert: string;
  cert: string;
  key: string;
}

/** A CA made for this stack and one server certificate for the given names, signed by it (openssl). */
export async function createStackTls(dir: string, names: string[]): Promise<StackTls> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = (f: string) => join(dir, f);
  const out: StackTls = { caCert: p('ca.pem'), cert: p('server.pem'), key: p('server-key.pem') };
  if (existsSync(out.caCert) && existsSync(out.cert) && existsSync(out.key)) return out;
  const openssl = (args: string[]) => execa('openssl', args, { cwd: dir });
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
    '-subj', '/CN=mlflow-oidc-harness stack CA', '-keyout', 'ca-key.pem', '-out', 'ca.pem',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${names[0]}`,
    '-keyout', 'server-key.pem', '-out', 'server.csr']);
  const san = [...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1', 'IP:::1'].join(',');
  writeFileSync(p('server.ext'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
    '-days', '30', '-extfile', 'server.ext', '-out', 'server.pem']);
  for (const f of ['ca-key.pem', 'server-key.pem']) chmodSync(p(f), 0o600);
  return out;
}

/** An NSS database holding the CA, for Chromium (which reads $HOME/.pki/nssdb). Returns the HOME to use. */
export async function createBrowserHome(dir: string, caCert: string): Promise<string> {
  const nssdb = join(dir, '.pki', 'nssdb');
  if (existsSync(join(nssdb, 'cert9.db'))) return dir;
  mkdirSync(nssdb, { recursive: true });
  await execa('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password']);
  await execa('certutil', ['-A', '-d', `sql:${nssdb}`, '-n', 'mlflow-oidc-harness CA', '-t', 'C,,', '-i', caCert]);
  return dir;
}
