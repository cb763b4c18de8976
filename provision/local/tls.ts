import { existsSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/** A broken server certificate the proxy can serve instead of the stack's (a fault). */
export type CertificateFault = 'expired' | 'wrong-host' | 'untrusted-ca';

/**
 * Makes (once per state folder) a certificate with the given fault: `expired` is signed by the stack CA for
 * the right names but valid only in 2020; `wrong-host` is signed by the stack CA for another name only;
 * `untrusted-ca` is for the right names but signed by a CA of its own that nothing trusts.
 */
export async function createFaultyCertificate(tls: StackTls, dir: string, fault: CertificateFault, names: string[]): Promise<{ cert: string; key: string }> {
  const out = { cert: join(dir, `${fault}.pem`), key: join(dir, `${fault}-key.pem`) };
  if (existsSync(out.cert) && existsSync(out.key)) return out;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const openssl = (args: string[]) => execa('openssl', args, { cwd: dir });
  const p = (f: string) => join(dir, f);
  const hosts = fault === 'wrong-host' ? ['wrong-host.invalid'] : names;
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${hosts[0]}`,
    '-keyout', `${fault}-key.pem`, '-out', `${fault}.csr`]);
  writeFileSync(p(`${fault}.ext`), `subjectAltName=${hosts.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  let ca = { cert: tls.caCert, key: join(dirname(tls.caCert), 'ca-key.pem') };
  if (fault === 'untrusted-ca') {
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
      '-subj', '/CN=an untrusted CA', '-keyout', 'other-ca-key.pem', '-out', 'other-ca.pem',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    ca = { cert: p('other-ca.pem'), key: p('other-ca-key.pem') };
  }
  if (fault === 'expired') {
    // `openssl ca` is the tool that takes explicit validity dates (x509 -req only counts days from now)
    writeFileSync(p('index.txt'), '');
    writeFileSync(p('ca.cnf'), [
      '[ca]', 'default_ca = harness', '[harness]', `dir = ${dir}`, 'database = $dir/index.txt', 'new_certs_dir = $dir',
      'serial = $dir/serial', 'default_md = sha256', 'policy = any', 'copy_extensions = none', 'unique_subject = no',
      '[any]', 'commonName = supplied', '',
    ].join('\n'));
    writeFileSync(p('serial'), '1000\n');
    await openssl(['ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', ca.cert, '-keyfile', ca.key, '-in', `${fault}.csr`,
      '-startdate', '20200101000000Z', '-enddate', '20200201000000Z', '-extfile', `${fault}.ext`, '-out', `${fault}.pem`]);
  } else {
    await openssl(['x509', '-req', '-in', `${fault}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial',
      '-days', '30', '-extfile', `${fault}.ext`, '-out', `${fault}.pem`]);
  }
  chmodSync(out.key, 0o600);
  return out;
}
