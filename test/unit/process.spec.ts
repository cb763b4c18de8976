import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { HarnessError } from '../../provision/errors.ts';
import { assertPortFree } from '../../provision/local/ports.ts';
import { isAlive, spawnDetached, stopProcess, waitReady } from '../../provision/local/process.ts';

const log = () => join(mkdtempSync(join(tmpdir(), 'proc-')), 'c.log');

test('readiness fails fast, naming the component and its log, when the process exits', async () => {
  const entry = spawnDetached({ name: 'c', command: 'sh', args: ['-c', 'echo boom; exit 3'], log: log(), ports: [], env: { PATH: process.env.PATH } });
  const started = Date.now();
  const err = await waitReady(entry, 'Component X', 'never', async () => false, 30).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(HarnessError);
  expect((err as HarnessError).line()).toMatch(/^Component X exited before it was ready \(never\) — see its log .*c\.log:\nboom/);
  expect(Date.now() - started).toBeLessThan(10_000);
});

test('readiness times out with the condition and the budget', async () => {
  const entry = spawnDetached({ name: 'c', command: 'sleep', args: ['30'], log: log(), ports: [], env: { PATH: process.env.PATH } });
  const err = await waitReady(entry, 'Component Y', 'GET /health answers 200', async () => false, 1).catch((e: unknown) => e);
  expect((err as HarnessError).line()).toMatch(/^Component Y was not ready \(GET \/health answers 200\) after 1s — see its log/);
  await stopProcess(entry, 2);
  expect(isAlive(entry.pid)).toBe(false);
});

test('stop escalates to SIGKILL for a process that ignores SIGTERM, children included', async () => {
  const entry = spawnDetached({ name: 'c', command: 'sh', args: ['-c', "trap '' TERM; sleep 60 & wait"], log: log(), ports: [], env: { PATH: process.env.PATH } });
  await new Promise((r) => setTimeout(r, 200));
  await stopProcess(entry, 1);
  expect(isAlive(entry.pid)).toBe(false);
});

test('a port in use is refused with the setting to change', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await expect(assertPortFree(port, '127.0.0.1', 'HARNESS_HTTPS_PORT')).rejects.toThrow(`Port ${port} on 127.0.0.1 is already in use`);
  srv.close();
});
