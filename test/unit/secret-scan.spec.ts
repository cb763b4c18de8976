import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { test, expect } from '@playwright/test';
import yazl from 'yazl';
import { recordSecret } from '../../provision/secret-ledger.ts';
import { scanOutputs, stackSecrets } from '../../provision/secret-scan.ts';
import { recordRunOutcome } from '../../provision/commands/test.ts';
import { unjudgeable, ConformanceReport } from '../../provision/bump/diff.ts';
import { readFileSync } from 'node:fs';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

/** A zip archive with the given entries (deflated), as Playwright writes traces. */
async function zip(file: string, entries: Record<string, string | Buffer>): Promise<void> {
  const z = new yazl.ZipFile();
  for (const [name, body] of Object.entries(entries)) z.addBuffer(Buffer.isBuffer(body) ? body : Buffer.from(body), name, { compress: true });
  z.end();
  await finished(z.outputStream.pipe(createWriteStream(file)));
}

async function zipBuffer(entries: Record<string, string>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, body] of Object.entries(entries)) z.addBuffer(Buffer.from(body), name, { compress: true });
  z.end();
  const parts: Buffer[] = [];
  for await (const c of z.outputStream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function stack(): string {
  const state = tmp('state-');
  mkdirSync(join(state, 'run'));
  writeFileSync(join(state, 'secrets.json'), JSON.stringify({ clientSecret: 'ClientSecret0123456789', personas: { bob: 'BobPassword123' } }));
  writeFileSync(join(state, 'run', 'tokens.json'), JSON.stringify({ user1: 'TokenOfBob0123456789' }));
  return state;
}

test('every secret of the stack is searched in reports and output, raw and inside Basic headers; leaks are named, not shown', async () => {
  const secrets = stackSecrets(stack(), ['bob@example.com']);
  const reports = tmp('reports-');
  writeFileSync(join(reports, 'clean.md'), 'nothing secret here');
  writeFileSync(join(reports, 'trace.txt'), `Authorization: Basic ${Buffer.from('bob@example.com:TokenOfBob0123456789').toString('base64')}`);
  const { leaks, unsearched } = await scanOutputs(secrets, [reports], { 'the runner\'s output': 'password BobPassword123 printed' });
  expect(leaks).toEqual([
    { secret: 'secrets.personas.bob', where: 'the runner\'s output' },
    { secret: 'tokens.user1 (in a Basic header of bob@example.com)', where: expect.stringContaining('trace.txt') },
  ]);
  expect(unsearched).toEqual([]);
  expect(JSON.stringify(leaks)).not.toContain('TokenOfBob');
});

test('a missing `unzip` does not hide a zip: traces and the HTML report\'s embedded zip are read with a library, archives in archives too', async () => {
  const secrets = stackSecrets(stack(), ['bob@example.com']);
  const reports = tmp('reports-');
  await zip(join(reports, 'trace.zip'), { 'trace.network': `{"headers":{"cookie":"x"},"postData":"password=BobPassword123"}`, 'resources/a.json': '{}' });
  const inner = await zipBuffer({ 'data/test.json': '{"error":"ClientSecret0123456789 in a message"}' });
  await zip(join(reports, 'nested.zip'), { 'attachments/inner.zip': inner });
  const embedded = (await zipBuffer({ 'report.json': '{"stdout":"TokenOfBob0123456789"}' })).toString('base64');
  writeFileSync(join(reports, 'index.html'), `<html><script>window.playwrightReportBase64 = "data:application/zip;base64,${embedded}";</script></html>`);
  const path = process.env.PATH;
  // no unzip (nor anything else) on PATH while the search runs
  process.env.PATH = tmp('empty-path-');
  try {
    const { leaks, unsearched } = await scanOutputs(secrets, [reports]);
    expect(unsearched).toEqual([]);
    expect(leaks.map((l) => `${l.secret} @ ${l.where.split('/').pop()}`).sort()).toEqual([
      'secrets.clientSecret @ nested.zip',
      'secrets.personas.bob @ trace.zip',
      'tokens.user1 @ index.html',
    ]);
  } finally {
    process.env.PATH = path;
  }
});

test('a large file is searched as a stream, a secret across two chunks included; a damaged archive is reported, not skipped', async () => {
  const secrets = stackSecrets(stack());
  const reports = tmp('reports-');
  // 80 MB of filler, the secret placed across the stream's 64 KiB chunk boundary
  const filler = Buffer.alloc(80 * 1024 * 1024, 'a');
  const at = 64 * 1024 * 7 - 5;
  Buffer.from('ClientSecret0123456789').copy(filler, at);
  writeFileSync(join(reports, 'big.log'), filler);
  writeFileSync(join(reports, 'broken.zip'), 'PK\u0003\u0004 this is not a zip archive');
  const { leaks, unsearched } = await scanOutputs(secrets, [reports]);
  expect(leaks).toEqual([{ secret: 'secrets.clientSecret', where: expect.stringContaining('big.log') }]);
  expect(unsearched).toEqual([{ where: expect.stringContaining('broken.zip'), why: expect.any(String) }]);
});

test('a token minted during the run is in the ledger: found in a report, it fails the run, and bump/compare cannot judge that run', async () => {
  const state = stack();
  // minted by a check (e.g. a service account's access key), after secrets.json was written
  recordSecret('access token of svc-1@example.com', 'MintedToken0123456789abc', 'svc-1@example.com', state);
  recordSecret('JWT from the password grant', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLXZhbHVl', undefined, state);
  const reports = tmp('reports-');
  writeFileSync(join(reports, 'junit.xml'), `<failure>Authorization: Basic ${Buffer.from('svc-1@example.com:MintedToken0123456789abc').toString('base64')}</failure>`);
  writeFileSync(join(reports, 'conformance.json'), JSON.stringify({ target: 'local', run: { status: 'passed', setup: 'passed', errors: [] }, claims: [] }));
  mkdirSync(join(reports, 'diagnostics'));
  writeFileSync(join(reports, 'diagnostics', 'mlflow.log'), 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLXZhbHVl');
  const scan = await scanOutputs(stackSecrets(state), [reports]);
  expect(scan.leaks.map((l) => l.secret).sort()).toEqual(['JWT from the password grant', 'access token of svc-1@example.com (in a Basic header of svc-1@example.com)']);
  // npm test's exit: 1, recorded in the report, which compare/bump then refuse to judge
  recordRunOutcome(join(reports, 'conformance.json'), { exitCode: 1, secretsFound: scan.leaks, unsearched: [] });
  const report = ConformanceReport.parse(JSON.parse(readFileSync(join(reports, 'conformance.json'), 'utf8')));
  expect(report.run?.exitCode).toBe(1);
  expect(unjudgeable(report)).toEqual([expect.stringContaining('access token of svc-1@example.com')]);
  expect(readFileSync(join(reports, 'conformance.json'), 'utf8')).not.toContain('MintedToken0123456789abc');
});
