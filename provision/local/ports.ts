import { createServer } from 'node:net';
import { HarnessError } from '../errors.ts';

/** A free loopback port, found by listening on port 0. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Throws a HarnessError when `port` cannot be bound on `host`. */
export function assertPortFree(port: number, host: string, setting: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new HarnessError(
          `Port ${port} on ${host} is ${err.code === 'EADDRINUSE' ? 'already in use' : `not usable (${err.code})`}`,
          `stop what listens there (ss -ltnp 'sport = :${port}') or set ${setting} to another port`,
        ),
      ),
    );
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}
