import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { stringify } from 'yaml';
import { HarnessError } from '../errors.ts';
import { httpsStatus } from '../local/components/proxy.ts';
import { freePort } from '../local/ports.ts';
import { tail, until } from '../local/process.ts';

/** A kube-apiserver with its etcd on loopback, no kubelet, no controllers beyond the API server's own. */
export interface ApiServer {
  url: string;
  kubeconfig: string;
  /** Milliseconds from starting etcd to the API server answering /readyz. */
  startMs: number;
  stop(): Promise<void>;
}

async function stopChild(p: ResultPromise): Promise<void> {
  if (p.exitCode !== null || p.pid === undefined) return;
  p.kill('SIGTERM');
  await Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
  if (p.exitCode === null) p.kill('SIGKILL');
  await p.catch(() => undefined);
}

/**
 * Starts etcd and kube-apiserver (token auth, RBAC, k3s's service range 10.43.0.0/16) under `dir`, writes a
 * kubeconfig for an admin token, and waits for /readyz. Anything started is stopped again on failure.
 */
export async function startApiServer(bins: { kubeApiserver: string; etcd: string }, dir: string, timeoutMs = 90_000): Promise<ApiServer> {
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdLog = join(dir, 'etcd.log');
  const apiLog = join(dir, 'kube-apiserver.log');
  const etcd = execa(bins.etcd, ['--data-dir', join(dir, 'etcd'), '--client-url', `http://127.0.0.1:${etcdPort}`, '--peer-url', `http://127.0.0.1:${peerPort}`],
    { stdout: { file: `${etcdLog}.out` }, stderr: { file: etcdLog }, reject: false });
  let api: ResultPromise | undefined;
  const stop = async () => {
    if (api) await stopChild(api);
    await stopChild(etcd);
  };
  try {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},harness-admin,harness-admin,system:masters\n`, { mode: 0o600 });
    api = execa(bins.kubeApiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // no endpoints for the kubernetes Service: nothing reaches this API server but the check, on loopback
      '--endpoint-reconciler-type=none',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.43.0.0/16',
    ], { stdout: { file: `${apiLog}.out` }, stderr: { file: apiLog }, reject: false });
    const ca = join(dir, 'certs', 'apiserver.crt');
    const url = `https://127.0.0.1:${apiPort}`;
    await until(async () => {
      if (etcd.exitCode !== null) throw new HarnessError(`etcd exited (${etcd.exitCode}) before it was ready:\n${tail(etcdLog)}`);
      if (api!.exitCode !== null) throw new HarnessError(`kube-apiserver exited (${api!.exitCode}) before it was ready:\n${tail(apiLog)}`);
      return (await httpsStatus(`${url}/readyz`, ca).catch(() => 0)) === 200;
    }, timeoutMs, 250).catch((e: Error) => {
      throw e instanceof HarnessError ? e : new HarnessError(`kube-apiserver did not answer /readyz within ${timeoutMs / 1000}s:\n${tail(apiLog)}`);
    });
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'api-check', cluster: { server: url, 'certificate-authority': ca } }],
      users: [{ name: 'harness-admin', user: { token } }],
      contexts: [{ name: 'api-check', context: { cluster: 'api-check', user: 'harness-admin' } }],
      'current-context': 'api-check',
    }), { mode: 0o600 });
    return { url, kubeconfig, startMs: Date.now() - started, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
