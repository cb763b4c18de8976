import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { findLeaks, stackSecrets } from '../../provision/secret-scan.ts';

test('every secret of the stack is searched in reports and output, raw and inside Basic headers; leaks are named, not shown', async () => {
  const state = mkdtempSync(join(tmpdir(), 'state-'));
  mkdirSync(join(state, 'run'));
  writeFileSync(join(state, 'secrets.json'), JSON.stringify({ clientSecret: 'ClientSecret0123456789', personas: { bob: 'BobPassword123' } }));
  writeFileSync(join(state, 'run', 'tokens.json'), JSON.stringify({ user1: 'TokenOfBob0123456789' }));
  const secrets = stackSecrets(state, ['bob@example.com']);
  const reports = mkdtempSync(join(tmpdir(), 'reports-'));
  writeFileSync(join(reports, 'clean.md'), 'nothing secret here');
  writeFileSync(join(reports, 'trace.txt'), `Authorization: Basic ${Buffer.from('bob@example.com:TokenOfBob0123456789').toString('base64')}`);
  const leaks = await findLeaks(secrets, [reports], { 'the runner\'s output': 'password BobPassword123 printed' });
  expect(leaks).toEqual([
    { secret: 'secrets.personas.bob', where: 'the runner\'s output' },
    { secret: 'tokens.user1 (in a Basic header of bob@example.com)', where: expect.stringContaining('trace.txt') },
  ]);
  expect(JSON.stringify(leaks)).not.toContain('TokenOfBob');
});
